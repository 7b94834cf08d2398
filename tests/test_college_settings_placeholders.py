"""College texts with placeholders (credentials mail, username pattern): only a bare {name}
from the documented list is filled in. A format spec or attribute access is refused on save
with a Dutch message naming it, and, stored anyway, renders as plain text, never as padding
of a hundred million characters or a peek into Python objects."""

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from accounts.mail import DEFAULT_CREDENTIALS_TEXT, PLACEHOLDERS, render_credentials_text
from accounts.placeholders import (
    MAX_MAIL_LENGTH,
    MAX_TEMPLATE_LENGTH,
    check_placeholders,
    render_placeholders,
)
from imports.planning import make_username

from .test_college_settings import SETTINGS, settings_data

VALUES = {
    "naam": "Anna de Vries",
    "gebruikersnaam": "rocm-0012345",
    "wachtwoord": "Geheim-123456",
    "school": "ROC Midden",
    "geldig_tot": "31 juli 2027",
    "inlog_url": "https://kb.example/inloggen/",
}


def test_every_documented_placeholder_is_filled():
    text = "{naam} {gebruikersnaam} {wachtwoord} {school} {geldig_tot} {inlog_url} {{x}}"
    assert render_credentials_text(text, VALUES) == (
        "Anna de Vries rocm-0012345 Geheim-123456 ROC Midden 31 juli 2027 "
        "https://kb.example/inloggen/ {x}"
    )
    assert render_credentials_text("", VALUES).startswith("Beste Anna de Vries,\n\n")
    assert check_placeholders(DEFAULT_CREDENTIALS_TEXT, PLACEHOLDERS) == set(PLACEHOLDERS)


@pytest.mark.parametrize(
    "text",
    [
        "Hoi {naam:>100000000}",
        "Hoi {naam.__class__.__mro__}",
        "Hoi {naam[0]}",
        "Hoi {naam!r}",
        "Hoi {0}",
        "Hoi {}",
        "Hoi { naam }",
    ],
)
def test_anything_but_a_bare_name_stays_text(text):
    assert render_credentials_text(text, VALUES) == text


def test_rendered_text_is_capped():
    text = "{naam}" * MAX_TEMPLATE_LENGTH
    rendered = render_placeholders(text, {"naam": "x" * 1000}, max_length=MAX_MAIL_LENGTH)
    assert rendered == "x" * MAX_MAIL_LENGTH


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "Hoi {naam:>100} {wachtwoord} {gebruikersnaam}",
            "Ongeldige plaatshouder {naam:>100}: opmaak (zoals :>10), punten en haken zijn "
            "niet toegestaan.",
        ),
        (
            "Hoi {naam.__class__} {wachtwoord} {gebruikersnaam}",
            "Ongeldige plaatshouder {naam.__class__}:",
        ),
        ("Hoi {voornaam} {wachtwoord} {gebruikersnaam}", "Onbekende plaatshouder {voornaam}."),
        ("Hoi {naam {wachtwoord} {gebruikersnaam}", "losse accolade"),
    ],
)
def test_check_names_the_bad_placeholder(text, message):
    with pytest.raises(ValidationError) as raised:
        check_placeholders(text, PLACEHOLDERS)
    assert message in raised.value.messages[0]


def test_settings_refuse_a_format_spec_in_mail_text_and_username_pattern(client, world):
    client.force_login(world.beheerder)
    response = client.post(
        SETTINGS,
        settings_data(
            world.college,
            credentials_mail_text="Hoi {naam:>100000000} {wachtwoord} {gebruikersnaam}",
            username_pattern="{code}-{candidate_number:>100000}",
        ),
    )
    assert response.status_code == 200
    page = response.content.decode()
    assert "Ongeldige plaatshouder {naam:&gt;100000000}" in page
    assert "Ongeldige plaatshouder {candidate_number:&gt;100000}" in page
    world.college.refresh_from_db()
    assert world.college.credentials_mail_text == ""
    assert world.college.username_pattern == "{code}-{candidate_number}"


def test_preview_of_a_hostile_stored_text_is_small(client, world):
    """A text stored before the check existed (or by hand) cannot blow up the preview."""
    client.force_login(world.beheerder)
    response = client.post(
        reverse("candidates:settings"),
        settings_data(world.college, credentials_mail_text="{naam:>100000000}", preview="1"),
    )
    assert response.status_code == 200
    assert response.context["preview"] is None  # refused, not rendered
    assert len(render_credentials_text("{naam:>100000000}", VALUES)) == len("{naam:>100000000}")


def test_username_pattern_renders_only_bare_names(world):
    world.college.username_pattern = "{code}.{candidate_number}"
    assert make_username(world.college, "0012345") == "rocm.0012345"
    world.college.username_pattern = "{code}-{candidate_number:>100000}"
    assert make_username(world.college, "0012345") == "rocm-{candidate_number:>100000}"
