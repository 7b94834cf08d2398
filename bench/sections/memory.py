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


def run(ctx) -> None:
    section = "4. peak memory of the dry run"
    size = ctx.largest
    college = seed.college()
    batch = new_batch(college.beheerder, input_file(size, "xlsx"))
    results = []
    for _ in range(ctx.runs):
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
        results.append(json.loads(process.stdout.strip().splitlines()[-1]))
    if any(r["rows"] != size for r in results):
        raise RuntimeError(f"memory probe saw {[r['rows'] for r in results]} rows")

    def values(name: str) -> list[float]:
        return [r[name] / MB for r in results]

    ctx.add(
        section,
        f"memory.{size}.before",
        "peak RSS of the probe process before the dry run (Django loaded)",
        "MB",
        samples=values("hwm_before_bytes"),
    )
    ctx.add(
        section,
        f"memory.{size}.self",
        f"peak RSS, dry-run process ({size:,} rows .xlsx)",
        "MB",
        samples=values("hwm_self_bytes"),
    )
    ctx.add(
        section,
        f"memory.{size}.reader",
        "peak RSS, reader child process (calamine)",
        "MB",
        samples=values("hwm_reader_child_bytes"),
    )
    limit = size == 50_000
    total = [(r["hwm_self_bytes"] + r["hwm_reader_child_bytes"]) / MB for r in results]
    ctx.add(
        section,
        f"memory.{size}.total",
        "peak RSS, dry run + reader child (sum of both final peaks, for comparison)",
        "MB",
        samples=total,
        note="Overstates: it adds the dry run's peak while it builds the rows to the "
        "reader's, but the reader has exited by then. The bound below is judged instead. "
        "Peaks are VmHWM, not ru_maxrss: see bench/memory_probe.py.",
    )
    figure = ctx.add(
        section,
        f"memory.{size}.bound",
        "peak RSS of both processes, bound (dry run's peak until the reader exited + the "
        "reader's, or the dry run's own)",
        "MB",
        samples=values("hwm_bound_bytes"),
        target=f"< {LIMIT_MB} MB" if limit else "",
    )
    together = ctx.add(
        section,
        f"memory.{size}.together",
        "peak RSS, both processes at one moment (sampled)",
        "MB",
        samples=values("hwm_together_bytes"),
        target=f"< {LIMIT_MB} MB" if limit else "",
    )
    if limit:
        figure.status = check(figure.median, below=LIMIT_MB)
        together.status = check(together.median, below=LIMIT_MB)
    ctx.add(
        section,
        f"memory.{size}.ru_maxrss",
        "ru_maxrss of the probe (inflated by its parent's peak, for comparison)",
        "MB",
        samples=values("ru_maxrss_self_bytes"),
    )
    ctx.add(
        section,
        f"memory.{size}.seconds",
        f"dry run {size:,} rows in a fresh process (cold imports)",
        "s",
        samples=[r["seconds"] for r in results],
    )
