"""Section 6: Beheer → Kandidaten with 50 and with 50,000 candidates in the college.

Whole requests through Django's test client (middleware, session, query, template), logged
in as the college's beheerder and as a coordinator linked to half of its groups (so about
half of the candidates). Cases: the first page, a search, a group filter.
"""

from __future__ import annotations

import statistics
import time

from .. import seed
from ..datafiles import GROUP_NAMES, people
from ..measure import check, count_queries

LIMIT_MS = 100  # first page, 50,000 candidates
REQUESTS = 10  # per case; cheap, so more than the minimum of five


def list_college(ctx):
    """The big college, seeded once per run (the other sections run beside it)."""
    if "list_college" not in ctx.cache:
        big = max(ctx.list_sizes)
        started = time.perf_counter()
        college = seed.college(coordinator_groups=len(GROUP_NAMES) // 2)
        seed.candidates(college, big, rows=people(big, seed=11))
        seconds = time.perf_counter() - started
        print(f"  (seeded a college of {big:,} candidates in {seconds:.1f} s)")
        ctx.cache["list_college"] = college
    return ctx.cache["list_college"]


def _cases(college) -> tuple[list[tuple[str, str]], str, str]:
    """First page, a search and a group filter that all have results for the coordinator."""
    from candidates.models import Candidate, fold

    mine = {g.pk for g in college.groups[: len(GROUP_NAMES) // 2]}
    visible = (
        Candidate.objects.filter(organisation=college.organisation, groups__in=mine)
        .select_related("user")
        .order_by("pk")
        .first()
    )
    group = visible.groups.filter(pk__in=mine).first()
    return (
        [
            ("first page", ""),
            (f"search ?q={fold(visible.user.last_name)}", f"?q={fold(visible.user.last_name)}"),
            (f"group filter ({group.name})", "?group={group}"),
        ],
        group.name,
        fold(visible.user.last_name),
    )


def run(ctx) -> None:
    from django.test import Client
    from django.urls import reverse

    section = "6. candidate list page"
    url = reverse("candidates:list")
    small_n, big_n = sorted(ctx.list_sizes)
    big = list_college(ctx)
    small = seed.college(coordinator_groups=len(GROUP_NAMES) // 2)
    seed.candidates(small, small_n, rows=people(small_n, seed=11))
    # The same search word and group name in both colleges (chosen so that the small one has
    # results for the coordinator too: an empty page skips the query for the rows' groups).
    cases, group_name, _word = _cases(small)
    big_group = next(g for g in big.groups if g.name == group_name)
    small_group = next(g for g in small.groups if g.name == group_name)
    # The coordinator of each college is linked to the first half of its groups.
    query_counts = {}
    runs = max(ctx.runs, REQUESTS)
    for n, college in ((big_n, big), (small_n, small)):
        for role in ("beheerder", "coordinator"):
            client = Client()
            client.force_login(getattr(college, role))
            group = big_group if college is big else small_group
            for label, case_query in cases:
                query = case_query.replace("{group}", str(group.pk))
                timings, queries, rows = _measure(client, url + query, runs)
                key = (role, label)
                target, status = "", ""
                if n == big_n:
                    query_counts[key] = queries
                    if label == "first page" and big_n == 50_000:
                        target = f"< {LIMIT_MS} ms"
                        status = check(statistics.median(timings), below=LIMIT_MS)
                else:
                    target = f"queries = {big_n:,}'s ({query_counts[key]})"
                    status = "PASS" if queries == query_counts[key] else "FAIL"
                ctx.add(
                    section,
                    f"list.{n}.{role}.{label.split()[0]}",
                    f"{n:,} candidates, {role}, {label}",
                    "ms",
                    samples=timings,
                    queries=queries,
                    target=target,
                    status=status,
                    rows_on_page=rows,
                )


def _measure(client, url: str, runs: int) -> tuple[list[float], int, int]:
    response = client.get(url)  # warm-up: template cache, session
    if response.status_code != 200:
        raise RuntimeError(f"{url}: HTTP {response.status_code}")
    rows = response.content.count(b'name="ids"')
    timings = []
    for _ in range(runs):
        start = time.perf_counter()
        response = client.get(url)
        timings.append((time.perf_counter() - start) * 1000)
        if response.status_code != 200:
            raise RuntimeError(f"{url}: HTTP {response.status_code}")
    with count_queries() as counter:
        client.get(url)
    return timings, counter.count, rows
