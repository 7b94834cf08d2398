"""Writes about college settings ('Instellingen') and the college's education areas."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.db import transaction

from accounts.models import AuditLog, EducationArea, Organisation, User
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
