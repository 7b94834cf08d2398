"""Uploads are sealed at rest: the stored bytes hold no password and no name, the import still
works from them, and a file sealed with a key that has since been rotated gives a Dutch
message (wizard) or a failed batch with that reason (worker), never a 500."""

import hashlib
import importlib
from datetime import timedelta

import pytest
from cryptography.fernet import Fernet
from django.apps import apps
from django.contrib.auth.hashers import check_password
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from accounts.models import AuditLog, User
from accounts.secrets import unseal
from candidates.models import Candidate
from imports import services, tasks
from imports.models import ImportBatch, ImportFile

from .helpers.imports import csv_bytes, make_batch, people, xlsx_bytes

pytestmark = pytest.mark.django_db

UNREADABLE = "Het geüploade bestand kan niet meer worden gelezen; upload het opnieuw."
HEADERS = ["Kandidaatnummer", "Voornaam", "Achternaam", "E-mailadres", "Wachtwoord"]
ROWS = [
    ["0000701", "Wilhelmina", "Zonnebloem", "w.zonnebloem@leerling.example", "Kroko-Dil-7731!"],
    ["0000702", "Bartholomeus", "Vlinderslag", "b.vlinderslag@leerling.example", "Tulp&Molen-4482"],
]
PASSWORDS = {"rocm-0000701": "Kroko-Dil-7731!", "rocm-0000702": "Tulp&Molen-4482"}
SECRETS = [b"Kroko-Dil-7731!", b"Tulp&Molen-4482", b"Wilhelmina", b"Zonnebloem"]
SECRETS += [b"Bartholomeus", b"Vlinderslag", b"w.zonnebloem@leerling.example"]


def stored_uploads() -> list[tuple[bytes, int, str]]:
    """ImportFile rows as the database holds them, past the ORM."""
    table = connection.ops.quote_name(ImportFile._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT data, size, sha256 FROM {table}")
        return [(bytes(data), size, sha) for data, size, sha in cursor.fetchall()]


def walk_wizard(client, batch, *, password_mode: str):
    pk = batch.pk
    mapping = {f"col_{i}": f for i, f in batch.mapping.items()}
    assert client.post(reverse("imports:mapping", args=[pk]), mapping).status_code == 302
    assert client.post(reverse("imports:check", args=[pk]), {}).status_code == 302
    steps = [
        ("password", {"password_mode": password_mode, "existing_passwords": "keep"}),
        ("group", {"status": "active", "group": "", "new_group_name": ""}),
        ("supervisors", {}),
        ("validity", {"valid_from": "2026-11-28", "valid_until": "2027-07-31"}),
        ("credentials", {"send_credentials": "teacher"}),
    ]
    for step, data in steps:
        response = client.post(reverse(f"imports:{step}", args=[pk]), data)
        assert response.status_code == 302, (step, response.content.decode()[-2000:])


def test_upload_with_passwords_is_sealed_and_imports_exactly_the_accounts(
    client, world, django_capture_on_commit_callbacks
):
    plain = csv_bytes(ROWS, headers=HEADERS)
    assert all(secret in plain for secret in SECRETS)  # the test means something
    client.force_login(world.beheerder)
    before = Candidate.objects.count()

    response = client.post(
        reverse("imports:start"), {"file": SimpleUploadedFile("kandidaten.csv", plain)}
    )

    batch = ImportBatch.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("imports:mapping", args=[batch.pk])
    [(raw, size, sha256)] = stored_uploads()
    assert [secret for secret in SECRETS if secret in raw] == []
    assert plain not in raw
    assert (size, sha256) == (len(plain), hashlib.sha256(plain).hexdigest())
    assert unseal(raw) == plain
    assert sorted(batch.mapping.values()) == [
        "candidate_number",
        "email",
        "first_name",
        "last_name",
        "password",
    ]

    # The wizard reads the sealed file: sample values and the dry run.
    assert "Wilhelmina" in client.get(reverse("imports:mapping", args=[batch.pk])).content.decode()
    walk_wizard(client, batch, password_mode="file")
    check = client.get(reverse("imports:check", args=[batch.pk])).content.decode()
    assert 'data-count="new">2<' in check
    plan = services.import_dry_run(batch).plan
    assert plan.counts == {"rows": 2, "new": 2, "updated": 0, "unchanged": 0, "errors": 0}

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("imports:confirm", args=[batch.pk]), {"report_email": "rapport@rocm.example"}
        )

    assert response["Location"] == reverse("imports:result", args=[batch.pk])
    batch.refresh_from_db()
    assert (batch.status, batch.failure_reason) == (ImportBatch.Status.DONE, "")
    assert batch.counts == {
        "rows": 2,
        "new": 2,
        "updated": 0,
        "unchanged": 0,
        "errors": 0,
        "skipped": 0,
        "groups": [],
    }
    assert Candidate.objects.count() == before + 2
    created = User.objects.filter(candidate__candidate_number__in=["0000701", "0000702"])
    assert sorted(created.values_list("username", "first_name", "last_name")) == [
        ("rocm-0000701", "Wilhelmina", "Zonnebloem"),
        ("rocm-0000702", "Bartholomeus", "Vlinderslag"),
    ]
    for user in created:
        assert check_password(PASSWORDS[user.username], user.password)
    assert stored_uploads() == []  # removed after the import


def test_rotated_key_gives_the_dutch_message_in_the_wizard(client, world, settings):
    client.force_login(world.beheerder)
    client.post(
        reverse("imports:start"),
        {"file": SimpleUploadedFile("kandidaten.csv", csv_bytes(ROWS, headers=HEADERS))},
    )
    batch = ImportBatch.objects.get()
    settings.KB_CREDENTIALS_KEY = Fernet.generate_key().decode()

    for step in ["mapping", "check", "confirm", "errors"]:
        response = client.get(reverse(f"imports:{step}", args=[batch.pk]), follow=True)
        assert response.status_code == 200, step
        assert response.redirect_chain == [(reverse("imports:start"), 302)], step
        assert [str(m) for m in response.context["messages"]] == [UNREADABLE], step
        assert UNREADABLE in response.content.decode(), step

    batch.refresh_from_db()
    assert batch.status == ImportBatch.Status.DRAFT  # nothing queued, nothing written
    assert not AuditLog.objects.filter(action=AuditLog.Action.IMPORT_FAILED).exists()


def test_rotated_key_fails_the_batch_in_the_worker_with_the_reason(
    client, world, settings, django_capture_on_commit_callbacks
):
    client.force_login(world.beheerder)
    client.post(
        reverse("imports:start"),
        {"file": SimpleUploadedFile("kandidaten.csv", csv_bytes(ROWS, headers=HEADERS))},
    )
    batch = ImportBatch.objects.get()
    walk_wizard(client, batch, password_mode="file")
    before = Candidate.objects.count()
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = client.post(
            reverse("imports:confirm", args=[batch.pk]), {"report_email": "rapport@rocm.example"}
        )
    assert response.status_code == 302
    assert len(callbacks) == 1  # the task, queued after the commit

    settings.KB_CREDENTIALS_KEY = Fernet.generate_key().decode()  # rotated before it ran
    callbacks[0]()  # eager: the worker's run_import, in this process

    batch.refresh_from_db()
    assert (batch.status, batch.failure_reason) == (ImportBatch.Status.FAILED, UNREADABLE)
    assert Candidate.objects.count() == before
    failed = AuditLog.objects.get(action=AuditLog.Action.IMPORT_FAILED)
    assert failed.after == {"batch": str(batch.pk), "reason": UNREADABLE}
    page = client.get(reverse("imports:result", args=[batch.pk]))
    assert page.status_code == 200
    assert "De import is mislukt. Er is niets opgeslagen." in page.content.decode()
    assert UNREADABLE in page.content.decode()


def test_rotated_key_fails_the_batch_in_a_hashing_chunk(world, settings):
    batch = make_batch(
        world.beheerder, csv_bytes(ROWS, headers=HEADERS), "kandidaten.csv", password_mode="file"
    )
    ImportBatch.objects.filter(pk=batch.pk).update(
        status=ImportBatch.Status.RUNNING, hash_chunks_total=1
    )
    settings.KB_CREDENTIALS_KEY = Fernet.generate_key().decode()

    tasks.hash_file_passwords.apply(args=(str(batch.pk), [2, 3]))

    batch.refresh_from_db()
    assert (batch.status, batch.failure_reason) == (ImportBatch.Status.FAILED, UNREADABLE)
    assert batch.hash_chunks_done == 0
    assert AuditLog.objects.filter(action=AuditLog.Action.IMPORT_FAILED).count() == 1


def test_migration_seals_plain_uploads_and_fails_what_it_cannot_read(world):
    migration = importlib.import_module("imports.migrations.0004_seal_uploads")
    plain = xlsx_bytes(people(2, start=720))
    plain_batch = make_batch(world.beheerder, plain)
    sealed_batch = make_batch(world.beheerder, xlsx_bytes(people(1, start=730)))
    garbage_batch = make_batch(world.beheerder, xlsx_bytes(people(1, start=740)))
    expired_batch = make_batch(world.beheerder, xlsx_bytes(people(1, start=750)))
    # As the code before this migration stored them: plain bytes.
    ImportFile.objects.filter(batch=plain_batch).update(data=plain)
    ImportFile.objects.filter(batch=expired_batch).update(data=plain)
    ImportFile.objects.filter(batch=garbage_batch).update(data=b"neither plain nor sealed")
    ImportBatch.objects.filter(pk=expired_batch.pk).update(
        expires_at=timezone.now() - timedelta(minutes=1)
    )
    already = bytes(ImportFile.objects.get(batch=sealed_batch).data)

    migration.seal_uploads(apps, None)

    stored = {u.batch_id: bytes(u.data) for u in ImportFile.objects.all()}
    assert set(stored) == {plain_batch.pk, sealed_batch.pk}
    assert plain not in stored[plain_batch.pk]
    assert unseal(stored[plain_batch.pk]) == plain
    assert stored[sealed_batch.pk] == already  # sealed once, not twice
    garbage_batch.refresh_from_db()
    assert (garbage_batch.status, garbage_batch.failure_reason) == (
        ImportBatch.Status.FAILED,
        UNREADABLE,
    )
    assert ImportBatch.objects.get(pk=plain_batch.pk).status == ImportBatch.Status.DRAFT

    ImportBatch.objects.filter(pk=plain_batch.pk).update(status=ImportBatch.Status.QUEUED)
    done = services.import_execute(plain_batch.pk)
    assert (done.status, done.counts["new"]) == (ImportBatch.Status.DONE, 2)
    assert Candidate.objects.filter(candidate_number__in=["0000720", "0000721"]).count() == 2

    # Backwards: plain again for the code before it.
    migration.unseal_uploads(apps, None)
    assert bytes(ImportFile.objects.get(batch=sealed_batch).data) == unseal(already)
