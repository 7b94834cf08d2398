"""Retention and deletion: the college's 'Privacy' settings, deleting candidates by hand (one,
a selection, a whole group), and the nightly work that anonymises or deletes accounts past the
retention period and removes old audit rows.

Every write here records how many accounts it touched, never who: an audit row that named a
deleted pupil would keep exactly what the deletion was meant to remove.
"""

from __future__ import annotations

from calendar import monthrange
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from typing import Any

from django.contrib.auth.hashers import UNUSABLE_PASSWORD_PREFIX
from django.db import transaction
from django.db.models import CharField, Value
from django.db.models.functions import Cast, Concat
from django.utils import timezone

from accounts.models import (
    AuditLog,
    AuditLogSubject,
    Organisation,
    OutgoingMail,
    RetiredUsername,
    User,
)
from accounts.oidc.tokens import exam_tokens_revoke
from accounts.services import audit

from ..models import Candidate, CandidateGroup
from ..selectors import candidates_past_retention

RETENTION_SETTINGS = (
    "retention_months",
    "retention_action",
    "audit_retention_months",
    "coordinators_may_delete",
)
# The placeholder an anonymised account gets as username and candidate number, made unique by
# the account's id: it says nothing about the person and keeps both unique constraints happy.
PLACEHOLDER_PREFIX = "geanonimiseerd-"
# Rows the audit-log retention keeps for as long as the college exists: they prove what the
# college deleted and when, and under which retention settings (the accountability the AVG
# asks of it), and they hold no personal data, only counts and settings.
AUDIT_KEPT_ACTIONS = (
    AuditLog.Action.ACCOUNTS_DELETED,
    AuditLog.Action.ACCOUNTS_ANONYMISED,
    AuditLog.Action.AUDIT_PURGED,
    AuditLog.Action.SETTINGS_CHANGED,
)
# Audit rows of no college (a failed sign-in with an unknown name) follow the default period.
DEFAULT_AUDIT_RETENTION_MONTHS = 24
# Accounts per batch (one transaction). At 100 every step of a batch is one statement on every
# database: Django deletes related rows in chunks of 100 and SQLite inserts at most 333 rows of
# three columns per statement, so the queries of a batch never depend on how many it holds.
BATCH_SIZE = 100


def shift_months(day: date, months: int) -> date:
    """`day` moved by whole months (negative: back), clamped to the month's last day."""
    year, month = divmod(day.year * 12 + day.month - 1 + months, 12)
    return date(year, month + 1, min(day.day, monthrange(year, month + 1)[1]))


def _shift_moment(moment: datetime, months: int) -> datetime:
    day = shift_months(moment.date(), months)
    return moment.replace(year=day.year, month=day.month, day=day.day)


# --- Settings ------------------------------------------------------------------------------------


@transaction.atomic
def retention_settings_update(
    *, actor: User, organisation: Organisation, changes: dict[str, Any], ip: str | None = None
) -> list[str]:
    """Save the 'Privacy' settings; one audit row with what changed. Returns the changed names."""
    unknown = set(changes) - set(RETENTION_SETTINGS)
    if unknown:
        raise ValueError(f"unknown settings {sorted(unknown)}")
    before = {f: getattr(organisation, f) for f in changes}
    changed = [f for f, value in changes.items() if before[f] != value]
    if not changed:
        return []
    for name in changed:
        setattr(organisation, name, changes[name])
    organisation.save(update_fields=changed)
    audit(
        action=AuditLog.Action.SETTINGS_CHANGED,
        actor=actor,
        organisation=organisation,
        target_repr=organisation.name,
        before={f: before[f] for f in changed},
        after={f: changes[f] for f in changed},
        ip=ip,
    )
    return changed


# --- What deleting and anonymising share ---------------------------------------------------------


def retire_usernames(
    organisation: Organisation, usernames: Iterable[str], *, now: datetime | None = None
) -> None:
    """Keep these usernames out of use for the college's retention period from now."""
    free_after = _shift_moment(now or timezone.now(), organisation.retention_months)
    rows = [
        RetiredUsername(organisation=organisation, username=u.lower(), free_after=free_after)
        for u in {u.lower() for u in usernames}
    ]
    # A name freed earlier, used again and now retired a second time gets the new date.
    RetiredUsername.objects.bulk_create(
        rows,
        update_conflicts=True,
        unique_fields=["username"],
        update_fields=["organisation", "free_after"],
    )


def _forget_in_audit_log(user_ids: Sequence[int]) -> None:
    """Audit rows about these accounts keep what happened and when, not what they said about
    the person (names, numbers, e-mail addresses in the before and after values)."""
    AuditLog.objects.filter(target_user_id__in=user_ids).update(target_repr="", before={}, after={})
    AuditLogSubject.objects.filter(user_id__in=user_ids).update(target_repr="", before={}, after={})


def _delete_accounts(organisation: Organisation, rows: Sequence[tuple[int, str]]) -> None:
    """Delete the users (their candidate rows, links and mails go with them) of (id, username)
    pairs; the caller holds the transaction."""
    ids = [pk for pk, _username in rows]
    retire_usernames(organisation, [username for _pk, username in rows])
    _forget_in_audit_log(ids)
    User.objects.filter(pk__in=ids).delete()


# --- Deleting by hand ----------------------------------------------------------------------------


@transaction.atomic
def candidates_delete(
    *,
    actor: User,
    candidates: Iterable[Candidate],
    group: CandidateGroup | None = None,
    ip: str | None = None,
) -> int:
    """Delete these candidates (found by the caller through candidates_deletable_by), and
    `group` too when a whole group goes. One audit row: how many, never who."""
    organisation = actor.college
    ids = [c.pk for c in candidates]
    rows = list(
        User.objects.filter(pk__in=ids, organisation=organisation).values_list("pk", "username")
    )
    if not rows and group is None:
        return 0  # nothing changed, nothing to record
    for start in range(0, len(rows), BATCH_SIZE):
        _delete_accounts(organisation, rows[start : start + BATCH_SIZE])
    after: dict[str, Any] = {"accounts": len(rows)}
    if group is not None:
        after["group"] = group.name  # a group is no person: its name may stay
        group.delete()
    audit(
        action=AuditLog.Action.ACCOUNTS_DELETED,
        actor=actor,
        organisation=organisation,
        after=after,
        ip=ip,
    )
    return len(rows)


# --- Nightly: accounts past the retention period -------------------------------------------------


def _anonymise(organisation: Organisation, rows: Sequence[tuple[int, str]], now: datetime) -> None:
    """Strip these accounts of everything personal, in a fixed number of queries."""
    ids = [pk for pk, _username in rows]
    retire_usernames(organisation, [username for _pk, username in rows], now=now)
    exam_tokens_revoke(user_ids=ids)  # an exam environment's token outlives no account
    User.objects.filter(pk__in=ids).update(
        username=Concat(Value(PLACEHOLDER_PREFIX), Cast("id", output_field=CharField())),
        first_name="",
        surname_prefix="",
        last_name="",
        email="",
        # The bare prefix is an unusable password: no hasher ever accepts it.
        password=UNUSABLE_PASSWORD_PREFIX,
        must_change_password=False,
        is_active=False,
        last_login=None,
        anonymised_at=now,
    )
    Candidate.objects.filter(pk__in=ids).update(
        candidate_number=Concat(
            Value(PLACEHOLDER_PREFIX), Cast("user_id", output_field=CharField())
        ),
        birth_date=None,
        search_text="",
        name_key="",
    )
    # Queued or failed mails to them still hold their address and, sealed, their password.
    OutgoingMail.objects.filter(recipient_user_id__in=ids).delete()
    _forget_in_audit_log(ids)


def _retention_batch(organisation: Organisation, cutoff: date, ids: Sequence[int]) -> int:
    """One batch, one transaction: a run that dies halfway leaves every account either
    untouched or fully anonymised (or deleted), never half. `ids` are asked again, so an
    account extended or handled meanwhile is left alone."""
    with transaction.atomic():
        rows = list(
            candidates_past_retention(organisation.pk, cutoff)
            .filter(pk__in=list(ids))
            .order_by("pk")
            .values_list("pk", "user__username")
        )
        if not rows:
            return 0
        if organisation.retention_action == "delete":
            _delete_accounts(organisation, rows)
        else:
            _anonymise(organisation, rows, timezone.now())
        return len(rows)


def organisation_apply_retention(
    organisation: Organisation, *, today: date | None = None, batch_size: int = BATCH_SIZE
) -> int:
    """Anonymise or delete (the college's choice) every candidate whose validity ended more
    than the retention period ago; one audit row per run with the count. Safe to run twice:
    what is done drops out of candidates_past_retention."""
    today = today or timezone.localdate()
    cutoff = shift_months(today, -organisation.retention_months)
    # The ids once (one query, a list of integers), then each batch by primary key: finding
    # "the next 100" again for every batch would scan the college's candidates each time.
    due = list(
        candidates_past_retention(organisation.pk, cutoff)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    total = 0
    for start in range(0, len(due), batch_size):
        total += _retention_batch(organisation, cutoff, due[start : start + batch_size])
    if total:
        deleted = organisation.retention_action == "delete"
        audit(
            action=AuditLog.Action.ACCOUNTS_DELETED
            if deleted
            else AuditLog.Action.ACCOUNTS_ANONYMISED,
            actor=None,
            organisation=organisation,
            after={"accounts": total, "retention_months": organisation.retention_months},
        )
    return total


def accounts_apply_retention(*, today: date | None = None, batch_size: int = BATCH_SIZE) -> int:
    return sum(
        organisation_apply_retention(org, today=today, batch_size=batch_size)
        for org in Organisation.objects.order_by("pk")
    )


# --- Nightly: the audit log's own retention -----------------------------------------------------


def _purge_audit_rows(rows, batch_size: int) -> int:
    total = 0
    while True:
        with transaction.atomic():
            ids = list(rows.order_by("pk").values_list("pk", flat=True)[:batch_size])
            if not ids:
                return total
            AuditLogSubject.objects.filter(audit_id__in=ids).delete()
            AuditLog.objects.filter(pk__in=ids).delete()
            total += len(ids)


def audit_log_purge(*, now: datetime | None = None, batch_size: int = BATCH_SIZE) -> int:
    """Remove audit rows (and sent mails) older than each college's 'Bewaartermijn auditlog',
    except AUDIT_KEPT_ACTIONS; one audit row per college that lost audit rows."""
    now = now or timezone.now()
    total = 0
    for org in Organisation.objects.order_by("pk"):
        cutoff = _shift_moment(now, -org.audit_retention_months)
        old = AuditLog.objects.filter(organisation=org, created__lt=cutoff).exclude(
            action__in=AUDIT_KEPT_ACTIONS
        )
        purged = _purge_audit_rows(old, batch_size)
        # Sent and failed mails say to whom and about whom (a digest lists candidates): they
        # are a record of what happened, like the audit log, and go with it.
        OutgoingMail.objects.filter(organisation=org, created__lt=cutoff).exclude(
            status=OutgoingMail.Status.PENDING
        ).delete()
        if purged:
            audit(
                action=AuditLog.Action.AUDIT_PURGED,
                actor=None,
                organisation=org,
                after={"audit_rows": purged, "audit_retention_months": org.audit_retention_months},
            )
        total += purged
    orphans = AuditLog.objects.filter(
        organisation__isnull=True,
        created__lt=_shift_moment(now, -DEFAULT_AUDIT_RETENTION_MONTHS),
    ).exclude(action__in=AUDIT_KEPT_ACTIONS)
    return total + _purge_audit_rows(orphans, batch_size)
