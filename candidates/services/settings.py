"""Writes about college settings ('Instellingen') and the college's education areas."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.db import transaction

from accounts.models import AuditLog, CollegeSignIn, EducationArea, Organisation, User
from accounts.services import audit

ORGANISATION_SETTINGS = (
    "school_year_end_day",
    "school_year_end_month",
    "password_length",
    "password_format",
    "coordinators_may_create_groups",
    "mail_sender_name",
    "mail_reply_to",
    "credentials_mail_text",
    "username_pattern",
    "report_password",  # None: leave it, "": remove it, else the new password (sealed)
)


@transaction.atomic
def organisation_settings_update(
    *,
    actor: User,
    organisation: Organisation,
    changes: dict[str, Any],
    areas_added: Iterable[str] = (),
    areas_renamed: Iterable[tuple[EducationArea, str]] = (),
    areas_deleted: Iterable[EducationArea] = (),
    ip: str | None = None,
) -> list[str]:
    """Save the college's choices and its education areas; one audit row with what changed.
    Returns the names of the changed settings."""
    unknown = set(changes) - set(ORGANISATION_SETTINGS)
    if unknown:
        raise ValueError(f"unknown settings {sorted(unknown)}")
    changes = dict(changes)
    password = _report_password_change(organisation, changes.pop("report_password", None))
    areas = organisation.education_areas
    before = {f: getattr(organisation, f) for f in changes}
    before["education_areas"] = sorted(areas.values_list("name", flat=True))
    changed = [f for f, value in changes.items() if before[f] != value]
    for f in changed:
        setattr(organisation, f, changes[f])
    if changed or password:
        fields = [*changed, "report_password_sealed"] if password else changed
        organisation.save(update_fields=fields)
    if password:  # the audit row says that it changed, never what it is
        changed.append("report_password")
        before["report_password"], changes["report_password"] = password
    for area in areas_deleted:
        area.delete()  # its groups keep existing, without an education area (SET_NULL)
    areas_renamed = list(areas_renamed)
    # Two steps, so swapping two names does not trip the unique constraint halfway.
    for area, _name in areas_renamed:
        area.name = f"~{area.pk}~"
        area.save(update_fields=["name"])
    for area, name in areas_renamed:
        area.name = name
        area.save(update_fields=["name"])
    for name in areas_added:
        EducationArea.objects.create(organisation=organisation, name=name)
    after = {f: changes[f] for f in changed}
    after_areas = sorted(areas.values_list("name", flat=True))
    if after_areas != before["education_areas"]:
        changed.append("education_areas")
        after["education_areas"] = after_areas
    if changed:
        audit(
            action=AuditLog.Action.SETTINGS_CHANGED,
            actor=actor,
            organisation=organisation,
            target_repr=organisation.name,
            before={f: before[f] for f in changed},
            after=after,
            ip=ip,
        )
    return changed


def _report_password_change(
    organisation: Organisation, password: str | None
) -> tuple[str, str] | None:
    """Seal or forget the report password on the instance; (before, after) for the audit row
    ("none", "set", "new"), or None when nothing changes."""
    had = "set" if organisation.has_report_password else "none"
    if password is None or (password == "" and had == "none"):
        return None
    organisation.set_report_password(password)
    return had, ("new" if password else "none")


# The college's sign-in provider (Instellingen → Inlogdienst), as the audit row names them.
SIGN_IN_SETTINGS = {
    "enabled": "sign_in_enabled",
    "issuer": "sign_in_issuer",
    "client_id": "sign_in_client_id",
    "display_name": "sign_in_display_name",
    "claim": "sign_in_claim",
    "staff_only_via_provider": "sign_in_staff_only",
}


@transaction.atomic
def college_sign_in_update(
    *,
    actor: User,
    organisation: Organisation,
    changes: dict[str, Any],
    client_secret: str | None,
    ip: str | None = None,
) -> list[str]:
    """Save the college's OpenID Connect provider (made on first save); one audit row with what
    changed, the secret only as 'new'. Returns the audit names of the changed settings."""
    unknown = set(changes) - set(SIGN_IN_SETTINGS)
    if unknown:
        raise ValueError(f"unknown sign-in settings {sorted(unknown)}")
    sign_in = CollegeSignIn.objects.select_for_update().filter(organisation=organisation).first()
    if sign_in is None:
        sign_in = CollegeSignIn(organisation=organisation)
    before = {f: getattr(sign_in, f) if sign_in.pk else None for f in changes}
    changed = [f for f, value in changes.items() if before[f] != value]
    for f in changed:
        setattr(sign_in, f, changes[f])
    before_audit = {SIGN_IN_SETTINGS[f]: before[f] for f in changed}
    after_audit = {SIGN_IN_SETTINGS[f]: changes[f] for f in changed}
    if client_secret:  # the audit row says that it changed, never what it is
        before_audit["sign_in_client_secret"] = "set" if sign_in.has_client_secret else "none"
        after_audit["sign_in_client_secret"] = "new"  # noqa: S105 (a state, not the secret)
        sign_in.set_client_secret(client_secret)
    if after_audit:
        sign_in.save()
        audit(
            action=AuditLog.Action.SETTINGS_CHANGED,
            actor=actor,
            organisation=organisation,
            target_repr=organisation.name,
            before=before_audit,
            after=after_audit,
            ip=ip,
        )
    return list(after_audit)
