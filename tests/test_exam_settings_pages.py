"""Beheer → Instellingen → Toetsomgevingen: beheerders of the college only; the secret is
shown once; bad addresses get a Dutch message; every change is an audit row."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth.hashers import check_password
from django.urls import reverse

from accounts.models import AuditLog, ExamEnvironment
from candidates.services.exam_environments import exam_environment_create
from tests.helpers.candidates import logged_in
from tests.helpers.exam import REDIRECT_URI

pytestmark = pytest.mark.django_db

LIST = reverse("candidates:exam_environments")
CREATE = reverse("candidates:exam_environment_create")


def secret_on(page: str) -> str:
    match = re.search(r'<code id="client-secret"[^>]*>([^<]+)</code>', page)
    assert match, page
    return match.group(1)


@pytest.fixture
def registered(world):
    return exam_environment_create(
        actor=world.beheerder,
        organisation=world.college,
        name="Toetsspeler",
        redirect_uris=[REDIRECT_URI],
    )


@pytest.mark.parametrize(("role", "status"), [("beheerder", 200), ("coordinator", 403),
                                              ("supervisor", 403)])  # fmt: skip
def test_only_beheerders_open_the_page(client, world, role, status):
    assert logged_in(client, getattr(world, role)).get(LIST).status_code == status


def test_another_colleges_environment_is_not_found(client, world, registered):
    pk = registered.environment.pk
    logged_in(client, world.outsider)
    assert client.get(reverse("candidates:exam_environment_edit", args=[pk])).status_code == 404
    assert client.post(reverse("candidates:exam_environment_secret", args=[pk])).status_code == 404
    assert (
        client.post(reverse("candidates:exam_environment_switch", args=[pk]), {"active": "0"})
    ).status_code == 404


def test_create_shows_the_secret_once(client, world):
    logged_in(client, world.beheerder)
    response = client.post(
        CREATE,
        {
            "name": "  Toets  speler ",
            "redirect_uris": f"{REDIRECT_URI}\n\nhttps://toets.example.test/tweede\n",
            "post_logout_redirect_uris": "https://toets.example.test/uit",
            "allow_staff": "on",
        },
    )
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    page = response.content.decode()
    secret = secret_on(page)
    environment = ExamEnvironment.objects.get()
    app = environment.application
    assert (app.name, environment.allow_staff) == ("Toets speler", True)
    assert app.redirect_uris.split() == [REDIRECT_URI, "https://toets.example.test/tweede"]
    assert check_password(secret, app.client_secret)
    assert app.client_id in page
    row = AuditLog.objects.get(action=AuditLog.Action.EXAM_ENVIRONMENT_CREATED)
    assert row.after["redirect_uris"] == app.redirect_uris.split()
    # Never again: not on the list, not on the edit page.
    assert secret not in client.get(LIST).content.decode()
    edit = client.get(reverse("candidates:exam_environment_edit", args=[environment.pk]))
    assert secret not in edit.content.decode()
    assert "Toets speler" in client.get(LIST).content.decode()


@pytest.mark.parametrize(
    ("uris", "message"),
    [
        ("", "Dit veld is verplicht."),
        ("toets.example.test/cb",
         "Terugstuuradressen (redirect URI&#x27;s), regel 1: &#x27;toets.example.test/cb&#x27; "
         "is geen volledig webadres; begin met https://."),
        (f"{REDIRECT_URI}\njavascript:alert(1)",
         "regel 2: &#x27;javascript:alert(1)&#x27; is geen volledig webadres"),
        ("https://a.example/cb#frag", "mag geen # bevatten"),
        ("https://a.example:99999/cb", "is geen geldig webadres"),
    ],
)  # fmt: skip
def test_bad_addresses_get_a_dutch_message(client, world, uris, message):
    logged_in(client, world.beheerder)
    response = client.post(CREATE, {"name": "Toetsspeler", "redirect_uris": uris})
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not ExamEnvironment.objects.exists()


def test_edit_is_audited_with_before_and_after(client, world, registered):
    environment = registered.environment
    url = reverse("candidates:exam_environment_edit", args=[environment.pk])
    logged_in(client, world.beheerder)
    data = {"name": "Toetsspeler", "redirect_uris": REDIRECT_URI}
    response = client.post(url, data, follow=True)
    assert "Er was niets gewijzigd." in response.content.decode()
    client.post(url, {**data, "name": "Toetsspeler 2", "allow_staff": "on"})
    row = AuditLog.objects.get(action=AuditLog.Action.EXAM_ENVIRONMENT_CHANGED)
    assert (row.before, row.after) == (
        {"allow_staff": False, "name": "Toetsspeler"},
        {"allow_staff": True, "name": "Toetsspeler 2"},
    )
    page = client.get(reverse("candidates:audit")).content.decode()
    assert "Medewerkers mogen inloggen" in page


def test_new_secret_replaces_the_old_one(client, world, registered):
    environment = registered.environment
    logged_in(client, world.beheerder)
    response = client.post(reverse("candidates:exam_environment_secret", args=[environment.pk]))
    secret = secret_on(response.content.decode())
    environment.application.refresh_from_db()
    assert check_password(secret, environment.application.client_secret)
    assert not check_password(registered.client_secret, environment.application.client_secret)
    assert AuditLog.objects.filter(action=AuditLog.Action.EXAM_ENVIRONMENT_SECRET).count() == 1
    assert (
        client.get(reverse("candidates:exam_environment_secret", args=[environment.pk])).status_code
        == 405
    )


def test_switch_off_and_on(client, world, registered):
    environment = registered.environment
    url = reverse("candidates:exam_environment_switch", args=[environment.pk])
    logged_in(client, world.beheerder)
    response = client.post(url, {"active": "0"}, follow=True)
    assert "Toetsspeler staat uit; wie er nu was ingelogd, is uitgelogd." in (
        response.content.decode()
    )
    environment.refresh_from_db()
    assert environment.active is False
    client.post(url, {"active": "1"})
    environment.refresh_from_db()
    assert environment.active is True
    rows = AuditLog.objects.filter(action=AuditLog.Action.EXAM_ENVIRONMENT_CHANGED).order_by("id")
    assert [(r.before, r.after) for r in rows] == [
        ({"enabled": True}, {"enabled": False}),
        ({"enabled": False}, {"enabled": True}),
    ]


def test_settings_nav_has_the_tab(client, world):
    page = logged_in(client, world.beheerder).get(reverse("candidates:settings")).content.decode()
    assert f'href="{LIST}">Toetsomgevingen</a>' in page
