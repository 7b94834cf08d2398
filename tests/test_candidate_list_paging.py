"""The candidate list's sort key, its two-step pages, and the fast form rendering.

The list is the page staff open most, so it was made cheaper (docs/performance.md); these
tests pin that nothing visible changed: the same rows on every page in the same order, the
fast select's markup equal to Django's own, the field template's label, help and error markup
as Bootstrap 5 styles it, the sort key kept up to date by every write path.
"""

from datetime import date

import pytest
from django import forms
from django.apps import apps as django_apps
from django.db import connection
from django.template.loader import render_to_string
from django.urls import reverse

from accounts.models import Role
from candidates.forms.common import BootstrapFieldsMixin
from candidates.models import Candidate
from candidates.pagination import CandidatePaginator
from candidates.selectors import candidates_filtered, list_rows, with_list_relations
from candidates.services import candidates as services
from candidates.widgets import FastSelect

from .factories import CandidateFactory, GroupFactory, OrganisationFactory, UserFactory

LIST = reverse("candidates:list")

# (first name, prefix, last name) in the order the list must show them.
NAMES_IN_ORDER = [
    ("Jan", "van den", "Berg"),
    ("Anna", "", "bergen"),  # lower case sorts with the capitals
    ("Émile", "", "Bergen"),  # É as E: Émile before Zoë, both 'Bergen'
    ("Zoë", "", "Bergen"),
    ("Kees", "", "Oosterhout"),
    ("Ayşe", "", "Öztürk"),  # Ö with O, not after Z
    ("Lars", "de", "Vries"),  # the prefix does not count: under V
    ("Mo", "", "Zwart"),
]


@pytest.fixture
def college_list(db):
    college = OrganisationFactory(code="sortroc")
    beheerder = UserFactory(organisation=college, role=Role.BEHEERDER, username="sortbeheer")
    coordinator = UserFactory(
        organisation=college, role=Role.TOETSCOORDINATOR, username="sortcoord"
    )
    mine = GroupFactory(organisation=college, name="Mijn", coordinators=[coordinator])
    other = GroupFactory(organisation=college, name="Ander")
    shuffled = [NAMES_IN_ORDER[i] for i in (5, 2, 7, 0, 3, 6, 1, 4)]
    candidates = {}
    for number, (first, prefix, last) in enumerate(shuffled, start=1):
        candidates[(first, last)] = CandidateFactory(
            organisation=college,
            candidate_number=f"{9 - number:07d}",  # the number order is the reverse
            groups=[mine if number % 2 else other],
            user__first_name=first,
            user__surname_prefix=prefix,
            user__last_name=last,
        )
    return college, beheerder, coordinator, candidates


def names_on(response) -> list[str]:
    return [c.user.first_name for c in response.context["page"].object_list]


def test_name_order_folds_case_and_accents_and_ignores_the_prefix(client, college_list):
    _college, beheerder, _coordinator, _candidates = college_list
    client.force_login(beheerder)

    assert names_on(client.get(LIST)) == [first for first, _p, _l in NAMES_IN_ORDER]
    assert names_on(client.get(LIST, {"sort": "-name"})) == [
        first for first, _p, _l in reversed(NAMES_IN_ORDER)
    ]


def test_name_key_is_the_folded_last_first_prefix(college_list):
    _college, _b, _c, candidates = college_list
    ayse = candidates[("Ayşe", "Öztürk")]
    lars = candidates[("Lars", "Vries")]
    assert Candidate.objects.get(pk=ayse.pk).name_key == "ozturk\x1fayse\x1f"
    assert Candidate.objects.get(pk=lars.pk).name_key == "vries\x1flars\x1fde"


@pytest.mark.parametrize("sort", ["name", "-name", "number", "-number"])
@pytest.mark.parametrize("per_page", [1, 3, 8, 50])
@pytest.mark.parametrize("role", ["beheerder", "coordinator"])
def test_two_step_pages_equal_plain_offset_pages(college_list, sort, per_page, role):
    _college, beheerder, coordinator, _candidates = college_list
    user = beheerder if role == "beheerder" else coordinator
    candidates = candidates_filtered(user, sort=sort)
    expected = list(candidates.values_list("pk", flat=True))
    assert len(expected) == (8 if role == "beheerder" else 4)
    paginator = CandidatePaginator(
        candidates, per_page, rows=lambda qs: with_list_relations(qs, user)
    )

    seen = []
    for number in paginator.page_range:
        page = paginator.page(number)
        seen.extend(c.pk for c in page.object_list)
        assert [c.pk for c in page.object_list] == expected[
            (number - 1) * per_page : number * per_page
        ]
    assert seen == expected
    assert paginator.count == len(expected)
    # Out of range falls back to the last page, like Django's own get_page.
    assert [c.pk for c in paginator.get_page(99).object_list] == expected[
        (paginator.num_pages - 1) * per_page :
    ]


def test_page_rows_carry_user_and_only_visible_groups(college_list, django_assert_num_queries):
    _college, _beheerder, coordinator, _candidates = college_list
    paginator = CandidatePaginator(
        candidates_filtered(coordinator), 50, rows=lambda qs: list_rows(qs, coordinator)
    )
    with django_assert_num_queries(4):  # count, ids, rows with their user, their groups
        page = paginator.page(1)
    with django_assert_num_queries(0):
        shown = [(c.user.first_name, c.group_names) for c in page]
    assert shown == [
        ("Anna", ["Mijn"]),
        ("Zoë", ["Mijn"]),
        ("Ayşe", ["Mijn"]),
        ("Mo", ["Mijn"]),
    ]


def test_the_list_shows_the_exact_page(client, college_list):
    _college, beheerder, _c, _candidates = college_list
    client.force_login(beheerder)
    response = client.get(LIST, {"per_page": 25, "sort": "number", "page": 1})
    assert response.status_code == 200
    assert [c.candidate_number for c in response.context["page"].object_list] == [
        f"{n:07d}" for n in range(1, 9)
    ]
    assert response.context["page"].paginator.count == 8


def test_editing_a_name_updates_the_sort_key(college_list):
    _college, beheerder, _c, candidates = college_list
    mo = candidates[("Mo", "Zwart")]
    services.candidate_update(
        actor=beheerder, candidate=mo, last_name="Aalders", surname_prefix="ter"
    )
    mo.refresh_from_db()
    assert mo.name_key == "aalders\x1fmo\x1fter"
    assert "aalders" in mo.search_text
    first = candidates_filtered(beheerder).first()
    assert first.pk == mo.pk


def test_a_created_candidate_gets_its_sort_key(college_list):
    college, beheerder, _c, _candidates = college_list
    created = services.candidate_create(
        actor=beheerder,
        organisation=college,
        username="nieuw.kandidaat",
        first_name="Ümit",
        surname_prefix="",
        last_name="Yılmaz",
        email="",
        candidate_number="1234567",
        birth_date=date(2008, 1, 2),
    )
    assert Candidate.objects.get(pk=created.pk).name_key == "yilmaz\x1fumit\x1f"


def test_the_migration_fills_keys_of_existing_candidates(college_list):
    from importlib import import_module

    fill_name_keys = import_module("candidates.migrations.0002_name_key").fill_name_keys
    Candidate.objects.update(name_key="")
    fill_name_keys(django_apps, None)
    keys = dict(Candidate.objects.values_list("user__first_name", "name_key"))
    assert keys["Ayşe"] == "ozturk\x1fayse\x1f"
    assert keys["Jan"] == "berg\x1fjan\x1fvan den"
    assert "" not in keys.values()


def test_search_index_exists_on_postgresql_only(db):
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT indexname, indexdef FROM pg_indexes "
                "WHERE tablename = 'candidates_candidate' AND indexdef LIKE '%%gin_trgm_ops%%'"
            )
            # One trigram index, per college (migration 0006 replaced 0003's global one).
            assert cursor.fetchall() == [
                (
                    "candidate_college_search",
                    "CREATE INDEX candidate_college_search ON public.candidates_candidate "
                    "USING gin (organisation_id, search_text gin_trgm_ops)",
                )
            ]
            cursor.execute(
                "SELECT attstattarget FROM pg_attribute WHERE attname = 'search_text' "
                "AND attrelid = 'candidates_candidate'::regclass"
            )
            assert cursor.fetchone() == (1000,)
        else:
            cursor.execute(
                "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = "
                "'candidates_candidate'"
            )
            names = {name for (name,) in cursor.fetchall()}
            assert "candidate_name_order" in names
            assert not names & {"candidate_search_trgm", "candidate_college_search"}


# --- the fast form rendering --------------------------------------------------------------------


def _squash(html: str) -> str:
    return "".join(line.strip() for line in str(html).splitlines())


@pytest.mark.parametrize("value", ["", "b", "3", None])
def test_fast_select_renders_what_django_renders(value):
    choices = [
        ("", "— kies —"),
        ("a", "Alpha & <Omega>"),
        ("b", 'Bèta "quoted"'),
        ("Groep", [("3", "Drie"), ("4", "Vier")]),
    ]
    attrs = {"id": "id_x", "class": "form-select", "aria-describedby": "id_x_helptext"}
    ours = FastSelect(choices=choices).render("x", value, attrs)
    django = forms.Select(choices=choices).render("x", value, attrs)
    assert _squash(ours) == _squash(django)
    assert "Alpha &amp; &lt;Omega&gt;" in ours


class _Form(BootstrapFieldsMixin, forms.Form):
    kind = forms.ChoiceField(
        label="Soort",
        choices=[("", "Alle"), ("a", "A")],
        widget=FastSelect,
        help_text="Kies er een.",
    )
    agree = forms.BooleanField(label="Akkoord", required=False)


def bs5_field(field) -> str:
    return render_to_string("candidates/_field.html", {"field": field}).strip()


def test_field_template_renders_label_widget_help_and_errors():
    form = _Form({"kind": "zz"})
    assert not form.is_valid()
    html = str(bs5_field(form["kind"]))
    assert html.startswith('<div id="div_id_kind" class="mb-3"><label for="id_kind" ')
    assert '<span class="asteriskField">*</span>' in html
    assert (
        '<select name="kind" class="form-select is-invalid" required aria-invalid="true" '
        'aria-describedby="id_kind_helptext id_kind_error" id="id_kind">'
    ) in html
    assert (
        '<div id="id_kind_error" class="invalid-feedback"><p id="error_1_id_kind"><strong>' in html
    )
    assert '<div id="id_kind_helptext" class="form-text">Kies er een.</div>' in html

    checkbox = str(bs5_field(form["agree"]))
    assert '<div id="div_id_agree" class="form-check">' in checkbox
    assert 'class="form-check-input"' in checkbox
    assert '<label for="id_agree" class="form-check-label">Akkoord</label>' in checkbox


def test_rows_escape_every_value_and_link_to_the_edit_page(client, college_list):
    college, beheerder, _c, _candidates = college_list
    group = GroupFactory(organisation=college, name="A&B <1>")
    odd = CandidateFactory(
        organisation=college,
        candidate_number="<9>",
        groups=[group],
        user__first_name="<b>Bo</b>",
        user__last_name='"Quote"',
        user__username="bo&co",
        user__email="",
    )
    client.force_login(beheerder)
    html = client.get(LIST, {"q": "bo"}).content.decode()
    edit = reverse("candidates:edit", args=[odd.pk])
    assert (
        f'<td class="text-nowrap"><a href="{edit}">'
        "&quot;Quote&quot;, &lt;b&gt;Bo&lt;/b&gt;</a></td>"
        "<td>&lt;9&gt;</td><td>bo&amp;co</td><td>—</td><td>A&amp;B &lt;1&gt;</td>"
    ) in html
    assert f'for="sel-{odd.pk}">Selecteer &lt;b&gt;Bo&lt;/b&gt; &quot;Quote&quot;</label>' in html
    assert "<b>Bo</b>" not in html


def test_imported_and_reimported_candidates_get_their_sort_key(world):
    from accounts.models import User

    from .helpers.imports import people, run_import, xlsx_bytes

    rows = people(2, start=700)
    rows[0][1:4] = ["Émile", "van der", "Öztürk"]
    run_import(world.beheerder, xlsx_bytes(rows), group_id=world.own_group.pk)
    emile = User.objects.get(username="rocm-0000700").candidate
    assert emile.name_key == "ozturk\x1femile\x1fvan der"
    other = User.objects.get(username="rocm-0000701").candidate
    assert other.name_key == "achternaam701\x1fvoornaam701\x1f"

    rows[0][3] = "Aalders"
    run_import(world.beheerder, xlsx_bytes(rows), group_id=world.own_group.pk)
    emile.refresh_from_db()
    assert emile.name_key == "aalders\x1femile\x1fvan der"
    assert "aalders" in emile.search_text


@pytest.mark.parametrize("sort", ["name", "-name"])
def test_a_search_keeps_the_name_order(client, college_list, sort):
    """Searches are ordered by an expression (see candidates_filtered): the same order."""
    _college, beheerder, _c, _candidates = college_list
    client.force_login(beheerder)
    expected = [first for first, _p, last in NAMES_IN_ORDER if "berg" in last.lower()]
    if sort == "-name":
        expected.reverse()
    assert names_on(client.get(LIST, {"q": "berg", "sort": sort})) == expected
