"""Undoing an import with a real Celery worker on Redis: a large import is undone by the
worker (one task, once), a small one in the request itself without any task."""

from accounts.models import AuditLog
from candidates.models import Candidate
from imports import tasks, undo
from imports.models import ImportBatch

from .helpers.imports import people
from .helpers.services import wait_until
from .helpers.undo import import_rows
from .helpers.workers import batch_state, tasks_run, unless_locked, wait_until_settled

UNDO_TASK = "imports.tasks.undo_import"


def imported(first: int, n: int):
    return Candidate.objects.filter(
        candidate_number__in=[f"{i:07d}" for i in range(first, first + n)]
    )


def test_a_large_import_is_undone_on_the_worker_once(world, celery_worker_process):
    rows = undo.TASK_THRESHOLD + 100
    batch = import_rows(world.beheerder, people(rows, start=300), group_id=world.own_group.pk)
    assert imported(300, rows).count() == rows

    assert undo.undo_request(batch=batch, actor=world.beheerder, ip="10.1.2.3") is None
    assert batch_state(batch).undo_queued_at is not None

    done = wait_until(
        lambda: unless_locked(lambda: batch_state(batch).undone_at),
        timeout=120,
        what="the worker to undo the import",
    )
    assert done is not None
    assert imported(300, rows).count() == 0
    assert batch_state(batch).undo_counts["deleted"] == rows
    audit_row = AuditLog.objects.get(action=AuditLog.Action.IMPORT_UNDONE)
    assert (audit_row.actor, audit_row.ip_address, audit_row.after["deleted"]) == (
        world.beheerder,
        "10.1.2.3",
        rows,
    )

    tasks.undo_import.delay(str(batch.pk))  # the message delivered a second time
    assert tasks_run(wait_until_settled([celery_worker_process]), UNDO_TASK) == 2
    assert AuditLog.objects.filter(action=AuditLog.Action.IMPORT_UNDONE).count() == 1
    assert batch_state(batch).undone_at == done


def test_a_small_import_is_undone_in_the_request_without_a_task(world, celery_worker_process):
    batch = import_rows(world.beheerder, people(20, start=2000), group_id=world.own_group.pk)

    plan = undo.undo_request(batch=batch, actor=world.beheerder)

    assert plan is not None and plan.counts["deleted"] == 20
    assert batch_state(batch).undone_at is not None
    assert imported(2000, 20).count() == 0
    assert tasks_run(wait_until_settled([celery_worker_process]), UNDO_TASK) == 0
    assert ImportBatch.objects.get(pk=batch.pk).undo_counts["deleted"] == 20
