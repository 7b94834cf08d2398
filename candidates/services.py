"""Writes about candidates and groups. Each one audits what it changed."""

from __future__ import annotations

from datetime import date

from django.db import transaction

from accounts.models import AuditLog, Organisation, Role, User
from accounts.services import audit

from .models import Candidate, CandidateGroup


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
    groups: list[CandidateGroup] = (),
    supervisors: list[User] = (),
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
    if password:
        user.set_password(password)
    else:
        user.set_unusable_password()
    user.save()
    candidate = Candidate(
        user=user,
        organisation=organisation,
        candidate_number=candidate_number,
        birth_date=birth_date,
    )
    candidate.refresh_search_text()
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


@transaction.atomic
def group_create(
    *,
    actor: User | None,
    organisation: Organisation,
    name: str,
    education_area=None,
    coordinators: list[User] = (),
    supervisors: list[User] = (),
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
