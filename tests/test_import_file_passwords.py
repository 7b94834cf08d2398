"""Passwords from a file: full-strength hashing split into chunk tasks on real workers."""

import pytest
from django.contrib.auth.hashers import check_password
from django.db import transaction

from accounts.models import User
from config.celery import app
from imports import services
from imports.models import ImportBatch, ImportPasswordHash

from .helpers.imports import make_batch, xlsx_bytes
from .helpers.services import wait_until

pytestmark = pytest.mark.django_db(transaction=True)

HEADERS = ["Kandidaatnummer", "Voornaam", "Achternaam", "Wachtwoord"]


def rows(n):
    # Numbers from 1000 on: the world fixture already has 0000001-0000003.
    return [
        [f"{i:07d}", f"Voor{i}", f"Achter{i}", f"Geheim-wachtwoord-{i}"]
        for i in range(1000, 1000 + n)
    ]


def test_file_passwords_are_hashed_in_chunks_by_two_workers(world, celery_worker_factory):
    first, second = celery_worker_factory("first"), celery_worker_factory("second")
    n = services.FILE_HASH_CHUNK_ROWS * 3 + 7  # four chunks
    batch = make_batch(
        world.beheerder,
        xlsx_bytes(rows(n), headers=HEADERS),
        password_mode="file",
        group_id=world.own_group.pk,
        report_email="",
    )
    with transaction.atomic():
        assert services.import_queue(batch=batch, actor=world.beheerder)
    wait_until(
        lambda: ImportBatch.objects.get(pk=batch.pk).status == ImportBatch.Status.DONE,
        timeout=60,
        what="the import to finish",
    )
    batch.refresh_from_db()
    assert (batch.counts["new"], batch.hash_chunks_total, batch.hash_chunks_done) == (n, 4, 4)
    assert ImportPasswordHash.objects.filter(batch=batch).count() == 0
    user = User.objects.get(candidate__candidate_number=f"{999 + n:07d}")
    assert check_password(f"Geheim-wachtwoord-{999 + n}", user.password)
    stats = app.control.inspect(destination=[first.nodename, second.nodename], timeout=2).stats()
    chunks = sum(s["total"].get("imports.tasks.hash_file_passwords", 0) for s in stats.values())
    runs = sum(s["total"].get("imports.tasks.run_import", 0) for s in stats.values())
    assert (chunks, runs) == (4, 2)  # dispatch run, then the run the last chunk queued


def test_small_file_import_hashes_in_the_task_itself(world, celery_worker_process):
    batch = make_batch(
        world.beheerder,
        xlsx_bytes(rows(3), headers=HEADERS),
        password_mode="file",
        group_id=world.own_group.pk,
        report_email="",
    )
    with transaction.atomic():
        services.import_queue(batch=batch, actor=world.beheerder)
    wait_until(
        lambda: ImportBatch.objects.get(pk=batch.pk).status == ImportBatch.Status.DONE,
        timeout=30,
        what="the import to finish",
    )
    batch.refresh_from_db()
    assert (batch.counts["new"], batch.hash_chunks_total) == (3, 0)
    assert check_password(
        "Geheim-wachtwoord-1002", User.objects.get(candidate__candidate_number="0001002").password
    )
