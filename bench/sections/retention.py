"""Section 9: the nightly retention. Anonymise 50,000 accounts whose validity ended long ago
(candidates.services.retention.organisation_apply_retention, the nightly task's work for one
college), and the queries of a full batch and of a small one, which must be the same: the
work per batch is a fixed number of set-based statements, whatever its size."""

from __future__ import annotations

from datetime import date, timedelta

from .. import seed
from ..datafiles import people
from ..measure import check, count_queries, repeat

LIMIT_S = 60  # 50,000 accounts, SQLite
RUNS = 3  # each run seeds 50,000 fresh accounts first (untimed)


def _expired_college(n: int, seed_no: int):
    college = seed.college()
    until = date.today() - timedelta(days=3 * 365)
    seed.candidates(college, n, rows=people(n, seed=seed_no), valid_until=until)
    return college


def _batch_queries(batch_size: int) -> int:
    from candidates.selectors import candidates_past_retention
    from candidates.services import retention

    college = _expired_college(batch_size, seed_no=17)
    org = college.organisation
    cutoff = retention.shift_months(date.today(), -org.retention_months)
    ids = list(candidates_past_retention(org.pk, cutoff).values_list("pk", flat=True))
    with count_queries() as counter:
        done = retention._retention_batch(org, cutoff, ids)
    if done != batch_size:
        raise RuntimeError(f"one batch anonymised {done} accounts, not {batch_size}")
    seed.purge_candidates(org)
    return counter.count


def run(ctx) -> None:
    from accounts.models import User
    from candidates.services import retention

    section = "9. nightly retention"
    n = ctx.largest

    def anonymise(college) -> int:
        return retention.organisation_apply_retention(college.organisation)

    def teardown(college, result) -> None:
        org = college.organisation
        left = User.objects.filter(organisation=org, anonymised_at__isnull=True, role="kandidaat")
        if result != n or left.exists():
            raise RuntimeError(f"anonymised {result} of {n} accounts")
        seed.purge_candidates(org)

    timing = repeat(
        anonymise,
        min(ctx.runs, RUNS),
        setup=lambda: _expired_college(n, seed_no=13),
        teardown=teardown,
        warmup=0,
    )
    median = sorted(timing.samples)[len(timing.samples) // 2]
    ctx.add(
        section,
        f"retention.anonymise.{n}",
        f"anonymise {n:,} expired accounts (batches of {retention.BATCH_SIZE:,})",
        "s",
        samples=timing.samples,
        target=f"≤ {LIMIT_S} s",
        status=check(median, at_most=LIMIT_S),
    )
    small, large = _batch_queries(10), _batch_queries(retention.BATCH_SIZE)
    ctx.add(
        section,
        "retention.queries_per_batch",
        f"queries of one batch: 10 vs {retention.BATCH_SIZE:,} accounts",
        "queries",
        value=large,
        target=f"= {small}",
        status="PASS" if small == large else "FAIL",
        small=small,
    )
