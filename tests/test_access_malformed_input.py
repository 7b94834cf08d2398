"""Malformed input never makes a 500: every URL pattern of the project with ids out of range,
non-numeric ids and malformed UUIDs, and every GET filter with extreme or broken dates, as
each staff role. A 404 or a page with a form error is the answer."""

from __future__ import annotations

import re

import pytest
from django.urls import URLPattern, URLResolver, get_resolver

from accounts.models import Role

HUGE = "99999999999999999999999"  # beyond a 64-bit integer
BAD_VALUES = [HUGE, "9999999999999999999999999", "-1", "0", "abc", "1e5", "12-34"]
BAD_UUIDS = [
    "not-a-uuid",
    "00000000-0000-0000-0000-00000000000g",
    "00000000-0000-0000-0000-000000000000",
    "ffffffff-ffff-ffff-ffff-ffffffffffff",
]
EXTREME_DATES = ["9999-12-31", "0001-01-01", "abc", "31-12-9999", "2024-02-30", "-1"]
# 200: a page (perhaps with a form error); 302: to the login or back to the page; 400: bad
# request (CSRF, hijack's own checks); 403: the role may not; 404: no such thing; 405: GET on
# a POST-only view; 401: an OpenID Connect endpoint called without a client or token.
ALLOWED = {200, 302, 400, 401, 403, 404, 405}
PARAM = re.compile(r"<(?:(?P<converter>[^>:]+):)?(?P<name>[^>]+)>")


def _walk(patterns, prefix=""):
    for p in patterns:
        route = prefix + str(p.pattern)
        if isinstance(p, URLResolver):
            yield from _walk(p.url_patterns, route)
        elif isinstance(p, URLPattern):
            yield route


def _routes() -> list[str]:
    """Every route of the project's resolver, with its placeholders (`<int:pk>`, `<uuid:pk>`),
    admin's regex routes left out (only superusers get there, and Django tests them)."""
    return [r for r in _walk(get_resolver().url_patterns) if not r.startswith("platform-admin")]


def _fill(route: str, value: str, uuid: str) -> str:
    def sub(m):
        return uuid if m.group("converter") == "uuid" else value

    return "/" + PARAM.sub(sub, route).lstrip("^").rstrip("$").replace("\\", "")


def _paths() -> list[str]:
    paths = set()
    for route in _routes():
        if not PARAM.search(route):
            paths.add(_fill(route, "", ""))
            continue
        for value in BAD_VALUES:
            for uuid in BAD_UUIDS:
                paths.add(_fill(route, value, uuid))
    return sorted(paths)


def test_the_walk_covers_the_routes_that_take_ids():
    routes = _routes()
    assert "beheer/kandidaten/<int:pk>/wijzigen/" in routes
    assert "beheer/import/<uuid:pk>/resultaat/" in routes
    assert "hijack/acquire/" in routes
    assert "/beheer/kandidaten/99999999999999999999999/wijzigen/" in _paths()


STAFF = ["beheerder", "coordinator", "supervisor", "outsider"]


@pytest.mark.parametrize("role", STAFF)
def test_every_url_with_bad_ids_as_each_staff_role(client, world, role):
    client.force_login(getattr(world, role))
    client.raise_request_exception = False  # collect every 500, not only the first
    failures = []
    for path in _paths():
        for method in ("get", "post"):
            response = getattr(client, method)(path, {"ids": [HUGE, "abc"], "action": "export"})
            if response.status_code not in ALLOWED:
                failures.append((method, path, response.status_code))
    assert failures == []


FILTER_PAGES = {
    "/beheer/kandidaten/": ["q", "group", "status", "validity", "per_page", "sort", "page"],
    "/beheer/kandidaatgroepen/": ["q", "page"],
    "/beheer/auditlog/": ["actor", "action", "candidate", "date_from", "date_to", "page"],
    "/beheer/mijn-kandidaten/": ["q", "page"],
    "/beheer/import/geschiedenis/": ["page"],
}


@pytest.mark.parametrize("role", STAFF)
def test_every_filter_with_extreme_values_as_each_staff_role(client, world, role):
    client.force_login(getattr(world, role))
    client.raise_request_exception = False  # collect every 500, not only the first
    failures = []
    for path, params in FILTER_PAGES.items():
        for value in [*EXTREME_DATES, *BAD_VALUES, "x" * 5000]:
            response = client.get(path, {p: value for p in params})
            if response.status_code not in ALLOWED:
                failures.append((path, value, response.status_code))
            for p in params:
                response = client.get(path, {p: value})
                if response.status_code not in ALLOWED:
                    failures.append((path, p, value[:20], response.status_code))
    assert failures == []


@pytest.mark.parametrize("day", ["9999-12-31", "0001-01-01"])
def test_audit_log_extreme_dates_are_a_form_error(client, world, day):
    client.force_login(world.beheerder)
    response = client.get("/beheer/auditlog/", {"date_from": day, "date_to": day})
    assert response.status_code == 200
    assert response.context["form"].errors == {
        "date_from": ["Kies een datum tussen 1 januari 2000 en 31 december 2999."],
        "date_to": ["Kies een datum tussen 1 januari 2000 en 31 december 2999."],
    }


def test_huge_candidate_id_is_a_404(client, world):
    client.force_login(world.beheerder)
    response = client.get("/beheer/kandidaten/9999999999999999999999999/wijzigen/")
    assert response.status_code == 404


def test_export_with_a_huge_id_is_a_form_error(client, world):
    client.force_login(world.beheerder)
    response = client.post("/beheer/kandidaten/", {"ids": [HUGE], "action": "export"})
    assert response.status_code == 200
    assert "Selecteer eerst een of meer kandidaten." in response.content.decode()


@pytest.mark.parametrize("user_pk", ["abc", HUGE, "-1", ""])
def test_hijack_with_a_malformed_user_pk_is_a_404(client, world, user_pk):
    client.force_login(world.beheerder)
    response = client.post("/hijack/acquire/", {"user_pk": user_pk, "next": "/"})
    assert response.status_code == 404


def test_the_staff_roles_are_the_ones_in_the_product():
    assert {Role.BEHEERDER, Role.TOETSCOORDINATOR, Role.BEGELEIDER} <= set(Role.values)
