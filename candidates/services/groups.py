"""Writes about candidate groups ('Kandidaatgroepen'): create and change. Linking candidates
to a group is a candidate write (services.candidates)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from django.db import transaction

from accounts.models import AuditLog, EducationArea, Organisation, User
from accounts.services import audit

from ..models import CandidateGroup


@transaction.atomic
def group_create(
    *,
    actor: User | None,
    organisation: Organisation,
    name: str,
    education_area=None,
    coordinators: Sequence[User] = (),
    supervisors: Sequence[User] = (),
    ip: str | None = None,
) -> CandidateGroup:
    group = CandidateGroup.objects.create(
        organisation=organisation, name=name, education_area=education_area
    )
    if coordinators:
        group.coordinators.set(coordinators)
    if supervisors:
        group.supervisors.set(supervisors)
    audit(
        action=AuditLog.Action.GROUP_CREATED,
        actor=actor,
        organisation=organisation,
        target_repr=name,
        after={
            "name": name,
            "coordinators": sorted(u.username for u in coordinators),
            "supervisors": sorted(u.username for u in supervisors),
        },
        ip=ip,
    )
    return group


# --- Groups ------------------------------------------------------------------------------------


def _group_state(group: CandidateGroup) -> dict[str, Any]:
    return {
        "name": group.name,
        "education_area": group.education_area.name if group.education_area else "",
        "coordinators": sorted(u.username for u in group.coordinators.all()),
        "supervisors": sorted(u.username for u in group.supervisors.all()),
    }


@transaction.atomic
def group_update(
    *,
    actor: User,
    group: CandidateGroup,
    name: str,
    education_area: EducationArea | None,
    supervisors: Iterable[User],
    coordinators: Iterable[User] | None = None,
    ip: str | None = None,
) -> CandidateGroup:
    """`coordinators=None` leaves them alone: only a beheerder appoints coordinators."""
    before = _group_state(group)
    group.name = name
    group.education_area = education_area
    group.save(update_fields=["name", "education_area"])
    group.supervisors.set(list(supervisors))
    if coordinators is not None:
        group.coordinators.set(list(coordinators))
    after = _group_state(group)
    changed = [key for key in before if before[key] != after[key]]
    if changed:
        audit(
            action=AuditLog.Action.GROUP_CHANGED,
            actor=actor,
            organisation=group.organisation,
            target_repr=group.name,
            before={k: before[k] for k in changed},
            after={k: after[k] for k in changed},
            ip=ip,
        )
    return group
