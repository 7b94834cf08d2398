"""Writes about candidates: one candidate ('Wijzig deze gebruiker'), bulk actions on a
selection or a whole group, and the nightly lifecycle. Each one audits what it changed, with
the values before and after (style guide point 7)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.db import transaction
from django.db.models import Prefetch
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import ngettext

from accounts.mail import mail_queue
from accounts.models import AuditLog, Organisation, OutgoingMail, Role, User
from accounts.oidc.tokens import exam_tokens_revoke
from accounts.services import audit
from accounts.tasks import queue_mails

from ..credentials import GENERATED_HASHER, Credentials
from ..models import Candidate, CandidateGroup
from ..selectors import (
    candidates_expiring_for,
    candidates_to_expire,
    coordinators_for_digest,
    groups_visible_to,
)


@transaction.atomic
def candidate_create(
    *,
    actor: User | None,
    organisation: Organisation,
    username: str,
    candidate_number: str,
    first_name: str,
    last_name: str,
    surname_prefix: str = "",
    email: str = "",
    birth_date: date | None = None,
    password: str | None = None,
    is_active: bool = True,
    valid_from: date | None = None,
    valid_until: date | None = None,
    groups: Sequence[CandidateGroup] = (),
    supervisors: Sequence[User] = (),
    ip: str | None = None,
) -> Candidate:
    user = User(
        organisation=organisation,
        role=Role.KANDIDAAT,
        username=username,
        first_name=first_name,
        surname_prefix=surname_prefix,
        last_name=last_name,
        email=email,
        is_active=is_active,
        valid_from=valid_from,
        valid_until=valid_until,
    )
    user.set_password(password or None)  # None: an unusable password
    user.save()
    candidate = Candidate(
        user=user,
        organisation=organisation,
        candidate_number=candidate_number,
        birth_date=birth_date,
    )
    candidate.refresh_derived()
    candidate.save()
    if groups:
        candidate.groups.set(groups)
    if supervisors:
        candidate.supervisors.set(supervisors)
    audit(
        action=AuditLog.Action.USER_CREATED,
        actor=actor,
        target=user,
        after={
            "role": Role.KANDIDAAT,
            "candidate_number": candidate_number,
            "groups": sorted(g.name for g in groups),
        },
        ip=ip,
    )
    return candidate


# --- Shared helpers ------------------------------------------------------------------------------


def _plain(value: Any) -> Any:
    """Audit rows are JSON: dates become ISO strings."""
    if isinstance(value, date):
        return value.isoformat()
    return value


def _group_names_by_candidate(candidate_ids: Iterable[int]) -> dict[int, list[str]]:
    """All groups of each candidate (audit rows record the full truth, not a viewer's part)."""
    names: dict[int, list[str]] = defaultdict(list)
    rows = Candidate.groups.through.objects.filter(candidate_id__in=list(candidate_ids))
    for candidate_id, name in rows.values_list("candidate_id", "candidategroup__name"):
        names[candidate_id].append(name)
    return {pk: sorted(group_names) for pk, group_names in names.items()}


def slip_entry(
    candidate: Candidate,
    password: str,
    *,
    group_name: str | None = None,
    credentials: Credentials | None = None,
) -> dict[str, str]:
    """One login slip for candidates.slips.render_login_slips. Uses candidate.groups.all(),
    so prefetch only the groups the reader may see."""
    if group_name is None:
        group_name = next((g.name for g in candidate.groups.all()), "")
    credentials = credentials or Credentials(candidate.organisation)
    return credentials.slip_entry(
        candidate.user,
        candidate_number=candidate.candidate_number,
        password=password,
        group=group_name,
    )


# --- One candidate ('Wijzig deze gebruiker') ----------------------------------------------------

CANDIDATE_USER_FIELDS = (
    "first_name",
    "surname_prefix",
    "last_name",
    "email",
    "is_active",
    "valid_from",
    "valid_until",
)
CANDIDATE_OWN_FIELDS = ("candidate_number", "birth_date")
_AUDIT_SPLIT = (
    (AuditLog.Action.STATUS_CHANGED, {"is_active"}),
    (AuditLog.Action.VALIDITY_CHANGED, {"valid_from", "valid_until"}),
    (
        AuditLog.Action.USER_CHANGED,
        {"first_name", "surname_prefix", "last_name", "email", "candidate_number", "birth_date"},
    ),
)


@transaction.atomic
def candidate_update(
    *, actor: User, candidate: Candidate, ip: str | None = None, **changes: Any
) -> Candidate:
    """Change names, e-mail, number, birth date, status or validity; one audit row per kind."""
    unknown = set(changes) - set(CANDIDATE_USER_FIELDS) - set(CANDIDATE_OWN_FIELDS)
    if unknown:
        raise ValueError(f"unknown fields {sorted(unknown)}")
    user = candidate.user

    def owner(name: str):
        return user if name in CANDIDATE_USER_FIELDS else candidate

    before = {f: getattr(owner(f), f) for f in changes}
    changed = {f for f, value in changes.items() if before[f] != value}
    if not changed:
        return candidate
    for name in changed:
        setattr(owner(name), name, changes[name])
    user_fields = sorted(changed & set(CANDIDATE_USER_FIELDS))
    if user_fields:
        user.save(update_fields=user_fields)
    candidate.refresh_derived()
    candidate.save(
        update_fields=[*sorted(changed & set(CANDIDATE_OWN_FIELDS)), *Candidate.DERIVED_FIELDS]
    )
    if not user.is_active or user.validity_problem():
        exam_tokens_revoke(user_ids=[user.pk])
    for action, fields in _AUDIT_SPLIT:
        part = sorted(changed & fields)
        if part:
            audit(
                action=action,
                actor=actor,
                target=user,
                before={f: _plain(before[f]) for f in part},
                after={f: _plain(changes[f]) for f in part},
                ip=ip,
            )
    return candidate


@transaction.atomic
def candidate_set_password(
    *,
    actor: User,
    candidate: Candidate,
    password: str,
    must_change_password: bool,
    ip: str | None = None,
) -> None:
    """A password typed by the editor: a person chose it, so it gets the full-strength hasher."""
    user = candidate.user
    before = {"must_change_password": user.must_change_password}
    user.set_password(password)
    user.must_change_password = must_change_password
    user.save(update_fields=["password", "must_change_password"])
    audit(
        action=AuditLog.Action.PASSWORD_RESET,
        actor=actor,
        target=user,
        before=before,
        after={"method": "typed", "must_change_password": must_change_password},
        ip=ip,
    )


@transaction.atomic
def candidate_links_update(
    *,
    actor: User,
    candidate: Candidate,
    groups: Iterable[CandidateGroup],
    supervisors: Iterable[User],
    ip: str | None = None,
) -> None:
    """Set the complete sets of groups and directly linked supervisors.

    The form keeps the groups the editor may not link (a coordinator sees only their own), so
    those arrive here unchanged.
    """
    groups, supervisors = list(groups), list(supervisors)
    # Read the links fresh: a caller may have prefetched only the groups its user may see.
    before_groups = _group_names_by_candidate([candidate.pk]).get(candidate.pk, [])
    before_supervisors = sorted(
        User.objects.filter(direct_candidates=candidate).values_list("username", flat=True)
    )
    after_groups = sorted(g.name for g in groups)
    after_supervisors = sorted(u.username for u in supervisors)
    if before_groups != after_groups:
        candidate.groups.set(groups)
        audit(
            action=AuditLog.Action.GROUP_LINKS_CHANGED,
            actor=actor,
            target=candidate.user,
            before={"groups": before_groups},
            after={"groups": after_groups},
            ip=ip,
        )
    if before_supervisors != after_supervisors:
        candidate.supervisors.set(supervisors)
        audit(
            action=AuditLog.Action.SUPERVISOR_LINKS_CHANGED,
            actor=actor,
            target=candidate.user,
            before={"supervisors": before_supervisors},
            after={"supervisors": after_supervisors},
            ip=ip,
        )


# --- Many candidates (bulk actions on a selection or a whole group) -----------------------------


DELIVERIES = ("mail", "slip", "shown")


@dataclass
class PasswordReset:
    """The outcome of a bulk reset. `slips` holds plaintext passwords for this response only:
    it is never stored (mails keep theirs sealed until delivered)."""

    slips: list[dict[str, str]] = field(default_factory=list)
    mailed: int = 0
    without_email: list[str] = field(default_factory=list)

    @property
    def count(self) -> int:
        return len(self.slips)


@transaction.atomic
def candidates_reset_passwords(
    *,
    actor: User,
    candidates: Iterable[Candidate],
    delivery: str,
    group_name: str | None = None,
    must_change_password: bool | None = None,
    ip: str | None = None,
) -> PasswordReset:
    """Give each candidate a new generated password. `delivery` is "mail" (queued, sealed),
    "slip" (the caller renders result.slips as a PDF) or "shown" (the caller shows it once).

    With "mail", candidates without an e-mail address are skipped (a new password nobody
    receives would only lock them out) and listed in the result. `must_change_password=None`
    leaves that flag as it is.
    """
    if delivery not in DELIVERIES:
        raise ValueError(f"unknown delivery {delivery}")
    send_mail = delivery == "mail"
    organisation = actor.college
    result = PasswordReset()
    credentials = Credentials(organisation)
    users, mail_ids = [], []
    for candidate in candidates:
        user = candidate.user
        if send_mail and not user.email:
            result.without_email.append(user.display_name or user.username)
            continue
        password = organisation.new_password()
        user.password = make_password(password, hasher=GENERATED_HASHER)
        if must_change_password is not None:
            user.must_change_password = must_change_password
        users.append(user)
        result.slips.append(
            slip_entry(candidate, password, group_name=group_name, credentials=credentials)
        )
        if send_mail:
            mail = credentials.mail(user, password)
            mail.save()
            mail_ids.append(mail.pk)
    User.objects.bulk_update(users, ["password", "must_change_password"], batch_size=500)
    after: dict[str, Any] = {"method": "generated", "delivery": delivery}
    if must_change_password is not None:
        after["must_change_password"] = must_change_password
    for user in users:
        audit(action=AuditLog.Action.PASSWORD_RESET, actor=actor, target=user, after=after, ip=ip)
    if mail_ids:
        queue_mails(mail_ids)
    result.mailed = len(mail_ids)
    return result


@transaction.atomic
def candidates_set_active(
    *, actor: User, candidates: Iterable[Candidate], is_active: bool, ip: str | None = None
) -> int:
    """Activate or deactivate; only the accounts that change get an audit row."""
    users = [c.user for c in candidates if c.user.is_active != is_active]
    User.objects.filter(pk__in=[u.pk for u in users]).update(is_active=is_active)
    if not is_active:
        exam_tokens_revoke(user_ids=[u.pk for u in users])
    for user in users:
        user.is_active = is_active
        audit(
            action=AuditLog.Action.STATUS_CHANGED,
            actor=actor,
            target=user,
            before={"is_active": not is_active},
            after={"is_active": is_active},
            ip=ip,
        )
    return len(users)


@transaction.atomic
def candidates_set_valid_until(
    *, actor: User, candidates: Iterable[Candidate], valid_until: date, ip: str | None = None
) -> int:
    users = [c.user for c in candidates if c.user.valid_until != valid_until]
    User.objects.filter(pk__in=[u.pk for u in users]).update(valid_until=valid_until)
    for user in users:
        audit(
            action=AuditLog.Action.VALIDITY_CHANGED,
            actor=actor,
            target=user,
            before={"valid_until": _plain(user.valid_until)},
            after={"valid_until": _plain(valid_until)},
            ip=ip,
        )
        user.valid_until = valid_until
    exam_tokens_revoke(user_ids=[u.pk for u in users if u.validity_problem()])
    return len(users)


def _members_of(group: CandidateGroup, candidates: list[Candidate]) -> set[int]:
    return set(
        Candidate.groups.through.objects.filter(
            candidategroup_id=group.pk, candidate_id__in=[c.pk for c in candidates]
        ).values_list("candidate_id", flat=True)
    )


@transaction.atomic
def candidates_link_group(
    *, actor: User, candidates: Iterable[Candidate], group: CandidateGroup, ip: str | None = None
) -> int:
    candidates = list(candidates)
    before = _group_names_by_candidate(c.pk for c in candidates)
    members = _members_of(group, candidates)
    new = [c for c in candidates if c.pk not in members]
    Candidate.groups.through.objects.bulk_create(
        [Candidate.groups.through(candidate_id=c.pk, candidategroup_id=group.pk) for c in new]
    )
    for candidate in new:
        old = before.get(candidate.pk, [])
        audit(
            action=AuditLog.Action.GROUP_LINKS_CHANGED,
            actor=actor,
            target=candidate.user,
            before={"groups": old},
            after={"groups": sorted([*old, group.name])},
            ip=ip,
        )
    return len(new)


@transaction.atomic
def candidates_unlink_group(
    *, actor: User, candidates: Iterable[Candidate], group: CandidateGroup, ip: str | None = None
) -> int:
    candidates = list(candidates)
    before = _group_names_by_candidate(c.pk for c in candidates)
    member_ids = _members_of(group, candidates)
    members = [c for c in candidates if c.pk in member_ids]
    Candidate.groups.through.objects.filter(
        candidategroup_id=group.pk, candidate_id__in=[c.pk for c in members]
    ).delete()
    for candidate in members:
        old = before[candidate.pk]
        after = list(old)
        after.remove(group.name)
        audit(
            action=AuditLog.Action.GROUP_LINKS_CHANGED,
            actor=actor,
            target=candidate.user,
            before={"groups": old},
            after={"groups": after},
            ip=ip,
        )
    return len(members)


# --- Lifecycle (nightly) -----------------------------------------------------------------------

DIGEST_MAX_ROWS = 500


def candidates_deactivate_expired(*, today: date | None = None, batch_size: int = 1000) -> int:
    """Deactivate every active candidate whose validity ended before today, in batches (at the
    end of a school year a whole college expires at once). Safe to run twice."""
    today = today or timezone.localdate()
    total, last_pk = 0, 0
    while True:
        with transaction.atomic():
            # Keyset paging: each batch starts after the last one's pk instead of scanning past
            # every candidate before it again (on a platform of a million accounts that scan,
            # not the update, was the cost of a batch).
            batch = list(
                candidates_to_expire(today)
                .filter(pk__gt=last_pk)
                .select_related("user")
                .order_by("pk")
                .values_list("pk", "organisation_id", "user__username", "user__valid_until")[
                    :batch_size
                ]
            )
            if not batch:
                return total
            last_pk = batch[-1][0]
            User.objects.filter(pk__in=[row[0] for row in batch]).update(is_active=False)
            exam_tokens_revoke(user_ids=[row[0] for row in batch])
            AuditLog.objects.bulk_create(
                [
                    AuditLog(
                        organisation_id=org_id,
                        actor=None,
                        action=AuditLog.Action.ACCOUNT_EXPIRED,
                        target_user_id=pk,
                        target_repr=username,
                        before={"is_active": True},
                        after={"is_active": False, "valid_until": _plain(valid_until)},
                    )
                    for pk, org_id, username, valid_until in batch
                ]
            )
            total += len(batch)


def expiry_digests_queue(*, today: date | None = None) -> list[int]:
    """Queue one mail per coordinator listing their groups' accounts that expire within 30 days.
    A coordinator who already got today's digest is skipped, so a second run sends nothing."""
    today = today or timezone.localdate()
    mail_ids = []
    for coordinator in coordinators_for_digest().select_related("organisation"):
        already = OutgoingMail.objects.filter(
            kind=OutgoingMail.Kind.EXPIRY_DIGEST,
            recipient_user=coordinator,
            created__date=today,
        ).exists()
        if already:
            continue
        expiring = candidates_expiring_for(coordinator, today).prefetch_related(
            Prefetch("groups", queryset=groups_visible_to(coordinator).order_by("name"))
        )
        rows = list(expiring[: DIGEST_MAX_ROWS + 1])
        if not rows:
            continue
        total = expiring.count() if len(rows) > DIGEST_MAX_ROWS else len(rows)
        rows = rows[:DIGEST_MAX_ROWS]
        organisation = coordinator.college
        context = {
            "naam": coordinator.display_name or coordinator.username,
            "school": organisation.name,
            "aantal": total,
            "meer": total - len(rows),
            "lijst_url": settings.KB_BASE_URL
            + reverse("candidates:list")
            + "?validity=expiring&sort=name",
            "kandidaten": [
                {
                    "naam": c.user.sort_name,
                    "kandidaatnummer": c.candidate_number,
                    "gebruikersnaam": c.user.username,
                    "groepen": ", ".join(g.name for g in c.groups.all()),
                    # candidates_expiring_for finds only candidates with an end date.
                    "geldig_tot": date_format(c.user.valid_until, "j F Y")
                    if c.user.valid_until
                    else "",
                }
                for c in rows
            ],
        }
        mail = mail_queue(
            kind=OutgoingMail.Kind.EXPIRY_DIGEST,
            to=coordinator.email,
            subject=ngettext(
                "%(count)d account verloopt binnen 30 dagen",
                "%(count)d accounts verlopen binnen 30 dagen",
                total,
            )
            % {"count": total},
            organisation=organisation,
            recipient_user=coordinator,
            context=context,
        )
        mail_ids.append(mail.pk)
    queue_mails(mail_ids)
    return mail_ids
