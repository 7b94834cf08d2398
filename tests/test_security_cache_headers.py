"""Shared school computers: nothing a logged-in user saw may stay in the browser's cache, so
every response to a logged-in user says `Cache-Control: private, no-store` (pages, downloads,
wizard steps, redirects). Anonymous pages and static files keep their own caching."""

from __future__ import annotations

import pytest
from django.test import Client, override_settings
from django.urls import reverse

from .helpers.candidates import logged_in
from .helpers.imports import make_batch, people, xlsx_bytes

pytestmark = pytest.mark.django_db


def directives(response) -> set[str]:
    return {part.strip() for part in response.get("Cache-Control", "").split(",") if part.strip()}


def assert_private_no_store(response) -> None:
    assert {"private", "no-store"} <= directives(response), response.get("Cache-Control")
    assert "public" not in directives(response)


def test_pages_of_a_logged_in_user_are_private_and_not_stored(client, world):
    client = logged_in(client, world.coordinator)
    draft = make_batch(world.coordinator, xlsx_bytes(people(2)), "concept.xlsx")

    responses = {
        "home": client.get(reverse("accounts:home")),
        "list": client.get(reverse("candidates:list")),
        "groups": client.get(reverse("candidates:groups")),
        "upload step": client.get(reverse("imports:start")),
        "wizard step": client.get(reverse("imports:mapping", args=[draft.pk])),
        "progress json": client.get(reverse("imports:progress", args=[draft.pk])),
        "not found": client.get("/bestaat-niet/"),
    }

    assert {name: r.status_code for name, r in responses.items()} == {
        "home": 302,  # to the coordinator's start page: a redirect is marked too
        "list": 200,
        "groups": 200,
        "upload step": 200,
        "wizard step": 200,
        "progress json": 200,
        "not found": 404,
    }
    for response in responses.values():
        assert_private_no_store(response)


def test_downloads_of_a_logged_in_user_are_private_and_not_stored(client, world):
    client = logged_in(client, world.beheerder)
    draft = make_batch(world.beheerder, xlsx_bytes(people(2)), "concept.xlsx")
    list_url = reverse("candidates:list") + "?q=&sort=name"
    ids = [world.in_own_group.pk]

    xlsx = client.post(list_url, {"action": "export", "ids": ids})
    pdf = client.post(list_url, {"action": "print_credentials", "ids": ids})
    example = client.get(reverse("imports:example"))
    errors = client.get(reverse("imports:errors", args=[draft.pk]))

    for response, content_type in [
        (xlsx, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
        (pdf, "application/pdf"),
        (example, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
        (errors, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    ]:
        assert (response.status_code, response["Content-Type"]) == (200, content_type)
        assert_private_no_store(response)


def test_logging_in_and_out_are_marked_too(client, world):
    world.beheerder.set_password("Geheim-wachtwoord-1")
    world.beheerder.save()

    login = client.post(
        reverse("accounts:login"),
        {"username": "beheerder", "password": "Geheim-wachtwoord-1"},
        REMOTE_ADDR="10.0.0.1",
    )
    logout = client.post(reverse("accounts:logout"))

    assert login.status_code == 302 and logout.status_code == 302
    assert_private_no_store(login)
    assert_private_no_store(logout)


def test_anonymous_pages_keep_their_own_caching(client):
    """Nothing personal on them, so they are left as the views make them: the 404 page says
    nothing about caching, the login page keeps Django's own never-cache headers."""
    not_found = client.get("/bestaat-niet/")
    login = client.get(reverse("accounts:login"))

    assert (not_found.status_code, not_found.get("Cache-Control")) == (404, None)
    assert login.status_code == 200
    assert "private" in directives(login)  # Django's never_cache on the login view
    assert "max-age=0" in directives(login)


@override_settings(WHITENOISE_USE_FINDERS=True, WHITENOISE_AUTOREFRESH=True)
def test_static_files_stay_cacheable_for_a_logged_in_user(world):
    """Whitenoise answers before the session is even read: a stylesheet is the same for all."""
    client = Client()  # a fresh handler, so whitenoise starts with the settings above
    client.force_login(world.beheerder)

    response = client.get("/static/css/app.css")

    assert response.status_code == 200
    assert "no-store" not in directives(response)
    assert "private" not in directives(response)
