"""A candidate gets the same credentials mail and the same login slip whether the password
came from an import or from a password reset: one builder (candidates.credentials)."""

from datetime import date

import pytest
from django.core import mail
from django.utils import translation

from candidates.models import Candidate
from candidates.services.candidates import candidates_reset_passwords
from imports import services

from .helpers.imports import run_import, xlsx_bytes

pytestmark = pytest.mark.django_db

HEADERS = ["Kandidaatnummer", "Voornaam", "Tussenvoegsel", "Achternaam", "E-mailadres"]
ROW = ["0000900", "Zoë", "van der", "Berg", "zoe@leerling.example"]
VALID_UNTIL = date(2027, 7, 31)


def without_password(body: str, password: str) -> str:
    assert body.count(password) == 1
    return body.replace(password, "<wachtwoord>")


def the_candidate() -> Candidate:
    return Candidate.objects.select_related("user", "organisation").get(candidate_number="0000900")


def credentials_mails():
    return [m for m in mail.outbox if m.to == ["zoe@leerling.example"]]


def test_import_and_reset_send_the_same_mail(world, settings, django_capture_on_commit_callbacks):
    settings.KB_BASE_URL = "https://kb.rocmidden.example"
    with django_capture_on_commit_callbacks(execute=True):
        batch = run_import(
            world.beheerder,
            xlsx_bytes([ROW], headers=HEADERS),
            group_id=world.own_group.pk,
            send_credentials=True,
            report_email="",
            valid_until=VALID_UNTIL,
        )
    assert batch.status == "done", batch.failure_reason
    [imported] = credentials_mails()
    import_password = imported.body.split("Wachtwoord: ")[1].split("\n")[0]
    # The person resetting reads English; the mail goes to the candidate, in Dutch.
    with translation.override("en"), django_capture_on_commit_callbacks(execute=True):
        candidates_reset_passwords(
            actor=world.beheerder, candidates=[the_candidate()], delivery="mail"
        )
    [_, reset] = credentials_mails()
    reset_password = reset.body.split("Wachtwoord: ")[1].split("\n")[0]

    assert import_password != reset_password
    assert reset.subject == imported.subject == "Je inloggegevens voor ROC Midden"
    assert without_password(reset.body, reset_password) == without_password(
        imported.body, import_password
    )
    assert without_password(imported.body, import_password) == (
        "Beste Zoë van der Berg,\n\n"
        "Er is een account voor je aangemaakt bij ROC Midden.\n\n"
        "Gebruikersnaam: rocm-0000900\n"
        "Wachtwoord: <wachtwoord>\n"
        "Inloggen: https://kb.rocmidden.example/inloggen/\n\n"
        "Je account is geldig tot en met 31 juli 2027.\n"
        "Bewaar deze gegevens goed en deel ze met niemand.\n"
    )


def test_import_and_reset_make_the_same_slip(
    world, monkeypatch, django_capture_on_commit_callbacks
):
    rendered = []
    real_render = services.render_login_slips

    def capture(entries, **kwargs):
        rendered.extend(entries)
        return real_render(entries, **kwargs)

    monkeypatch.setattr(services, "render_login_slips", capture)
    with django_capture_on_commit_callbacks(execute=True):
        batch = run_import(
            world.beheerder,
            xlsx_bytes([ROW], headers=HEADERS),
            group_id=world.own_group.pk,
            report_email="",
            valid_until=VALID_UNTIL,
        )
    assert batch.status == "done", batch.failure_reason
    [from_import] = rendered
    reset = candidates_reset_passwords(
        actor=world.beheerder, candidates=[the_candidate()], delivery="slip"
    )
    [from_reset] = reset.slips

    assert from_import.pop("password") != from_reset.pop("password")
    assert (
        from_import
        == from_reset
        == {
            "name": "Zoë van der Berg",
            "sort_name": "Berg, Zoë van der",
            "username": "rocm-0000900",
            "group": "Zorg 1",
            "candidate_number": "0000900",
            "valid_until": "31 juli 2027",
        }
    )


def test_report_mail_links_to_the_result_page_under_the_base_url(
    world, settings, django_capture_on_commit_callbacks
):
    settings.KB_BASE_URL = "https://kb.rocmidden.example"
    with django_capture_on_commit_callbacks(execute=True):
        batch = run_import(
            world.beheerder,
            xlsx_bytes([ROW], headers=HEADERS),
            group_id=world.own_group.pk,
            report_email="admin@rocm.example",
        )
    [report] = [m for m in mail.outbox if m.subject.startswith("Importresultaat")]
    assert (
        f"Resultaat bekijken: https://kb.rocmidden.example/beheer/import/{batch.pk}/resultaat/"
        in report.body
    )
