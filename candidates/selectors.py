"""The visibility rule, in one place, with the two rules built on it: the orphan rule
(candidates_orphaned_by) and the impersonation rule (can_impersonate).

Every view, export, command and task finds candidates, groups and staff through these
functions; nothing filters candidates by hand. The rule:

- beheerder: every candidate of their own college;
- toetscoördinator: candidates in a group they are linked to;
- begeleider: candidates in a group they supervise, plus candidates linked to them directly;
- kandidaat: only themselves;
- nobody: anything of another college (and platform superusers see nothing here: they work
  in the Django admin).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date, timedelta
from typing import Any, TypeVar

from django.db.models import (
    BigIntegerField,
    BooleanField,
    Count,
    Exists,
    Func,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Value,
)
from django.db.models.expressions import OrderBy
from django.db.models.functions import Cast, Lower
from django.http import Http404
from django.utils import timezone

from accounts.models import (
    AuditLog,
    AuditLogSubject,
    ExamEnvironment,
    Role,
    User,
    usernames_reserved,
)
from accounts.validators import parse_id

from .models import Candidate, CandidateGroup, fold

_membership = Candidate.groups.through
K = TypeVar("K")


class _KeptAsFilter(Func):
    """`(condition) IS TRUE` on PostgreSQL: the same rows as the condition alone, but the
    planner keeps an `IN (subquery)` inside it as a filter (a hashed subplan, built once per
    query) instead of turning it into a semi join, whose size it misjudges on a platform.

    A semi join's size is estimated as (ids the subquery yields) / (distinct ids in the whole
    table), and PostgreSQL has no statistic that says a coordinator's groups hold only
    candidates of their own college. With 60 colleges of 20,000 it believed 1 % of the college
    visible to a coordinator who saw half, and for every list page joined and sorted the whole
    college (8 ms) instead of walking the name index (0.5 ms; docs/performance.md, platform
    scale). Where a search narrows the rows first the semi join is the better plan, so the
    list asks for this only when it walks the whole college. The group filter keeps the
    college condition itself as a filter the same way (`in_group`), so that PostgreSQL
    cannot use it to find rows.

    SQLite gets the bare condition: its planner has no such estimate and walks the name index
    either way (the wrapper made its coordinator page 25 % slower)."""

    template = "(%(expressions)s) IS TRUE"
    output_field = BooleanField()

    def as_sqlite(self, compiler, connection, **extra_context):
        return compiler.compile(self.source_expressions[0])


def _college_id(organisation_id: int) -> Cast:
    """The college's id typed bigint, like the column. Django passes an int as an integer, and
    on PostgreSQL 15 the search index (organisation, search text; candidates migration 0006)
    serves only bigint = bigint: with an integer the index matched the trigrams alone."""
    return Cast(Value(organisation_id), BigIntegerField())


def candidates_visible_to(
    user: User, *, walks_college: bool = False, in_group: int | None = None
) -> QuerySet[Candidate]:
    """The candidates `user` may see; with `in_group`, only those among that group's members.

    `walks_college` changes how PostgreSQL plans the rule, never which rows it gives: the
    caller reads the college in an order without narrowing it first (the list page without
    a search or group filter).

    `in_group` starts from the group's few hundred members and checks the college on them
    rather than using it to find them. As a condition to search by, PostgreSQL estimated a
    group's members in the college from whole-table statistics (7 of 400 at 60 colleges) and
    read all 20,000 of the college to join them (2.9 ms) instead of looking up the 400
    (0.9 ms). A coordinator or supervisor of the group sees all its members, so the link is
    checked once instead of for each member (the per-member check was planned from the same
    estimates: a hash of the coordinator's 10,000 memberships, 4.7 ms)."""
    if not getattr(user, "is_authenticated", False) or user.organisation_id is None:
        return Candidate.objects.none()
    college = Q(organisation_id=_college_id(user.organisation_id))
    if in_group is None:
        own = Candidate.objects.filter(college)
    else:
        own = Candidate.objects.filter(_KeptAsFilter(college), groups__id=in_group)
    if user.role == Role.BEHEERDER:
        return own
    if user.role == Role.TOETSCOORDINATOR:
        coordinated = CandidateGroup.coordinators.through.objects.filter(user=user)
        if in_group is not None:
            return own.filter(Exists(coordinated.filter(candidategroup_id=in_group)))
        # A subquery instead of a join: no duplicates, so no DISTINCT over 50,000 rows. The
        # links are read by group id alone (no join through the group table), which the
        # index candidate_groups_by_group answers without touching the table.
        in_my_groups = _membership.objects.filter(
            candidategroup_id__in=coordinated.values("candidategroup_id")
        )
        visible = Q(pk__in=in_my_groups.values("candidate_id"))
        return own.filter(_KeptAsFilter(visible) if walks_college else visible)
    if user.role == Role.BEGELEIDER:
        supervised = CandidateGroup.supervisors.through.objects.filter(user=user)
        directly = Q(
            pk__in=Candidate.supervisors.through.objects.filter(user=user).values("candidate_id")
        )
        if in_group is not None:
            return own.filter(Exists(supervised.filter(candidategroup_id=in_group)) | directly)
        in_my_groups = _membership.objects.filter(
            candidategroup_id__in=supervised.values("candidategroup_id")
        )
        return own.filter(Q(pk__in=in_my_groups.values("candidate_id")) | directly)
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


def unarchived(
    groups: QuerySet[CandidateGroup], *, keep: Iterable[int] = ()
) -> QuerySet[CandidateGroup]:
    """What a picker or filter offers: archived groups drop out, except those in `keep` (the
    ones a form's object is linked to already, so saving it does not silently unlink them)."""
    return groups.filter(Q(archived_at=None) | Q(pk__in=list(keep)))


def active_groups_visible_to(user: User) -> QuerySet[CandidateGroup]:
    """Filters and lists: the visible groups that are not archived."""
    return unarchived(groups_visible_to(user))


def active_groups_linkable_by(user: User) -> QuerySet[CandidateGroup]:
    """Pickers that link candidates ('Koppelen', 'Verplaatsen', the import): no archived group."""
    return unarchived(groups_linkable_by(user))


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


def candidates_orphaned_by(
    user: User, groups_after: Mapping[K, Iterable[int]], *, mine: set[int] | None = None
) -> list[K]:
    """The orphan rule: which candidates `user` would lose sight of when each key of
    `groups_after` ends up in exactly the groups listed for it (group ids).

    A toetscoördinator sees a candidate only through a group they are linked to (`mine`,
    read from groups_visible_to when not given), so a candidate left outside those groups
    vanishes from their view. A beheerder sees the whole college, and supervisors and
    candidates change no links, so for them nothing is ever orphaned. Every unlink or move
    (bulk unlink, 'Koppelingen', the import) asks here before it warns or refuses.
    """
    if user.role != Role.TOETSCOORDINATOR:
        return []
    if mine is None:
        mine = set(groups_visible_to(user).values_list("pk", flat=True))
    return [key for key, groups in groups_after.items() if not set(groups) & mine]


def group_ids_after_unlink(
    user: User, ids: Iterable[int], group: CandidateGroup
) -> dict[int, set[int]]:
    """For the orphan rule: the visible candidates among `ids` that are in `group`, each with
    the ids of the groups it keeps once unlinked from it (all groups, seen or not)."""
    in_group = candidates_visible_to(user).filter(pk__in=list(ids), groups=group)
    after: dict[int, set[int]] = {pk: set() for pk in in_group.values_list("pk", flat=True)}
    links = _membership.objects.filter(candidate_id__in=after).exclude(candidategroup_id=group.pk)
    for candidate_id, group_id in links.values_list("candidate_id", "candidategroup_id"):
        after[candidate_id].add(group_id)
    return after


def group_ids_after_move(
    user: User, ids: Iterable[int], source: CandidateGroup, target: CandidateGroup
) -> dict[int, set[int]]:
    """For the orphan rule: the visible candidates among `ids`, each with the ids of the
    groups it is in once moved from `source` to `target` (all groups, seen or not)."""
    visible = candidates_visible_to(user).filter(pk__in=list(ids)).values_list("pk", flat=True)
    after: dict[int, set[int]] = {pk: {target.pk} for pk in visible}
    links = _membership.objects.filter(candidate_id__in=after).exclude(candidategroup_id=source.pk)
    for candidate_id, group_id in links.values_list("candidate_id", "candidategroup_id"):
        after[candidate_id].add(group_id)
    return after


def can_impersonate(*, hijacker: User, hijacked: User) -> bool:
    """The impersonation rule ('Log in als deze gebruiker'), django-hijack's permission check.

    Beheerders may become any candidate of their college, coordinators any candidate visible
    to them. Never staff, superusers, inactive or expired accounts, or another college.
    """
    if hijacker.pk == hijacked.pk or hijacked.is_superuser or hijacked.is_staff:
        return False
    if hijacker.role not in (Role.BEHEERDER, Role.TOETSCOORDINATOR):
        return False
    if hijacked.role != Role.KANDIDAAT or not hijacked.is_active or hijacked.validity_problem():
        return False
    if hijacker.organisation_id is None or hijacker.organisation_id != hijacked.organisation_id:
        return False
    return candidates_visible_to(hijacker).filter(pk=hijacked.pk).exists()


def impersonation_target_or_404(*, hijacker: User, user_pk: Any) -> User:
    """The user behind 'Log in als deze gebruiker', found only among the accounts the actor
    may see: an id that is malformed, unknown, or of someone the actor cannot see is the same
    404, so the form cannot be used to find out which ids exist in other colleges. A visible
    user one may not become (staff, an inactive candidate) is a 403 later, in can_impersonate.
    """
    pk = parse_id(user_pk)
    if pk is None:
        raise Http404
    visible = (
        pk == hijacker.pk
        or candidates_visible_to(hijacker).filter(pk=pk).exists()
        or staff_visible_to(hijacker).filter(pk=pk).exists()
    )
    user = User.objects.filter(pk=pk).first() if visible else None
    if user is None:
        raise Http404
    return user


# --- Reads built on the rule above --------------------------------------------------------------

SORTS = {
    "name": ("name_key", "pk"),
    "-name": ("-name_key", "-pk"),
    "number": ("candidate_number", "pk"),
    "-number": ("-candidate_number", "-pk"),
}
EXPIRY_WARNING_DAYS = 30


def candidate_search(candidates: QuerySet[Candidate], query: str) -> QuerySet[Candidate]:
    """Every word must occur in the folded search text: 'umit yilmaz' finds 'Ümit Yılmaz'."""
    for word in fold(query).split():
        candidates = candidates.filter(search_text__contains=word)
    return candidates


def candidates_filtered(
    user: User,
    *,
    query: str = "",
    group: str = "",
    status: str = "",
    validity: str = "",
    sort: str = "name",
    today: date | None = None,
) -> QuerySet[Candidate]:
    """The candidate list: visible candidates, searched, filtered and sorted.

    `group` is a group id (already checked against groups_visible_to) or "none".
    """
    today = today or timezone.localdate()
    in_group = int(group) if group and group != "none" else None
    visible = candidates_visible_to(
        user, walks_college=not query.strip() and not group, in_group=in_group
    )
    candidates = candidate_search(visible, query)
    if group == "none":
        candidates = candidates.filter(groups=None)
    if status == "active":
        candidates = candidates.filter(user__is_active=True)
    elif status == "inactive":
        candidates = candidates.filter(user__is_active=False)
    if validity == "valid":
        candidates = candidates.filter(
            Q(user__valid_from=None) | Q(user__valid_from__lte=today),
            Q(user__valid_until=None) | Q(user__valid_until__gte=today),
        )
    elif validity == "expiring":
        candidates = candidates.filter(
            user__valid_until__gte=today,
            user__valid_until__lte=today + timedelta(days=EXPIRY_WARNING_DAYS),
        )
    elif validity == "expired":
        candidates = candidates.filter(user__valid_until__lt=today)
    order: tuple[str | OrderBy, ...] = SORTS.get(sort, SORTS["name"])
    if query.strip() and sort in ("name", "-name"):
        # A search is ordered by lower(name_key) — the same order, since the key is folded
        # already — which the name index cannot serve. PostgreSQL then finds the matches
        # through the trigram index and sorts only those, instead of walking the name index
        # until 50 match: 'jansen' among 50,000 took 12 ms that way (21–45 ms for a
        # coordinator), now 7 ms, and a rare name stays under a millisecond either way.
        key = Lower("name_key")
        order = (key.desc(), "-pk") if sort == "-name" else (key.asc(), "pk")
    return candidates.order_by(*order)


def with_list_relations(candidates: QuerySet[Candidate], user: User) -> QuerySet[Candidate]:
    """One query for the rows and one for their groups, whatever the page size. Only groups the
    viewer may see are shown, so a coordinator does not learn other groups' names."""
    return candidates.select_related("user").prefetch_related(
        Prefetch("groups", queryset=groups_visible_to(user).only("name").order_by("name"))
    )


LIST_ROW_FIELDS = (
    "candidate_number",
    "user__first_name",
    "user__surname_prefix",
    "user__last_name",
    "user__username",
    "user__email",
    "user__is_active",
    "user__valid_from",
    "user__valid_until",
)


def list_rows(candidates: QuerySet[Candidate], user: User) -> list[Candidate]:
    """The rows of Beheer → Kandidaten: only the columns the table shows (the user row has
    twenty, among them the password hash, which the page has no business loading), and as
    `group_names` the names of the groups the viewer may see. One query for the groups of all
    rows; prefetch_related did the same in three times the CPU (docs/performance.md)."""
    rows = list(candidates.select_related("user").only(*LIST_ROW_FIELDS))
    names: dict[int, list[str]] = {c.pk: [] for c in rows}
    links = (
        # The page's 50 ids drive the query; the visible groups only filter it (kept as a
        # filter for the reason in _KeptAsFilter: joined, PostgreSQL guessed one visible group
        # at platform size and read every member of each of the coordinator's groups).
        _membership.objects.filter(
            _KeptAsFilter(Q(candidategroup__in=groups_visible_to(user))), candidate_id__in=names
        )
        .order_by("candidategroup__name")
        .values_list("candidate_id", "candidategroup__name")
    )
    for candidate_id, name in links:
        names[candidate_id].append(name)
    for c in rows:
        c.group_names = names[c.pk]
    return rows


def group_members_visible_to(user: User, group: CandidateGroup) -> QuerySet[Candidate]:
    return candidates_visible_to(user).filter(groups=group)


def groups_with_member_counts(user: User) -> QuerySet[CandidateGroup]:
    """A coordinator sees every member of their own groups, so these counts leak nothing."""
    return (
        groups_visible_to(user)
        .select_related("education_area")
        .annotate(member_count=Count("members"))
        .order_by("name")
    )


def candidate_number_taken(
    *, organisation_id: int, number: str, exclude_pk: int | None = None
) -> bool:
    """Uniqueness inside the college (a database constraint); says nothing about visibility."""
    found = Candidate.objects.filter(organisation_id=organisation_id, candidate_number=number)
    if exclude_pk is not None:
        found = found.exclude(pk=exclude_pk)
    return found.exists()


def group_name_taken(*, organisation_id: int, name: str, exclude_pk: int | None = None) -> bool:
    found = CandidateGroup.objects.filter(organisation_id=organisation_id, name__iexact=name)
    if exclude_pk is not None:
        found = found.exclude(pk=exclude_pk)
    return found.exists()


def username_taken(username: str, *, exclude_pk: int | None = None) -> bool:
    """Usernames are unique across the installation (the login page has no college picker)."""
    found = User.objects.filter(username__iexact=username)
    if exclude_pk is not None:
        found = found.exclude(pk=exclude_pk)
    # A deleted or anonymised account's name stays taken for the retention period.
    return found.exists() or bool(usernames_reserved([username]))


def editable_staff_of(user: User) -> QuerySet[User]:
    """Colleagues a beheerder manages on 'Medewerkers': coordinators and supervisors."""
    if user.role != Role.BEHEERDER:
        return User.objects.none()
    return staff_visible_to(user).filter(role__in=(Role.TOETSCOORDINATOR, Role.BEGELEIDER))


def audit_rows_visible_to(user: User) -> QuerySet[AuditLog]:
    """The college's audit log, for its beheerders only."""
    if user.role != Role.BEHEERDER or user.organisation_id is None:
        return AuditLog.objects.none()
    return AuditLog.objects.filter(organisation_id=user.organisation_id).select_related(
        "actor", "target_user"
    )


def candidate_history(candidate: Candidate, *, limit: int = 100) -> list[AuditLog]:
    """The newest `limit` audit rows about one candidate (the caller found the candidate
    through the rule): rows of its own, and the candidate's part of an import's row."""
    own = AuditLog.objects.filter(target_user_id=candidate.pk).select_related("actor")
    subjects = subject_rows(AuditLogSubject.objects.filter(user_id=candidate.pk), limit=limit)
    return newest_first([*own[:limit], *subjects])[:limit]


def subject_rows(
    subjects: QuerySet[AuditLogSubject], *, limit: int | None = None
) -> list[AuditLog]:
    """Subjects of many-person audit rows, each as the row of its own it stands for."""
    subjects = subjects.select_related("audit__actor").order_by("-audit__created", "-audit_id")
    return [s.as_row() for s in (subjects[:limit] if limit else subjects)]


def newest_first(rows: list[AuditLog]) -> list[AuditLog]:
    """The audit log's own order (AuditLog.Meta.ordering), for rows from several queries."""
    return sorted(rows, key=lambda r: (r.created, r.pk), reverse=True)


# --- System-wide reads for the nightly tasks (no user: they act for every college) ------------


def candidates_to_expire(today: date) -> QuerySet[Candidate]:
    """Active candidates whose last valid day lies before `today`."""
    return Candidate.objects.filter(user__is_active=True, user__valid_until__lt=today)


def coordinators_for_digest() -> QuerySet[User]:
    return User.objects.filter(
        role=Role.TOETSCOORDINATOR, is_active=True, organisation__isnull=False
    ).exclude(email="")


def candidates_expiring_for(user: User, today: date) -> QuerySet[Candidate]:
    return (
        candidates_visible_to(user)
        .filter(
            user__is_active=True,
            user__valid_until__gte=today,
            user__valid_until__lte=today + timedelta(days=EXPIRY_WARNING_DAYS),
        )
        .select_related("user")
        .order_by("user__valid_until", "user__last_name", "user__first_name")
    )


def candidates_supervised_by(user: User) -> QuerySet[Candidate]:
    """'Mijn kandidaten': the visible candidates, each marked with what makes it visible:
    `is_direct` (linked to the supervisor directly) and `via_groups` (supervised groups)."""
    direct = Candidate.supervisors.through.objects.filter(
        candidate_id=OuterRef("pk"), user_id=user.pk
    )
    return (
        candidates_visible_to(user)
        .annotate(is_direct=Exists(direct))
        .select_related("user")
        .prefetch_related(
            Prefetch(
                "groups", queryset=groups_visible_to(user).order_by("name"), to_attr="via_groups"
            )
        )
    )


# --- Retention and deletion --------------------------------------------------------------------


def may_delete_candidates(user: User) -> bool:
    """Beheerders delete in their college; coordinators only when the college allows it."""
    if not getattr(user, "is_authenticated", False) or user.organisation_id is None:
        return False
    if user.role == Role.BEHEERDER:
        return True
    return user.role == Role.TOETSCOORDINATOR and user.college.coordinators_may_delete


def candidates_deletable_by(user: User) -> QuerySet[Candidate]:
    """Who `user` may delete: what they may see (nobody deletes what they cannot see), and
    nothing at all when their role or college does not allow deleting."""
    if not may_delete_candidates(user):
        return Candidate.objects.none()
    return candidates_visible_to(user)


def groups_deletable_by(user: User) -> QuerySet[CandidateGroup]:
    """Groups `user` may delete with their members: a coordinator only their own groups."""
    if not may_delete_candidates(user):
        return CandidateGroup.objects.none()
    return groups_linkable_by(user)


def candidates_past_retention(organisation_id: int, cutoff: date) -> QuerySet[Candidate]:
    """A college's candidates whose validity ended before `cutoff` and that are not yet
    anonymised: the nightly retention task's work (no user: it acts for the college)."""
    return Candidate.objects.filter(
        organisation_id=organisation_id,
        user__valid_until__lt=cutoff,
        user__anonymised_at__isnull=True,
    )


def exam_environments_visible_to(user: User) -> QuerySet[ExamEnvironment]:
    """The exam environments of the beheerder's college (Instellingen → Toetsomgevingen)."""
    if user.role != Role.BEHEERDER or user.organisation_id is None:
        return ExamEnvironment.objects.none()
    return ExamEnvironment.objects.filter(organisation_id=user.organisation_id).select_related(
        "application"
    )
