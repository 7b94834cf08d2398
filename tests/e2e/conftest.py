"""End-to-end tests: the app under pytest-django's `live_server` (a thread of this process, on
the test database, hence transactional_db), driven by Debian's Chromium (tests/helpers/services.py).

Shared here:
- `people`: one college with staff and candidates with real names, because they appear in the
  user guide's screenshots (docs/handleiding/), plus a second college that must stay invisible;
- `page`: the services fixture's page, watched: a Content-Security-Policy violation, a
  JavaScript error or a server error fails the test, and so does a page that was loaded but
  never checked with axe-core;
- `e2e`: log in through the login form, open a path, check a page (axe-core: nothing serious
  or critical) and photograph it (test-artifacts/screenshots/, and docs/handleiding/img/ with
  KB_GUIDE_SCREENSHOTS=1).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.models import Organisation, Role, User
from candidates.models import Candidate, CandidateGroup
from tests.factories import (
    TEST_PASSWORD,
    CandidateFactory,
    GroupFactory,
    OrganisationFactory,
    UserFactory,
)
from tests.helpers.browser import assert_accessible, screenshot
from tests.helpers.services import _test_failed

# --- People ------------------------------------------------------------------------------------


@dataclass
class People:
    college: Organisation
    beheerder: User
    coordinator: User
    other_coordinator: User
    supervisor: User
    other_supervisor: User
    nursing: CandidateGroup  # coordinator and supervisor are linked to it
    technical: CandidateGroup  # other_coordinator and other_supervisor
    lotte: Candidate  # nursing
    daan: Candidate  # nursing
    ruben: Candidate  # nursing, account expired
    bram: Candidate  # technical
    noor: Candidate  # technical, linked to the supervisor directly
    outsider: Candidate  # another college
    candidates: list[Candidate] = field(default_factory=list)


def _staff(college, username, first, last, role, prefix=""):
    return UserFactory(
        organisation=college,
        username=username,
        first_name=first,
        surname_prefix=prefix,
        last_name=last,
        email=f"{username}@rocmidden.example",
        role=role,
    )


def _candidate(college, number, username, first, last, groups, prefix="", **user):
    return CandidateFactory(
        organisation=college,
        candidate_number=number,
        groups=groups,
        user__username=username,
        user__first_name=first,
        user__surname_prefix=prefix,
        user__last_name=last,
        user__email=f"{username}@leerling.example",
        **{f"user__{k}": v for k, v in user.items()},
    )


@pytest.fixture
def people(transactional_db) -> People:
    college = OrganisationFactory(name="ROC Midden", code="rocm")
    beheerder = _staff(college, "m.jansen", "Marieke", "Jansen", Role.BEHEERDER)
    coordinator = _staff(college, "f.elamrani", "Fatima", "Amrani", Role.TOETSCOORDINATOR, "el")
    other_coordinator = _staff(college, "t.dekker", "Tom", "Dekker", Role.TOETSCOORDINATOR)
    supervisor = _staff(college, "p.devries", "Pieter", "Vries", Role.BEGELEIDER, "de")
    other_supervisor = _staff(college, "s.bakker", "Sanne", "Bakker", Role.BEGELEIDER)
    nursing = GroupFactory(
        organisation=college,
        name="Verpleegkunde 2025",
        coordinators=[coordinator],
        supervisors=[supervisor],
    )
    technical = GroupFactory(
        organisation=college,
        name="Techniek 2025",
        coordinators=[other_coordinator],
        supervisors=[other_supervisor],
    )
    today = timezone.localdate()
    until = today + timedelta(days=240)
    lotte = _candidate(
        college, "0100001", "l.visser", "Lotte", "Visser", [nursing], valid_until=until
    )
    daan = _candidate(college, "0100002", "d.smit", "Daan", "Smit", [nursing], valid_until=until)
    ruben = _candidate(
        college,
        "0100005",
        "r.meijer",
        "Ruben",
        "Meijer",
        [nursing],
        valid_from=today - timedelta(days=400),
        valid_until=today - timedelta(days=30),
    )
    bram = _candidate(college, "0100003", "b.mulder", "Bram", "Mulder", [technical])
    noor = _candidate(college, "0100004", "n.deboer", "Noor", "Boer", [technical], prefix="de")
    noor.supervisors.set([supervisor])
    other_college = OrganisationFactory(name="ROC Anders", code="roca")
    foreign = GroupFactory(organisation=other_college, name="Verpleegkunde 2025")
    outsider = _candidate(other_college, "0100001", "e.vos", "Eva", "Vos", [foreign])
    return People(
        college=college,
        beheerder=beheerder,
        coordinator=coordinator,
        other_coordinator=other_coordinator,
        supervisor=supervisor,
        other_supervisor=other_supervisor,
        nursing=nursing,
        technical=technical,
        lotte=lotte,
        daan=daan,
        ruben=ruben,
        bram=bram,
        noor=noor,
        outsider=outsider,
        candidates=[lotte, daan, ruben, bram, noor],
    )


# --- Broker -----------------------------------------------------------------------------------


@pytest.fixture(autouse=True)
def _own_redis_database(monkeypatch):
    """The worker tests of the main suite use Redis database 15 and empty it before and after
    each test; a suite running beside this one (another checkout, CI) would take or delete
    the import this scenario queued. The e2e tests use their own database."""
    if "KB_TEST_BROKER_URL" not in os.environ:
        monkeypatch.setenv(
            "KB_TEST_BROKER_URL", os.environ.get("KB_E2E_BROKER_URL", "redis://127.0.0.1:6379/13")
        )


# --- A watched page ----------------------------------------------------------------------------


class PageWatch:
    """What went wrong in the browser, and which loaded pages were checked with axe."""

    def __init__(self, page) -> None:
        self.problems: list[str] = []
        self.loaded: set[str] = set()
        self.checked: set[str] = set()
        page.on("console", self._console)
        page.on("pageerror", lambda error: self.problems.append(f"JavaScript error: {error}"))
        page.on("response", self._response)
        page.on("load", lambda p: self.loaded.add(p.url))

    def _console(self, message) -> None:
        text = message.text
        if "Content Security Policy" in text or "Refused to" in text:
            self.problems.append(f"CSP: {text}")

    def _response(self, response) -> None:
        if response.status >= 500:
            self.problems.append(f"HTTP {response.status} for {response.url}")

    def unchecked(self) -> set[str]:
        return self.loaded - self.checked


@pytest.fixture
def page(page, request):
    """The services fixture's page (Debian's Chromium, 1280×800, nl-NL), watched."""
    watch = PageWatch(page)
    page.kb_watch = watch
    yield page
    if _test_failed(request):
        return  # the failure says enough; a half-walked page list would only add noise
    assert not watch.problems, "problems in the browser:\n" + "\n".join(watch.problems)
    assert not watch.unchecked(), f"pages loaded but never checked with axe: {watch.unchecked()}"


def watch(page) -> PageWatch:
    """A page from another context (a second user) gets the same watch."""
    if not hasattr(page, "kb_watch"):
        page.kb_watch = PageWatch(page)
    return page.kb_watch


# --- The helper the tests use ------------------------------------------------------------------


class E2E:
    def __init__(self, page, base_url: str) -> None:
        self.page = page
        self.base_url = base_url

    def url(self, path: str) -> str:
        return self.base_url + path

    def goto(self, path: str, label: str, *, page=None) -> None:
        page = page or self.page
        page.goto(self.url(path))
        self.check(label, page=page)

    def check(self, label: str, *, page=None) -> None:
        """The page as the user now sees it passes axe-core (nothing serious or critical)."""
        page = page or self.page
        page.wait_for_load_state("load")
        assert_accessible(page, label)
        watch(page).checked.add(page.url)

    def shot(self, name: str, *, guide: bool = False, full_page: bool = False, page=None):
        return screenshot(page or self.page, name, guide=guide, full_page=full_page)

    def step(self, name: str, *, guide: bool = False, full_page: bool = False, page=None):
        """Check and photograph: what each wizard step gets."""
        self.check(name, page=page)
        return self.shot(name, guide=guide, full_page=full_page, page=page)

    def login(self, user: User, *, password: str = TEST_PASSWORD, page=None, shot: str = ""):
        """Log in through the form, as a person does; `shot` photographs the filled form."""
        page = page or self.page
        self.goto("/inloggen/", "inloggen", page=page)
        page.get_by_label("Gebruikersnaam").fill(user.username)
        page.get_by_label("Wachtwoord").fill(password)
        if shot:
            self.shot(shot, guide=True, page=page)
        page.get_by_role("button", name="Inloggen").click()
        page.wait_for_load_state("load")

    def logout(self, *, page=None) -> None:
        page = page or self.page
        page.get_by_role("button", name="Uitloggen").click()
        page.wait_for_url("**/inloggen/")
        self.check("inloggen", page=page)

    def menu(self, item: str, *, page=None) -> None:
        """'Beheer' → item, through the main menu, the way staff reach every back-office page."""
        page = page or self.page
        nav = page.get_by_role("navigation", name="Hoofdmenu")
        nav.get_by_role("button", name="Beheer").click()
        nav.get_by_role("link", name=item, exact=True).click()
        page.wait_for_load_state("load")


@pytest.fixture
def e2e(page, live_server) -> E2E:
    return E2E(page, live_server.url)


@pytest.fixture
def second_page(browser, live_server, request):
    """A second browser (own cookies) for another person, e.g. a candidate logging in."""
    context = browser.new_context(viewport={"width": 1280, "height": 800}, locale="nl-NL")
    other = context.new_page()
    other.set_default_timeout(5000)
    w = watch(other)
    yield other
    context.close()
    if _test_failed(request):
        return
    assert not w.problems, "problems in the second browser:\n" + "\n".join(w.problems)
    assert not w.unchecked(), f"pages loaded but never checked with axe: {w.unchecked()}"
