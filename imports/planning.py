"""Diff cleaned rows against the database: which rows are new, updated, unchanged or wrong.

A constant number of queries whatever the size of the file (IN lists, no query per row).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from django.utils.translation import gettext as _

from accounts.models import Organisation, Role, User
from accounts.placeholders import USERNAME_MAX_LENGTH, render_placeholders
from candidates.models import Candidate, CandidateGroup
from candidates.selectors import candidates_visible_to, groups_linkable_by

from .fields import FIELD_BY_NAME
from .options import ImportOptions
from .pipeline import CleanRow, RowError

NEW, UPDATED, UNCHANGED, ERROR = "new", "updated", "unchanged", "error"
USER_FIELDS = ("first_name", "surname_prefix", "last_name", "email")
# What the diff needs of an existing candidate, read as plain values (no model instances).
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
    "user__valid_from",
    "user__valid_until",
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
    new_group_name: str = ""  # a group the import creates (class column) for this row


@dataclass
class Plan:
    rows: list[PlannedRow]
    target_group: CandidateGroup | None = None
    problems: list[str] = field(default_factory=list)  # import-wide, e.g. the orphan guard
    missing_groups: dict[str, int] = field(default_factory=dict)  # name: rows, to be created

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
    pattern = organisation.username_pattern or "{code}-{candidate_number}"
    values = {"code": organisation.code, "candidate_number": candidate_number}
    return render_placeholders(pattern, values, max_length=USERNAME_MAX_LENGTH).lower()


def build_plan(
    *,
    organisation: Organisation,
    actor: User,
    rows: list[CleanRow],
    options: ImportOptions,
    mapped_fields: set[str],
    labels: dict[str, str] | None = None,
    today: date | None = None,
) -> Plan:
    labels = labels or {}

    def label(name: str) -> str:
        return labels.get(name) or str(FIELD_BY_NAME[name].label)

    planned = [
        PlannedRow(r.row, r.values, ERROR if r.errors else NEW, list(r.errors)) for r in rows
    ]
    ok = [p for p in planned if not p.errors]
    problems: list[str] = []

    # --- groups -------------------------------------------------------------------------------
    linkable = groups_linkable_by(actor)
    target_group = None
    if options.group_id:
        target_group = linkable.filter(pk=options.group_id).first()
        if target_group is None:
            problems.append(
                _("De gekozen kandidaatgroep bestaat niet of je mag er niet aan koppelen.")
            )
    file_group_names = {p.values.get("group") for p in ok if p.values.get("group")}
    file_groups = (
        {g.name.casefold(): g.pk for g in linkable.filter(name__in=file_group_names)}
        if file_group_names
        else {}
    )
    for p in ok:
        name = p.values.get("group")
        if name:
            group_id = file_groups.get(name.casefold())
            if group_id is None:
                p.errors.append(
                    RowError(
                        p.row,
                        label("group"),
                        _("kandidaatgroep bestaat niet of je bent er niet aan gekoppeld"),
                        name,
                    )
                )
            else:
                p.group_ids.add(group_id)
        if target_group is not None:
            p.group_ids.add(target_group.pk)

    # --- find existing candidates (by username when the file has one, else by number) --------
    numbers = {p.values["candidate_number"] for p in ok}
    existing_by_number = {
        c["candidate_number"]: c
        for c in Candidate.objects.filter(
            organisation=organisation, candidate_number__in=numbers
        ).values(*EXISTING_FIELDS)
    }
    file_usernames = {p.values["username"] for p in ok if p.values.get("username")}
    users_by_name = (
        {
            u["username"].lower(): u
            for u in User.objects.filter(username__in=file_usernames).values(
                "pk", "username", "organisation_id", "role"
            )
        }
        if file_usernames
        else {}
    )
    existing_by_pk = {c["pk"]: c for c in existing_by_number.values()}
    # Candidates matched by username whose number is not in the file need loading too.
    extra_ids = {
        u["pk"]
        for u in users_by_name.values()
        if u["organisation_id"] == organisation.pk
        and u["role"] == Role.KANDIDAAT
        and u["pk"] not in existing_by_pk
    }
    if extra_ids:
        for c in Candidate.objects.filter(pk__in=extra_ids).values(*EXISTING_FIELDS):
            existing_by_pk[c["pk"]] = c

    for p in ok:
        if p.errors:
            continue
        number = p.values["candidate_number"]
        username = p.values.get("username") or ""
        match = None
        if username:
            user = users_by_name.get(username.lower())
            if user is not None:
                if user["organisation_id"] != organisation.pk or user["role"] != Role.KANDIDAAT:
                    # Says nothing about who has it, or in which college.
                    p.errors.append(
                        RowError(
                            p.row,
                            label("username"),
                            _("deze gebruikersnaam is al in gebruik"),
                            username,
                        )
                    )
                    continue
                match = existing_by_pk.get(user["pk"])
                holder = existing_by_number.get(number)
                if holder is not None and holder["pk"] != user["pk"]:
                    p.errors.append(
                        RowError(
                            p.row,
                            label("candidate_number"),
                            _("dit kandidaatnummer hoort bij een andere kandidaat (%(username)s)")
                            % {"username": holder["user__username"]},
                            number,
                        )
                    )
                    continue
        if match is None:
            match = existing_by_number.get(number)
        if match is None:
            p.status = NEW
            p.username = username or make_username(organisation, number)
        else:
            p.candidate_id = match["pk"]
            p.username = username or match["user__username"]

    # --- new usernames must be free across the installation ----------------------------------
    new_rows = [p for p in ok if not p.errors and p.candidate_id is None]
    wanted = {p.username.lower() for p in new_rows}
    # A username from the file that exists was matched above; this catches generated ones.
    taken = (
        {
            u.lower()
            for u in User.objects.filter(username__in=wanted).values_list("username", flat=True)
        }
        if wanted
        else set()
    )
    seen: dict[str, int] = {}
    for p in new_rows:
        key = p.username.lower()
        if key in taken:
            p.errors.append(
                RowError(
                    p.row,
                    label("username") if "username" in mapped_fields else label("candidate_number"),
                    _("de gebruikersnaam %(username)s is al in gebruik") % {"username": p.username},
                    p.username,
                )
            )
        elif key in seen:
            p.errors.append(
                RowError(
                    p.row,
                    label("candidate_number"),
                    _("levert dezelfde gebruikersnaam op als rij %(row)s") % {"row": seen[key]},
                    p.username,
                )
            )
        seen.setdefault(key, p.row)

    # --- existing candidates: visible to the importer? what changes? --------------------------
    matched_ids = {p.candidate_id for p in ok if p.candidate_id and not p.errors}
    visible = (
        set(candidates_visible_to(actor).filter(pk__in=matched_ids).values_list("pk", flat=True))
        if matched_ids
        else set()
    )
    through = Candidate.groups.through
    links = (
        set(
            through.objects.filter(candidate_id__in=matched_ids).values_list(
                "candidate_id", "candidategroup_id"
            )
        )
        if matched_ids
        else set()
    )
    sup_links: set[tuple[int, int]] = set()
    if options.link_supervisors_directly and options.supervisor_ids and matched_ids:
        sup_links = set(
            Candidate.supervisors.through.objects.filter(candidate_id__in=matched_ids).values_list(
                "candidate_id", "user_id"
            )
        )

    for p in ok:
        if p.errors:
            p.status = ERROR
            continue
        if p.candidate_id is None:
            p.status = NEW
            p.new_group_links = set(p.group_ids)
            if options.link_supervisors_directly:
                p.new_supervisor_links = set(options.supervisor_ids)
            continue
        if p.candidate_id not in visible:
            p.errors.append(
                RowError(
                    p.row,
                    label("candidate_number"),
                    _(
                        "dit kandidaatnummer is binnen je school al in gebruik bij een "
                        "kandidaat die jij niet kunt zien"
                    ),
                    p.values["candidate_number"],
                )
            )
            p.status = ERROR
            continue
        old = existing_by_pk[p.candidate_id]
        for name in USER_FIELDS:
            if name in mapped_fields and p.values.get(name) is not None:
                if (old[f"user__{name}"] or "") != p.values[name]:
                    p.changes[name] = [old[f"user__{name}"], p.values[name]]
        if "birth_date" in mapped_fields and p.values.get("birth_date") is not None:
            if old["birth_date"] != p.values["birth_date"]:
                p.changes["birth_date"] = [_iso(old["birth_date"]), _iso(p.values["birth_date"])]
        if old["candidate_number"] != p.values["candidate_number"]:
            p.changes["candidate_number"] = [old["candidate_number"], p.values["candidate_number"]]
        if old["user__username"] != p.username:
            p.changes["username"] = [old["user__username"], p.username]
        if old["user__is_active"] != options.active:
            p.changes["is_active"] = [old["user__is_active"], options.active]
        if options.valid_until and (
            old["user__valid_until"] is None or old["user__valid_until"] < options.valid_until
        ):
            p.changes["valid_until"] = [_iso(old["user__valid_until"]), _iso(options.valid_until)]
        p.new_group_links = {g for g in p.group_ids if (p.candidate_id, g) not in links}
        if p.new_group_links:
            p.changes["groups_added"] = [[], sorted(p.new_group_links)]
        if options.link_supervisors_directly:
            p.new_supervisor_links = {
                s for s in options.supervisor_ids if (p.candidate_id, s) not in sup_links
            }
            if p.new_supervisor_links:
                p.changes["supervisors_added"] = [[], sorted(p.new_supervisor_links)]
        if options.existing_passwords == "replace":
            p.changes["password"] = ["", "••••••"]
        p.status = UPDATED if p.changes else UNCHANGED

    plan = Plan(planned, target_group=target_group, problems=problems)
    _orphan_guard(plan, actor=actor, options=options)
    return plan


def _orphan_guard(plan: Plan, *, actor: User, options: ImportOptions) -> None:
    """The seed's warning, made impossible: a coordinator's candidates must land in a group
    the coordinator is linked to, or they would vanish from their view after the import."""
    if actor.role != Role.TOETSCOORDINATOR:
        return
    if options.new_group_name:
        return  # a coordinator's new group is linked to them by import_execute
    mine = set(groups_linkable_by(actor).values_list("pk", flat=True))
    for p in plan.rows:
        if p.status in (NEW, UPDATED) and not (p.group_ids & mine):
            plan.problems.append(
                _(
                    "Kies bij 'Selecteer kandidaatgroep' een groep waaraan je als toetscoördinator "
                    "gekoppeld bent, of maak een nieuwe groep. Anders zijn de kandidaten na het "
                    "importeren niet meer voor jou zichtbaar."
                )
            )
            return


def _iso(value: date | None) -> str | None:
    return value.isoformat() if value else None
