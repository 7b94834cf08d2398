"""'Log in als deze gebruiker' through django-hijack with our own permission check. Staff sign in
here in a session that passed the second factor, which impersonation needs (without it:
tests/test_two_factor_access.py)."""

import re

import pytest
from django.test import Client
from django.urls import reverse

from accounts.models import AuditLog, Role

from .factories import UserFactory
from .helpers.candidates import days, logged_in, make_candidate, make_superuser, rows
from .helpers.two_factor import verified

ACQUIRE = reverse("hijack:acquire")
RELEASE = reverse("hijack:release")
ME = reverse("candidates:me")


def edit_url(candidate):
    return reverse("candidates:edit", args=[candidate.pk])


def start(client, target, ip="10.9.8.7"):
    return client.post(ACQUIRE, {"user_pk": target.pk, "next": ME}, REMOTE_ADDR=ip)


def current_user_id(client):
    return client.session.get("_auth_user_id")


# --- Who may become whom -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("role", "kind", "status"),
    [
        ("beheerder", "in_own_group", 302),
        ("beheerder", "in_other_group", 302),
        ("beheerder", "directly_linked", 302),
        ("beheerder", "of_other_college", 404),
        ("coordinator", "in_own_group", 302),
        ("coordinator", "in_other_group", 404),
        ("coordinator", "directly_linked", 404),
        ("coordinator", "of_other_college", 404),
        ("supervisor", "in_own_group", 403),
        ("supervisor", "directly_linked", 403),
        ("supervisor", "in_other_group", 404),
        ("outsider", "in_own_group", 404),
        ("outsider", "of_other_college", 302),
    ],
)
def test_impersonation_rules_per_role(client, world, role, kind, status):
    """A candidate the actor cannot see is a 404, as if there were no such id; one they see
    but may not become is a 403."""
    actor, target = getattr(world, role), getattr(world, kind)
    response = start(verified(client, actor), target.user)
    assert response.status_code == status
    if status == 302:
        assert response["Location"] == ME
        assert current_user_id(client) == str(target.pk)
    else:
        assert current_user_id(client) == str(actor.pk)


def test_ids_of_other_colleges_answer_like_ids_that_do_not_exist(client, world):
    """The form must not tell which user ids exist elsewhere: another college's candidate,
    its beheerder and an unused id give the same 404."""
    client = verified(client, world.beheerder)
    unused = max(world.outsider.pk, world.of_other_college.pk) + 1000
    for pk in (world.of_other_college.pk, world.outsider.pk, unused):
        response = client.post(ACQUIRE, {"user_pk": pk, "next": ME})
        assert response.status_code == 404
    assert current_user_id(client) == str(world.beheerder.pk)
    assert rows(AuditLog.Action.IMPERSONATION_STARTED) == []


@pytest.mark.parametrize("target", ["beheerder", "coordinator", "other_coordinator", "supervisor"])
def test_nobody_becomes_staff(client, world, target):
    response = start(verified(client, world.beheerder), getattr(world, target))
    assert response.status_code == 403


def test_nobody_becomes_a_superuser(client, world):
    root = make_superuser()
    root.organisation = world.college
    root.role = Role.KANDIDAAT  # even when it looks like a candidate of the college
    root.save()
    # Not a candidate record of the college, so not visible: the same 404 as no such id.
    assert start(verified(client, world.beheerder), root).status_code == 404


def test_nobody_becomes_an_inactive_or_expired_candidate(client, world):
    inactive = make_candidate(world, user__is_active=False)
    expired = make_candidate(world, user__valid_until=days(-1))
    not_yet = make_candidate(world, user__valid_from=days(3))
    client = verified(client, world.beheerder)
    for candidate in (inactive, expired, not_yet):
        assert start(client, candidate.user).status_code == 403
    assert current_user_id(client) == str(world.beheerder.pk)


def test_a_candidate_cannot_impersonate(client, world):
    other = world.in_other_group.user
    response = start(logged_in(client, world.in_own_group.user), other)
    assert response.status_code == 404  # a candidate sees no one but themself


def test_anonymous_is_sent_to_login(client, world):
    response = start(client, world.in_own_group.user)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login"))


def test_get_is_not_allowed(client, world):
    client = verified(client, world.beheerder)
    response = client.get(ACQUIRE, {"user_pk": world.in_own_group.pk})
    assert response.status_code in (400, 405)
    assert current_user_id(client) == str(world.beheerder.pk)


def test_csrf_is_enforced(world):
    client = verified(Client(enforce_csrf_checks=True), world.beheerder)
    response = start(client, world.in_own_group.user)
    assert response.status_code == 403
    assert current_user_id(client) == str(world.beheerder.pk)
    # With the token from the profile page it works.
    page = client.get(edit_url(world.in_own_group)).content.decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
    response = client.post(
        ACQUIRE, {"user_pk": world.in_own_group.pk, "next": ME, "csrfmiddlewaretoken": token}
    )
    assert response.status_code == 302
    assert current_user_id(client) == str(world.in_own_group.pk)


# --- The round trip ------------------------------------------------------------------------------


def test_start_and_return_rotate_the_session_and_are_audited(client, world):
    candidate = world.in_own_group
    client = verified(client, world.beheerder)
    before = client.session.session_key

    assert start(client, candidate.user).status_code == 302
    during = client.session.session_key
    assert during != before

    page = client.get(ME)
    html = page.content.decode()
    assert page.status_code == 200
    assert "Je bent ingelogd als Anna Eigen (kand-own)" in html
    assert "Terug naar je eigen account" in html
    assert "Mijn gegevens" in html and "0000001" in html

    response = client.post(RELEASE, {"next": edit_url(candidate)}, REMOTE_ADDR="10.9.8.7")
    assert response.status_code == 302
    assert response["Location"] == edit_url(candidate)  # back on that candidate's profile
    assert client.session.session_key not in (before, during)
    assert current_user_id(client) == str(world.beheerder.pk)
    assert "Je bent ingelogd als" not in client.get(edit_url(candidate)).content.decode()

    (started,) = rows(AuditLog.Action.IMPERSONATION_STARTED)
    assert (started.actor, started.target_user) == (world.beheerder, candidate.user)
    assert started.ip_address == "10.9.8.7"
    assert started.organisation == world.college
    (ended,) = rows(AuditLog.Action.IMPERSONATION_ENDED)
    assert (ended.actor, ended.target_user) == (world.beheerder, candidate.user)
    # Never recorded as the candidate's own login, nor does it touch last_login.
    assert rows(AuditLog.Action.LOGIN, candidate) == []
    candidate.user.refresh_from_db()
    assert candidate.user.last_login is None


def test_the_banner_works_under_the_content_security_policy(client, world):
    client = verified(client, world.coordinator)
    start(client, world.in_own_group.user)
    response = client.get(ME)
    html = response.content.decode()
    assert "script-src 'self'" in response["Content-Security-Policy"]
    # The banner is a plain form: no inline script, no style attribute to be blocked.
    assert re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html) is None
    assert "style=" not in html
    assert f'action="{RELEASE}"' in html


def test_profile_history_shows_impersonation_as_such(client, world):
    client = verified(client, world.beheerder)
    start(client, world.in_own_group.user)
    client.post(RELEASE, {"next": edit_url(world.in_own_group)})
    page = client.get(edit_url(world.in_own_group)).content.decode()
    assert "Ingelogd als andere gebruiker" in page
    assert "Terug naar eigen account" in page
    assert ">Ingelogd<" not in page


def test_candidate_pages_of_the_admin_are_closed_while_impersonating(client, world):
    client = verified(client, world.beheerder)
    start(client, world.in_own_group.user)
    assert client.get(reverse("candidates:list")).status_code == 403


# --- The button on the profile -----------------------------------------------------------------


def test_button_is_shown_only_when_allowed(client, world):
    client = verified(client, world.beheerder)
    page = client.get(edit_url(world.in_own_group)).content.decode()
    assert "Log in als deze gebruiker" in page
    assert f'action="{ACQUIRE}"' in page
    assert f'name="user_pk" value="{world.in_own_group.pk}"' in page
    inactive = make_candidate(world, user__is_active=False)
    assert "Log in als deze gebruiker" not in client.get(edit_url(inactive)).content.decode()


def test_supervisor_staff_never_a_target_even_when_linked(client, world):
    supervisor = UserFactory(organisation=world.college, role=Role.BEGELEIDER)
    world.own_group.supervisors.add(supervisor)
    assert start(verified(client, world.coordinator), supervisor).status_code == 403
