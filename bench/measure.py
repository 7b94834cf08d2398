"""Timing, query counting, and the figures table (printed and written as JSON)."""

from __future__ import annotations

import contextlib
import gc
import statistics
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass
class Figure:
    section: str
    key: str  # stable machine name, e.g. "dry_run.xlsx.10000"
    label: str  # what the table shows
    unit: str  # "s", "ms", "MB", "queries", "×"
    median: float
    min: float | None = None
    max: float | None = None
    runs: int = 1
    samples: list[float] = field(default_factory=list)
    queries: int | None = None
    target: str = ""  # e.g. "≤ 1 s"
    status: str = ""  # "PASS", "FAIL" or "" (no target)
    note: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    def as_json(self) -> dict:
        data = asdict(self)
        for name in ("median", "min", "max"):
            if isinstance(data[name], float):
                data[name] = round(data[name], 6)
        data["samples"] = [round(s, 6) for s in self.samples]
        return data


def sample(samples: list[float]) -> dict:
    return {
        "median": statistics.median(samples),
        "min": min(samples),
        "max": max(samples),
        "runs": len(samples),
        "samples": list(samples),
    }


def check(
    value: float,
    *,
    at_most: float | None = None,
    below: float | None = None,
    at_least: float | None = None,
) -> str:
    if at_least is not None:
        return "PASS" if value >= at_least else "FAIL"
    if at_most is not None:
        return "PASS" if value <= at_most else "FAIL"
    if below is not None:
        return "PASS" if value < below else "FAIL"
    return ""


@dataclass
class Timing:
    samples: list[float]  # seconds, one per timed run
    queries: int | None = None  # statements of the (untimed) warm-up run
    last: Any = None  # what the last timed run returned


def repeat(
    run: Callable[..., Any],
    runs: int,
    *,
    setup: Callable[[], Any] | None = None,
    teardown: Callable[[Any, Any], None] | None = None,
    warmup: int = 1,
    count: bool = False,
) -> Timing:
    """Time `runs` runs after `warmup` untimed ones. `setup()` (untimed) prepares a run and
    its result is passed to `run(prepared)`; `teardown(prepared, result)` cleans up, untimed.
    With `count`, the first warm-up run counts its queries (counting costs time, so it is
    never done in a timed run). Garbage is collected before each run."""
    timings: list[float] = []
    queries = None
    result = None
    for index in range(warmup + runs):
        prepared = setup() if setup else None
        args = (prepared,) if setup else ()
        gc.collect()
        if count and index == 0 and warmup:
            with count_queries() as counter:
                result = run(*args)
            queries = counter.count
        else:
            start = time.perf_counter()
            result = run(*args)
            elapsed = time.perf_counter() - start
            if index >= warmup:
                timings.append(elapsed)
        if teardown:
            teardown(prepared, result)
    return Timing(timings, queries, result)


class QueryCounter:
    """Counts every statement sent to the database (savepoints included), without the 9,000-
    entry cap of CaptureQueriesContext. Used in separate, untimed runs."""

    def __init__(self) -> None:
        self.count = 0
        self.seconds = 0.0

    def __call__(self, execute, sql, params, many, context):
        self.count += 1
        start = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            self.seconds += time.perf_counter() - start


@contextlib.contextmanager
def count_queries() -> Iterator[QueryCounter]:
    from django.db import connection

    counter = QueryCounter()
    with connection.execute_wrapper(counter):
        yield counter


# --- output ------------------------------------------------------------------------------------


def format_value(value: float | None, unit: str) -> str:
    if value is None:
        return "—"
    if unit == "s":
        if abs(value) < 0.1:
            return f"{value * 1000:.1f} ms"
        return f"{value:.3f} s" if value < 10 else f"{value:.2f} s"
    if unit == "ms":
        return f"{value:.1f} ms"
    if unit == "MB":
        return f"{value:.0f} MB"
    if unit == "×":
        return f"{value:.3f}×" if value < 1 else f"{value:.2f}×"
    if unit == "queries":
        return f"{value:.0f}"
    return f"{value:g} {unit}"


def table(figures: list[Figure]) -> str:
    headers = ["figure", "median", "min", "max", "runs", "queries", "target", "status"]
    rows = []
    section = None
    lines = []
    for f in figures:
        if f.section != section:
            section = f.section
            rows.append(None)
            rows.append([f"[{section}]", "", "", "", "", "", "", ""])
        rows.append(
            [
                f.label,
                format_value(f.median, f.unit),
                format_value(f.min, f.unit) if f.runs > 1 else "",
                format_value(f.max, f.unit) if f.runs > 1 else "",
                str(f.runs) if f.runs > 1 else "",
                "" if f.queries is None else str(f.queries),
                f.target,
                f.status,
            ]
        )
    widths = [len(h) for h in headers]
    for row in rows:
        if row:
            widths = [max(w, len(c)) for w, c in zip(widths, row, strict=True)]
    align = ["<", ">", ">", ">", ">", ">", "<", "<"]

    def fmt(row: list[str]) -> str:
        return "  ".join(f"{c:{a}{w}}" for c, a, w in zip(row, align, widths, strict=True))

    lines.append(fmt(headers))
    lines.append("  ".join("-" * w for w in widths))
    for row in rows:
        lines.append("" if row is None else fmt(row).rstrip())
    notes = [f for f in figures if f.note]
    if notes:
        lines.append("")
        lines.append("Notes:")
        for f in notes:
            lines.append(f"  {f.label}: {f.note}")
    return "\n".join(lines)


def markdown_table(figures: list[Figure]) -> str:
    lines = [
        "| Figure | Median | Min | Max | Runs | Queries | Target | Status |",
        "|---|---:|---:|---:|---:|---:|---|---|",
    ]
    section = None
    for f in figures:
        if f.section != section:
            section = f.section
            lines.append(f"| **{section}** | | | | | | | |")
        lines.append(
            "| "
            + " | ".join(
                [
                    f.label,
                    format_value(f.median, f.unit),
                    format_value(f.min, f.unit) if f.runs > 1 else "",
                    format_value(f.max, f.unit) if f.runs > 1 else "",
                    str(f.runs) if f.runs > 1 else "",
                    "" if f.queries is None else str(f.queries),
                    f.target,
                    f"**{f.status}**" if f.status == "FAIL" else f.status,
                ]
            )
            + " |"
        )
    return "\n".join(lines)
