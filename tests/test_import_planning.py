"""build_plan, the diff of an import file against the database, and each of its steps alone."""

from datetime import date

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.models import Role, User
from candidates.models import Candidate
from candidates.services.school_year import group_archive
from imports import planning
from imports.fields import suggest_mapping
from imports.options import ImportOptions
from imports.pipeline import CleanRow, RowError, clean_rows
from imports.planning import (
    ERROR,
    NEW,
    UNCHANGED,
    UPDATED,
    Existing,
    Found,
    GroupIndex,
    PlannedRow,
    _orphan_guard,
    build_plan,
    diff_row,
    load_links,
    match_row,
    reserve_usernames,
    resolve_groups,
)

from .factories import CandidateFactory, GroupFactory

pytestmark = pytest.mark.django_db

TODAY = date(2026, 11, 28)
HEADERS = ["Kandidaatnummer", "Voornaam", "Achternaam", "Klas"]
WITH_USERNAME = ["Kandidaatnummer", "Voornaam", "Achternaam", "Gebruikersnaam"]
COLUMNS = {
    "candidate_number": "Kandidaatnummer",
    "username": "Gebruikersnaam",
    "group": "Klas",
}
NOT_VISIBLE = (
    "dit kandidaatnummer is binnen je school al in gebruik bij een kandidaat die jij niet kunt zien"
)
NOT_LINKED = "kandidaatgroep bestaat niet of je bent er niet aan gekoppeld"


def clean(rows, headers=HEADERS):
    table = [headers, *rows]
    return clean_rows(
        table, header_index=0, headers=headers, mapping=suggest_mapping(headers), today=TODAY
    )


def plan_for(actor, rows, headers=HEADERS, **options):
    mapping = suggest_mapping(headers)
    return build_plan(
        organisation=actor.organisation,
        actor=actor,
        rows=clean(rows, headers),
        options=ImportOptions(**options),
        mapped_fields=set(mapping.values()),
        labels={field: headers[int(i)] for i, field in mapping.items()},
    )


def messages(plan):
    return [str(e) for e in plan.errors]


def existing(pk, number, username, *, visible=True, **fields):
    values = {
        "birth_date": None,
        "first_name": "Anna",
        "surname_prefix": "",
        "last_name": "Eigen",
        "email": "",
        "is_active": True,
        "valid_until": None,
    }
    values.update(fields)
    return Existing(pk=pk, candidate_number=number, username=username, visible=visible, **values)


def row(number, row_number=2, **values):
    return CleanRow(row_number, {"candidate_number": number, **values})


# --- resolve_groups --------------------------------------------------------------------------

INDEX = GroupIndex({"zorg 1": 11}, frozenset({"techniek 1"}))
GROUP_ROWS = [
    CleanRow(2, {"group": "Zorg 1"}),
    CleanRow(3, {"group": "zorg 1"}),
    CleanRow(4, {"group": "4A"}),
    CleanRow(5, {"group": "4a"}),
    CleanRow(6, {"group": "Techniek 1"}),
    CleanRow(7, {"group": ""}),
    CleanRow(8, {"group": "4A"}, errors=[RowError(8, "Achternaam", "verplicht veld is leeg")]),
]


def test_resolve_groups_without_creating():
    groups = resolve_groups(GROUP_ROWS, INDEX, create=False, column="Klas")
    assert groups.ids == {2: 11, 3: 11}
    assert groups.new_names == {}
    assert {r: str(e) for r, e in groups.errors.items()} == {
        4: f"Rij 4, kolom Klas: {NOT_LINKED}",
        5: f"Rij 5, kolom Klas: {NOT_LINKED}",
        6: f"Rij 6, kolom Klas: {NOT_LINKED}",
    }
    assert [e.value for e in groups.errors.values()] == ["4A", "4a", "Techniek 1"]
    # Sorted by name; the row with an error of its own still names a missing group.
    assert list(groups.missing.items()) == [("4A", 3), ("Techniek 1", 1)]


def test_resolve_groups_creating_one_group_per_name_first_spelling_wins():
    groups = resolve_groups(GROUP_ROWS, INDEX, create=True, column="Klas")
    assert groups.ids == {2: 11, 3: 11}
    assert groups.new_names == {4: "4A", 5: "4A"}
    assert {r: str(e) for r, e in groups.errors.items()} == {
        6: "Rij 6, kolom Klas: er bestaat al een kandidaatgroep met deze naam waaraan je niet "
        "gekoppeld bent"
    }
    assert groups.missing == {"4A": 3, "Techniek 1": 1}


# --- match_row -------------------------------------------------------------------------------

OWN = existing(1, "0000001", "kand-own")
OTHER = existing(2, "0000002", "kand-other", visible=False)
FOUND = Found(
    by_number={"0000001": OWN, "0000002": OTHER},
    by_username={"kand-own": OWN, "kand-other": OTHER},
)
GENERATED = {"0000009": "rocm-0000009"}


def match(clean_row, taken=frozenset()):
    return match_row(clean_row, FOUND, taken, generated=GENERATED, columns=COLUMNS)


def test_match_by_number():
    assert match(row("0000001")) == (OWN, "kand-own", None)
    assert match(row("0000009")) == (None, "rocm-0000009", None)


def test_match_by_number_of_a_candidate_out_of_sight():
    candidate, username, error = match(row("0000002"))
    assert (candidate, username) == (None, "")
    assert str(error) == f"Rij 2, kolom Kandidaatnummer: {NOT_VISIBLE}"


def test_match_by_username_first():
    # A new number for a known account: the candidate's number changes.
    assert match(row("0000009", username="kand-own")) == (OWN, "kand-own", None)
    # The account's username in other capitals is still that account.
    assert match(row("0000001", username="Kand-Own")) == (OWN, "Kand-Own", None)


def test_username_of_a_candidate_out_of_sight_is_just_in_use():
    for number in ("0000001", "0000002", "0000009"):
        candidate, username, error = match(row(number, username="kand-other"))
        assert (candidate, username) == (None, "")
        assert str(error) == "Rij 2, kolom Gebruikersnaam: deze gebruikersnaam is al in gebruik"
        assert error.value == "kand-other"


def test_username_of_someone_outside_the_college_is_in_use():
    _candidate, _username, error = match(row("0000009", username="kand-foreign"), {"kand-foreign"})
    assert str(error) == "Rij 2, kolom Gebruikersnaam: deze gebruikersnaam is al in gebruik"


def test_number_of_another_candidate_named_only_when_visible():
    visible = existing(3, "0000003", "kand-three")
    found = Found(by_number={"0000003": visible, "0000002": OTHER}, by_username={"kand-own": OWN})
    _c, _u, error = match_row(
        row("0000003", username="kand-own"),
        found,
        frozenset(),
        generated=GENERATED,
        columns=COLUMNS,
    )
    assert str(error) == (
        "Rij 2, kolom Kandidaatnummer: dit kandidaatnummer hoort bij een andere kandidaat "
        "(kand-three)"
    )
    _c, _u, error = match_row(
        row("0000002", username="kand-own"),
        found,
        frozenset(),
        generated=GENERATED,
        columns=COLUMNS,
    )
    assert str(error) == f"Rij 2, kolom Kandidaatnummer: {NOT_VISIBLE}"
    assert "kand-other" not in str(error)


# --- reserve_usernames -----------------------------------------------------------------------


def test_reserve_usernames():
    errors = reserve_usernames(
        [(2, "rocm-1"), (3, "rocm-2"), (4, "ROCM-2"), (5, "rocm-3")],
        frozenset({"rocm-1"}),
        columns=("Gebruikersnaam", "Kandidaatnummer"),
    )
    assert {r: str(e) for r, e in errors.items()} == {
        2: "Rij 2, kolom Gebruikersnaam: de gebruikersnaam rocm-1 is al in gebruik",
        4: "Rij 4, kolom Kandidaatnummer: levert dezelfde gebruikersnaam op als rij 3",
    }


# --- diff_row --------------------------------------------------------------------------------


def test_diff_row_only_mapped_and_filled_fields():
    old = existing(
        1,
        "0000001",
        "kand-own",
        email="oud@example.test",
        birth_date=date(2008, 1, 2),
        valid_until=date(2026, 7, 31),
    )
    values = {
        "candidate_number": "0000001",
        "first_name": "Anna",
        "last_name": "Nieuw",
        "email": "nieuw@example.test",
        "birth_date": date(2008, 1, 3),
    }
    options = ImportOptions(valid_until=date(2027, 7, 31), active=False)
    changes = diff_row(
        values,
        old,
        username="kand-own",
        options=options,
        mapped_fields={"candidate_number", "first_name", "last_name", "birth_date"},
    )
    assert changes == {
        "last_name": ["Eigen", "Nieuw"],
        "birth_date": ["2008-01-02", "2008-01-03"],
        "is_active": [True, False],
        "valid_until": ["2026-07-31", "2027-07-31"],
    }


def test_diff_row_number_username_password():
    old = existing(1, "0000001", "kand-own", valid_until=date(2028, 1, 1))
    changes = diff_row(
        {"candidate_number": "0000009", "first_name": "Anna"},
        old,
        username="anna",
        options=ImportOptions(valid_until=date(2027, 7, 31), existing_passwords="replace"),
        mapped_fields={"candidate_number", "first_name", "username"},
    )
    # A validity that already lasts longer is never shortened.
    assert changes == {
        "candidate_number": ["0000001", "0000009"],
        "username": ["kand-own", "anna"],
        "password": ["", "••••••"],
    }


# --- _orphan_guard ---------------------------------------------------------------------------


def test_orphan_guard():
    coordinator = User(role=Role.TOETSCOORDINATOR)
    options = ImportOptions()
    mine = {11}
    ok = PlannedRow(2, {}, NEW, group_ids={11, 12})
    outside = PlannedRow(3, {}, UPDATED, group_ids={12})
    unchanged = PlannedRow(4, {}, UNCHANGED)
    error = PlannedRow(5, {}, ERROR)
    created = PlannedRow(6, {}, NEW, new_group_name="4A")
    assert (
        _orphan_guard(
            [ok, unchanged, error, created], actor=coordinator, options=options, mine=mine
        )
        is None
    )
    problem = _orphan_guard([ok, outside], actor=coordinator, options=options, mine=mine)
    assert "niet meer voor jou zichtbaar" in problem
    assert (
        _orphan_guard([outside], actor=User(role=Role.BEHEERDER), options=options, mine=mine)
        is None
    )
    new_group = ImportOptions(new_group_name="Nieuw")
    assert _orphan_guard([outside], actor=coordinator, options=new_group, mine=mine) is None


# --- load_links ------------------------------------------------------------------------------


@pytest.mark.parametrize("short_list", [1000, 0])
def test_load_links_by_candidate_or_by_group(world, monkeypatch, short_list):
    monkeypatch.setattr(planning, "SHORT_ID_LIST", short_list)
    through = Candidate.groups.through
    ids = {world.in_own_group.pk, world.in_other_group.pk}
    groups = {world.own_group.pk, world.other_group.pk}
    assert load_links(through, "candidategroup_id", ids, groups) == {
        (world.in_own_group.pk, world.own_group.pk),
        (world.in_other_group.pk, world.other_group.pk),
    }
    assert load_links(through, "candidategroup_id", ids, set()) == set()


# --- build_plan: who may see what --------------------------------------------------------------


def test_coordinator_never_learns_of_a_candidate_out_of_sight(world):
    rows = [
        ["0000001", "Anna", "Eigen", "kand-other"],  # own number, the other's username
        ["0000003", "Cees", "Direct", "kand-own"],  # own username, an invisible number
        ["0000002", "Bert", "Ander", ""],  # an invisible number
        ["0000009", "Dirk", "Nieuw", "kand-direct"],  # a free number, an invisible username
    ]
    plan = plan_for(world.coordinator, rows, WITH_USERNAME, group_id=world.own_group.pk)
    assert messages(plan) == [
        "Rij 2, kolom Gebruikersnaam: deze gebruikersnaam is al in gebruik",
        f"Rij 3, kolom Kandidaatnummer: {NOT_VISIBLE}",
        f"Rij 4, kolom Kandidaatnummer: {NOT_VISIBLE}",
        "Rij 5, kolom Gebruikersnaam: deze gebruikersnaam is al in gebruik",
    ]
    # Nothing of them in the rows either (the report and result page show these fields).
    assert [(p.status, p.candidate_id, p.username, p.changes) for p in plan.rows] == [
        (ERROR, None, "kand-other", {}),
        (ERROR, None, "kand-own", {}),
        (ERROR, None, "", {}),
        (ERROR, None, "kand-direct", {}),
    ]


def test_beheerder_sees_every_candidate_of_the_college(world):
    rows = [["0000001", "Anna", "Eigen", "kand-other"], ["0000002", "Bert", "Ander", ""]]
    plan = plan_for(world.beheerder, rows, WITH_USERNAME, group_id=world.own_group.pk)
    assert messages(plan) == [
        "Rij 2, kolom Kandidaatnummer: dit kandidaatnummer hoort bij een andere kandidaat "
        "(kand-own)"
    ]
    assert plan.rows[1].status == UPDATED
    assert plan.rows[1].candidate_id == world.in_other_group.pk
    assert plan.rows[1].username == "kand-other"


def test_candidate_of_another_college_is_not_matched(world):
    plan = plan_for(world.beheerder, [["0000001", "Anna", "Eigen", "kand-foreign"]], WITH_USERNAME)
    assert messages(plan) == ["Rij 2, kolom Gebruikersnaam: deze gebruikersnaam is al in gebruik"]


# --- build_plan: the group column ------------------------------------------------------------

CLASS_ROWS = [
    ["0300001", "Jan", "Berg", "zorg 1"],
    ["0300002", "Piet", "Bos", "4A"],
    ["0300003", "Kees", "Dam", "Nieuw"],
    ["0300004", "Anna", "Vos", "4a"],
    ["0300005", "Bert", "Wit", "Techniek 1"],
]


def test_missing_groups_are_errors_unless_created(world):
    plan = plan_for(world.beheerder, CLASS_ROWS)
    assert plan.missing_groups == {"4A": 2, "Nieuw": 1}
    assert messages(plan) == [
        f"Rij 3, kolom Klas: {NOT_LINKED}",
        f"Rij 4, kolom Klas: {NOT_LINKED}",
        f"Rij 5, kolom Klas: {NOT_LINKED}",
    ]
    # Names compare case-insensitively: 'zorg 1' is the college's Zorg 1, not the other
    # college's group of that name.
    assert plan.rows[0].group_ids == {world.own_group.pk}
    assert plan.rows[4].group_ids == {world.other_group.pk}


def test_beheerder_creates_the_missing_groups(world):
    plan = plan_for(world.beheerder, CLASS_ROWS, create_groups=True)
    assert plan.errors == []
    assert plan.problems == []
    assert plan.missing_groups == {"4A": 2, "Nieuw": 1}
    assert [(p.status, p.new_group_name, p.group_ids) for p in plan.rows] == [
        (NEW, "", {world.own_group.pk}),
        (NEW, "4A", set()),
        (NEW, "Nieuw", set()),
        (NEW, "4A", set()),
        (NEW, "", {world.other_group.pk}),
    ]


def test_existing_candidate_joining_a_new_group_is_updated(world):
    rows = [["0000001", "Anna", "Eigen", "zorg 1"], ["0000002", "Bert", "Ander", "4A"]]
    plan = plan_for(world.beheerder, rows, create_groups=True)
    assert [(p.status, p.changes) for p in plan.rows] == [
        (UNCHANGED, {}),
        (UPDATED, {"groups_created": [[], ["4A"]]}),
    ]


def test_coordinator_creates_groups_but_not_a_second_one_of_a_name_in_use(world):
    plan = plan_for(world.coordinator, CLASS_ROWS, create_groups=True)
    assert messages(plan) == [
        "Rij 6, kolom Klas: er bestaat al een kandidaatgroep met deze naam waaraan je niet "
        "gekoppeld bent"
    ]
    # The coordinator's candidates land in Zorg 1 or in groups made for (and linked to) them.
    assert plan.problems == []
    assert [p.new_group_name for p in plan.rows] == ["", "4A", "Nieuw", "4A", ""]
    assert plan.missing_groups == {"4A": 2, "Nieuw": 1, "Techniek 1": 1}


def test_coordinator_without_the_right_to_create_groups(world):
    world.college.coordinators_may_create_groups = False
    world.college.save()
    plan = plan_for(world.coordinator, CLASS_ROWS, create_groups=True, group_id=world.own_group.pk)
    assert plan.problems == [
        "Je mag geen kandidaatgroepen aanmaken, dus de ontbrekende groepen uit het bestand "
        "kunnen niet worden gemaakt. Vraag een beheerder om ze aan te maken."
    ]
    assert not plan.can_import
    assert messages(plan) == [
        f"Rij 3, kolom Klas: {NOT_LINKED}",
        f"Rij 4, kolom Klas: {NOT_LINKED}",
        f"Rij 5, kolom Klas: {NOT_LINKED}",
        f"Rij 6, kolom Klas: {NOT_LINKED}",
    ]
    assert all(p.new_group_name == "" for p in plan.rows)


def test_group_column_ignored(world):
    plan = plan_for(
        world.beheerder,
        CLASS_ROWS,
        ignore_group_column=True,
        create_groups=True,
        group_id=world.other_group.pk,
    )
    assert plan.errors == []
    assert plan.missing_groups == {}
    assert [(p.status, p.group_ids, p.new_group_name) for p in plan.rows] == [
        (NEW, {world.other_group.pk}, "")
    ] * 5


def test_options_round_trip_json():
    options = ImportOptions(create_groups=True, ignore_group_column=True)
    assert ImportOptions.from_json(options.to_json()) == options
    assert ImportOptions.from_json({}).create_groups is False
    assert ImportOptions.from_json({}).ignore_group_column is False


# --- build_plan: a constant number of queries -------------------------------------------------


def test_queries_do_not_grow_with_the_file(world):
    headers = ["Kandidaatnummer", "Voornaam", "Achternaam", "Klas", "Gebruikersnaam"]
    group = GroupFactory(organisation=world.college, name="Groot", coordinators=[world.coordinator])

    def count(n):
        for i in range(n):
            CandidateFactory(
                organisation=world.college, candidate_number=f"05{n:02d}{i:03d}", groups=[group]
            )
        rows = [[f"05{n:02d}{i:03d}", "Jan", "Berg", "Groot", ""] for i in range(2 * n)]
        rows += [[f"06{n:02d}{i:03d}", "Jan", "Berg", "Zorg 1", f"u{n}-{i}"] for i in range(n)]
        with CaptureQueriesContext(connection) as queries:
            plan = plan_for(
                world.coordinator,
                rows,
                headers,
                group_id=world.own_group.pk,
                supervisor_ids=[world.supervisor.pk],
                link_supervisors_directly=True,
            )
        assert plan.counts == {
            "rows": 3 * n,
            "new": 2 * n,
            "updated": n,
            "unchanged": 0,
            "errors": 0,
        }
        return len(queries)

    assert count(3) == count(30)


# --- archived groups ---------------------------------------------------------------------------


def test_resolve_groups_refuses_an_archived_group_with_its_own_message():
    index = GroupIndex({"zorg 1": 11}, archived=frozenset({"4a"}))
    groups = resolve_groups(GROUP_ROWS, index, create=True, column="Klas")
    archived = "deze kandidaatgroep is gearchiveerd; zet haar eerst terug op de pagina van de groep"
    assert {r: str(e) for r, e in groups.errors.items()} == {
        4: f"Rij 4, kolom Klas: {archived}",
        5: f"Rij 5, kolom Klas: {archived}",
    }
    assert groups.new_names == {6: "Techniek 1"}  # never a second group of an archived name
    assert groups.missing == {"Techniek 1": 1}


@pytest.mark.django_db
def test_load_groups_keeps_archived_groups_apart(world):
    old = GroupFactory(organisation=world.college, name="Zorg 0")
    group_archive(actor=world.beheerder, group=old)
    index = planning.load_groups(
        organisation=world.college, actor=world.beheerder, with_unlinkable=True
    )
    assert "zorg 0" not in index.linkable
    assert "zorg 0" not in index.unlinkable
    assert index.archived == frozenset({"zorg 0"})
    assert index.linkable[world.own_group.name.casefold()] == world.own_group.pk
