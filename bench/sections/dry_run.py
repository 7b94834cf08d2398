"""Sections 1 and 2: the dry run (read, map, clean, validate, diff against the database), in
process, as the wizard's 'Controleren' step and the worker's first step run it."""

from __future__ import annotations

from datetime import date

from .. import seed
from ..datafiles import input_file, people
from ..importing import new_batch
from ..measure import check, repeat

# Seconds: the dry-run promise, on SQLite and on PostgreSQL alike (run the benchmark with
# DATABASE_URL pointing at PostgreSQL for the latter; the figure names the engine).
TARGETS = {10_000: 0.4, 50_000: 2.5}


def _target(size: int) -> tuple[str, float | None]:
    limit = TARGETS.get(size)
    return (f"≤ {limit:g} s", limit) if limit else ("", None)


def _label(ctx, text: str) -> str:
    return f"{text} ({ctx.engine})"


def run_new(ctx) -> None:
    from imports.services import batch_create_from_upload, import_dry_run

    section = "1. dry run (new candidates)"
    college = seed.college()
    for size in ctx.sizes:
        for file_format in ("xlsx", "csv"):
            file = input_file(size, file_format)
            data = file.read_bytes()
            upload = repeat(
                lambda data=data, file=file: batch_create_from_upload(
                    actor=college.beheerder, file_name=file.name, data=data
                ),
                ctx.runs,
            )
            ctx.add(
                section,
                f"upload.{file_format}.{size}",
                f"upload {size:,} rows .{file_format} (read, header, store)",
                "s",
                samples=upload.samples,
            )
            batch = new_batch(college.beheerder, file)
            timing = repeat(lambda batch=batch: import_dry_run(batch), ctx.runs, count=True)
            counts = timing.last.plan.counts
            if counts["new"] != size:
                raise RuntimeError(f"dry run of {file.name}: {counts}")
            target, limit = _target(size)
            figure = ctx.add(
                section,
                f"dry_run.{file_format}.{size}",
                _label(ctx, f"dry run {size:,} rows .{file_format}"),
                "s",
                samples=timing.samples,
                queries=timing.queries,
                target=target,
                counts=counts,
            )
            if limit:
                figure.status = check(figure.median, at_most=limit)


def run_reimport(ctx) -> None:
    """The yearly re-import: half of the file's candidates exist (from last year, validity
    ending last summer), so half the rows are new and half are updates."""
    from imports.services import import_dry_run

    section = "2. dry run (half the rows exist)"
    last_summer = date(date.today().year - 1, 7, 31)
    for size in ctx.sizes:
        college = seed.college()
        rows = people(size)  # exactly the rows of the file
        seed.candidates(college, size // 2, rows=rows[::2], valid_until=last_summer)
        batch = new_batch(college.beheerder, input_file(size, "xlsx"))
        timing = repeat(lambda batch=batch: import_dry_run(batch), ctx.runs, count=True)
        counts = timing.last.plan.counts
        if counts["new"] != size - size // 2 or counts["updated"] != size // 2:
            raise RuntimeError(f"re-import dry run of {size}: {counts}")
        target, limit = _target(size)
        figure = ctx.add(
            section,
            f"reimport.xlsx.{size}",
            _label(ctx, f"dry run {size:,} rows .xlsx, {size // 2:,} exist"),
            "s",
            samples=timing.samples,
            queries=timing.queries,
            target=target,
            counts=counts,
        )
        if limit:
            figure.status = check(figure.median, at_most=limit)
