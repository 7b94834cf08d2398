"""Shared steps of the tests that run imports on real workers: queue an import the way
'Importeer' does, wait for a worker, read a page as text."""

from __future__ import annotations

import html
import os
import re
from pathlib import Path

import redis
from django.db import OperationalError, connection
from django.urls import reverse

from accounts.models import OutgoingMail
from candidates.models import Candidate
from config.celery import app
from imports import services
from imports.models import ImportBatch

from .imports import make_batch
from .services import wait_until

TAGS = re.compile(r"<[^>]+>")
SPACES = re.compile(r"\s+")


def queue_import(actor, data: bytes, name: str = "kandidaten.xlsx", **options) -> ImportBatch:
    """Upload, choose, press 'Importeer': with a real broker the task goes to Redis after the
    commit (tests using a worker run with transactional_db, so the commit is real)."""
    batch = make_batch(actor, data, name, **options)
    assert services.import_queue(batch=batch, actor=actor)
    return batch


def batch_state(batch) -> ImportBatch:
    return ImportBatch.objects.get(pk=batch.pk)


def unless_locked(read):
    """`read()`, or None while SQLite is locked. A worker writing a large import holds the
    file's exclusive lock from its first spilled page to its commit; on a busy machine that
    outlasts the busy timeout (20 s), and a read fails. Polling again is the right answer:
    the writer is busy, it is not the fault under test."""
    try:
        return read()
    except OperationalError as exc:
        if "locked" not in str(exc):
            raise
        return None


def wait_for_status(batch, *statuses: str, timeout: float = 120) -> ImportBatch:
    def reached():
        b = unless_locked(lambda: batch_state(batch))
        return b if b is not None and b.status in statuses else None

    return wait_until(
        reached,
        timeout=timeout,
        interval=0.1,
        what=f"batch {batch.pk} to become {' or '.join(statuses)}",
    )


def _idle_totals(workers) -> dict | None:
    """Tasks started so far per worker, when every worker is idle: nothing running, nothing
    reserved, nothing waiting for its countdown (a retry). None when one is busy or silent."""
    names = sorted(w.nodename for w in workers)
    inspect = app.control.inspect(destination=names, timeout=5)
    for replies in (inspect.active(), inspect.reserved(), inspect.scheduled()):
        if sorted(replies or {}) != names or any(replies.values()):
            return None
    stats = inspect.stats() or {}
    return {name: stats[name]["total"] for name in names} if sorted(stats) == names else None


def _queued_messages() -> int:
    client = redis.Redis.from_url(app.conf.broker_url)
    try:
        # Kombu keeps one list per priority step: "celery", "celery\x06\x163", ...
        keys = [k for k in client.scan_iter(match="celery*") if client.type(k) == b"list"]
        return sum(client.llen(k) for k in keys)
    finally:
        client.close()


def wait_until_settled(workers, timeout: float = 120) -> dict:
    """Wait until the work is over: every worker idle and no message waiting in Redis, with no
    task started in between (so nothing can have queued one). Returns the tasks each worker
    started, by task name. A retry or duplicate that should not exist shows up as one more
    task run afterwards, never as a guess about how long it would have taken."""

    def settled():
        before = _idle_totals(workers)
        if before is None or _queued_messages():
            return None
        return before if _idle_totals(workers) == before else None

    return wait_until(
        settled, timeout=timeout, interval=0.2, what="the workers to finish all queued work"
    )


def wait_for_runs(worker, name: str, n: int, *, observe=lambda: None, timeout: float = 60):
    """Wait until `worker` has started task `name` at least `n` times and runs no task now,
    e.g. a first attempt and its retry have both met a fault. Returns (runs, observe()), with
    `observe` read in between: consistent with `runs` (a later run would show as active)."""

    def ended():
        inspect = app.control.inspect(destination=[worker.nodename], timeout=5)
        stats = (inspect.stats() or {}).get(worker.nodename)
        if stats is None or stats["total"].get(name, 0) < n:
            return None
        seen = observe()
        active = (inspect.active() or {}).get(worker.nodename)
        return None if active is None or active else (stats["total"][name], seen)

    return wait_until(ended, timeout=timeout, interval=0.1, what=f"{n} run(s) of {name} to end")


def tasks_run(totals: dict, name: str) -> int:
    """How often the workers in `totals` (from wait_until_settled) started task `name`."""
    return sum(total.get(name, 0) for total in totals.values())


def candidate_numbers(organisation) -> list[str]:
    return list(
        Candidate.objects.filter(organisation=organisation)
        .order_by("candidate_number")
        .values_list("candidate_number", flat=True)
    )


def mails_of(batch, kind: str | None = None):
    mails = OutgoingMail.objects.filter(batch_id=batch.pk)
    return mails.filter(kind=kind) if kind else mails


def page_text(response) -> str:
    """The visible text of an HTML response, entities decoded and white space collapsed."""
    return SPACES.sub(" ", html.unescape(TAGS.sub(" ", response.content.decode()))).strip()


def result_page(client, batch) -> str:
    response = client.get(reverse("imports:result", args=[batch.pk]))
    assert response.status_code == 200
    return page_text(response)


def in_write_transaction() -> bool:
    """Whether another process is writing candidates in a transaction right now (the
    import's write step)."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                """
                SELECT count(*) FROM pg_locks l JOIN pg_class c ON c.oid = l.relation
                WHERE c.relname = 'accounts_user' AND l.mode = 'RowExclusiveLock'
                  AND l.pid <> pg_backend_pid()
                  AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
                """
            )
            return cursor.fetchone()[0] > 0
    # SQLite: a writer holds the RESERVED lock, a POSIX write lock on byte 0x40000001 of the
    # database file. Read from /proc/locks, so the probe takes no lock the worker could trip
    # over (and a journal left behind by a killed writer does not count).
    stat = os.stat(connection.settings_dict["NAME"])
    device = f"{os.major(stat.st_dev):02x}:{os.minor(stat.st_dev):02x}:{stat.st_ino}"
    for line in Path("/proc/locks").read_text().splitlines():
        fields = line.split()
        if "->" in fields:  # a process waiting for a lock, not holding one
            continue
        kind, where, start, end = fields[3], fields[5], fields[6], fields[7]
        if kind == "WRITE" and where == device:
            if int(start) <= RESERVED_BYTE and (end == "EOF" or RESERVED_BYTE <= int(end)):
                return True
    return False


RESERVED_BYTE = 0x40000001
