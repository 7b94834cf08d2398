"""Section 5: statements sent to the database per import, at each size (must not grow with
the number of rows). Counted in untimed runs; savepoints included."""

from __future__ import annotations

from datetime import date

from .. import seed
from ..datafiles import input_file, people
from ..importing import check_done, clear_outbox, new_batch, queued_batch
from ..measure import count_queries


def run(ctx) -> None:
    from imports.services import import_dry_run, import_execute

    section = "5. queries per import"
    dry_counts, reimport_counts, execute_counts = {}, {}, {}
    college = seed.college()
    last_summer = date(date.today().year - 1, 7, 31)
    for size in ctx.sizes:
        batch = new_batch(college.beheerder, input_file(size, "xlsx"))
        with count_queries() as counter:
            import_dry_run(batch)
        dry_counts[size] = counter.count
        ctx.add(
            section,
            f"queries.dry_run.{size}",
            f"dry run, {size:,} new rows",
            "queries",
            value=counter.count,
            queries=counter.count,
        )

        half = seed.college()
        seed.candidates(half, size // 2, rows=people(size)[::2], valid_until=last_summer)
        batch = new_batch(half.beheerder, input_file(size, "xlsx"))
        with count_queries() as counter:
            import_dry_run(batch)
        reimport_counts[size] = counter.count
        ctx.add(
            section,
            f"queries.reimport.{size}",
            f"dry run, {size:,} rows, half exist",
            "queries",
            value=counter.count,
            queries=counter.count,
        )

    for size in [s for s in ctx.sizes if s <= ctx.main_size]:
        target = seed.college()
        batch = queued_batch(target.beheerder, input_file(size, "xlsx"))
        with count_queries() as counter:
            import_execute(batch.pk)
        check_done(batch, new=size)
        execute_counts[size] = counter.count
        clear_outbox()
        seed.purge_candidates(target.organisation)
        ctx.add(
            section,
            f"queries.execute.{size}",
            f"real import (execute), {size:,} new rows, incl. report mail",
            "queries",
            value=counter.count,
            queries=counter.count,
        )

    for name, counts in (
        ("dry run (new rows)", dry_counts),
        ("dry run (half exist)", reimport_counts),
        ("real import", execute_counts),
    ):
        sizes = sorted(counts)
        same = len(set(counts.values())) == 1
        growth = ""
        if not same and len(sizes) > 1:
            per_1000 = (counts[sizes[-1]] - counts[sizes[0]]) / ((sizes[-1] - sizes[0]) / 1000)
            growth = f"grows by {per_1000:.1f} per 1,000 rows"
        ctx.add(
            section,
            f"queries.constant.{name}",
            f"{name}: same number at " + ", ".join(f"{s:,}" for s in sizes) + " rows",
            "queries",
            value=max(counts.values()),
            target="constant",
            status="PASS" if same else "FAIL",
            note=growth,
            counts={str(k): v for k, v in counts.items()},
        )
