"""Where the time of the real import goes: `import_execute` of the main-size file with
generated passwords and the default options (report mailed to the importer, login slips
because the credentials are not mailed), each stage timed (exclusive) around the service's
own functions. One extra, untimed run under cProfile is written to bench/results/."""

from __future__ import annotations

import cProfile
import io
import pstats
import statistics
import time

from .. import seed
from ..datafiles import input_file
from ..env import RESULTS_DIR
from ..importing import check_done, clear_outbox, queued_batch
from ..measure import repeat
from ..stages import instrumented, labels


def run(ctx) -> None:
    from imports.services import import_execute

    section = f"stages of the real import ({ctx.main_size:,} rows, in process)"
    size = ctx.main_size
    file = input_file(size, "xlsx")
    college = seed.college()
    clocks = []

    def setup():
        return queued_batch(college.beheerder, file)

    def teardown(batch, _result):
        check_done(batch, new=size)
        clear_outbox()
        seed.purge_candidates(college.organisation)

    cpu_totals = []

    def timed_run(batch):
        cpu0 = time.process_time()
        with instrumented() as clock:
            import_execute(batch.pk)
        cpu_totals.append(time.process_time() - cpu0)
        clocks.append(clock)

    profile_path = RESULTS_DIR / f"profile-execute-{ctx.engine}.txt"
    batch = setup()
    profiler = cProfile.Profile()
    profiler.runcall(import_execute, batch.pk)
    teardown(batch, None)
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).sort_stats("cumulative").print_stats(45)
    profile_path.write_text(out.getvalue())

    timing = repeat(timed_run, ctx.runs, setup=setup, teardown=teardown, warmup=0)
    clocks = clocks[-ctx.runs :]
    total = statistics.median(timing.samples)
    ctx.add(
        section,
        f"stages.total.{size}",
        "import_execute, total",
        "s",
        samples=timing.samples,
        note=f"cProfile of one run: {profile_path.name}",
    )
    ctx.add(
        section,
        f"stages.total_cpu.{size}",
        "import_execute, total CPU (both cores)",
        "s",
        samples=cpu_totals[-ctx.runs :],
    )
    accounted = []
    for label in labels():
        samples = [clock.exclusive.get(label, 0.0) for clock in clocks]
        if max(samples) < 0.0005:
            continue
        accounted.append(samples)
        share = statistics.median(samples) / total
        cpu = statistics.median(clock.cpu.get(label, 0.0) for clock in clocks)
        ctx.add(
            section,
            f"stages.{label}",
            f"  {label} ({share:.0%}; CPU {cpu:.2f} s)",
            "s",
            samples=samples,
            calls=max(clock.calls.get(label, 0) for clock in clocks),
            cpu_s=round(cpu, 4),
        )
    rest = [
        t - sum(parts)
        for t, parts in zip(timing.samples, zip(*accounted, strict=True), strict=True)
    ]
    ctx.add(
        section,
        "stages.rest",
        f"  rest: transaction, batch row, commit ({statistics.median(rest) / total:.0%})",
        "s",
        samples=rest,
    )
