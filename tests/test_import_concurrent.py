"""Two coordinators import overlapping files (the same candidate numbers) at
the same time, on two real workers.

Two moments: the second pressed while the first hashes its passwords (the small file is
written meanwhile, and the large one re-reads the database under the college lock), and the second
pressed while the first is inside its write transaction (the second waits for the lock, then
re-reads). Rows the other created meanwhile become updates, never duplicates; when the later
coordinator may not see them, their import is refused with a clear Dutch reason. No batch is
left running and no lock is left held.
"""

from __future__ import annotations

import os
import time

import pytest
from django.db import connection
from django.db.models import QuerySet

from candidates.models import Candidate
from imports import services
from imports.models import ImportBatch

from .helpers.imports import make_batch, people, xlsx_bytes
from .helpers.services import wait_until
from .helpers.workers import batch_state, in_write_transaction, wait_for_status

FIRST, ROWS = 30_000, 6_000  # the large file: 0030000 … 0035999
SMALL_START, SMALL_ROWS = FIRST + ROWS - 100, 200  # the small file: 100 of those, 100 new
DONE, FAILED = ImportBatch.Status.DONE, ImportBatch.Status.FAILED
CHANGED_MEANWHILE = (
    "De gegevens zijn tijdens het importeren gewijzigd. Er is niets opgeslagen; controleer het "
    "bestand opnieuw."
)
ON_SQLITE = not os.environ.get("DATABASE_URL", "").startswith("postgres")
SINGLE_WRITER = pytest.mark.skipif(
    ON_SQLITE,
    reason=(
        "SQLite has one writer at a time: 'Importeer' itself waits until the running import "
        "has committed, so a second import cannot start while the first writes."
    ),
)
MOMENTS = ["hashing", pytest.param("writing", marks=[SINGLE_WRITER])]


def both_files() -> QuerySet:
    numbers = [f"{i:07d}" for i in range(FIRST, SMALL_START + SMALL_ROWS)]
    return Candidate.objects.filter(candidate_number__in=numbers)


def run_both(world, celery_worker_factory, moment: str, small_group):
    """The large file by the coordinator (own group), the small one by the other coordinator;
    returns both batches once they are finished, large first."""
    celery_worker_factory("first")
    celery_worker_factory("second")
    if moment == "hashing":
        # The shortest generated passwords (12 characters) cost 1,256 PBKDF2 iterations each
        # (accounts.hashers): hashing 6,000 takes seconds, the window in which the small
        # import is written. At the default 14 characters (one iteration) there is none.
        world.college.password_length = 12
        world.college.save(update_fields=["password_length"])
    # Both files are uploaded first: the wizard's own steps are not what is under test here.
    large = make_batch(
        world.coordinator,
        xlsx_bytes(people(ROWS, start=FIRST)),
        group_id=world.own_group.pk,
        report_email="",
        send_credentials=True,
    )
    small = make_batch(
        world.other_coordinator,
        xlsx_bytes(people(SMALL_ROWS, start=SMALL_START)),
        group_id=small_group.pk,
        report_email="",
        send_credentials=True,
    )
    assert services.import_queue(batch=large, actor=world.coordinator)
    if moment == "hashing":
        wait_until(
            lambda: batch_state(large).progress_total == ROWS,
            timeout=30,
            interval=0.02,
            what="the large import to have planned and started hashing",
        )
    if moment == "writing":
        wait_until(
            lambda: batch_state(large).progress_done == ROWS and in_write_transaction(),
            timeout=30,
            interval=0.02,
            what="the large import's write transaction",
        )
    assert services.import_queue(batch=small, actor=world.other_coordinator)
    if moment == "writing":
        assert batch_state(large).status == ImportBatch.Status.RUNNING  # still writing
    for batch in (large, small):
        wait_for_status(batch, DONE, FAILED, timeout=40)
    return batch_state(large), batch_state(small)


def counts(batch) -> tuple[int, int, int]:
    return (batch.counts["new"], batch.counts["unchanged"], batch.counts["errors"])


def assert_no_lock_left() -> None:
    assert not ImportBatch.objects.filter(
        status__in=(ImportBatch.Status.QUEUED, ImportBatch.Status.RUNNING)
    ).exists()
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM pg_locks WHERE NOT granted")
            assert cursor.fetchone()[0] == 0


@pytest.mark.parametrize("moment", MOMENTS)
def test_two_coordinators_of_one_group_import_overlapping_files(
    world, celery_worker_factory, moment
):
    world.own_group.coordinators.add(world.other_coordinator)

    large, small = run_both(world, celery_worker_factory, moment, world.own_group)

    assert (large.status, small.status) == (DONE, DONE)
    if moment == "hashing":  # the small one was written first
        assert (counts(small), counts(large)) == ((200, 0, 0), (ROWS - 100, 100, 0))
    else:  # the large one was written first
        assert (counts(large), counts(small)) == ((ROWS, 0, 0), (100, 100, 0))
    assert both_files().count() == ROWS + 100
    assert both_files().values("candidate_number").distinct().count() == ROWS + 100
    assert both_files().filter(groups=world.own_group).count() == ROWS + 100
    assert_no_lock_left()


@pytest.mark.parametrize("moment", MOMENTS)
def test_overlap_the_later_coordinator_may_not_see_is_refused_clearly(
    world, celery_worker_factory, moment
):
    large, small = run_both(world, celery_worker_factory, moment, world.other_group)

    if moment == "hashing":  # the small one was written first; the large one re-read
        assert (small.status, counts(small)) == (DONE, (200, 0, 0))
        assert (large.status, large.failure_reason, large.attempts) == (
            FAILED,
            CHANGED_MEANWHILE,
            1,
        )
        assert both_files().count() == 200  # nothing of the large file
        assert both_files().filter(groups=world.other_group).count() == 200
    else:  # the small one waited for the lock, then re-read
        assert (large.status, counts(large)) == (DONE, (ROWS, 0, 0))
        assert (small.status, small.failure_reason) == (FAILED, CHANGED_MEANWHILE)
        assert both_files().count() == ROWS  # nothing of the small file
        assert not both_files().filter(groups=world.other_group).exists()
    assert both_files().values("candidate_number").distinct().count() == both_files().count()
    assert_no_lock_left()


@SINGLE_WRITER
def test_pressing_importeer_does_not_wait_for_another_import_of_the_college(
    world, celery_worker_process
):
    """Writing an audit row (as 'Importeer', editing a candidate or any other audited action
    does) must not wait for another import of the same college to finish its write step."""
    large = make_batch(
        world.coordinator,
        xlsx_bytes(people(ROWS, start=FIRST)),
        group_id=world.own_group.pk,
        report_email="",
        send_credentials=True,
    )
    small = make_batch(world.beheerder, xlsx_bytes(people(10, start=50_000)))
    assert services.import_queue(batch=large, actor=world.coordinator)
    wait_until(
        lambda: batch_state(large).progress_done == ROWS and in_write_transaction(),
        timeout=30,
        interval=0.02,
        what="the large import's write transaction",
    )

    started = time.monotonic()
    assert services.import_queue(batch=small, actor=world.beheerder)
    waited = time.monotonic() - started

    assert batch_state(large).status == ImportBatch.Status.RUNNING
    assert waited < 0.5


def test_uploading_a_file_while_an_import_of_the_college_writes(world, celery_worker_process):
    large = make_batch(
        world.coordinator,
        xlsx_bytes(people(ROWS, start=FIRST)),
        group_id=world.own_group.pk,
        report_email="",
        send_credentials=True,
    )
    assert services.import_queue(batch=large, actor=world.coordinator)
    wait_until(
        lambda: batch_state(large).progress_done == ROWS and in_write_transaction(),
        timeout=30,
        interval=0.02,
        what="the large import's write transaction",
    )

    upload = make_batch(world.beheerder, xlsx_bytes(people(10, start=50_000)), "tweede.xlsx")

    assert upload.status == ImportBatch.Status.DRAFT
    assert wait_for_status(large, DONE, FAILED).status == DONE
