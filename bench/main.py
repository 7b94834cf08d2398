"""The benchmark's entry point: fresh database, sections, table, JSON."""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import time
import traceback
from datetime import UTC, datetime

from .env import BENCH_DIR, RESULTS_DIR, BenchError

RESULTS_JSON = BENCH_DIR / "results.json"


def parse_args(argv: list[str] | None):
    from .sections import SECTIONS

    parser = argparse.ArgumentParser(
        prog="python -m bench",
        description="Benchmarks of the import and the candidate list, against "
        "django-import-export. Uses PostgreSQL when DATABASE_URL points there (the database "
        "is dropped and recreated; its name must contain 'bench'), else a fresh SQLite file.",
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help="small sizes and 3 runs per figure: a smoke test, its figures meet no target",
    )
    parser.add_argument(
        "--only",
        default="",
        help="comma-separated sections to run: " + ", ".join(SECTIONS),
    )
    parser.add_argument("--runs", type=int, help="timed runs per figure (default 5, quick 3)")
    parser.add_argument(
        "--password-rows",
        type=int,
        help="rows of the passwords-from-file import (default 100, quick 10)",
    )
    parser.add_argument(
        "--workers",
        default="",
        help="comma-separated worker set-ups of the e2e section (1x1, 1xdefault, 2x1; default all)",
    )
    args = parser.parse_args(argv)
    only = [name.strip() for name in args.only.split(",") if name.strip()]
    unknown = [name for name in only if name not in SECTIONS]
    if unknown:
        parser.error(f"unknown section(s) {', '.join(unknown)}; choose from {', '.join(SECTIONS)}")
    args.only = only
    return args


def make_context(args):
    ctx = _context(args)
    ctx.worker_setups = tuple(w.strip() for w in args.workers.split(",") if w.strip())
    return ctx


def _context(args):
    from .context import Context

    if args.quick:
        return Context(
            quick=True,
            runs=args.runs or 3,
            sizes=(100, 1_000, 2_000),
            main_size=1_000,
            list_sizes=(50, 2_000),
            password_rows=args.password_rows or 10,
            e2e_runs=args.runs or 3,
        )
    return Context(
        quick=False,
        runs=args.runs or 5,
        sizes=(1_000, 10_000, 50_000),
        main_size=10_000,
        list_sizes=(50, 50_000),
        password_rows=args.password_rows or 100,
        e2e_runs=3,  # each run imports 10,000 candidates; see bench/README.md
    )


def _stop_on_sigterm(signum, frame):
    # `timeout` or a kill: leave through the finally blocks, which stop the Celery workers.
    raise SystemExit(143)


def main(argv: list[str] | None = None) -> int:
    from . import env

    signal.signal(signal.SIGTERM, _stop_on_sigterm)
    args = parse_args(argv)
    ctx = make_context(args)
    env.configure_environment()
    try:
        url = env.prepare_database()
    except BenchError as exc:
        print(f"bench: {exc}", file=sys.stderr)
        return 2
    ctx.engine = env.engine_name(url)
    ctx.sources = env.source_snapshot()
    started = time.perf_counter()
    started_at = datetime.now(UTC)
    env.setup_django(migrate=True)
    database = env.database_description()
    machine = env.machine()
    print(
        f"Database: {database['engine']} {database['version']} ({database['name']}), fresh."
        f"\nMachine: {machine['cpu']}, {machine['cores']} cores, {machine['memory_gb']} GB; "
        f"Python {machine['python']}, Django {machine['packages']['Django']}, "
        f"django-import-export {machine['packages']['django-import-export']}."
        f"\nLoad average now: {os.getloadavg()[0]:.2f} (other work on this machine skews figures)."
        + ("\nQuick run: small sizes, 3 runs; targets are not evaluated." if ctx.quick else ""),
        flush=True,
    )

    from .sections import RUN_ORDER, SECTIONS, section
    from .sections.listpage import list_college

    names = [n for n in RUN_ORDER if not args.only or n in args.only]
    failed = []
    load: dict = {}
    if any(n != "floor" for n in names):
        list_college(ctx)  # every section runs beside a college of 50,000 candidates
    for name in names:
        print(f"\n== {name}", flush=True)
        section_started = time.perf_counter()
        load_before = os.getloadavg()[0]
        try:
            section(name)(ctx)
        except Exception:  # report, go on with the other sections
            failed.append(name)
            traceback.print_exc()
        seconds = time.perf_counter() - section_started
        load[name] = {
            "seconds": round(seconds),
            "load_1min_before": round(load_before, 2),
            "load_1min_after": round(os.getloadavg()[0], 2),
        }
        print(
            f"  ({name}: {seconds:.0f} s, load average {load_before:.2f} → "
            f"{os.getloadavg()[0]:.2f})",
            flush=True,
        )
    order = list(SECTIONS)
    ctx.figures.sort(key=lambda f: order.index(_section_name(f.key)))
    for figure in ctx.figures:
        if figure.status and not ctx.evaluates(figure.key):
            figure.status = ""  # a quick run's sizes are not the targets' sizes

    from .measure import markdown_table, table

    print()
    print(table(ctx.figures))
    changed = env.changed_sources(ctx.sources)
    if changed:
        print(
            f"\nWarning: {len(changed)} product file(s) changed while this run ran "
            f"({', '.join(changed[:8])}{' …' if len(changed) > 8 else ''}). Processes started "
            "later (workers, reader and probe children) ran other code than this one; to "
            "measure one commit, run from an exported tree (bench/README.md).",
            file=sys.stderr,
        )
    report = {
        "started": started_at.isoformat(timespec="seconds"),
        "duration_seconds": round(time.perf_counter() - started),
        "engine": ctx.engine,
        "database": database,
        "machine": machine,
        "quick": ctx.quick,
        "sections": names,
        "failed_sections": failed,
        "runs": ctx.runs,
        "sizes": list(ctx.sizes),
        "sections_timing_and_load": load,
        "sources_changed_during_run": changed,
        "figures": [f.as_json() for f in ctx.figures],
    }
    RESULTS_DIR.mkdir(exist_ok=True)
    stamp = started_at.strftime("%Y%m%d-%H%M%S")
    (RESULTS_DIR / f"{ctx.engine}-{stamp}.json").write_text(json.dumps(report, indent=1))
    (RESULTS_DIR / f"{ctx.engine}-{stamp}.md").write_text(markdown_table(ctx.figures) + "\n")
    complete = not ctx.quick and not args.only and not failed
    if complete:
        merged, kept = {}, {}
        if RESULTS_JSON.exists():
            try:
                kept = json.loads(RESULTS_JSON.read_text())
                merged = kept.pop("runs", {})
            except (ValueError, AttributeError):
                merged, kept = {}, {}
        merged[ctx.engine] = report
        # Other keys (partial runs kept for the record, see docs/performance.md) stay.
        content = {"runs": dict(sorted(merged.items())), **kept}
        RESULTS_JSON.write_text(json.dumps(content, indent=1, ensure_ascii=False) + "\n")
        written = f"{RESULTS_JSON} (key runs.{ctx.engine}) and {RESULTS_DIR}/{ctx.engine}-{stamp}.*"
    else:
        written = (
            f"{RESULTS_DIR}/{ctx.engine}-{stamp}.json and .md "
            "(a quick, partial or failed run does not replace bench/results.json)"
        )
    fails = [f for f in ctx.figures if f.status == "FAIL"]
    print(
        f"\n{len([f for f in ctx.figures if f.status])} targets: "
        f"{len(fails)} FAIL. Took {time.perf_counter() - started:.0f} s. Written: {written}"
    )
    if failed:
        print(f"Sections that raised an error: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


def _section_name(key: str) -> str:
    prefix = key.split(".")[0]
    return {
        "upload": "dry_run",
        "dry_run": "dry_run",
        "reimport": "reimport",
        "e2e": "e2e",
        "memory": "memory",
        "queries": "queries",
        "list": "list",
        "peer": "peer",
        "floor": "floor",
        "stages": "stages",
        "retention": "retention",
        "platform": "platform",
    }[prefix]
