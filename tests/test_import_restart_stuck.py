"""A batch left 'running' by a worker that died (its task lost, say with a flushed broker) can
be started again, but only once no task can still be alive: longer ago than the hard task
time limit plus a margin. The restarted run imports exactly once, even when the old task turns
out to be alive after all."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.formats import date_format

from accounts.models import AuditLog, AuditLogSubject
from candidates.models import Candidate
from imports import services
from imports.models import STUCK_MARGIN, ImportBatch

from .helpers.imports import make_batch, people, xlsx_bytes

pytestmark = pytest.mark.django_db

NUMBERS = ["0000610", "0000611", "0000612"]
RESTARTED = "De import is opnieuw gestart."
BUTTON = "Start de import opnieuw"
STUCK_TEXT = "is langer bezig dan een import mag duren"


def time_limit(settings) -> timedelta:
    return timedelta(seconds=settings.CELERY_TASK_TIME_LIMIT)


def running_batch(actor, started_at, **options) -> ImportBatch:
    """A batch whose worker started it at `started_at` and then died with its task."""
    batch = make_batch(actor, xlsx_bytes(people(3, start=610)), **options)
    ImportBatch.objects.filter(pk=batch.pk).update(
        status=ImportBatch.Status.RUNNING,
        queued_at=started_at - timedelta(seconds=2),
        started_at=started_at,
        attempts=1,
        progress_done=1,
        progress_total=3,
        hash_chunks_total=2,  # chunk tasks that were lost with it
        hash_chunks_done=1,
    )
    batch.refresh_from_db()
    return batch


def imported() -> int:
    return Candidate.objects.filter(candidate_number__in=NUMBERS).count()


def restarts():
    return AuditLog.objects.filter(action=AuditLog.Action.IMPORT_STARTED)


def messages_of(response) -> list[str]:
    return [str(m) for m in response.context["messages"]]


def test_running_batch_within_the_time_limit_is_not_offered_and_refused(client, world, settings):
    started = timezone.now() - time_limit(settings)  # the hard limit passed, the margin not
    batch = running_batch(world.beheerder, started)
    client.force_login(world.beheerder)

    page = client.get(reverse("imports:result", args=[batch.pk]))
    assert page.status_code == 200
    assert BUTTON not in page.content.decode()
    assert STUCK_TEXT not in page.content.decode()

    response = client.post(reverse("imports:retry", args=[batch.pk]), follow=True)

    assert response.redirect_chain == [(reverse("imports:result", args=[batch.pk]), 302)]
    with translation.override("nl"):
        when = date_format(
            timezone.localtime(started + time_limit(settings) + STUCK_MARGIN), "j F Y H:i"
        )
    assert messages_of(response) == [
        "De import is nog bezig en kan nu niet opnieuw worden gestart. Is hij op "
        f"{when} nog niet voltooid, dan kun je hem opnieuw starten."
    ]
    batch.refresh_from_db()
    assert (batch.status, batch.started_at, batch.attempts) == ("running", started, 1)
    assert (batch.hash_chunks_total, batch.hash_chunks_done) == (2, 1)
    assert imported() == 0
    assert restarts().count() == 0
    assert services.import_requeue(batch=batch, actor=world.beheerder) is False


def test_stuck_batch_is_restarted_and_imports_exactly_once(
    client, world, settings, django_capture_on_commit_callbacks
):
    started = timezone.now() - time_limit(settings) - STUCK_MARGIN - timedelta(seconds=5)
    batch = running_batch(world.beheerder, started)
    client.force_login(world.beheerder)

    page = client.get(reverse("imports:result", args=[batch.pk])).content.decode()
    assert STUCK_TEXT in page
    assert page.count(BUTTON) == 1
    history = client.get(reverse("imports:history")).content.decode()
    assert "onderbroken, kan opnieuw worden gestart" in history

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = client.post(reverse("imports:retry", args=[batch.pk]), follow=True)
    assert response.redirect_chain == [(reverse("imports:result", args=[batch.pk]), 302)]
    assert messages_of(response) == [RESTARTED]
    batch.refresh_from_db()
    assert (batch.status, batch.failure_reason, batch.progress_done) == ("queued", "", 0)
    assert (batch.hash_chunks_total, batch.hash_chunks_done) == (0, 0)
    restart = restarts().get()
    assert (restart.actor, restart.organisation, restart.target_repr) == (
        world.beheerder,
        world.college,
        "kandidaten.xlsx",
    )
    assert restart.after == {"batch": str(batch.pk), "restarted_from": "running"}
    assert restart.ip_address == "127.0.0.1"

    for callback in callbacks:  # the task, run eagerly as a worker would
        callback()

    batch.refresh_from_db()
    assert (batch.status, batch.attempts, batch.failure_reason) == ("done", 2, "")
    assert (batch.counts["new"], batch.counts["updated"]) == (3, 0)
    assert imported() == 3
    # The old message redelivered late (or a second press): nothing happens twice.
    assert services.import_execute(batch.pk).status == ImportBatch.Status.DONE
    response = client.post(reverse("imports:retry", args=[batch.pk]), follow=True)
    assert messages_of(response) == []
    batch.refresh_from_db()
    assert (batch.status, batch.attempts) == ("done", 2)
    assert imported() == 3
    assert restarts().count() == 1
    assert AuditLog.objects.filter(action=AuditLog.Action.IMPORT_FINISHED).count() == 1
    assert AuditLogSubject.objects.filter(action=AuditLog.Action.USER_CREATED).count() == 3


def test_old_task_alive_after_all_writes_nothing_after_the_restarted_run(
    world, settings, monkeypatch, django_capture_on_commit_callbacks
):
    """The old run is still hashing when the batch is restarted and the new run completes;
    when the old run reaches its write it finds the batch done and writes nothing."""
    batch = make_batch(world.beheerder, xlsx_bytes(people(3, start=610)))
    ImportBatch.objects.filter(pk=batch.pk).update(status=ImportBatch.Status.QUEUED)
    long_ago = timezone.now() - time_limit(settings) - STUCK_MARGIN - timedelta(minutes=1)
    real_hashing = services._generated_passwords
    restarted = []

    def old_run_hashing(batch_, org, rows):
        result = real_hashing(batch_, org, rows)
        if not restarted:  # only in the old run: meanwhile it looked stuck and was restarted
            restarted.append(True)
            ImportBatch.objects.filter(pk=batch.pk).update(started_at=long_ago)
            with django_capture_on_commit_callbacks(execute=True):
                assert services.import_requeue(batch=batch, actor=world.beheerder)
            assert ImportBatch.objects.get(pk=batch.pk).status == ImportBatch.Status.DONE
        return result

    monkeypatch.setattr(services, "_generated_passwords", old_run_hashing)

    old = services.import_execute(batch.pk)

    assert restarted == [True]
    assert (old.status, old.attempts, old.failure_reason) == ("done", 2, "")
    assert imported() == 3
    assert AuditLog.objects.filter(action=AuditLog.Action.IMPORT_FINISHED).count() == 1
    assert AuditLogSubject.objects.filter(action=AuditLog.Action.USER_CREATED).count() == 3
    assert restarts().count() == 1


def test_other_colleges_beheerder_gets_404(client, world, settings):
    started = timezone.now() - time_limit(settings) - STUCK_MARGIN - timedelta(minutes=1)
    batch = running_batch(world.beheerder, started)
    client.force_login(world.outsider)

    assert client.get(reverse("imports:result", args=[batch.pk])).status_code == 404
    assert client.post(reverse("imports:retry", args=[batch.pk])).status_code == 404

    batch.refresh_from_db()
    assert (batch.status, batch.started_at) == ("running", started)
    assert restarts().count() == 0
    assert imported() == 0


def test_coordinator_restarts_own_stuck_batch_but_not_a_colleagues(
    client, world, settings, django_capture_on_commit_callbacks
):
    started = timezone.now() - time_limit(settings) - STUCK_MARGIN - timedelta(minutes=1)
    # A coordinator imports into a group of their own (the orphan guard).
    batch = running_batch(world.coordinator, started, group_id=world.own_group.pk)

    client.force_login(world.other_coordinator)
    assert client.post(reverse("imports:retry", args=[batch.pk])).status_code == 404
    assert ImportBatch.objects.get(pk=batch.pk).status == ImportBatch.Status.RUNNING

    client.force_login(world.coordinator)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("imports:retry", args=[batch.pk]), follow=True)

    assert messages_of(response) == [RESTARTED]
    batch.refresh_from_db()
    assert (batch.status, batch.attempts, batch.failure_reason) == ("done", 2, "")
    assert imported() == 3
    assert (
        Candidate.objects.filter(candidate_number__in=NUMBERS, groups=world.own_group).count() == 3
    )
    assert restarts().get().actor == world.coordinator


def test_progress_says_when_a_running_batch_became_restartable(client, world, settings):
    """The result page polls this; an open page reloads to offer 'Start de import opnieuw'."""
    client.force_login(world.beheerder)
    early = running_batch(world.beheerder, timezone.now() - time_limit(settings))
    late = running_batch(
        world.beheerder, timezone.now() - time_limit(settings) - STUCK_MARGIN - timedelta(1)
    )
    assert client.get(reverse("imports:progress", args=[early.pk])).json() == {
        "status": "running",
        "percent": 33,
        "done": 1,
        "total": 3,
        "slips_ready": False,
        "stuck": False,
        "mail": {"sent": 0, "pending": 0, "failed": 0, "retrying": 0},
    }
    assert client.get(reverse("imports:progress", args=[late.pk])).json()["stuck"] is True
