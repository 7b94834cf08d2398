"""Run one dry run in a fresh process and print its peak memory as JSON (section 4).

    python -m bench.memory_probe <batch id>

Started by the benchmark with its environment (bench.settings, the bench database).

Why not only `getrusage(...).ru_maxrss`: on Linux that figure survives exec. Python starts a
subprocess with vfork, so the new program inherits its *parent's* high-water mark: started
from the benchmark (500 MB after seeding a large college), this probe would report 500 MB
whatever the dry run did. The kernel's per-process high-water mark VmHWM (/proc/<pid>/status)
belongs to the new program alone. So this probe reports
- its own VmHWM: the dry run's peak, Django included;
- the reader child's VmHWM: imports.reading runs calamine in a subprocess; that call is
  wrapped here to watch the child's /proc/<pid>/status every millisecond until it exits;
- the largest sum of both at one moment (sampled while the child runs), or its own peak
  when that is larger: what the machine really had to hold;
- a bound on that which no sampling can miss: its own VmHWM read when the child has exited
  (so it covers the child's whole life) plus the child's VmHWM, or its own final VmHWM when
  that is larger. Tighter than the sum of the two final peaks, which adds this process's peak
  while building rows to the reader's, though the reader has exited by then;
- ru_maxrss of itself and of its children (RUSAGE_CHILDREN) as well, for comparison.
"""

from __future__ import annotations

import json
import resource
import subprocess
import sys
import threading
import time
from pathlib import Path


def _status(pid: int | str, field: str) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(field):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def vm_hwm(pid: int | str = "self") -> int:
    """Peak resident set size of a process in bytes (0 when it is gone)."""
    return _status(pid, "VmHWM:")


def vm_rss(pid: int | str = "self") -> int:
    return _status(pid, "VmRSS:")


class ChildWatch:
    """A stand-in for subprocess.run that records the peak RSS of the process it starts."""

    def __init__(self) -> None:
        self.peaks: list[int] = []
        self.own_peak_at_exit: list[int] = []  # this process's VmHWM when each child exited
        self.together = 0  # largest sampled RSS of this process + the child at one moment

    def run(self, command, *, input=None, capture_output=False, timeout=None, check=False, **kw):
        if capture_output:
            kw["stdout"] = kw["stderr"] = subprocess.PIPE
        process = subprocess.Popen(command, stdin=subprocess.PIPE, **kw)
        peak = [0]

        def watch() -> None:
            while process.poll() is None:
                peak[0] = max(peak[0], vm_hwm(process.pid))
                self.together = max(self.together, vm_rss() + vm_rss(process.pid))
                time.sleep(0.001)

        watcher = threading.Thread(target=watch, daemon=True)
        watcher.start()
        try:
            stdout, stderr = process.communicate(input, timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.communicate()
            raise
        watcher.join()
        self.peaks.append(peak[0])
        self.own_peak_at_exit.append(vm_hwm())
        result = subprocess.CompletedProcess(command, process.returncode, stdout, stderr)
        if check:
            result.check_returncode()
        return result


def main() -> int:
    from .env import setup_django

    setup_django(migrate=False)
    from imports import reading
    from imports.models import ImportBatch
    from imports.services import import_dry_run

    batch = ImportBatch.objects.select_related("organisation", "created_by").get(pk=sys.argv[1])
    before = vm_hwm()
    watch = ChildWatch()
    original = reading.subprocess.run
    reading.subprocess.run = watch.run
    try:
        start = time.perf_counter()
        dry = import_dry_run(batch)
        elapsed = time.perf_counter() - start
    finally:
        reading.subprocess.run = original
    print(
        json.dumps(
            {
                "rows": len(dry.plan.rows),
                "seconds": elapsed,
                "hwm_before_bytes": before,
                "hwm_self_bytes": vm_hwm(),
                "hwm_reader_child_bytes": max(watch.peaks, default=0),
                "reader_children": len(watch.peaks),
                # Both processes at the same moment (sampled), or this one alone later.
                "hwm_together_bytes": max(vm_hwm(), watch.together),
                # Never below the real peak of both (see the docstring).
                "hwm_bound_bytes": max(
                    [vm_hwm()]
                    + [
                        own + child
                        for own, child in zip(watch.own_peak_at_exit, watch.peaks, strict=True)
                    ]
                ),
                # For comparison only (see the docstring): inflated by the parent's peak.
                "ru_maxrss_self_bytes": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024,
                "ru_maxrss_children_bytes": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
                * 1024,
            }
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
