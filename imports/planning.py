"""Diff cleaned rows against the database: which rows are new, updated, unchanged or wrong.

A pipeline of small steps. The loaders (`load_*`) read the database, each with one query
whatever the size of the file (no query per row; the file's numbers and usernames go as one
parameter each, see imports.lookups); the steps between them take data and return data, and
each can be tested alone:

    resolve_groups → match_existing → reserve_usernames → plan_row (diff_row) → _orphan_guard

A row that fails a step is not passed on: it keeps the first error found. A candidate the actor
cannot see (candidates_visible_to) is never described: no message, username or id of such a
candidate ends up in the plan, which the check step, the report and the result page show.
"""

from __future__ import annotations

import sys
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any, NamedTuple

from django.db.models import Exists, F, OuterRef, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Organisation, RetiredUsername, Role, User
from accounts.placeholders import USERNAME_MAX_LENGTH, render_placeholders
from candidates.models import Candidate, CandidateGroup
from candidates.selectors import (
    active_groups_linkable_by,
    candidates_orphaned_by,
    candidates_visible_to,
    groups_linkable_by,
)

from .fields import FIELD_BY_NAME
from .gcpause import cyclic_gc_paused
from .lookups import InValues
from .options import ExistingPasswords, ImportOptions
from .pipeline import CleanRow, RowError

NEW, UPDATED, UNCHANGED, ERROR = "new", "updated", "unchanged", "error"
USER_FIELDS = ("first_name", "surname_prefix", "last_name", "email")
# Up to this many candidates, links are read by candidate id; above it, by group only (a few
# ids), which spares the database and Django an IN list as long as the file.
SHORT_ID_LIST = 1000
_NUMBER_MARK = "\x00"  # stands in for the candidate number (a cleaned number holds no NUL)


class Existing(NamedTuple):
    """What the diff needs of an existing candidate, read as plain values (no model instances:
    a 50,000-row file matches 50,000 of them)."""

    pk: int
    candidate_number: str
    birth_date: date | None
    username: str
    first_name: str
    surname_prefix: str
    last_name: str
    email: str
    is_active: bool
    valid_until: date | None
    visible: bool  # candidates_visible_to(actor) holds it


EXISTING_FIELDS = (
    "pk",
    "candidate_number",
    "birth_date",
    "user__username",
    "user__first_name",
    "user__surname_prefix",
    "user__last_name",
    "user__email",
    "user__is_active",
    "user__valid_until",
    "visible",
)


@dataclass(slots=True)
class PlannedRow:
    row: int
    values: dict[str, Any]
    status: str
    errors: list[RowError] = field(default_factory=list)
    candidate_id: int | None = None
    username: str = ""
    changes: dict[str, list[Any]] = field(default_factory=dict)  # field: [old, new]
    group_ids: set[int] = field(default_factory=set)  # groups this row must be linked to
    new_group_links: set[int] = field(default_factory=set)
    new_supervisor_links: set[int] = field(default_factory=set)
    new_group_name: str = ""  # a group from the file to create and link (options.create_groups)


@dataclass
class Plan:
    rows: list[PlannedRow]
    target_group: CandidateGroup | None = None
    problems: list[str] = field(default_factory=list)  # import-wide, e.g. the orphan guard
    # File group names that match no group the actor may link to: name as first written in
    # the file → rows, sorted by name. Also when the actor did not ask to create them.
    missing_groups: dict[str, int] = field(default_factory=dict)

    @property
    def counts(self) -> dict[str, int]:
        c = Counter(r.status for r in self.rows)
        return {
            "rows": len(self.rows),
            "new": c[NEW],
            "updated": c[UPDATED],
            "unchanged": c[UNCHANGED],
            "errors": c[ERROR],
        }

    @property
    def errors(self) -> list[RowError]:
        return [e for r in self.rows for e in r.errors]

    @property
    def can_import(self) -> bool:
        return not self.problems and any(r.status != ERROR for r in self.rows)


def make_username(organisation: Organisation, candidate_number: str) -> str:
    return username_maker(organisation)(candidate_number)


def username_maker(organisation: Organisation) -> Callable[[str], str]:
    """The college's username for a candidate number. The pattern is filled in once, with a
    marker where the number goes, so a 50,000-row file does not parse it 50,000 times."""
    pattern = organisation.username_pattern or "{code}-{candidate_number}"
    values = {"code": organisation.code, "candidate_number": _NUMBER_MARK}
    if _NUMBER_MARK in pattern or _NUMBER_MARK in organisation.code:
        return lambda number: _render_username(pattern, organisation.code, number)
    # Not cut at the maximum length yet: the number's own length decides where the cut falls.
    parts = render_placeholders(pattern, values, max_length=sys.maxsize).split(_NUMBER_MARK)
    return lambda number: number.join(parts)[:USERNAME_MAX_LENGTH].lower()


def _render_username(pattern: str, code: str, number: str) -> str:
    values = {"code": code, "candidate_number": number}
    return render_placeholders(pattern, values, max_length=USERNAME_MAX_LENGTH).lower()


@cyclic_gc_paused()
def build_plan(
    *,
    organisation: Organisation,
    actor: User,
    rows: list[CleanRow],
    options: ImportOptions,
    mapped_fields: set[str],
    labels: dict[str, str] | None = None,
) -> Plan:
    """Every row of the file with what importing it would do. Writes nothing."""
    columns = {name: (labels or {}).get(name) or str(f.label) for name, f in FIELD_BY_NAME.items()}
    problems: list[str] = []
    target_group = _target_group(actor, options, problems)
    create = _may_create_requested(actor, organisation, options, problems)
    index = load_groups(organisation=organisation, actor=actor, with_unlinkable=create)
    groups = (
        Groups()
        if options.ignore_group_column
        else resolve_groups(rows, index, create=create, column=columns["group"])
    )
    ok = [r for r in rows if not r.errors and r.row not in groups.errors]
    found = load_existing(organisation=organisation, actor=actor, rows=ok)
    generated = generate_usernames(ok, found, organisation=organisation)
    taken = load_taken_usernames(wanted_usernames(ok, generated))
    matches = match_existing(ok, found, taken, generated=generated, columns=columns)
    done = matches.errors.keys() | matches.candidates.keys()
    new_rows = [(r.row, matches.usernames[r.row]) for r in ok if r.row not in done]
    username_column = columns["username" if "username" in mapped_fields else "candidate_number"]
    context = RowContext(
        options=options,
        mapped_fields=mapped_fields,
        target_group_id=target_group.pk if target_group else None,
        groups=groups,
        matches=matches,
        errors={
            **reserve_usernames(
                new_rows, taken, columns=(username_column, columns["candidate_number"])
            ),
            **matches.errors,
            **groups.errors,
        },
    )
    _load_links(context)
    planned = [plan_row(r, context) for r in rows]
    guard = _orphan_guard(planned, actor=actor, options=options, mine=set(index.linkable.values()))
    if guard:
        problems.append(guard)
    return Plan(planned, target_group, problems, missing_groups=groups.missing)


def _target_group(
    actor: User, options: ImportOptions, problems: list[str]
) -> CandidateGroup | None:
    if not options.group_id:
        return None
    group = active_groups_linkable_by(actor).filter(pk=options.group_id).first()
    if group is None:
        problems.append(_("De gekozen kandidaatgroep bestaat niet of je mag er niet aan koppelen."))
    return group


def may_create_groups(actor: User, organisation: Organisation) -> bool:
    """The rule of the group pages: beheerders, and coordinators when their college lets them."""
    if actor.role == Role.BEHEERDER:
        return True
    return actor.role == Role.TOETSCOORDINATOR and organisation.coordinators_may_create_groups


def _may_create_requested(
    actor: User, organisation: Organisation, options: ImportOptions, problems: list[str]
) -> bool:
    """Whether the file's missing groups are to be created; a refusal is a problem of the
    whole import, since the user asked for something they may not do."""
    if not options.create_groups or options.ignore_group_column:
        return False
    if may_create_groups(actor, organisation):
        return True
    problems.append(
        _(
            "Je mag geen kandidaatgroepen aanmaken, dus de ontbrekende groepen uit het bestand "
            "kunnen niet worden gemaakt. Vraag een beheerder om ze aan te maken."
        )
    )
    return False


# --- groups ---------------------------------------------------------------------------------


@dataclass(slots=True)
class GroupIndex:
    """The college's groups as the actor sees them, by casefolded name."""

    linkable: dict[str, int]  # groups the actor may link candidates to → pk
    unlinkable: frozenset[str] = frozenset()  # the college's other group names
    archived: frozenset[str] = frozenset()  # linkable but archived: offered nowhere, also not here


@dataclass(slots=True)
class Groups:
    """What the group column means, by row number (rows with errors of their own left out)."""

    ids: dict[int, int] = field(default_factory=dict)  # an existing group the row names
    new_names: dict[int, str] = field(default_factory=dict)  # a group to create
    errors: dict[int, RowError] = field(default_factory=dict)
    missing: dict[str, int] = field(default_factory=dict)  # see Plan.missing_groups


def load_groups(*, organisation: Organisation, actor: User, with_unlinkable: bool) -> GroupIndex:
    """One query (two when groups are to be created: a new group may not take the name of an
    existing one, also not of one the actor cannot see)."""
    linkable: dict[str, int] = {}
    archived: set[str] = set()
    for pk, name, archived_at in groups_linkable_by(actor).values_list("pk", "name", "archived_at"):
        if archived_at is None:
            linkable.setdefault(name.casefold(), pk)
        else:
            archived.add(name.casefold())
    archived -= linkable.keys()
    if not with_unlinkable:
        return GroupIndex(linkable, archived=frozenset(archived))
    names = (
        CandidateGroup.objects.filter(organisation=organisation)
        .exclude(pk__in=list(linkable.values()))
        .values_list("name", flat=True)
    )
    unlinkable = frozenset(n.casefold() for n in names) - linkable.keys() - archived
    return GroupIndex(linkable, unlinkable, frozenset(archived))


def resolve_groups(rows: list[CleanRow], index: GroupIndex, *, create: bool, column: str) -> Groups:
    """The group each row names: an existing one, one to create, or an error. Two spellings of
    one new name ('4A', '4a') become one group, spelled as the file first wrote it."""
    result = Groups()
    spelling: dict[str, str] = {}
    for row in rows:
        name = row.values.get("group")
        if not name:
            continue
        key = name.casefold()
        group_id = index.linkable.get(key)
        if group_id is not None:
            if not row.errors:
                result.ids[row.row] = group_id
            continue
        if key in index.archived:
            if not row.errors:
                result.errors[row.row] = RowError(row.row, column, _archived_error(), name)
            continue
        first = spelling.setdefault(key, name)
        result.missing[first] = result.missing.get(first, 0) + 1
        if row.errors:
            continue
        if create and key not in index.unlinkable:
            result.new_names[row.row] = first
        else:
            result.errors[row.row] = RowError(
                row.row, column, _group_error(create=create, exists=key in index.unlinkable), name
            )
    result.missing = dict(sorted(result.missing.items(), key=lambda item: item[0].casefold()))
    return result


def _archived_error() -> str:
    # A group of an earlier school year: linking to it needs 'Terugzetten' on its page first.
    return _("deze kandidaatgroep is gearchiveerd; zet haar eerst terug op de pagina van de groep")


def _group_error(*, create: bool, exists: bool) -> str:
    if create and exists:
        # Creating it would make a second group of that name. The wizard's own 'new group'
        # field says the same of such a name, so this tells the user nothing new.
        return _("er bestaat al een kandidaatgroep met deze naam waaraan je niet gekoppeld bent")
    # Without creating, 'does not exist' and 'exists, but not yours' stay one message, so a
    # coordinator cannot probe for the names of other coordinators' groups.
    return _("kandidaatgroep bestaat niet of je bent er niet aan gekoppeld")


# --- existing candidates and usernames ------------------------------------------------------


@dataclass(slots=True)
class Found:
    """The college's candidates the file may mean: by number, and by (lowercased) username."""

    by_number: dict[str, Existing] = field(default_factory=dict)
    by_username: dict[str, Existing] = field(default_factory=dict)


def load_existing(*, organisation: Organisation, actor: User, rows: list[CleanRow]) -> Found:
    """One query: the college's candidates with a number or username from the file, each with
    whether the actor may see it (the visibility selector as a subquery, not a second IN list)."""
    numbers = {r.values["candidate_number"] for r in rows}
    usernames = {r.values["username"] for r in rows if r.values.get("username")}
    found = Found()
    if not numbers:
        return found
    wanted = Q(InValues(F("candidate_number"), numbers))
    if usernames:
        wanted |= Q(InValues(F("user__username"), usernames))
    visible = Exists(candidates_visible_to(actor).filter(pk=OuterRef("pk")))
    query = Candidate.objects.filter(wanted, organisation=organisation).annotate(visible=visible)
    for values in query.values_list(*EXISTING_FIELDS):
        candidate = Existing._make(values)
        if candidate.candidate_number in numbers:
            found.by_number[candidate.candidate_number] = candidate
        if candidate.username in usernames:
            found.by_username[candidate.username.lower()] = candidate
    return found


def generate_usernames(
    rows: list[CleanRow], found: Found, *, organisation: Organisation
) -> dict[str, str]:
    """candidate number → the username made for it, for each row without a username of its
    own that no candidate number matches: the rows that would make a new account."""
    make = username_maker(organisation)
    return {
        number: make(number)
        for row in rows
        if not row.values.get("username")
        and (number := row.values["candidate_number"]) not in found.by_number
    }


def wanted_usernames(rows: list[CleanRow], generated: dict[str, str]) -> set[str]:
    """The usernames to look up: the file's own (as written and lowercased), and those made."""
    wanted = set(generated.values())
    for row in rows:
        username = row.values.get("username")
        if username:
            wanted.update((username, username.lower()))
    return wanted


def load_taken_usernames(usernames: set[str]) -> frozenset[str]:
    """Which of these are taken, lowercased: usernames are unique across the installation."""
    if not usernames:
        return frozenset()
    taken = User.objects.filter(InValues(F("username"), usernames)).values_list(
        "username", flat=True
    )
    # Names of deleted or anonymised accounts stay taken for their retention period.
    retired = RetiredUsername.objects.filter(
        InValues(F("username"), {u.lower() for u in usernames}), free_after__gt=timezone.now()
    ).values_list("username", flat=True)
    return frozenset(u.lower() for u in taken) | frozenset(retired)


@dataclass(slots=True)
class Matches:
    """By row number: the existing candidate a row updates, the username it will have, or why
    it cannot be imported."""

    candidates: dict[int, Existing] = field(default_factory=dict)
    usernames: dict[int, str] = field(default_factory=dict)
    errors: dict[int, RowError] = field(default_factory=dict)


def match_existing(
    rows: list[CleanRow],
    found: Found,
    taken: frozenset[str],
    *,
    generated: dict[str, str],
    columns: dict[str, str],
) -> Matches:
    matches = Matches()
    for row in rows:
        candidate, username, error = match_row(
            row, found, taken, generated=generated, columns=columns
        )
        if error is not None:
            matches.errors[row.row] = error
            continue
        matches.usernames[row.row] = username
        if candidate is not None:
            matches.candidates[row.row] = candidate
    return matches


def match_row(
    row: CleanRow,
    found: Found,
    taken: frozenset[str],
    *,
    generated: dict[str, str],
    columns: dict[str, str],
) -> tuple[Existing | None, str, RowError | None]:
    """By username when the file has one, else by candidate number within the college.
    `generated` holds the username made for each number that matches nothing."""
    number = row.values["candidate_number"]
    username = row.values.get("username") or ""
    holder = found.by_number.get(number)
    if username:
        owner = found.by_username.get(username.lower())
        if owner is None and holder is not None and holder.username.lower() == username.lower():
            owner = holder  # the same account, its username written in other capitals
        if owner is not None:
            return _match_owner(row, owner, holder, columns=columns)
        if username.lower() in taken:
            # Someone of another college, a staff member: says nothing about who, or where.
            return None, "", _in_use(row, username, columns)
    if holder is None:
        return None, username or generated[number], None
    if not holder.visible:
        return None, "", _not_visible(row, columns)
    return holder, username or holder.username, None


def _match_owner(
    row: CleanRow, owner: Existing, holder: Existing | None, *, columns: dict[str, str]
) -> tuple[Existing | None, str, RowError | None]:
    """The file's username belongs to a candidate of the college."""
    username = row.values["username"]
    if not owner.visible:
        return None, "", _in_use(row, username, columns)
    if holder is not None and holder.pk != owner.pk:
        if not holder.visible:
            return None, "", _not_visible(row, columns)
        message = _("dit kandidaatnummer hoort bij een andere kandidaat (%(username)s)") % {
            "username": holder.username
        }
        error = RowError(row.row, columns["candidate_number"], message, holder.candidate_number)
        return None, "", error
    return owner, username, None


def _in_use(row: CleanRow, username: str, columns: dict[str, str]) -> RowError:
    return RowError(
        row.row, columns["username"], _("deze gebruikersnaam is al in gebruik"), username
    )


def _not_visible(row: CleanRow, columns: dict[str, str]) -> RowError:
    return RowError(
        row.row,
        columns["candidate_number"],
        _(
            "dit kandidaatnummer is binnen je school al in gebruik bij een kandidaat die jij "
            "niet kunt zien"
        ),
        row.values["candidate_number"],
    )


def reserve_usernames(
    new_rows: list[tuple[int, str]], taken: frozenset[str], *, columns: tuple[str, str]
) -> dict[int, RowError]:
    """New accounts need a username free across the installation and within the file.
    `new_rows` is (row, username); `columns` names the username's column and the number's."""
    username_column, number_column = columns
    errors: dict[int, RowError] = {}
    seen: dict[str, int] = {}
    for row, username in new_rows:
        key = username.lower()
        if key in taken:
            message = _("de gebruikersnaam %(username)s is al in gebruik") % {"username": username}
            errors[row] = RowError(row, username_column, message, username)
        elif key in seen:
            message = _("levert dezelfde gebruikersnaam op als rij %(row)s") % {"row": seen[key]}
            errors[row] = RowError(row, number_column, message, username)
        seen.setdefault(key, row)
    return errors


# --- one row --------------------------------------------------------------------------------


@dataclass(slots=True)
class RowContext:
    """What planning one row needs besides the row: the outcome of the steps before."""

    options: ImportOptions
    mapped_fields: set[str]
    target_group_id: int | None
    groups: Groups
    matches: Matches
    errors: dict[int, RowError]  # the first error of each row that has one
    links: set[tuple[int, int]] = field(default_factory=set)  # (candidate, group)
    supervisor_links: set[tuple[int, int]] = field(default_factory=set)  # (candidate, user)
    # The supervisors a new candidate is linked to (none unless linked directly).
    new_supervisor_ids: tuple[int, ...] = field(init=False)

    def __post_init__(self) -> None:
        direct = self.options.link_supervisors_directly
        self.new_supervisor_ids = tuple(self.options.supervisor_ids) if direct else ()


def _load_links(context: RowContext) -> None:
    """The group and supervisor links the matched candidates have: two queries at most."""
    ids = {c.pk for c in context.matches.candidates.values()}
    groups = {context.groups.ids[r] for r in context.matches.candidates if r in context.groups.ids}
    if context.target_group_id:
        groups.add(context.target_group_id)
    context.links = load_links(Candidate.groups.through, "candidategroup_id", ids, groups)
    options = context.options
    if options.link_supervisors_directly and options.supervisor_ids:
        context.supervisor_links = load_links(
            Candidate.supervisors.through, "user_id", ids, set(options.supervisor_ids)
        )


def load_links(through: Any, column: str, candidate_ids: set[int], targets: set[int]) -> set:
    """(candidate, target) pairs among these candidates and targets. A long list of
    candidates is not sent: the links of the few targets are read and filtered here."""
    if not candidate_ids or not targets:
        return set()
    query = through.objects.filter(**{f"{column}__in": targets})
    if len(candidate_ids) <= SHORT_ID_LIST:
        query = query.filter(candidate_id__in=candidate_ids)
    return {link for link in query.values_list("candidate_id", column) if link[0] in candidate_ids}


def plan_row(row: CleanRow, context: RowContext) -> PlannedRow:
    number, values = row.row, row.values
    if row.errors:
        return PlannedRow(number, values, ERROR, list(row.errors))
    group = context.groups.ids.get(number)
    group_ids = set() if group is None else {group}
    if context.target_group_id:
        group_ids.add(context.target_group_id)
    error = context.errors.get(number)
    if error is not None:
        # Only the file's own username: never that of a candidate the actor cannot see.
        username = values.get("username") or ""
        return PlannedRow(number, values, ERROR, [error], username=username, group_ids=group_ids)
    old = context.matches.candidates.get(number)
    planned = PlannedRow(
        number,
        values,
        NEW,
        username=context.matches.usernames[number],
        group_ids=group_ids,
        new_group_links=set(group_ids) if old is None else set(),
        new_supervisor_links=set(context.new_supervisor_ids) if old is None else set(),
        new_group_name=context.groups.new_names.get(number, ""),
    )
    if old is not None:
        _plan_update(planned, old, context)
    return planned


def _plan_update(planned: PlannedRow, old: Existing, context: RowContext) -> None:
    options = context.options
    planned.candidate_id = old.pk
    planned.changes = diff_row(
        planned.values,
        old,
        username=planned.username,
        options=options,
        mapped_fields=context.mapped_fields,
    )
    planned.new_group_links = {g for g in planned.group_ids if (old.pk, g) not in context.links}
    if planned.new_group_links:
        planned.changes["groups_added"] = [[], sorted(planned.new_group_links)]
    if planned.new_group_name:
        planned.changes["groups_created"] = [[], [planned.new_group_name]]
    if options.link_supervisors_directly:
        planned.new_supervisor_links = {
            s for s in options.supervisor_ids if (old.pk, s) not in context.supervisor_links
        }
        if planned.new_supervisor_links:
            planned.changes["supervisors_added"] = [[], sorted(planned.new_supervisor_links)]
    planned.status = UPDATED if planned.changes else UNCHANGED


def diff_row(
    values: dict[str, Any],
    old: Existing,
    *,
    username: str,
    options: ImportOptions,
    mapped_fields: set[str],
) -> dict[str, list[Any]]:
    """field: [old, new] for what the file and the options change of an existing candidate.
    A column that is not mapped, or a cell that is empty, changes nothing."""
    changes: dict[str, list[Any]] = {}
    for name in USER_FIELDS:
        new = values.get(name)
        if name in mapped_fields and new is not None and (getattr(old, name) or "") != new:
            changes[name] = [getattr(old, name), new]
    birth_date = values.get("birth_date")
    if "birth_date" in mapped_fields and birth_date is not None and old.birth_date != birth_date:
        changes["birth_date"] = [_iso(old.birth_date), _iso(birth_date)]
    if old.candidate_number != values["candidate_number"]:
        changes["candidate_number"] = [old.candidate_number, values["candidate_number"]]
    if old.username != username:
        changes["username"] = [old.username, username]
    changes.update(_diff_account(old, options))
    return changes


def _diff_account(old: Existing, options: ImportOptions) -> dict[str, list[Any]]:
    changes: dict[str, list[Any]] = {}
    if old.is_active != options.active:
        changes["is_active"] = [old.is_active, options.active]
    if options.valid_until and (old.valid_until is None or old.valid_until < options.valid_until):
        changes["valid_until"] = [_iso(old.valid_until), _iso(options.valid_until)]
    if options.existing_passwords == ExistingPasswords.REPLACE:
        changes["password"] = ["", "••••••"]
    return changes


def _orphan_guard(
    rows: list[PlannedRow], *, actor: User, options: ImportOptions, mine: set[int]
) -> str | None:
    """The orphan rule (candidates.selectors.candidates_orphaned_by) applied to the import: a
    coordinator's candidates must land in a group the coordinator is linked to (`mine`), or
    they would vanish from their view after the import. A group the import creates counts:
    it is linked to the coordinator who made it."""
    if options.new_group_name:
        return None
    landing = {
        p.row: p.group_ids for p in rows if p.status in (NEW, UPDATED) and not p.new_group_name
    }
    if candidates_orphaned_by(actor, landing, mine=mine):
        return _(
            "Kies bij 'Selecteer kandidaatgroep' een groep waaraan je als toetscoördinator "
            "gekoppeld bent, of maak een nieuwe groep. Anders zijn de kandidaten na het "
            "importeren niet meer voor jou zichtbaar."
        )
    return None


def _iso(value: date | None) -> str | None:
    return value.isoformat() if value else None
