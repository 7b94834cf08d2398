"""Imports on workers that die, messages that arrive twice, workers on other machines.

Everything runs on a real Redis with real `celery worker` processes on the test database.
A worker killed with SIGKILL acknowledges nothing; Redis gives its message to a worker again
once the visibility timeout has passed (2 s here instead of an hour, and workers look for
such messages every second instead of every minute). Redis does not know whether a worker
is alive: with 2 s it hands a message that a living worker is still running to any idle worker
too, so no idle worker with the short timeout runs beside one whose task must not start twice.
The import is written in one transaction, so a run that dies leaves nothing behind and the
next run starts from scratch.
"""

from __future__ import annotations

from django.conf import settings
from django.utils import timezone

from accounts.models import AuditLog, AuditLogSubject, OutgoingMail, User
from candidates.models import Candidate
from config.celery import app
from imports import tasks
from imports.models import ImportBatch, ImportFile

from .helpers.imports import people, xlsx_bytes
from .helpers.services import wait_until
from .helpers.workers import (
    batch_state,
    in_write_transaction,
    mails_of,
    queue_import,
    tasks_run,
    unless_locked,
    wait_for_status,
    wait_until_settled,
)

CRASH_ENV = {
    "CELERY_VISIBILITY_TIMEOUT": "2",
    "CELERY_UNACKED_RESTORE_SECONDS": "1",
    # A kill during a restore sweep must not leave its Redis lock for Kombu's 300 s.
    "CELERY_UNACKED_MUTEX_SECONDS": "3",
}
ROWS = 10_000
FIRST = 100_000  # candidate numbers 0100000 … 0109999; the world holds 0000001 … 0000003


def test_celery_is_configured_for_workers_that_die():
    assert settings.CELERY_TASK_ACKS_LATE is True
    assert settings.CELERY_TASK_REJECT_ON_WORKER_LOST is True
    assert settings.CELERY_WORKER_PREFETCH_MULTIPLIER == 1
    assert settings.CELERY_RESULT_BACKEND is None
    # Redelivery must not start a healthy task a second time: the visibility timeout exceeds
    # the hard time limit of any task.
    visibility = settings.CELERY_BROKER_TRANSPORT_OPTIONS["visibility_timeout"]
    assert (visibility, settings.CELERY_TASK_TIME_LIMIT) == (3600, 1800)
    for task in (tasks.run_import, tasks.hash_file_passwords):
        assert (task.acks_late, task.reject_on_worker_lost) == (True, True), task.name


def imported(first: int = FIRST, n: int = ROWS):
    numbers = [f"{i:07d}" for i in range(first, first + n)]
    return Candidate.objects.filter(candidate_number__in=numbers)


def hashing(batch) -> bool:
    b = unless_locked(lambda: batch_state(batch))
    return b is not None and b.status == ImportBatch.Status.RUNNING and 0 < b.progress_done < ROWS


def writing(batch) -> bool:
    b = unless_locked(lambda: batch_state(batch))
    return (
        b is not None
        and b.status == ImportBatch.Status.RUNNING
        and b.progress_done == ROWS  # every password hashed: the write transaction is next
        and in_write_transaction()
    )


def node_running(batch, workers) -> object:
    """The worker whose pool is executing the import of `batch` now."""
    active = app.control.inspect(destination=[w.nodename for w in workers], timeout=5).active()
    for worker in workers:
        for task in (active or {}).get(worker.nodename, []):
            if task["name"] == "imports.tasks.run_import" and task["args"] == [str(batch.pk)]:
                return worker
    return None


def assert_imported_exactly_once(batch) -> None:
    batch = batch_state(batch)
    assert batch.status == ImportBatch.Status.DONE, batch.failure_reason
    assert batch.attempts == 2  # the run that was killed, and the one that finished
    assert batch.counts == {
        "rows": ROWS, "new": ROWS, "updated": 0, "unchanged": 0, "errors": 0, "skipped": 0,
        "groups": [{"name": "Zorg 1", "count": ROWS}],
    }  # fmt: skip
    assert imported().count() == ROWS
    assert imported().values("candidate_number").distinct().count() == ROWS
    assert User.objects.filter(username__startswith="rocm-01").count() == ROWS
    assert Candidate.groups.through.objects.filter(candidate__in=imported()).count() == ROWS
    credentials = mails_of(batch, OutgoingMail.Kind.CREDENTIALS)
    assert credentials.count() == ROWS
    assert credentials.values("recipient_user").distinct().count() == ROWS
    finished = AuditLog.objects.filter(action=AuditLog.Action.IMPORT_FINISHED)
    assert [a.after["batch"] for a in finished] == [str(batch.pk)]
    created = AuditLogSubject.objects.filter(
        audit__in=finished, action=AuditLog.Action.USER_CREATED
    )
    assert created.count() == ROWS
    assert not ImportFile.objects.filter(batch=batch).exists()


def assert_nothing_written(batch) -> None:
    assert batch_state(batch).status == ImportBatch.Status.RUNNING
    assert imported().count() == 0
    assert User.objects.filter(username__startswith="rocm-01").count() == 0
    assert mails_of(batch).count() == 0
    assert ImportFile.objects.filter(batch=batch).exists()  # still there for the next run


def test_worker_killed_while_hashing_another_worker_completes_the_import_once(
    world, celery_worker_factory
):
    """The machine running the import dies; the import is finished by the other one.

    Redis redelivers every message unacknowledged for longer than the visibility timeout,
    whether its worker is alive or not: a second worker with the test's 2 s timeout, running
    alongside, takes the import over from the living first one after 2 s and runs it a second
    time at once (in production the timeout, an hour, exceeds the task time limit). So the
    victim runs alone with the production timeout, and the other machine, looking for lost
    messages every second, comes up only after the victim is dead."""
    victim = celery_worker_factory("first")
    batch = queue_import(
        world.beheerder,
        xlsx_bytes(people(ROWS, start=FIRST)),
        group_id=world.own_group.pk,
        send_credentials=True,
        report_email="",
    )
    wait_until(lambda: hashing(batch), timeout=120, interval=0.02, what="the passwords hashing")
    assert wait_until(
        lambda: node_running(batch, [victim]), timeout=60, what="the victim running it"
    )
    first_start = batch_state(batch).started_at

    victim.kill()
    killed_at = timezone.now()

    assert_nothing_written(batch)
    assert (batch_state(batch).attempts, batch_state(batch).started_at) == (1, first_start)
    survivor = celery_worker_factory("second", env=CRASH_ENV)
    wait_for_status(batch, ImportBatch.Status.DONE, timeout=120)
    assert batch_state(batch).started_at > killed_at  # the second run began after the death
    assert_imported_exactly_once(batch)
    stats = app.control.inspect(destination=[survivor.nodename], timeout=5).stats()
    assert stats[survivor.nodename]["total"]["imports.tasks.run_import"] >= 1


def test_worker_killed_inside_the_write_transaction_completes_the_import_once_after_reboot(
    world, celery_worker_factory
):
    """SIGKILL while the rows are being inserted: the transaction is rolled back by the
    database, nothing is half written, and the rebooted worker runs the import again."""
    worker = celery_worker_factory("only", env=CRASH_ENV)
    batch = queue_import(
        world.beheerder,
        xlsx_bytes(people(ROWS, start=FIRST)),
        group_id=world.own_group.pk,
        send_credentials=True,
        report_email="",
    )
    wait_until(lambda: writing(batch), timeout=120, interval=0.02, what="the write transaction")

    worker.kill()

    assert_nothing_written(batch)  # (on SQLite, this first read rolls the hot journal back)
    wait_until(lambda: not in_write_transaction(), timeout=60, what="the rollback")
    worker.start()
    wait_for_status(batch, ImportBatch.Status.DONE)
    assert_imported_exactly_once(batch)


# --- the same task twice ----------------------------------------------------------------------


def test_the_same_import_delivered_twice_gives_one_set_of_accounts_and_one_mail_each(
    world, smtp_server, celery_worker_factory
):
    """Both messages wait in Redis before two workers start, so both really run, at the same
    time; the second finds the batch done (or waits for the first's lock) and writes nothing."""
    batch = queue_import(
        world.beheerder,
        xlsx_bytes(people(300, start=5000)),
        group_id=world.own_group.pk,
        send_credentials=True,
        report_email="rapport@rocm.example",
    )
    tasks.run_import.delay(str(batch.pk))  # the duplicate delivery
    workers = [celery_worker_factory(name) for name in ("first", "second")]

    wait_for_status(batch, ImportBatch.Status.DONE, timeout=60)
    smtp_server.wait_for(301, timeout=60)
    # Every task done, nothing queued or waiting for a retry: any second mail was sent by now.
    totals = wait_until_settled(workers)

    assert tasks_run(totals, "imports.tasks.run_import") == 2  # both deliveries were executed
    assert imported(5000, 300).count() == 300
    assert User.objects.filter(candidate__in=imported(5000, 300)).count() == 300
    assert mails_of(batch, OutgoingMail.Kind.CREDENTIALS).count() == 300
    assert mails_of(batch, OutgoingMail.Kind.IMPORT_REPORT).count() == 1
    assert sorted(m["To"] for m in smtp_server.messages) == sorted(
        [f"k{i}@leerling.example" for i in range(5000, 5300)] + ["rapport@rocm.example"]
    )
    finished = AuditLog.objects.filter(action=AuditLog.Action.IMPORT_FINISHED)
    assert finished.count() == 1


def test_a_redelivered_import_that_is_done_does_nothing(world, celery_worker_process):
    batch = queue_import(
        world.beheerder, xlsx_bytes(people(20, start=6000)), group_id=world.own_group.pk
    )
    wait_for_status(batch, ImportBatch.Status.DONE)
    # The login slips are made after the commit; the batch is complete once they are there.
    wait_until(lambda: batch_state(batch).slips is not None, timeout=60, what="the login slips")
    finished = batch_state(batch).finished_at
    mails = sorted(mails_of(batch).values_list("pk", "kind"))

    tasks.run_import.delay(str(batch.pk))
    # Settled: the second delivery has not only started but ended.
    assert tasks_run(wait_until_settled([celery_worker_process]), "imports.tasks.run_import") == 2

    batch = batch_state(batch)
    assert (batch.status, batch.attempts, batch.finished_at) == ("done", 1, finished)
    assert imported(6000, 20).count() == 20
    assert sorted(mails_of(batch).values_list("pk", "kind")) == mails  # no mail twice
    assert AuditLog.objects.filter(action=AuditLog.Action.IMPORT_FINISHED).count() == 1


# --- web and worker on different machines -----------------------------------------------------


def test_worker_with_its_own_empty_media_directory_completes_the_import(
    world, celery_worker_process, settings, tmp_path
):
    """The upload lives in the database, so a worker on another machine (here: its own empty
    media directory, nothing shared with this 'web' process) needs no shared disk."""
    settings.MEDIA_ROOT = tmp_path / "web-media"
    batch = queue_import(
        world.beheerder, xlsx_bytes(people(500, start=7000)), group_id=world.own_group.pk
    )

    wait_for_status(batch, ImportBatch.Status.DONE)

    assert imported(7000, 500).count() == 500
    assert list(celery_worker_process.media_root.iterdir()) == []
    assert not settings.MEDIA_ROOT.exists()  # the web side wrote no file either
    assert celery_worker_process.media_root != settings.MEDIA_ROOT


def test_two_workers_share_two_imports(world, celery_worker_factory):
    first, second = celery_worker_factory("first"), celery_worker_factory("second")
    ours = queue_import(
        world.beheerder, xlsx_bytes(people(3000, start=8000)), group_id=world.own_group.pk
    )
    theirs = queue_import(
        world.outsider, xlsx_bytes(people(3000, start=8000)), group_id=world.foreign_group.pk
    )

    for batch in (ours, theirs):
        wait_for_status(batch, ImportBatch.Status.DONE)

    assert Candidate.objects.filter(organisation=world.college).count() == 3 + 3000
    assert Candidate.objects.filter(organisation=world.other_college).count() == 1 + 3000
    stats = app.control.inspect(destination=[first.nodename, second.nodename], timeout=2).stats()
    runs = {node: s["total"].get("imports.tasks.run_import") for node, s in stats.items()}
    assert runs == {first.nodename: 1, second.nodename: 1}
    assert [batch_state(b).attempts for b in (ours, theirs)] == [1, 1]


def test_worker_killed_after_the_commit_still_delivers_the_login_slips(
    world, celery_worker_factory
):
    worker = celery_worker_factory("only", env=CRASH_ENV)
    batch = queue_import(
        world.beheerder,
        xlsx_bytes(people(5000, start=FIRST)),
        group_id=world.own_group.pk,
        send_credentials=False,  # the teacher hands out printed slips
        report_email="",
    )
    wait_until(
        lambda: (
            (b := unless_locked(lambda: batch_state(batch))) is not None
            and b.status == ImportBatch.Status.DONE
            and b.slips is None
        ),
        timeout=120,
        interval=0.02,
        what="the import to be committed, the slips not yet made",
    )

    worker.kill()
    worker.start()

    wait_until(
        lambda: unless_locked(lambda: batch_state(batch).slips is not None),
        timeout=120,
        what="the slips",
    )
