"""Section 4: peak memory (RSS) of the largest dry run, each run in a fresh process."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from .. import seed
from ..datafiles import input_file
from ..env import ROOT
from ..importing import new_batch
from ..measure import check

MB = 1_000_000
LIMIT_MB = 250  # for 50,000 rows: fits a small worker next to the web process


SECTION = "4. peak memory of the dry run"
SUM_NOTE = (
    "Overstates: it adds the dry run's peak while it builds the rows to the reader's, but the "
    "reader has exited by then. The bound below is judged instead. Peaks are VmHWM, not "
    "ru_maxrss: see bench/memory_probe.py."
)


def run(ctx) -> None:
    size = ctx.largest
    college = seed.college()
    batch = new_batch(college.beheerder, input_file(size, "xlsx"))
    results = [_probe(batch) for _ in range(ctx.runs)]
    if any(r["rows"] != size for r in results):
        raise RuntimeError(f"memory probe saw {[r['rows'] for r in results]} rows")

    def mb(name: str) -> list[float]:
        return [r[name] / MB for r in results]

    judged = f"< {LIMIT_MB} MB" if size == 50_000 else ""
    # (key, label, samples, target): the order of the table
    figures = [
        ("before", "peak RSS of the probe process before the dry run (Django loaded)",
         mb("hwm_before_bytes"), ""),
        ("self", f"peak RSS, dry-run process ({size:,} rows .xlsx)", mb("hwm_self_bytes"), ""),
        ("reader", "peak RSS, reader child process (calamine)", mb("hwm_reader_child_bytes"), ""),
        ("total", "peak RSS, dry run + reader child (sum of both final peaks, for comparison)",
         [a + b for a, b in zip(mb("hwm_self_bytes"), mb("hwm_reader_child_bytes"), strict=True)],
         ""),
        ("bound", "peak RSS of both processes, bound (dry run's peak until the reader exited "
         "+ the reader's, or the dry run's own)", mb("hwm_bound_bytes"), judged),
        ("together", "peak RSS, both processes at one moment (sampled)",
         mb("hwm_together_bytes"), judged),
        ("ru_maxrss", "ru_maxrss of the probe (inflated by its parent's peak, for comparison)",
         mb("ru_maxrss_self_bytes"), ""),
    ]  # fmt: skip
    for key, label, samples, target in figures:
        figure = ctx.add(SECTION, f"memory.{size}.{key}", label, "MB", samples=samples,
                         target=target, note=SUM_NOTE if key == "total" else "")  # fmt: skip
        if target:
            figure.status = check(figure.median, below=LIMIT_MB)
    ctx.add(
        SECTION,
        f"memory.{size}.seconds",
        f"dry run {size:,} rows in a fresh process (cold imports)",
        "s",
        samples=[r["seconds"] for r in results],
    )


def _probe(batch) -> dict:
    """One dry run in a fresh process (bench/memory_probe.py): its figures."""
    process = subprocess.run(
        [sys.executable, "-m", "bench.memory_probe", str(batch.pk)],
        cwd=ROOT,
        env=os.environ,
        capture_output=True,
        text=True,
        check=False,
    )
    if process.returncode != 0:
        raise RuntimeError(f"memory probe failed:\n{process.stderr[-3000:]}")
    return json.loads(process.stdout.strip().splitlines()[-1])
