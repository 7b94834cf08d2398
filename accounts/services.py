"""Writes about people: users, roles, audit rows. Every change that matters is audited here."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from .models import AuditLog, Organisation, Role, User


def client_ip(request) -> str | None:
    if request is None:
        return None
    return request.META.get("REMOTE_ADDR") or None


def audit(
    *,
    action: str,
    actor: User | None,
    target: User | None = None,
    organisation: Organisation | None = None,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    ip: str | None = None,
    target_repr: str = "",
) -> AuditLog:
    org = (
        organisation
        or getattr(target, "organisation", None)
        or getattr(actor, "organisation", None)
    )
    return AuditLog.objects.create(
        organisation=org,
        actor=actor if actor is not None and actor.pk else None,
        action=action,
        target_user=target,
        target_repr=target_repr or (target.username if target else ""),
        before=before or {},
        after=after or {},
        ip_address=ip,
    )


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
    ip: str | None = None,
) -> User:
    if role not in (Role.BEHEERDER, Role.TOETSCOORDINATOR, Role.BEGELEIDER):
        raise ValueError(f"not a staff role: {role}")
    user = User(
        organisation=organisation,
        username=username,
        role=role,
        first_name=first_name,
        surname_prefix=surname_prefix,
        last_name=last_name,
        email=email,
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
    return user


STAFF_FIELDS = ("first_name", "surname_prefix", "last_name", "email", "role", "is_active")


@transaction.atomic
def staff_update(*, actor: User, staff: User, ip: str | None = None, **changes: Any) -> User:
    before = {f: getattr(staff, f) for f in STAFF_FIELDS if f in changes}
    for field, value in changes.items():
        if field not in STAFF_FIELDS:
            raise ValueError(f"unknown field {field}")
        setattr(staff, field, value)
    after = {f: getattr(staff, f) for f in before}
    changed = {f for f in before if before[f] != after[f]}
    if not changed:
        return staff
    staff.save(update_fields=sorted(changed))
    action = AuditLog.Action.ROLE_CHANGED if "role" in changed else AuditLog.Action.USER_CHANGED
    audit(
        action=action,
        actor=actor,
        target=staff,
        before={f: before[f] for f in changed},
        after={f: after[f] for f in changed},
        ip=ip,
    )
    return staff
