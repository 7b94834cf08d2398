"""Shared steps of the fault and security tests (issue 6): queue an import the way
'Importeer' does, wait for a worker, read a page as text."""

from __future__ import annotations

import html
import os
import re
from pathlib import Path

from django.db import connection
from django.urls import reverse

from accounts.models import OutgoingMail
from candidates.models import Candidate
from imports import services
from imports.models import ImportBatch

from .import_helpers import make_batch
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


def wait_for_status(batch, *statuses: str, timeout: float = 30) -> ImportBatch:
    return wait_until(
        lambda: (b := batch_state(batch)).status in statuses and b,
        timeout=timeout,
        interval=0.1,
        what=f"batch {batch.pk} to become {' or '.join(statuses)}",
    )


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
