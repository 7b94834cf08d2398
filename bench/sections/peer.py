"""Section 7: ours against django-import-export, same run, same file, same database.

Both sides start from the bytes of the same .xlsx and import into empty colleges of the same
database. Dry runs write nothing (import-export inserts and rolls back); real imports are
removed again after each run (untimed) so every run starts from the same database.
"""

from __future__ import annotations

import os
import statistics
import time

from .. import peer as theirs
from .. import seed
from ..datafiles import input_file
from ..importing import check_done, clear_outbox, new_batch, queued_batch
from ..measure import check, repeat


def run(ctx) -> None:
    from candidates.models import Candidate
    from imports.services import import_dry_run, import_execute

    section = "7. peer: django-import-export"
    size = ctx.main_size
    file = input_file(size, "xlsx")
    data = file.read_bytes()

    # --- dry runs ------------------------------------------------------------------------------
    ours_college = seed.college()
    batch = new_batch(ours_college.beheerder, file)
    ours_dry = repeat(lambda: import_dry_run(batch), ctx.runs, count=True)
    ours_dry_fig = ctx.add(
        section,
        f"peer.ours.dry_run.{size}",
        f"ours: dry run {size:,} rows",
        "s",
        samples=ours_dry.samples,
        queries=ours_dry.queries,
    )

    their_college = seed.college()
    their_read = repeat(lambda: theirs.load_dataset(data, "xlsx"), ctx.runs)
    ctx.add(
        section,
        f"peer.theirs.read.{size}",
        "import-export: reading the file (openpyxl read-only, tablib)",
        "s",
        samples=their_read.samples,
    )
    dry = {}
    for bulk in (False, True):
        mode = "bulk" if bulk else "default"
        timing = repeat(
            lambda bulk=bulk: theirs.run_import(
                their_college.organisation, data, "xlsx", bulk=bulk, dry_run=True
            ),
            ctx.runs,
            count=True,
        )
        if timing.last.totals["new"] != size:
            raise RuntimeError(f"import-export dry run: {dict(timing.last.totals)}")
        dry[mode] = ctx.add(
            section,
            f"peer.theirs.dry_run.{mode}.{size}",
            f"import-export: dry run, {mode} mode",
            "s",
            samples=timing.samples,
            queries=timing.queries,
        )
    if Candidate.objects.filter(organisation=their_college.organisation).exists():
        raise RuntimeError("import-export's dry run left rows behind")

    # --- real imports --------------------------------------------------------------------------
    def ours_setup():
        return queued_batch(ours_college.beheerder, file)

    def ours_teardown(batch, _result):
        check_done(batch, new=size)
        clear_outbox()
        seed.purge_candidates(ours_college.organisation)

    before_slips: list[float] = []
    cpu: dict[str, list[float]] = {"ours": [], "bulk": [], "default": []}

    def ours_run(batch):
        return cpu_timed(cpu["ours"], _ours_run, batch)

    def _ours_run(batch):
        # When the service makes the login slips after its commit (_deliver_slips), note
        # when that starts: the accounts are committed and the report mail is sent by then.
        import imports.services as service

        original = getattr(service, "_deliver_slips", None)
        start = time.perf_counter()

        def noted(*args, **kwargs):
            before_slips.append(time.perf_counter() - start)
            return original(*args, **kwargs)

        if original is not None:
            service._deliver_slips = noted
        try:
            return import_execute(batch.pk)
        finally:
            if original is not None:
                service._deliver_slips = original

    ours_real = repeat(
        ours_run,
        ctx.runs,
        setup=ours_setup,
        teardown=ours_teardown,
        count=True,
    )
    ours_real_fig = ctx.add(
        section,
        f"peer.ours.execute.{size}",
        f"ours: real import {size:,} rows (generated passwords, report, slips)",
        "s",
        samples=ours_real.samples,
        queries=ours_real.queries,
    )
    committed_fig = None
    if len(before_slips) > ctx.runs:
        committed_fig = ctx.add(
            section,
            f"peer.ours.execute_before_slips.{size}",
            "ours: … of which until committed + report mail sent (slips follow)",
            "s",
            samples=before_slips[-ctx.runs :],
        )

    def their_teardown(_prepared, _result):
        created = Candidate.objects.filter(organisation=their_college.organisation).count()
        if created != size:
            raise RuntimeError(f"import-export created {created} of {size} candidates")
        seed.purge_candidates(their_college.organisation)

    real = {}
    for bulk in (False, True):
        mode = "bulk" if bulk else "default"
        timing = repeat(
            lambda _prepared, bulk=bulk, mode=mode: cpu_timed(
                cpu[mode],
                theirs.run_import,
                their_college.organisation,
                data,
                "xlsx",
                bulk=bulk,
                dry_run=False,
            ),
            ctx.runs,
            setup=lambda: None,
            teardown=their_teardown,
            count=True,
        )
        real[mode] = ctx.add(
            section,
            f"peer.theirs.import.{mode}.{size}",
            f"import-export: real import, {mode} mode",
            "s",
            samples=timing.samples,
            queries=timing.queries,
        )

    floor_college = seed.college()
    floor = repeat(
        lambda _prepared: read_and_bulk_create(floor_college, data),
        ctx.runs,
        setup=lambda: None,
        teardown=lambda _p, _r: seed.purge_candidates(floor_college.organisation),
        count=True,
    )
    ctx.add(
        section,
        f"peer.floor.read_bulk_create.{size}",
        "floor: calamine read + one bulk_create (users, candidates)",
        "s",
        samples=floor.samples,
        queries=floor.queries,
    )

    # --- ratios (of medians): ours / theirs, below 1 means ours is faster ----------------------
    for mode, figure in dry.items():
        ratio = ours_dry_fig.median / figure.median
        strict = mode == "default"
        ctx.add(
            section,
            f"peer.ratio.dry_run.{mode}",
            f"ratio ours/theirs: dry run vs its {mode} mode",
            "×",
            value=ratio,
            target="≤ 0.1 (10× faster)" if strict else "",
            status=check(ratio, at_most=0.1) if strict else "",
            speedup=1 / ratio,
        )
    for mode, figure in real.items():
        ratio = ours_real_fig.median / figure.median
        strict = mode == "bulk"
        ctx.add(
            section,
            f"peer.ratio.import.{mode}",
            f"ratio ours/theirs: real import vs its {mode} mode",
            "×",
            value=ratio,
            target="≤ 1" if strict else "",
            status=check(ratio, at_most=1) if strict else "",
            speedup=1 / ratio,
        )
        if mode == "bulk":
            # CPU of this process and its children (our file reader) per run: both sides run
            # here, on SQLite in this process too, so this is all of the work, and unlike the
            # wall time it hardly changes when other work shares the machine.
            ours_cpu = statistics.median(cpu["ours"][-ctx.runs :])
            their_cpu = statistics.median(cpu["bulk"][-ctx.runs :])
            ctx.add(
                section,
                "peer.ratio_cpu.import.bulk",
                f"ratio ours/theirs by CPU: real import vs its bulk mode ({ours_cpu:.2f} / "
                f"{their_cpu:.2f} s)",
                "×",
                value=ours_cpu / their_cpu,
                target="≤ 1",
                status=check(ours_cpu / their_cpu, at_most=1),
                ours_cpu_s=round(ours_cpu, 3),
                theirs_cpu_s=round(their_cpu, 3),
            )
        if committed_fig is not None:
            ctx.add(
                section,
                f"peer.ratio.import_before_slips.{mode}",
                f"ratio ours/theirs: … until committed + report sent, vs its {mode} mode",
                "×",
                value=committed_fig.median / figure.median,
            )


def read_and_bulk_create(college, data: bytes) -> int:
    """The least any import must do: read the cells and insert the rows, nothing checked."""
    import io

    from django.db import transaction
    from python_calamine import CalamineWorkbook

    from accounts.models import Role, User
    from candidates.models import Candidate

    rows = CalamineWorkbook.from_filelike(io.BytesIO(data)).get_sheet_by_index(0).to_python()
    org = college.organisation
    password = seed.precomputed_hash()
    with transaction.atomic():
        users = User.objects.bulk_create(
            [
                User(
                    username=f"{org.code}-{row[0]}",
                    organisation=org,
                    role=Role.KANDIDAAT,
                    first_name=row[1],
                    surname_prefix=row[2],
                    last_name=row[3],
                    email=row[4],
                    password=password,
                )
                for row in rows[1:]
            ],
            batch_size=1000,
        )
        Candidate.objects.bulk_create(
            [
                Candidate(
                    user_id=user.pk,
                    organisation=org,
                    candidate_number=row[0],
                    birth_date=row[5],
                )
                for row, user in zip(rows[1:], users, strict=True)
            ],
            batch_size=1000,
        )
    return len(users)


def cpu_timed(samples: list[float], function, *args, **kwargs):
    """Run `function`, appending the CPU seconds of this process and its waited-for children."""
    before = os.times()
    result = function(*args, **kwargs)
    after = os.times()
    samples.append(sum(after[:4]) - sum(before[:4]))
    return result
