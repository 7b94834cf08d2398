"""The benchmark's sections, in the order of the figures in docs/performance.md (plus 'stages').

Each section is `run(ctx)` in a module of this package: it prepares what it needs in colleges
of its own and adds figures to ctx. `--only NAME` runs one (or a comma-separated few).
Modules are imported only after Django is set up.
"""

from __future__ import annotations

import importlib

SECTIONS = {
    "dry_run": ("dry_run", "run_new"),  # 1. dry run of each size
    "reimport": ("dry_run", "run_reimport"),  # 2. the same, half of the rows already there
    "e2e": ("end_to_end", "run"),  # 3. whole import on Redis with one and with two workers
    "memory": ("memory", "run"),  # 4. peak RSS of the largest dry run
    "queries": ("queries", "run"),  # 5. queries per import at each size
    "list": ("listpage", "run"),  # 6. candidate list page with 50 and 50,000 candidates
    "peer": ("peer", "run"),  # 7. django-import-export on the same file and database
    "floor": ("floor", "run"),  # 8. reading the bytes alone
    "stages": ("stages", "run"),  # where the time of the real import goes
    "platform": ("platform", "run"),  # 9. 60 colleges, 1,200,000 candidates (PostgreSQL)
    "retention": ("retention", "run"),  # 10. nightly anonymisation of 50,000 expired accounts
}
# Run order: the list section first, so that every import figure is measured against a
# database that already holds a college of 50,000 candidates; the long one last.
RUN_ORDER = (
    "list", "dry_run", "reimport", "memory", "queries", "peer", "floor", "stages", "e2e",
    "retention", "platform",
)  # fmt: skip


def section(name: str):
    module, function = SECTIONS[name]
    return getattr(importlib.import_module(f"{__name__}.{module}"), function)
