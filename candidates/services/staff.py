"""Writes about staff ('Medewerkers'): beheerders, toetscoördinatoren and begeleiders. Every
staff account is created and changed here, the demo seed and the back office alike."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.db import transaction

from accounts.models import AuditLog, Organisation, Role, User
from accounts.oidc.tokens import exam_tokens_revoke
from accounts.services import audit
from accounts.tasks import queue_mails

from ..credentials import Credentials
from ..models import Candidate, CandidateGroup

STAFF_ROLES = (Role.BEHEERDER, Role.TOETSCOORDINATOR, Role.BEGELEIDER)
# A beheerder manages coordinators and supervisors; beheerders are made by the platform.
EDITABLE_STAFF_ROLES = (Role.TOETSCOORDINATOR, Role.BEGELEIDER)
STAFF_FIELDS = ("first_name", "surname_prefix", "last_name", "email", "role")


@transaction.atomic
def staff_create(
    *,
    actor: User | None,
    organisation: Organisation,
    username: str,
    role: str,
    first_name: str = "",
    surname_prefix: str = "",
    last_name: str = "",
    email: str = "",
    password: str | None = None,
    must_change_password: bool = False,
    groups: Iterable[CandidateGroup] = (),
    ip: str | None = None,
) -> User:
    """Create a staff account of any staff role, with its group links (coordinated or
    supervised groups, after the role). Without a password the account cannot log in yet."""
    if role not in STAFF_ROLES:
        raise ValueError(f"not a staff role: {role}")
    user = User(
        organisation=organisation,
        username=username,
        role=role,
        first_name=first_name,
        surname_prefix=surname_prefix,
        last_name=last_name,
        email=email,
        must_change_password=must_change_password,
    )
    if password:
        user.set_password(password)
    else:
        user.set_unusable_password()
    user.save()
    audit(
        action=AuditLog.Action.USER_CREATED,
        actor=actor,
        target=user,
        after={"role": role, "username": username},
        ip=ip,
    )
    if role in EDITABLE_STAFF_ROLES:
        _staff_set_groups(actor=actor, staff=user, role=role, groups=groups, ip=ip)
    return user


@transaction.atomic
def staff_member_create(
    *,
    actor: User,
    username: str,
    role: str,
    first_name: str = "",
    surname_prefix: str = "",
    last_name: str = "",
    email: str = "",
    groups: Iterable[CandidateGroup] = (),
    send_mail: bool = False,
    ip: str | None = None,
) -> tuple[User, str]:
    """'Nieuwe medewerker': a coordinator or supervisor of the actor's college with a generated
    password, returned once for the page (and mailed when asked)."""
    if role not in EDITABLE_STAFF_ROLES:
        raise ValueError(f"a beheerder cannot create role {role}")
    organisation = actor.college
    password = organisation.new_password()
    staff = staff_create(
        actor=actor,
        organisation=organisation,
        username=username,
        role=role,
        first_name=first_name,
        surname_prefix=surname_prefix,
        last_name=last_name,
        email=email,
        password=password,
        must_change_password=True,
        groups=groups,
        ip=ip,
    )
    if send_mail and email:
        # The password is kept only sealed until the mail is sent.
        mail = Credentials(organisation).mail(staff, password)
        mail.save()
        queue_mails([mail.pk])
    return staff, password


def _staff_groups(staff: User, role: str):
    return staff.coordinated_groups if role == Role.TOETSCOORDINATOR else staff.supervised_groups


def _staff_set_groups(
    *, actor: User | None, staff: User, role: str, groups: Iterable[CandidateGroup], ip: str | None
) -> None:
    relation = _staff_groups(staff, role)
    before = sorted(g.name for g in relation.all())
    groups = list(groups)
    after = sorted(g.name for g in groups)
    if before == after:
        return
    relation.set(groups)
    key = "coordinated_groups" if role == Role.TOETSCOORDINATOR else "supervised_groups"
    audit(
        action=AuditLog.Action.GROUP_LINKS_CHANGED,
        actor=actor,
        target=staff,
        before={key: before},
        after={key: after},
        ip=ip,
    )


@transaction.atomic
def staff_member_update(
    *,
    actor: User,
    staff: User,
    groups: Iterable[CandidateGroup],
    is_active: bool,
    ip: str | None = None,
    **changes: Any,
) -> User:
    """Names, e-mail, role, status and group links. Changing the role drops the links that
    belonged to the old role, audited, so nobody keeps seeing candidates through them."""
    old_role = staff.role
    new_role = changes.get("role", old_role)
    if new_role not in EDITABLE_STAFF_ROLES or old_role not in EDITABLE_STAFF_ROLES:
        raise ValueError("only coordinators and supervisors are edited here")
    _staff_fields_update(actor=actor, staff=staff, changes=changes, ip=ip)
    if staff.is_active != is_active:
        staff.is_active = is_active
        staff.save(update_fields=["is_active"])
        if not is_active:
            exam_tokens_revoke(user_ids=[staff.pk])
        audit(
            action=AuditLog.Action.STATUS_CHANGED,
            actor=actor,
            target=staff,
            before={"is_active": not is_active},
            after={"is_active": is_active},
            ip=ip,
        )
    if new_role != old_role:
        _staff_set_groups(actor=actor, staff=staff, role=old_role, groups=[], ip=ip)
        if old_role == Role.BEGELEIDER:
            _supervisor_unlink_all_candidates(actor=actor, supervisor=staff, ip=ip)
    _staff_set_groups(actor=actor, staff=staff, role=new_role, groups=groups, ip=ip)
    return staff


def _staff_fields_update(
    *, actor: User, staff: User, changes: dict[str, Any], ip: str | None
) -> None:
    """Names, e-mail and role: one audit row, a role change under its own action."""
    unknown = set(changes) - set(STAFF_FIELDS)
    if unknown:
        raise ValueError(f"unknown fields {sorted(unknown)}")
    before = {f: getattr(staff, f) for f in changes}
    changed = sorted(f for f, value in changes.items() if before[f] != value)
    if not changed:
        return
    for f in changed:
        setattr(staff, f, changes[f])
    staff.save(update_fields=changed)
    action = AuditLog.Action.ROLE_CHANGED if "role" in changed else AuditLog.Action.USER_CHANGED
    audit(
        action=action,
        actor=actor,
        target=staff,
        before={f: before[f] for f in changed},
        after={f: changes[f] for f in changed},
        ip=ip,
    )


def _supervisor_unlink_all_candidates(*, actor: User, supervisor: User, ip: str | None) -> None:
    """A supervisor who becomes a coordinator loses their direct links: a coordinator sees
    candidates through groups only (candidates.selectors)."""
    links = Candidate.supervisors.through.objects.filter(user=supervisor).select_related(
        "candidate__user"
    )
    for link in links:
        candidate = link.candidate
        before = sorted(candidate.supervisors.values_list("username", flat=True))
        audit(
            action=AuditLog.Action.SUPERVISOR_LINKS_CHANGED,
            actor=actor,
            target=candidate.user,
            before={"supervisors": before},
            after={"supervisors": [u for u in before if u != supervisor.username]},
            ip=ip,
        )
    links.delete()


@transaction.atomic
def staff_reset_password(*, actor: User, staff: User, ip: str | None = None) -> str:
    """A new generated password for a colleague, shown once. Staff accounts see many
    candidates, so theirs get the full-strength hasher even though they are generated."""
    password = actor.college.new_password()
    staff.set_password(password)
    staff.must_change_password = True
    staff.save(update_fields=["password", "must_change_password"])
    audit(
        action=AuditLog.Action.PASSWORD_RESET,
        actor=actor,
        target=staff,
        after={"method": "generated", "delivery": "shown", "must_change_password": True},
        ip=ip,
    )
    return password
