"""Run one queued import in a process of its own and print its timing as JSON (platform
section: two colleges importing at once).

    python -m bench.platform_import <batch id> <start at (time.time())>

Started by the benchmark with its environment (bench.settings, the bench database). Django
is set up first; the import starts at the given moment, so two of these start together
without either one's start-up in the figure. Tasks run eagerly, as in the benchmark itself.
"""

from __future__ import annotations

import json
import sys
import time


def main() -> int:
    from . import env

    batch_id, start_at = sys.argv[1], float(sys.argv[2])
    env.configure_environment()
    env.setup_django(migrate=False)
    from django.db import connection

    from candidates.slips import render_login_slips
    from imports.services import import_execute

    # Start-up, not the import: connecting, and the first use of the PDF fonts and the
    # spreadsheet writer, which a worker that has imported before has behind it.
    connection.ensure_connection()
    render_login_slips([])
    import xlsxwriter  # noqa: F401

    time.sleep(max(0.0, start_at - time.time()))
    started, cpu = time.time(), time.process_time()
    batch = import_execute(batch_id)
    print(
        json.dumps(
            {
                "started": started,
                "finished": time.time(),
                "cpu_s": time.process_time() - cpu,
                "status": batch.status,
                "new": batch.counts.get("new"),
            }
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
