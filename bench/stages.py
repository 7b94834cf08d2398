"""Timers around the import service's steps, to see which stage of `import_execute` costs what.

The functions are wrapped in place (module attributes) for the duration of a `with` block
and restored afterwards. Only calls in the main thread are timed: the service hashes in a
thread pool, and the pool's caller is timed. Times are exclusive: a stage that calls another
stage (queueing the mails makes the report spreadsheet) is charged only for its own part, so
the stages add up.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections import defaultdict
from collections.abc import Iterator

# (module, attribute, stage label), in the order of the table. The service changes while
# this benchmark lives: a function that no longer exists is skipped, so add new ones here.
STAGES = (
    ("imports.services", "_prepare", "prepare (rest)"),
    ("imports.services", "batch_table", "read file (reader child process)"),
    ("imports.services", "unseal", "decrypt the stored upload"),
    ("imports.services", "clean_rows", "map + clean + validate rows"),
    ("imports.services", "build_plan", "plan: diff against the database"),
    ("imports.services", "_generated_passwords", "generate passwords"),
    ("imports.services", "_file_password_hashes", "passwords from file: prepare"),
    ("imports.services", "_hash_generated", "hash generated passwords (PBKDF2)"),
    ("imports.services", "_hash_all", "hash passwords (PBKDF2, threads)"),
    ("imports.services", "make_password", "hash passwords (PBKDF2, one at a time)"),
    ("imports.services", "_progress", "progress updates"),
    ("imports.services", "_write", "write: lock, batch row, commit (rest)"),
    ("imports.services", "_new_rows_taken_meanwhile", "check rows taken meanwhile"),
    ("imports.services", "_replan_if_taken", "re-plan under the lock (rest)"),
    ("imports.services", "_write_rows", "write: groups (rest)"),
    ("imports.services", "group_create", "write: new groups"),
    ("imports.services", "_create_candidates", "write: users + candidates (bulk_create)"),
    ("imports.services", "_update_candidates", "write: updated candidates (bulk_update)"),
    ("imports.services", "_link", "write: group links"),
    ("imports.services", "_audit_rows", "write: audit rows"),
    ("imports.services", "_audit_subjects", "write: audit subjects (one row per candidate)"),
    ("imports.services", "_finish", "finish: counts, batch row, upload deleted (rest)"),
    ("imports.services", "_results", "per-row results (JSON)"),
    ("imports.services", "_group_names", "group names"),
    ("imports.services", "import_report_xlsx", "report spreadsheet (xlsx)"),
    ("imports.services", "_credentials_mails", "credentials mails"),
    ("imports.services", "_report_mail", "report mail row (rest)"),
    ("imports.services", "attachment_secret", "mail attachments (base64)"),
    ("imports.services", "mail_queue", "mail rows: encrypt + store"),
    ("imports.services", "queue_mails", "queue mails (send after commit)"),
    ("imports.services", "audit", "audit rows (single)"),
    ("imports.services", "_slip_entries", "slip entries"),
    ("imports.services", "seal_json", "encrypt slip entries for the batch row"),
    ("imports.services", "unseal_json", "decrypt slip entries"),
    ("imports.services", "render_login_slips", "login slips PDF (fpdf2)"),
    ("imports.services", "seal", "encrypt slips PDF for the batch row"),
    ("imports.services", "_deliver_slips", "deliver slips (rest)"),
    ("imports.services", "_queue_slips", "queue the slips task (after commit)"),
    ("accounts.tasks", "mail_send", "send mails (after commit)"),
)


class StageClock:
    """Exclusive wall time and CPU time per stage. CPU is `time.process_time`, the whole
    process's: while a stage waits for its hashing threads, their CPU is charged to it, so on
    a busy machine the CPU column shows the work and the wall column what it cost to wait."""

    def __init__(self) -> None:
        self.exclusive: dict[str, float] = defaultdict(float)
        self.cpu: dict[str, float] = defaultdict(float)
        self.calls: dict[str, int] = defaultdict(int)
        self._stack: list[list] = []  # [label, child seconds, child CPU seconds]

    def wrap(self, label: str, function):
        clock = self

        def timed(*args, **kwargs):
            if threading.current_thread() is not threading.main_thread():
                return function(*args, **kwargs)  # hashing threads: timed by their caller
            clock._stack.append([label, 0.0, 0.0])
            start, cpu_start = time.perf_counter(), time.process_time()
            try:
                return function(*args, **kwargs)
            finally:
                elapsed = time.perf_counter() - start
                cpu = time.process_time() - cpu_start
                _, children, cpu_children = clock._stack.pop()
                clock.exclusive[label] += elapsed - children
                clock.cpu[label] += cpu - cpu_children
                clock.calls[label] += 1
                if clock._stack:
                    clock._stack[-1][1] += elapsed
                    clock._stack[-1][2] += cpu

        timed.__wrapped__ = function
        return timed


@contextlib.contextmanager
def instrumented() -> Iterator[StageClock]:
    import importlib

    clock = StageClock()
    saved = []
    for module_name, attribute, label in STAGES:
        module = importlib.import_module(module_name)
        original = getattr(module, attribute, None)
        if original is None:
            continue
        saved.append((module, attribute, original))
        setattr(module, attribute, clock.wrap(label, original))
    try:
        yield clock
    finally:
        for module, attribute, original in reversed(saved):
            setattr(module, attribute, original)


def labels() -> list[str]:
    return list(dict.fromkeys(label for _, _, label in STAGES))
