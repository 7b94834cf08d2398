"""A beheerder links the exam environment 'Toetsspeler' under Instellingen → Toetsomgevingen;
a candidate goes from Toetsspeler through our login page (which names it) and back with a code
that the environment redeems; a candidate of another college is told why not and is led back
with error=access_denied. The exam environment's own pages come from a small HTTP server the
test starts on this machine, which records where the browser arrived."""

from __future__ import annotations

import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import pytest
from playwright.sync_api import expect

from tests.helpers.exam import ExamEnvironmentClient, exam_issuer  # noqa: F401

pytestmark = pytest.mark.django_db(transaction=True)

EXAM_PAGE = """<!doctype html><html lang="nl"><head><meta charset="utf-8">
<title>Toetsspeler</title></head><body><main><h1>Toetsspeler</h1>
<p>Terug bij de toetsomgeving.</p></main></body></html>"""


class ExamSite:
    def __init__(self) -> None:
        self.arrivals: list[str] = []
        site = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                site.arrivals.append(self.path)
                body = EXAM_PAGE.encode()
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.redirect_uri = f"http://127.0.0.1:{self.server.server_port}/auth/callback"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def arrival_query(self) -> dict[str, list[str]]:
        [arrival] = [a for a in self.arrivals if a.startswith("/auth/callback")]
        return parse_qs(urlsplit(arrival).query)


@pytest.fixture
def exam_site():
    site = ExamSite()
    yield site
    site.server.shutdown()
    site.server.server_close()


def register_toetsspeler(e2e, redirect_uri: str) -> tuple[str, str]:
    page = e2e.page
    e2e.check("kandidaten")
    e2e.menu("Instellingen")
    e2e.check("instellingen")
    page.get_by_role("link", name="Toetsomgevingen").click()
    e2e.step("toetsomgevingen-leeg")
    page.get_by_role("link", name="Nieuwe toetsomgeving").click()
    e2e.check("toetsomgeving-nieuw")
    page.get_by_label("Naam").fill("Toetsspeler")
    page.get_by_label("Terugstuuradressen (redirect URI's)").fill("toets.example.test/cb")
    page.get_by_role("button", name="Koppelen").click()
    expect(page.locator("main")).to_contain_text(
        "regel 1: 'toets.example.test/cb' is geen volledig webadres; begin met https://."
    )
    e2e.check("toetsomgeving-fout-adres")
    page.get_by_label("Terugstuuradressen (redirect URI's)").fill(redirect_uri)
    page.get_by_role("button", name="Koppelen").click()
    expect(page.get_by_role("heading", name="Toetsspeler is gekoppeld")).to_be_visible()
    e2e.step("toetsomgeving-geheim", guide=True)
    client_id = page.locator("#client-id").inner_text()
    secret = page.locator("#client-secret").inner_text()
    page.get_by_role("link", name="Klaar").click()
    expect(page.get_by_role("table", name="Toetsomgevingen van de school")).to_contain_text(
        "Toetsspeler"
    )
    e2e.step("toetsomgevingen", guide=True)
    return client_id, secret


def test_candidate_signs_in_to_the_exam_environment(
    e2e,
    people,
    second_page,
    exam_site,
    exam_issuer,  # noqa: F811
):
    e2e.login(people.beheerder)
    client_id, secret = register_toetsspeler(e2e, exam_site.redirect_uri)
    exam = ExamEnvironmentClient(exam_issuer, client_id, secret, exam_site.redirect_uri)

    # Lotte starts at Toetsspeler, which sends her to us.
    second_page.goto(exam.authorize_url())
    expect(second_page).to_have_url(re.compile(r"/inloggen/\?next="))
    expect(second_page.get_by_role("status")).to_contain_text(
        "Log in om verder te gaan naar Toetsspeler van ROC Midden."
    )
    e2e.step("toetsomgeving-inloggen", guide=True, page=second_page)
    second_page.get_by_label("Gebruikersnaam").fill("l.visser")
    second_page.get_by_label("Wachtwoord").fill("Correct-Paard-Batterij-7")
    second_page.get_by_role("button", name="Inloggen").click()
    expect(second_page.get_by_role("heading", name="Toetsspeler")).to_be_visible()
    e2e.check("toetsspeler-terug", page=second_page)

    query = {k: v[0] for k, v in exam_site.arrival_query().items()}
    assert query["state"] == exam.state
    tokens = exam.redeem(query["code"]).json()
    claims = exam.verified_claims(tokens["id_token"])
    assert (claims["name"], claims["candidate_number"], claims["groups"]) == (
        "Lotte Visser",
        "0100001",
        ["Verpleegkunde 2025"],
    )

    # Her history says where she signed in.
    e2e.goto(f"/beheer/kandidaten/{people.lotte.pk}/wijzigen/", "kandidaat-geschiedenis-toets")
    expect(e2e.page.get_by_role("table", name="Geschiedenis van deze kandidaat")).to_contain_text(
        "Ingelogd bij Toetsspeler"
    )


def test_candidate_of_another_college_is_told_why_and_led_back(
    e2e,
    people,
    second_page,
    exam_site,
    exam_issuer,  # noqa: F811
):
    e2e.login(people.beheerder)
    client_id, secret = register_toetsspeler(e2e, exam_site.redirect_uri)
    exam = ExamEnvironmentClient(exam_issuer, client_id, secret, exam_site.redirect_uri)
    second_page.goto(exam.authorize_url())
    e2e.check("toetsomgeving-inloggen-andere-school", page=second_page)
    second_page.get_by_label("Gebruikersnaam").fill("e.vos")
    second_page.get_by_label("Wachtwoord").fill("Correct-Paard-Batterij-7")
    second_page.get_by_role("button", name="Inloggen").click()
    expect(second_page.get_by_role("alert")).to_have_text(
        "Deze toetsomgeving hoort bij een andere school"
    )
    e2e.step("toetsomgeving-geweigerd", guide=True, page=second_page)
    second_page.get_by_role("link", name="Terug naar Toetsspeler").click()
    expect(second_page.get_by_role("heading", name="Toetsspeler")).to_be_visible()
    e2e.check("toetsspeler-geweigerd-terug", page=second_page)
    query = exam_site.arrival_query()
    assert query["error"] == ["access_denied"]
    assert "code" not in query
