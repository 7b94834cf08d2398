"""Markdown for docs/performance.md from bench/results.json.

    python -m bench.report            # targets side by side, then every figure per database

Only formats what a complete run wrote; measures nothing.
"""

from __future__ import annotations

import json
import sys

from .main import RESULTS_JSON
from .measure import Figure, format_value, markdown_table

ENGINES = (("sqlite", "SQLite"), ("postgresql", "PostgreSQL"))


def load() -> dict[str, dict]:
    return json.loads(RESULTS_JSON.read_text())["runs"]


def figures(run: dict) -> list[Figure]:
    return [Figure(**f) for f in run["figures"]]


def targets_table(runs: dict[str, dict]) -> str:
    present = [(key, name) for key, name in ENGINES if key in runs]
    by_engine = {key: {f.key: f for f in figures(runs[key])} for key, _ in present}
    keys: list[str] = []
    for key, _ in present:
        for f in figures(runs[key]):
            if f.target and f.key not in keys:
                keys.append(f.key)
    header = "| Figure | Target | " + " | ".join(name for _, name in present) + " |"
    lines = [header, "|---|---|" + "---|" * len(present)]
    for fkey in keys:
        first = next(by_engine[e][fkey] for e, _ in present if fkey in by_engine[e])
        cells = []
        for engine, _ in present:
            f = by_engine[engine].get(fkey)
            if f is None:
                cells.append("–")
                continue
            status = f"**{f.status}**" if f.status == "FAIL" else f.status
            cells.append(f"{format_value(f.median, f.unit)} {status}".strip())
        lines.append(f"| {first.label} | {first.target} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main() -> int:
    runs = load()
    print(targets_table(runs))
    for key, name in ENGINES:
        if key not in runs:
            continue
        run = runs[key]
        db = run["database"]
        git = run["machine"]["git"]
        print(
            f"\n### {name}: {db['engine']} {db['version']}, run {run['started']}, "
            f"{run['duration_seconds'] // 60} min, commit {git['commit']}"
            f"{' + uncommitted changes' if git['dirty'] else ''}\n"
        )
        print(markdown_table(figures(run)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
