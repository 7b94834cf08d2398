"""A request body larger than one import file (plus room for the form around it) is refused
from its Content-Length with a Dutch 413 page, before Django reads a byte of it; an accepted
upload is kept in memory, never in an unsealed temporary file on the web server's disk."""

from __future__ import annotations

import io

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile, TemporaryUploadedFile
from django.test import override_settings
from django.urls import reverse

from .helpers.candidates import logged_in

pytestmark = pytest.mark.django_db
MB = 1024 * 1024


class UnreadableBody(io.RawIOBase):
    """A request body that fails the test when anybody reads it."""

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        raise AssertionError("the request body was read")


def post_declaring(client, path: str, length: int):
    return client.generic(
        "POST",
        path,
        b"x",
        content_type="multipart/form-data; boundary=grens",
        CONTENT_LENGTH=str(length),
        **{"wsgi.input": UnreadableBody()},
    )


def page_text(response) -> str:
    return " ".join(response.content.decode().split())


def test_a_too_large_upload_is_refused_in_dutch_without_reading_it(client, world):
    client = logged_in(client, world.coordinator)

    response = post_declaring(client, reverse("imports:start"), 60 * MB)

    assert response.status_code == 413
    text = page_text(response)
    assert "Bestand te groot" in text
    assert "Het bestand is 60,0 MB; het maximum is 10 MB." in text
    assert f'href="{reverse("imports:start")}"' in text  # back to the upload step


def test_the_limit_holds_on_every_address_and_for_anonymous_visitors(client):
    response = post_declaring(client, reverse("accounts:login"), settings.KB_MAX_REQUEST_BYTES + 1)

    assert response.status_code == 413
    assert "Het bestand is 11,0 MB; het maximum is 10 MB." in page_text(response)


@override_settings(KB_IMPORT_MAX_FILE_BYTES=2 * MB, KB_MAX_REQUEST_BYTES=2 * MB + 64 * 1024)
def test_a_file_just_over_the_file_limit_reaches_the_form_and_its_message(client, world):
    """Within the margin the body is read and the form says what is wrong, as before."""
    client = logged_in(client, world.coordinator)
    upload = SimpleUploadedFile("groot.csv", b"a;b\n" * (2 * MB // 4 + 1))

    response = client.post(reverse("imports:start"), {"file": upload})

    assert response.status_code == 200
    assert "Het bestand is 2,0 MB; het maximum is 2 MB." in page_text(response)


def test_the_request_limit_is_the_file_limit_plus_a_margin():
    assert settings.KB_MAX_REQUEST_BYTES == settings.KB_IMPORT_MAX_FILE_BYTES + MB
    # Plain form fields (everything but files) are capped far lower: our largest are a few kB.
    assert settings.DATA_UPLOAD_MAX_MEMORY_SIZE == MB


def test_an_accepted_upload_never_becomes_a_temporary_file(client, world, monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("the upload was written to a temporary file")

    monkeypatch.setattr(TemporaryUploadedFile, "__init__", refuse)
    client = logged_in(client, world.coordinator)
    # 3 MB: over Django's default in-memory limit (2.5 MB), under ours.
    upload = SimpleUploadedFile("groot.csv", b"Voornaam;Achternaam\n" + b"Anna;Eigen\n" * 300_000)

    response = client.post(reverse("imports:start"), {"file": upload})

    assert upload.size > 3 * MB
    assert response.status_code in (200, 302)  # the reader's verdict; no temporary file
