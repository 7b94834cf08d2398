"""A search's page and total from one query (CandidatePaginator's counted_with_page), and the
college's own search index on PostgreSQL (candidates migration 0006, docs/performance.md,
platform scale): the same rows and totals as the two-query pages, one query fewer."""

import pytest
from django.core.paginator import Paginator
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from candidates.pagination import CandidatePaginator
from candidates.selectors import candidates_filtered, list_rows, with_list_relations

from .factories import CandidateFactory, OrganisationFactory
from .test_candidate_list_paging import college_list  # noqa: F401 (a fixture)

LIST = reverse("candidates:list")


def _paginator(user, query, per_page, *, orphans=0, counted=True):
    paginator = CandidatePaginator(
        candidates_filtered(user, query=query),
        per_page,
        rows=lambda qs: with_list_relations(qs, user),
        counted_with_page=counted,
    )
    paginator.orphans = orphans
    return paginator


@pytest.mark.parametrize("orphans", [0, 1])
@pytest.mark.parametrize("per_page", [1, 2, 3, 50])
@pytest.mark.parametrize("query", ["berg", "e", "r", "zzz"])
@pytest.mark.parametrize("role", ["beheerder", "coordinator"])
def test_counted_pages_equal_djangos_pages(college_list, role, query, per_page, orphans):  # noqa: F811
    _college, beheerder, coordinator, _candidates = college_list
    user = beheerder if role == "beheerder" else coordinator
    matches = list(candidates_filtered(user, query=query).values_list("pk", flat=True))
    expected = Paginator(matches, per_page, orphans=orphans)
    beyond = [expected.num_pages + 1, 99, 10**23]
    for number in [*expected.page_range, *beyond, 2.0, 2.5, "x", None, 0, -1]:
        paginator = _paginator(user, query, per_page, orphans=orphans)  # count not cached
        page = paginator.get_page(number)
        wanted = expected.get_page(number)
        assert [c.pk for c in page.object_list] == list(wanted.object_list), number
        assert (page.number, paginator.count, paginator.num_pages) == (
            wanted.number,
            expected.count,
            expected.num_pages,
        )


def test_the_fixture_searches_cover_every_case(college_list):  # noqa: F811
    """The searches above: several pages, one page, and no match at all."""
    _college, beheerder, coordinator, _candidates = college_list
    totals = {
        (user.username, query): candidates_filtered(user, query=query).count()
        for user in (beheerder, coordinator)
        for query in ("berg", "e", "r", "zzz")
    }
    assert totals == {
        ("sortbeheer", "berg"): 4,
        ("sortbeheer", "e"): 8,
        ("sortbeheer", "r"): 8,
        ("sortbeheer", "zzz"): 0,
        ("sortcoord", "berg"): 2,
        ("sortcoord", "e"): 4,
        ("sortcoord", "r"): 4,
        ("sortcoord", "zzz"): 0,
    }


def test_a_search_page_takes_one_query_for_ids_and_total(
    college_list,  # noqa: F811
    django_assert_num_queries,
):
    _college, beheerder, _coordinator, _candidates = college_list
    paginator = CandidatePaginator(
        candidates_filtered(beheerder, query="berg"),
        2,
        rows=lambda qs: list_rows(qs, beheerder),
        counted_with_page=True,
    )
    with django_assert_num_queries(3):  # ids with the total, rows with their user, groups
        page = paginator.page(2)
    assert paginator.count == 4
    assert [c.user.first_name for c in page] == ["Émile", "Zoë"]


def test_an_empty_search_counts_once_and_fetches_no_rows(
    college_list,  # noqa: F811
    django_assert_num_queries,
):
    _college, beheerder, _coordinator, _candidates = college_list
    paginator = _paginator(beheerder, "zzz", 50)
    with django_assert_num_queries(2):  # the windowed ids (none), then the plain count
        page = paginator.get_page(1)
    assert (list(page.object_list), paginator.count, page.number) == ([], 0, 1)


def test_the_list_view_counts_a_search_with_its_page(client, college_list):  # noqa: F811
    _college, beheerder, _coordinator, _candidates = college_list
    client.force_login(beheerder)
    with CaptureQueriesContext(connection) as searched:
        response = client.get(LIST, {"q": "berg", "per_page": 25})
    assert [c.user.first_name for c in response.context["page"].object_list] == [
        "Jan",
        "Anna",
        "Émile",
        "Zoë",
    ]
    assert response.context["page"].paginator.count == 4
    windowed = [q["sql"] for q in searched.captured_queries if "OVER ()" in q["sql"]]
    assert len(windowed) == 1
    assert not [q for q in searched.captured_queries if "SELECT COUNT(*)" in q["sql"]]


def test_the_unsearched_list_counts_apart(client, college_list):  # noqa: F811
    """The whole college: a count from one index and 50 entries from another, no window."""
    _college, beheerder, _coordinator, _candidates = college_list
    client.force_login(beheerder)
    with CaptureQueriesContext(connection) as listed:
        response = client.get(LIST)
    assert response.context["page"].paginator.count == 8
    assert not [q for q in listed.captured_queries if "OVER ()" in q["sql"]]
    assert len([q for q in listed.captured_queries if "COUNT(*)" in q["sql"]]) == 1


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's planner")
def test_a_search_reads_the_college_and_the_word_from_one_index(college_list):  # noqa: F811
    """Both conditions in the index: the college's id is sent as bigint, the only type the
    btree_gin part of the index serves on PostgreSQL 15 (an integer left it to the word)."""
    _college, beheerder, _coordinator, _candidates = college_list
    other = OrganisationFactory(code="anderroc")
    CandidateFactory(organisation=other, user__last_name="Bergman")
    sql, params = candidates_filtered(beheerder, query="berg").query.sql_with_params()
    with connection.cursor() as cursor:
        # Eight rows: the planner would read the table. Inside the test's transaction (rolled
        # back after it), the plain scans are off and the college's B-tree indexes are gone,
        # so the plan shows which conditions the search index itself can take.
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # no pending checks: ALTER may run
        cursor.execute("ALTER TABLE candidates_candidate DROP CONSTRAINT unique_candidate_number")
        cursor.execute(
            "SELECT indexname FROM pg_indexes WHERE tablename = 'candidates_candidate' "
            "AND indexdef LIKE '%%btree (%%organisation_id%%'"
        )
        for (name,) in cursor.fetchall():
            cursor.execute(f'DROP INDEX "{name}"')
        cursor.execute("EXPLAIN " + sql, params)
        plan = "\n".join(row for (row,) in cursor.fetchall())
        cursor.execute("SHOW random_page_cost")
        assert cursor.fetchone() == ("1.1",)  # config.settings: DATABASE_RANDOM_PAGE_COST
    lines = plan.splitlines()
    scan = next(i for i, line in enumerate(lines) if "Bitmap Index Scan" in line)
    assert "on candidate_college_search" in lines[scan]
    assert lines[scan + 1].strip() == (
        f"Index Cond: ((organisation_id = '{beheerder.organisation_id}'::bigint) "
        "AND (search_text ~~ '%berg%'::text))"
    )
