"""The broker is down when 'Importeer' is pressed.

The user gets a clear Dutch message at once, the batch is kept (queued, with its upload), and
once Redis is back 'Start de import opnieuw' runs it, once. Two kinds of down: a Redis that
refuses connections (stopped), and one that accepts them but never answers (a failover, a
firewall dropping packets), which without socket time-outs would hang the request for ever.
"""

from __future__ import annotations

import socket
import threading
import time

import pytest
import redis
from django.urls import reverse

from accounts.models import AuditLog
from candidates.models import Candidate
from config.celery import app
from imports.models import ImportBatch, ImportFile

from .helpers.imports import people, xlsx_bytes
from .helpers.services import _reset_celery_connections
from .helpers.workers import (
    page_text,
    result_page,
    tasks_run,
    wait_for_status,
    wait_until_settled,
)
from .test_import_wizard import upload, walk_to_confirm

UNREACHABLE = (
    "De achtergrondverwerking is nu niet bereikbaar. De import is bewaard en kan opnieuw "
    "worden gestart."
)


class SilentServer:
    """A TCP port that accepts connections and never says a word."""

    def __init__(self) -> None:
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.connections: list[socket.socket] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                self.connections.append(self.sock.accept()[0])
            except OSError:
                return

    def close(self) -> None:
        self.sock.close()
        for conn in self.connections:
            conn.close()


def closed_port() -> int:
    with socket.create_server(("127.0.0.1", 0)) as sock:
        return sock.getsockname()[1]


@pytest.fixture
def broker_switch(celery_broker, monkeypatch):
    """down(url) points this process's Celery at a broken broker; up() back at Redis."""

    def point(url: str) -> None:
        monkeypatch.setenv("CELERY_BROKER_URL", url)  # Celery prefers it to its own setting
        app.conf.broker_url = url
        _reset_celery_connections(app)

    yield {"down": point, "up": lambda: point(celery_broker)}
    point(celery_broker)


def press_importeer(client, world, rows):
    client.force_login(world.beheerder)
    upload(client, xlsx_bytes(rows))
    batch = ImportBatch.objects.get()
    walk_to_confirm(client, batch, group=world.own_group)
    started = time.monotonic()
    response = client.post(
        reverse("imports:confirm", args=[batch.pk]),
        {"report_email": "rapport@rocm.example"},
        follow=True,
    )
    return batch, response, time.monotonic() - started


def assert_kept_and_not_run(batch, celery_broker, n_before: int) -> None:
    batch.refresh_from_db()
    assert batch.status == ImportBatch.Status.QUEUED
    assert batch.failure_reason == UNREACHABLE
    assert ImportFile.objects.filter(batch=batch).exists()
    assert Candidate.objects.count() == n_before
    assert redis.Redis.from_url(celery_broker).llen("celery") == 0  # nothing half sent


def test_broker_refusing_connections_then_back_runs_the_import_once(
    client, world, broker_switch, celery_broker, celery_worker_factory
):
    before = Candidate.objects.count()
    broker_switch["down"](f"redis://127.0.0.1:{closed_port()}/0")

    batch, response, seconds = press_importeer(client, world, people(25, start=4000))

    assert seconds < 5
    assert response.redirect_chain == [(reverse("imports:result", args=[batch.pk]), 302)]
    page = page_text(response)
    assert UNREACHABLE in page
    assert "Start de import opnieuw" in page
    assert "Traceback" not in page
    assert_kept_and_not_run(batch, celery_broker, before)
    assert AuditLog.objects.filter(action=AuditLog.Action.IMPORT_STARTED).count() == 1

    # Still down: pressing the button again keeps everything as it was.
    client.post(reverse("imports:retry", args=[batch.pk]))
    assert_kept_and_not_run(batch, celery_broker, before)

    broker_switch["up"]()
    worker = celery_worker_factory("worker")
    response = client.post(reverse("imports:retry", args=[batch.pk]), follow=True)

    assert "De import is opnieuw gestart." in page_text(response)
    batch = wait_for_status(batch, ImportBatch.Status.DONE, timeout=60)
    assert (batch.attempts, batch.failure_reason, batch.counts["new"]) == (1, "", 25)
    assert Candidate.objects.count() == before + 25
    assert "De import is voltooid." in result_page(client, batch)

    # Nothing runs twice: a done batch cannot be started again.
    response = client.post(reverse("imports:retry", args=[batch.pk]), follow=True)
    assert "De import is opnieuw gestart." not in page_text(response)
    # A run queued by that press would now be in Redis or done: wait until there is none left.
    assert tasks_run(wait_until_settled([worker]), "imports.tasks.run_import") == 1
    batch.refresh_from_db()
    assert (batch.status, batch.attempts) == (ImportBatch.Status.DONE, 1)
    assert Candidate.objects.count() == before + 25
    assert AuditLog.objects.filter(action=AuditLog.Action.IMPORT_FINISHED).count() == 1


def test_broker_that_never_answers_gives_the_message_within_seconds(
    client, world, broker_switch, celery_broker, celery_worker_factory
):
    before = Candidate.objects.count()
    silent = SilentServer()
    # Should the request hang after all, closing the port after 30 s ends it (and the test
    # fails on the time it took) instead of hanging the test run.
    rescue = threading.Timer(30, silent.close)
    rescue.start()
    broker_switch["down"](f"redis://127.0.0.1:{silent.port}/0")
    try:
        batch, response, seconds = press_importeer(client, world, people(5, start=4100))
    finally:
        rescue.cancel()
        silent.close()

    assert silent.connections  # it really reached the silent broker
    assert seconds < 12
    assert UNREACHABLE in page_text(response)
    assert_kept_and_not_run(batch, celery_broker, before)

    broker_switch["up"]()
    celery_worker_factory("worker")
    client.post(reverse("imports:retry", args=[batch.pk]))

    batch = wait_for_status(batch, ImportBatch.Status.DONE, timeout=60)
    assert (batch.attempts, batch.counts["new"]) == (1, 5)
    assert Candidate.objects.count() == before + 5
