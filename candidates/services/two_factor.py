"""Writes about two-step sign-in that belong to the back office: the college's choice of who
must use it. (Setting up, verifying and resetting are accounts.two_factor.services.)"""

from __future__ import annotations

from django.db import transaction

from accounts.models import AuditLog, Organisation, User
from accounts.services import audit


@transaction.atomic
def organisation_two_factor_update(
    *, actor: User, organisation: Organisation, roles: list[str], ip: str | None = None
) -> bool:
    """Set the staff roles that must use two-step sign-in; an audit row when it changed.
    Sessions already signed in keep their decision until they sign in again."""
    before = list(organisation.two_factor_roles or [])
    if sorted(before) == sorted(roles):
        return False
    organisation.two_factor_roles = list(roles)
    organisation.save(update_fields=["two_factor_roles"])
    audit(
        action=AuditLog.Action.SETTINGS_CHANGED,
        actor=actor,
        organisation=organisation,
        target_repr=organisation.name,
        before={"two_factor_roles": before},
        after={"two_factor_roles": list(roles)},
        ip=ip,
    )
    return True
