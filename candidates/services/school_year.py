"""The turn of the school year: archive a group (and bring it back), move candidates from one
group to another, and 'Nieuw schooljaar', which does either for many groups at once and
extends validity. Every write is audited; every read goes through the visibility rule."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta

from django.db import transaction
from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from accounts.models import AuditLog, AuditLogSubject, Organisation, User
from accounts.oidc.tokens import exam_tokens_revoke
from accounts.services import audit

from ..models import Candidate, CandidateGroup
from ..selectors import (
    active_groups_linkable_by,
    candidates_orphaned_by,
    candidates_visible_to,
    group_ids_after_move,
    groups_visible_to,
)
from .candidates import _group_names_by_candidate

_membership = Candidate.groups.through

EXTEND, ARCHIVE, LEAVE = "extend", "archive", "leave"


class MoveRefused(Exception):
    """The move would hide candidates from the coordinator doing it, or the target group is
    not one they may link to (or is archived)."""

    def __init__(self, orphans: int = 0) -> None:
        super().__init__(f"move refused ({orphans} candidates would be orphaned)")
        self.orphans = orphans


# --- Archive and restore -----------------------------------------------------------------------


def members_to_deactivate(user: User, groups: Iterable[CandidateGroup]) -> QuerySet[Candidate]:
    """Active, visible members of `groups` who are in no other group that stays active: once
    the groups are archived, nothing of this school year is left for them."""
    leaving = [g.pk for g in groups]
    still_active = CandidateGroup.objects.filter(
        organisation_id=user.college_id, archived_at=None
    ).exclude(pk__in=leaving)
    return (
        candidates_visible_to(user)
        .filter(
            pk__in=_membership.objects.filter(candidategroup_id__in=leaving).values("candidate_id")
        )
        .filter(user__is_active=True)
        .exclude(
            pk__in=_membership.objects.filter(
                candidategroup_id__in=still_active.values("pk")
            ).values("candidate_id")
        )
    )


def _deactivate(rows: list[tuple[int, str]], audit_row: AuditLog) -> None:
    """Deactivate the accounts, each a subject of the archive's audit row (as an import's
    candidates are of the import's row): their history shows the change, and a group of
    5,000 costs a few bulk queries instead of 5,000 inserts."""
    ids = [pk for pk, _username in rows]
    for start in range(0, len(ids), 1000):
        User.objects.filter(pk__in=ids[start : start + 1000]).update(is_active=False)
        exam_tokens_revoke(user_ids=ids[start : start + 1000])
    AuditLogSubject.objects.bulk_create(
        (
            AuditLogSubject(
                audit=audit_row,
                user_id=pk,
                action=AuditLog.Action.STATUS_CHANGED,
                target_repr=username,
                before={"is_active": True},
                after={"is_active": False},
            )
            for pk, username in rows
        ),
        batch_size=1000,
    )


@transaction.atomic
def group_archive(
    *, actor: User, group: CandidateGroup, deactivate_members: bool = False, ip: str | None = None
) -> int:
    """Archive `group`; with `deactivate_members`, also deactivate its members who are in no
    other active group. Returns how many were deactivated."""
    locked = CandidateGroup.objects.select_for_update().get(pk=group.pk)
    if locked.archived_at is not None:
        return 0  # a double click: archived once, audited once
    leaving: list[tuple[int, str]] = []
    if deactivate_members:
        leaving = list(members_to_deactivate(actor, [group]).values_list("pk", "user__username"))
    group.archived_at = timezone.now()
    group.save(update_fields=["archived_at"])
    row = audit(
        action=AuditLog.Action.GROUP_ARCHIVED,
        actor=actor,
        organisation=group.organisation,
        target_repr=group.name,
        after={
            "group_id": group.pk,
            "members": _membership.objects.filter(candidategroup_id=group.pk).count(),
            "members_deactivated": len(leaving),
        },
        ip=ip,
    )
    _deactivate(leaving, row)
    return len(leaving)


@transaction.atomic
def group_restore(*, actor: User, group: CandidateGroup, ip: str | None = None) -> None:
    """'Terugzetten': the group is back in every picker. Members deactivated when it was
    archived stay inactive: activating them is a choice of its own (a bulk action)."""
    updated = CandidateGroup.objects.filter(pk=group.pk, archived_at__isnull=False).update(
        archived_at=None
    )
    group.archived_at = None
    if updated:
        audit(
            action=AuditLog.Action.GROUP_RESTORED,
            actor=actor,
            organisation=group.organisation,
            target_repr=group.name,
            after={"group_id": group.pk},
            ip=ip,
        )


# --- 'Verplaats naar groep' --------------------------------------------------------------------


def move_orphans(
    actor: User, ids: Iterable[int], source: CandidateGroup, target: CandidateGroup
) -> int:
    """How many of the candidates `actor` would lose sight of (the orphan rule)."""
    return len(candidates_orphaned_by(actor, group_ids_after_move(actor, ids, source, target)))


@transaction.atomic
def candidates_move_group(
    *,
    actor: User,
    candidates: Iterable[Candidate],
    source: CandidateGroup,
    target: CandidateGroup,
    ip: str | None = None,
) -> int:
    """Unlink the candidates from `source`, link them to `target`: one audit row per candidate
    whose groups changed. Refused as a whole (MoveRefused) when the target may not be linked
    by the actor or any candidate would vanish from their sight."""
    if not active_groups_linkable_by(actor).filter(pk=target.pk).exists():
        raise MoveRefused()
    if not groups_visible_to(actor).filter(pk=source.pk).exists():
        raise MoveRefused()
    visible = candidates_visible_to(actor).filter(pk__in=[c.pk for c in candidates])
    moving = list(visible.select_related("user"))
    ids = [c.pk for c in moving]
    orphans = move_orphans(actor, ids, source, target)
    if orphans:
        raise MoveRefused(orphans)
    before = _group_names_by_candidate(ids)
    _membership.objects.filter(candidategroup_id=source.pk, candidate_id__in=ids).delete()
    present = set(
        _membership.objects.filter(candidategroup_id=target.pk, candidate_id__in=ids).values_list(
            "candidate_id", flat=True
        )
    )
    _membership.objects.bulk_create(
        [
            _membership(candidate_id=pk, candidategroup_id=target.pk)
            for pk in ids
            if pk not in present
        ]
    )
    after = _group_names_by_candidate(ids)
    moved = 0
    for candidate in moving:
        old, new = before.get(candidate.pk, []), after.get(candidate.pk, [])
        if old != new:
            moved += 1
            audit(
                action=AuditLog.Action.GROUP_LINKS_CHANGED,
                actor=actor,
                target=candidate.user,
                before={"groups": old},
                after={"groups": new},
                ip=ip,
            )
    return moved


# --- 'Nieuw schooljaar' ------------------------------------------------------------------------


def _iso(day: date | None) -> str | None:
    return day.isoformat() if day else None


def next_school_year_end(organisation: Organisation, today: date | None = None) -> date:
    """The end date to extend to. In the second half of a school year the turn is near, so the
    end of the next school year; in the first half (a late turn, in September), this one's."""
    today = today or timezone.localdate()
    end = organisation.default_valid_until(today)
    if (end - today).days <= 183:
        return organisation.default_valid_until(end + timedelta(days=1))
    return end


@dataclass
class GroupPlan:
    group: CandidateGroup
    choice: str
    members: int = 0
    extended: int = 0  # members whose validity changes


@dataclass
class SchoolYearPlan:
    valid_until: date
    deactivate: bool
    groups: list[GroupPlan] = field(default_factory=list)
    extended: int = 0  # distinct candidates whose validity changes
    deactivated: int = 0

    def of(self, choice: str) -> list[GroupPlan]:
        return [g for g in self.groups if g.choice == choice]

    @property
    def of_archive(self) -> list[GroupPlan]:  # for the template
        return self.of(ARCHIVE)


def school_year_groups(actor: User):
    """The groups the page lists: the visible ones that are not archived yet."""
    return groups_visible_to(actor).filter(archived_at=None).order_by("name")


def _differs(valid_until: date, prefix: str = "") -> Q:
    """An end date other than `valid_until`, none included; spelled out, because an exclude()
    across the user join makes SQLite check every row with a subquery (seconds at 50,000)."""
    field = f"{prefix}valid_until"
    return (
        Q(**{field: None}) | Q(**{f"{field}__lt": valid_until}) | Q(**{f"{field}__gt": valid_until})
    )


def _to_extend(actor: User, group_ids: list[int], valid_until: date) -> QuerySet[User]:
    """The accounts whose end date changes: visible members of the extended groups. Subqueries,
    never a list of ids, so a college of 50,000 sends no 50,000-item IN (...) to the database."""
    members = _membership.objects.filter(candidategroup_id__in=group_ids).values("candidate_id")
    visible = candidates_visible_to(actor).filter(pk__in=members)
    return User.objects.filter(_differs(valid_until), pk__in=visible.values("pk"))


def school_year_plan(
    actor: User, choices: Mapping[int, str], valid_until: date, *, deactivate: bool = False
) -> SchoolYearPlan:
    """What 'Bevestigen' would do, counted: the preview shows it, the apply carries it out."""
    plan = SchoolYearPlan(valid_until=valid_until, deactivate=deactivate)
    groups = list(school_year_groups(actor))
    wanted = [g.pk for g in groups if choices.get(g.pk, LEAVE) != LEAVE]
    extend = [g.pk for g in groups if choices.get(g.pk) == EXTEND]
    # One grouped join for every group's counts: members, and members whose date changes.
    counted = (
        candidates_visible_to(actor)
        .filter(groups__in=wanted)
        .values("groups")
        .annotate(n=Count("pk"), changing=Count("pk", filter=_differs(valid_until, "user__")))
    )
    counts = {row["groups"]: (row["n"], row["changing"]) for row in counted}
    for g in groups:
        choice = choices.get(g.pk, LEAVE)
        members, changing = counts.get(g.pk, (0, 0))
        plan.groups.append(GroupPlan(g, choice, members, changing if choice == EXTEND else 0))
    plan.extended = _to_extend(actor, extend, valid_until).count()
    if deactivate:
        # Archiving the groups one by one ends the same: a member of an archived group and of
        # a group that stays (an extended one, too) keeps their account.
        plan.deactivated = members_to_deactivate(actor, [p.group for p in plan.of(ARCHIVE)]).count()
    return plan


def _extend(actor: User, plan: SchoolYearPlan, row: AuditLog) -> int:
    """Set the new end date, with a subject of the turn's audit row per changed account."""
    extend = [p.group.pk for p in plan.of(EXTEND)]
    changing = _to_extend(actor, extend, plan.valid_until)
    before = list(changing.values_list("pk", "username", "valid_until"))
    User.objects.filter(pk__in=changing.values("pk")).update(valid_until=plan.valid_until)
    after = {"valid_until": plan.valid_until.isoformat()}
    AuditLogSubject.objects.bulk_create(
        (
            AuditLogSubject(
                audit=row,
                user_id=pk,
                action=AuditLog.Action.VALIDITY_CHANGED,
                target_repr=username,
                before={"valid_until": _iso(old)},
                after=after,
            )
            for pk, username, old in before
        ),
        batch_size=1000,
    )
    return len(before)


@transaction.atomic
def school_year_apply(
    *,
    actor: User,
    choices: Mapping[int, str],
    valid_until: date,
    deactivate: bool = False,
    ip: str | None = None,
) -> SchoolYearPlan:
    """Extend, then archive, in one transaction, with one audit row for the turn (a subject
    per extended candidate, so each candidate's history shows their new end date) and the
    archive's own row per group."""
    plan = school_year_plan(actor, choices, valid_until, deactivate=deactivate)
    row = audit(
        action=AuditLog.Action.SCHOOL_YEAR_STARTED,
        actor=actor,
        organisation=actor.college,
        target_repr=actor.college.name,
        after={
            "valid_until": valid_until.isoformat(),
            "extended_groups": [p.group.name for p in plan.of(EXTEND)],
            "archived_groups": [p.group.name for p in plan.of(ARCHIVE)],
        },
        ip=ip,
    )
    plan.extended = _extend(actor, plan, row)
    row.after["extended"] = plan.extended
    row.save(update_fields=["after"])
    plan.deactivated = sum(
        group_archive(actor=actor, group=p.group, deactivate_members=deactivate, ip=ip)
        for p in plan.of(ARCHIVE)
    )
    return plan
