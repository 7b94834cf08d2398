"""The database fails in the middle of an import.

The fault is injected by the database itself: a trigger on accounts_user refuses the user of
row 5,000, after 4,000 users were already inserted in the same transaction. A unique violation
is final (the batch fails with a Dutch reason and can be started again); trouble of the
database itself (here: 'deadlock detected', or SQLite's 'database is locked') is retried by the
task. Either way nothing of the file remains until a run succeeds.
"""

from __future__ import annotations

import sqlite3

import pytest
from django.db import connection
from django.db.backends.signals import connection_created

from accounts.models import AuditLog, AuditLogSubject, User
from candidates.models import Candidate
from imports import services, tasks
from imports.models import ImportBatch, ImportFile

from .helpers.imports import make_batch, people, xlsx_bytes

pytestmark = pytest.mark.django_db(transaction=True)

FIRST, ROWS = 20_000, 5_500
ROW_5000_USER = f"rocm-{FIRST + 4999:07d}"  # the 5,000th data row of the file
UNIQUE_REASON = (
    "Tijdens het opslaan veranderde de database (bijvoorbeeld door een andere import tegelijk). "
    "Er is niets opgeslagen; start de import opnieuw."
)
DATABASE_REASON = (
    "De database was tijdens het importeren niet bereikbaar. Er is niets opgeslagen; start de "
    "import opnieuw."
)


@pytest.fixture
def fault_on_user(request):
    """install(username, kind, times): inserting that user fails `times` times (None: always)
    with a unique violation ('unique') or a deadlock / locked database ('transient')."""
    installed = []
    calls = {"n": 0}

    def sqlite_fault(times):
        def fault():
            calls["n"] += 1
            if times is None or calls["n"] <= times:
                raise sqlite3.OperationalError("database is locked (injected)")
            return 0

        return fault

    def install(username: str, kind: str, times: int | None = None) -> None:
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                if kind == "unique":
                    error = "'duplicate key (injected)' USING ERRCODE = 'unique_violation'"
                else:
                    error = "'deadlock (injected)' USING ERRCODE = 'deadlock_detected'"
                limit = "TRUE" if times is None else f"nextval('kb_fault_calls') <= {times}"
                cursor.execute("CREATE SEQUENCE kb_fault_calls")
                cursor.execute(
                    f"""
                    CREATE FUNCTION kb_fault() RETURNS trigger AS $$
                    BEGIN
                      IF NEW.username = '{username}' AND {limit} THEN
                        RAISE EXCEPTION {error};
                      END IF;
                      RETURN NEW;
                    END $$ LANGUAGE plpgsql
                    """
                )
                cursor.execute(
                    "CREATE TRIGGER kb_fault BEFORE INSERT ON accounts_user "
                    "FOR EACH ROW EXECUTE FUNCTION kb_fault()"
                )
            elif kind == "unique":
                cursor.execute(
                    "CREATE TRIGGER kb_fault BEFORE INSERT ON accounts_user "
                    f"WHEN NEW.username = '{username}' BEGIN "
                    "SELECT RAISE(ABORT, 'UNIQUE constraint failed: accounts_user.username'); END"
                )
            else:
                # SQLite triggers cannot raise an OperationalError; a function of ours can. It
                # is registered on every new connection (the task closes a broken one).
                fault = sqlite_fault(times)

                def register(sender, connection, **kwargs):
                    connection.connection.create_function("kb_fault", 0, fault)

                connection_created.connect(register, weak=False, dispatch_uid="kb_fault")
                connection.connection.create_function("kb_fault", 0, fault)
                cursor.execute(
                    "CREATE TRIGGER kb_fault BEFORE INSERT ON accounts_user "
                    f"WHEN NEW.username = '{username}' BEGIN SELECT kb_fault(); END"
                )
        installed.append(kind)

    yield install

    connection_created.disconnect(dispatch_uid="kb_fault")
    if installed:
        remove()


def remove() -> None:
    with connection.cursor() as cursor:
        cursor.execute("DROP TRIGGER IF EXISTS kb_fault" + (
            " ON accounts_user" if connection.vendor == "postgresql" else ""
        ))  # fmt: skip
        if connection.vendor == "postgresql":
            cursor.execute("DROP FUNCTION IF EXISTS kb_fault()")
            cursor.execute("DROP SEQUENCE IF EXISTS kb_fault_calls")


def file_rows():
    numbers = [f"{i:07d}" for i in range(FIRST, FIRST + ROWS)]
    return Candidate.objects.filter(candidate_number__in=numbers)


def queued(world, rows: int = ROWS) -> ImportBatch:
    batch = make_batch(
        world.beheerder,
        xlsx_bytes(people(rows, start=FIRST)),
        group_id=world.own_group.pk,
        report_email="",
    )
    ImportBatch.objects.filter(pk=batch.pk).update(status=ImportBatch.Status.QUEUED)
    return batch


def assert_nothing_of_the_file() -> None:
    assert file_rows().count() == 0
    assert User.objects.filter(username__startswith="rocm-002").count() == 0


def test_unique_violation_at_row_5000_rolls_back_fails_with_a_reason_and_retry_succeeds(
    world, fault_on_user
):
    fault_on_user(ROW_5000_USER, "unique")
    batch = queued(world)

    batch = services.import_execute(batch.pk)

    assert batch.status == ImportBatch.Status.FAILED
    assert batch.failure_reason == UNIQUE_REASON
    assert_nothing_of_the_file()
    assert ImportFile.objects.filter(batch=batch).exists()  # kept for the retry
    failed = AuditLog.objects.get(action=AuditLog.Action.IMPORT_FAILED)
    assert failed.after == {"batch": str(batch.pk), "reason": UNIQUE_REASON}
    assert not AuditLogSubject.objects.exists()

    remove()  # the conflict is gone
    assert services.import_requeue(batch=batch, actor=world.beheerder)
    batch = services.import_execute(batch.pk)

    assert (batch.status, batch.attempts, batch.failure_reason) == ("done", 2, "")
    assert batch.counts["new"] == ROWS
    assert file_rows().count() == ROWS
    assert not ImportFile.objects.filter(batch=batch).exists()


def test_deadlock_at_row_5000_is_retried_by_the_task_and_imports_once(world, fault_on_user, caplog):
    fault_on_user(ROW_5000_USER, "transient", times=1)
    batch = queued(world)

    tasks.run_import.apply(args=(str(batch.pk),))  # in this process; the retry runs at once

    batch.refresh_from_db()
    assert (batch.status, batch.attempts, batch.failure_reason) == ("done", 2, "")
    assert file_rows().count() == ROWS
    assert file_rows().values("candidate_number").distinct().count() == ROWS
    assert AuditLog.objects.filter(action=AuditLog.Action.IMPORT_FINISHED).count() == 1
    assert not AuditLog.objects.filter(action=AuditLog.Action.IMPORT_FAILED).exists()
    assert f"import {batch.pk}: database trouble, retrying" in caplog.text


def test_database_trouble_that_persists_fails_the_batch_after_the_retries(
    world, fault_on_user, caplog
):
    fault_on_user(f"rocm-{FIRST:07d}", "transient")  # the first row, on every run
    batch = queued(world, rows=500)

    tasks.run_import.apply(args=(str(batch.pk),))

    batch.refresh_from_db()
    assert batch.status == ImportBatch.Status.FAILED
    assert batch.attempts == 1 + tasks.DATABASE_RETRIES
    assert batch.failure_reason == DATABASE_REASON
    assert_nothing_of_the_file()
    assert caplog.text.count("database trouble, retrying") == tasks.DATABASE_RETRIES
    assert f"import {batch.pk}: database trouble, giving up" in caplog.text

    remove()
    assert services.import_requeue(batch=batch, actor=world.beheerder)
    tasks.run_import.apply(args=(str(batch.pk),))

    batch.refresh_from_db()
    assert (batch.status, batch.failure_reason) == ("done", "")
    assert file_rows().count() == 500


def test_an_unexpected_error_fails_the_batch_instead_of_leaving_it_running(
    world, monkeypatch, caplog
):
    """A bug (here: a crash in the write step) must not leave the page saying 'Bezig met
    importeren…' for ever: the batch fails with a Dutch reason and can be started again."""

    def crash(*args, **kwargs):
        raise KeyError("bug")

    monkeypatch.setattr(services, "_link", crash)
    batch = queued(world, rows=500)

    result = tasks.run_import.apply(args=(str(batch.pk),))

    assert isinstance(result.result, KeyError)  # still an error for the worker's log
    batch.refresh_from_db()
    assert batch.status == ImportBatch.Status.FAILED
    assert batch.failure_reason.startswith(
        "Het importeren is door een onverwachte fout afgebroken. Er is niets opgeslagen;"
    )
    assert_nothing_of_the_file()
    assert f"import {batch.pk} failed unexpectedly" in caplog.text
