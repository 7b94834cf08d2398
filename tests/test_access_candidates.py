"""Every new URL × every role × own group / other group / other college.

Expected outcomes: 200 (or a 302 after a successful POST) where allowed, 403 for a role that
may never use the page, 404 for an object the user may not see (another group or college: the
id gives nothing away), and a redirect to the login page for anonymous visitors. Every HTML
page that opens is also checked for inline script and style attributes, which our
Content-Security-Policy would block.
"""

import re

import pytest
from django.urls import reverse

from accounts.models import Role

from .factories import UserFactory

ROLES = ["anonymous", "beheerder", "coordinator", "supervisor", "candidate", "outsider"]
OK, FORBIDDEN, HIDDEN, LOGIN = "ok", 403, 404, "login"


def actor(world, role):
    if role == "candidate":
        return world.in_own_group.user
    return None if role == "anonymous" else getattr(world, role)


# (url name, object kind or None, method, {role: outcome})
PAGES = [
    ("candidates:list", None, "get", {"beheerder": OK, "coordinator": OK, "outsider": OK}),
    ("candidates:groups", None, "get", {"beheerder": OK, "coordinator": OK, "outsider": OK}),
    ("candidates:group_create", None, "get", {"beheerder": OK, "coordinator": OK, "outsider": OK}),
    ("candidates:staff", None, "get", {"beheerder": OK, "outsider": OK}),
    ("candidates:staff_create", None, "get", {"beheerder": OK, "outsider": OK}),
    ("candidates:audit", None, "get", {"beheerder": OK, "outsider": OK}),
    ("candidates:settings", None, "get", {"beheerder": OK, "outsider": OK}),
    ("candidates:mine", None, "get", {"supervisor": OK}),
    ("candidates:me", None, "get", {"candidate": OK}),
]

CANDIDATE_KINDS = ["in_own_group", "in_other_group", "of_other_college"]
CANDIDATE_VISIBLE = {
    "beheerder": {"in_own_group", "in_other_group"},
    "coordinator": {"in_own_group"},
    "outsider": {"of_other_college"},
}
CANDIDATE_PAGES = [
    ("candidates:edit", "get"),
    ("candidates:edit", "post"),
    ("candidates:password", "post"),
    ("candidates:links", "post"),
]

GROUP_KINDS = ["own_group", "other_group", "foreign_group"]
GROUP_VISIBLE = {
    "beheerder": {"own_group", "other_group"},
    "coordinator": {"own_group"},
    "outsider": {"foreign_group"},
}
GROUP_PAGES = [
    ("candidates:group_detail", "get"),
    ("candidates:group_edit", "get"),
    ("candidates:group_edit", "post"),
    ("candidates:group_bulk", "post"),
]

STAFF_KINDS = ["coordinator", "supervisor", "beheerder", "foreign_supervisor"]
STAFF_VISIBLE = {"beheerder": {"coordinator", "supervisor"}, "outsider": {"foreign_supervisor"}}
STAFF_PAGES = [
    ("candidates:staff_edit", "get"),
    ("candidates:staff_edit", "post"),
    ("candidates:staff_password", "post"),
]


def expected(role, allowed_roles, visible=None, kind=None):
    if role == "anonymous":
        return LOGIN
    if role not in allowed_roles:
        return FORBIDDEN
    if visible is not None and kind not in visible.get(role, set()):
        return HIDDEN
    return OK


def check(client, world, role, url, method, outcome):
    user = actor(world, role)
    if user is not None:
        client.force_login(user)
    response = getattr(client, method)(url, {})
    if outcome == LOGIN:
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("accounts:login"))
    elif outcome == OK:
        assert response.status_code in (200, 302)
        if response.status_code == 200 and response["Content-Type"].startswith("text/html"):
            html = response.content.decode()
            assert re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html) is None
            assert " style=" not in html
    else:
        assert response.status_code == outcome


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize(("name", "kind", "method", "allowed"), PAGES)
def test_pages(client, world, role, name, kind, method, allowed):
    check(client, world, role, reverse(name), method, expected(role, allowed))


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("kind", CANDIDATE_KINDS)
@pytest.mark.parametrize(("name", "method"), CANDIDATE_PAGES)
def test_candidate_pages(client, world, role, kind, name, method):
    url = reverse(name, args=[getattr(world, kind).pk])
    outcome = expected(role, {"beheerder", "coordinator", "outsider"}, CANDIDATE_VISIBLE, kind)
    check(client, world, role, url, method, outcome)


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("kind", GROUP_KINDS)
@pytest.mark.parametrize(("name", "method"), GROUP_PAGES)
def test_group_pages(client, world, role, kind, name, method):
    url = reverse(name, args=[getattr(world, kind).pk])
    outcome = expected(role, {"beheerder", "coordinator", "outsider"}, GROUP_VISIBLE, kind)
    check(client, world, role, url, method, outcome)


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("kind", STAFF_KINDS)
@pytest.mark.parametrize(("name", "method"), STAFF_PAGES)
def test_staff_pages(client, world, role, kind, name, method):
    if kind == "foreign_supervisor":
        target = UserFactory(organisation=world.other_college, role=Role.BEGELEIDER)
    else:
        target = getattr(world, kind)
    url = reverse(name, args=[target.pk])
    check(
        client,
        world,
        role,
        url,
        method,
        expected(role, {"beheerder", "outsider"}, STAFF_VISIBLE, kind),
    )


@pytest.mark.parametrize(
    "name",
    [
        "candidates:password",
        "candidates:links",
        "candidates:group_bulk",
        "candidates:staff_password",
    ],
)
def test_post_only_urls_refuse_get(client, world, name):
    client.force_login(world.beheerder)
    target = {
        "candidates:password": world.in_own_group.pk,
        "candidates:links": world.in_own_group.pk,
        "candidates:group_bulk": world.own_group.pk,
        "candidates:staff_password": world.supervisor.pk,
    }[name]
    assert client.get(reverse(name, args=[target])).status_code == 405


def test_unknown_ids_are_404(client, world):
    client.force_login(world.beheerder)
    for name in ("candidates:edit", "candidates:group_detail", "candidates:staff_edit"):
        assert client.get(reverse(name, args=[999999])).status_code == 404


def test_inactive_staff_lose_access_at_once(client, world):
    client.force_login(world.coordinator)
    world.coordinator.is_active = False
    world.coordinator.save()
    response = client.get(reverse("candidates:list"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login"))
