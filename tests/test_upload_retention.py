"""Uploaded files are unreachable by URL, belong to their uploader's
college, and are deleted after 24 hours by a scheduled task, together with the encrypted
login slips and the encrypted passwords of mails that were never delivered.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import Resolver404, resolve, reverse
from django.utils import timezone

from accounts.mail import mail_queue
from accounts.models import OutgoingMail
from accounts.secrets import seal, unseal
from config.celery import app
from imports import tasks
from imports.models import ImportBatch, ImportFile

from .helpers.imports import make_batch, people, run_import, xlsx_bytes
from .helpers.services import wait_until
from .helpers.workers import page_text

EXPIRED_MAIL = (
    "Niet verzonden binnen 24 uur; het wachtwoord is niet meer bewaard. Stel een nieuw "
    "wachtwoord in."
)


def test_a_scheduled_task_purges_expired_uploads_every_hour():
    assert settings.KB_UPLOAD_RETENTION_HOURS == 24
    assert settings.CELERY_BEAT_SCHEDULE["purge-expired-uploads"] == {
        "task": "imports.tasks.purge_expired_uploads",
        "schedule": 60 * 60,
    }
    assert "imports.tasks.purge_expired_uploads" in app.tasks  # registered for the workers


# --- unreachable ------------------------------------------------------------------------------


@pytest.mark.django_db
def test_uploads_are_stored_in_the_database_and_no_url_serves_them(
    client, world, settings, tmp_path
):
    settings.MEDIA_ROOT = tmp_path / "media"
    data = xlsx_bytes(people(3, start=600))
    client.force_login(world.coordinator)

    client.post(reverse("imports:start"), {"file": SimpleUploadedFile("geheim.xlsx", data)})

    upload = ImportFile.objects.get()
    assert data not in bytes(upload.data)  # sealed at rest (tests/test_upload_sealed.py)
    assert unseal(upload.data) == data
    assert upload.batch.organisation == world.college  # the uploader's college
    assert not Path(settings.MEDIA_ROOT).exists()  # nothing on disk to serve
    for path in ["/media/", "/media/geheim.xlsx", "/static/../media/geheim.xlsx"]:
        with pytest.raises(Resolver404):
            resolve(path)
        assert client.get(path).status_code == 404
    # No page of the wizard hands the bytes back, not even to the uploader.
    pk = upload.batch.pk
    for name in ["mapping", "check", "errors", "password", "confirm", "result", "progress"]:
        response = client.get(reverse(f"imports:{name}", args=[pk]))
        content = b"".join(response.streaming_content) if response.streaming else response.content
        assert data not in content, name


@pytest.mark.django_db
def test_another_college_cannot_reach_an_upload(client, world):
    batch = make_batch(world.beheerder, xlsx_bytes(people(3, start=610)), "ons.xlsx")
    client.force_login(world.outsider)

    for name in ["mapping", "check", "errors", "confirm", "result", "progress", "slips"]:
        assert client.get(reverse(f"imports:{name}", args=[batch.pk])).status_code == 404
    assert "ons.xlsx" not in page_text(client.get(reverse("imports:history")))


@pytest.mark.django_db
def test_an_upload_expires_24_hours_after_it_was_uploaded(world):
    before = timezone.now()
    batch = make_batch(world.beheerder, xlsx_bytes(people(1, start=620)))

    assert timedelta(hours=24) <= batch.expires_at - before < timedelta(hours=24, seconds=5)


# --- purged -----------------------------------------------------------------------------------


def expire(batch, hours_ago: float = 0.01) -> None:
    ImportBatch.objects.filter(pk=batch.pk).update(
        expires_at=timezone.now() - timedelta(hours=hours_ago)
    )


def mail_for(batch, status: str, secret: dict | None) -> OutgoingMail:
    mail = mail_queue(
        kind=OutgoingMail.Kind.CREDENTIALS,
        to="kandidaat@leerling.example",
        subject="Je inloggegevens",
        organisation=batch.organisation,
        batch_id=batch.pk,
        secret=secret,
    )
    OutgoingMail.objects.filter(pk=mail.pk).update(status=status)
    return mail


def test_the_purge_task_on_a_worker_removes_what_is_older_than_24_hours(
    client, world, celery_worker_process
):
    old_draft = make_batch(world.coordinator, xlsx_bytes(people(2, start=630)), "oud.xlsx")
    fresh_draft = make_batch(world.coordinator, xlsx_bytes(people(2, start=640)), "vers.xlsx")
    old_done = run_import(
        world.coordinator,
        xlsx_bytes(people(2, start=650)),
        group_id=world.own_group.pk,
        report_email="coord@rocm.example",
    )
    # The slips are a task of their own, which the worker runs after the import's commit.
    wait_until(lambda: ImportBatch.objects.get(pk=old_done.pk).slips is not None, what="slips")
    old_done.refresh_from_db()
    undelivered = mail_for(old_done, OutgoingMail.Status.FAILED, {"password": "Oud-Geheim-1"})
    waiting = mail_for(old_done, OutgoingMail.Status.PENDING, {"password": "Oud-Geheim-2"})
    delivered = mail_for(old_done, OutgoingMail.Status.SENT, None)
    fresh_failed = mail_for(fresh_draft, OutgoingMail.Status.FAILED, {"password": "Vers-1"})
    expire(old_draft, hours_ago=0.01)  # uploaded 24 h and 36 s ago
    expire(old_done, hours_ago=3)
    fresh_batch_expiry = ImportBatch.objects.get(pk=fresh_draft.pk).expires_at
    assert fresh_batch_expiry > timezone.now() + timedelta(hours=23)

    tasks.purge_expired_uploads.delay()  # what beat sends every hour

    wait_until(
        lambda: not ImportFile.objects.filter(batch=old_draft).exists(),
        what="the worker to purge",
    )
    wait_until(lambda: ImportBatch.objects.get(pk=old_done.pk).slips is None, what="slips")
    assert ImportFile.objects.filter(batch=fresh_draft).exists()
    for mail in (undelivered, waiting):
        mail.refresh_from_db()
        assert (mail.status, mail.secret, mail.last_error) == ("failed", None, EXPIRED_MAIL)
    delivered.refresh_from_db()
    assert (delivered.status, delivered.last_error) == ("sent", "")
    fresh_failed.refresh_from_db()
    assert fresh_failed.secret is not None  # still within its 24 hours: can be resent

    # What the uploader sees afterwards: a Dutch explanation, no file, no slips.
    client.force_login(world.coordinator)
    response = client.get(reverse("imports:mapping", args=[old_draft.pk]), follow=True)
    assert response.redirect_chain == [(reverse("imports:start"), 302)]
    assert (
        "Het geüploade bestand is niet meer beschikbaar (bestanden worden na 24 uur "
        "verwijderd). Upload het bestand opnieuw." in page_text(response)
    )
    assert client.get(reverse("imports:slips", args=[old_done.pk])).status_code == 404
    result = page_text(client.get(reverse("imports:result", args=[old_done.pk])))
    assert f"kandidaat@leerling.example {EXPIRED_MAIL}" in result
    # 'Opnieuw versturen' cannot send a credentials mail without its password.
    response = client.post(reverse("imports:resend_mails", args=[old_done.pk]), follow=True)
    assert "0 e-mails worden opnieuw verstuurd." in page_text(response)


@pytest.mark.django_db
def test_purge_keeps_what_is_younger_than_24_hours(world):
    batch = make_batch(world.beheerder, xlsx_bytes(people(1, start=660)))
    ImportBatch.objects.filter(pk=batch.pk).update(slips=seal(b"%PDF"))

    assert tasks.purge_expired_uploads() == 0

    assert ImportFile.objects.filter(batch=batch).exists()
    assert ImportBatch.objects.get(pk=batch.pk).slips is not None
