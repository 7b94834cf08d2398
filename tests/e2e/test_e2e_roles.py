"""What a begeleider and a candidate see after logging in."""

from __future__ import annotations

import re

import pytest
from django.utils import translation
from django.utils.formats import date_format
from playwright.sync_api import expect

pytestmark = pytest.mark.django_db(transaction=True)


def test_supervisor_sees_exactly_their_candidates(e2e, people):
    page = e2e.page
    e2e.login(people.supervisor)
    expect(page.get_by_role("heading", name="Mijn kandidaten")).to_be_visible()
    e2e.step("begeleider-mijn-kandidaten", guide=True)

    # Only 'Mijn kandidaten' in the menu: no 'Beheer'.
    nav = page.get_by_role("navigation", name="Hoofdmenu")
    expect(nav.get_by_role("link", name="Mijn kandidaten")).to_be_visible()
    expect(nav.get_by_role("button", name="Beheer")).to_have_count(0)

    # The group's candidates (also the expired one) and the one linked directly; nobody of
    # 'Techniek 2025' otherwise, nobody of another college.
    expect(page.get_by_role("status")).to_have_text("4 kandidaten")
    rows = page.get_by_role("table", name="Mijn kandidaten").locator("tbody tr")
    names = [r.split("\t")[0] for r in rows.all_inner_texts()]
    assert names == ["Boer, Noor de", "Meijer, Ruben", "Smit, Daan", "Visser, Lotte"]
    noor = rows.filter(has_text="Noor")
    expect(noor).to_contain_text("direct gekoppeld")
    expect(noor).not_to_contain_text("Techniek 2025")
    expect(rows.filter(has_text="Lotte")).to_contain_text("groep Verpleegkunde 2025")
    expect(page.locator("main")).not_to_contain_text("Bram")
    expect(page.locator("main")).not_to_contain_text("Eva")

    # Searching stays within the same candidates.
    page.get_by_label("Zoeken").fill("mulder")
    page.get_by_role("button", name="Zoeken").click()
    e2e.check("begeleider-zoeken-leeg")
    expect(page.get_by_role("status")).to_have_text("0 kandidaten")
    expect(page.locator("main tbody")).to_contain_text("Geen kandidaten gevonden.")
    page.get_by_label("Zoeken").fill("noor")
    page.get_by_role("button", name="Zoeken").click()
    e2e.check("begeleider-zoeken")
    expect(page.get_by_role("status")).to_have_text("1 kandidaat")

    # The administration is closed to a begeleider.
    response = page.goto(e2e.url("/beheer/kandidaten/"))
    assert response.status == 403
    e2e.check("begeleider-geen-toegang")


def test_expired_candidate_is_told_why(e2e, people):
    page = e2e.page
    e2e.login(people.ruben.user)
    expect(page).to_have_url(re.compile(r"/inloggen/$"))
    e2e.check("inloggen-verlopen")
    with translation.override("nl"):
        until = date_format(people.ruben.user.valid_until, "j F Y")
    alert = page.get_by_role("alert")
    expect(alert).to_have_text(
        f"Je account was geldig tot en met {until} en is verlopen. Neem contact op met je "
        "docent of de beheerder van je school."
    )
    expect(alert).to_be_focused()  # focus-on-load.js: read out at once
    e2e.shot("inloggen-verlopen", guide=True)
    # Not logged in: the candidate's own page sends back to the login form.
    page.goto(e2e.url("/beheer/mijn-gegevens/"))
    expect(page).to_have_url(re.compile(r"/inloggen/\?next="))
    e2e.check("inloggen")

    # A wrong password gets its own message, not the expiry.
    page.get_by_label("Gebruikersnaam").fill(people.lotte.user.username)
    page.get_by_label("Wachtwoord").fill("niet-het-wachtwoord")
    page.get_by_role("button", name="Inloggen").click()
    page.wait_for_load_state("load")
    e2e.check("inloggen-fout")
    expect(page.get_by_role("alert")).to_have_text(
        "Gebruikersnaam of wachtwoord is onjuist. Let op: het wachtwoord is hoofdlettergevoelig."
    )
