"""The visibility rule, in one place.

Every view, export, command and task finds candidates, groups and staff through these
functions; nothing filters candidates by hand. The rule (issue 2 and the seed document):

- beheerder: every candidate of their own college;
- toetscoördinator: candidates in a group they are linked to;
- begeleider: candidates in a group they supervise, plus candidates linked to them directly;
- kandidaat: only themselves;
- nobody: anything of another college (and platform superusers see nothing here: they work
  in the Django admin).
"""

from __future__ import annotations

from django.db.models import Q, QuerySet

from accounts.models import Role, User

from .models import Candidate, CandidateGroup

_membership = Candidate.groups.through


def candidates_visible_to(user: User) -> QuerySet[Candidate]:
    if not getattr(user, "is_authenticated", False) or user.organisation_id is None:
        return Candidate.objects.none()
    own = Candidate.objects.filter(organisation_id=user.organisation_id)
    if user.role == Role.BEHEERDER:
        return own
    if user.role == Role.TOETSCOORDINATOR:
        # A subquery instead of a join: no duplicates, so no DISTINCT over 50,000 rows.
        in_my_groups = _membership.objects.filter(candidategroup__coordinators=user)
        return own.filter(pk__in=in_my_groups.values("candidate_id"))
    if user.role == Role.BEGELEIDER:
        in_my_groups = _membership.objects.filter(candidategroup__supervisors=user)
        directly = Candidate.supervisors.through.objects.filter(user=user)
        return own.filter(
            Q(pk__in=in_my_groups.values("candidate_id"))
            | Q(pk__in=directly.values("candidate_id"))
        )
    if user.role == Role.KANDIDAAT:
        return own.filter(pk=user.pk)
    return Candidate.objects.none()


def groups_visible_to(user: User) -> QuerySet[CandidateGroup]:
    """Groups a user may see (and, for beheerder and coordinator, link candidates to)."""
    if not getattr(user, "is_authenticated", False) or user.organisation_id is None:
        return CandidateGroup.objects.none()
    own = CandidateGroup.objects.filter(organisation_id=user.organisation_id)
    if user.role == Role.BEHEERDER:
        return own
    if user.role == Role.TOETSCOORDINATOR:
        return own.filter(
            pk__in=CandidateGroup.coordinators.through.objects.filter(user=user).values(
                "candidategroup_id"
            )
        )
    if user.role == Role.BEGELEIDER:
        return own.filter(
            pk__in=CandidateGroup.supervisors.through.objects.filter(user=user).values(
                "candidategroup_id"
            )
        )
    return CandidateGroup.objects.none()


def groups_linkable_by(user: User) -> QuerySet[CandidateGroup]:
    """Groups a user may link candidates to: supervisors and candidates link nothing."""
    if user.role in (Role.BEHEERDER, Role.TOETSCOORDINATOR):
        return groups_visible_to(user)
    return CandidateGroup.objects.none()


def staff_visible_to(user: User) -> QuerySet[User]:
    """Colleagues a staff member may see and pick (e.g. 'Selecteer begeleiders')."""
    if not getattr(user, "is_authenticated", False) or user.organisation_id is None:
        return User.objects.none()
    if user.role not in (Role.BEHEERDER, Role.TOETSCOORDINATOR):
        return User.objects.none()
    return User.objects.filter(
        organisation_id=user.organisation_id,
        role__in=(Role.BEHEERDER, Role.TOETSCOORDINATOR, Role.BEGELEIDER),
    ).order_by("last_name", "first_name", "username")


def supervisors_visible_to(user: User) -> QuerySet[User]:
    return staff_visible_to(user).filter(role=Role.BEGELEIDER, is_active=True)


def candidate_visible_to(user: User, pk: int) -> Candidate | None:
    return candidates_visible_to(user).select_related("user").filter(pk=pk).first()
