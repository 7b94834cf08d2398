"""A beheerder finds a candidate, uses 'Wijzig deze gebruiker' to give
a new password and change the group, then 'Log in als deze gebruiker' and back."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from accounts.models import AuditLog
from tests.helpers.two_factor import code_for, give_app

pytestmark = pytest.mark.django_db(transaction=True)


def test_beheerder_edits_and_impersonates_a_candidate(e2e, people, second_page):
    page = e2e.page
    lotte = people.lotte.user
    # 'Log in als deze gebruiker' needs a session that passed the second factor.
    app = give_app(people.beheerder)
    e2e.login(people.beheerder)
    e2e.check("tweestapsverificatie-controleren")
    page.get_by_label("Code uit je app of herstelcode").fill(code_for(app))
    page.get_by_role("button", name="Bevestigen").click()
    page.wait_for_load_state("load")
    expect(page.get_by_role("heading", name="Kandidaten")).to_be_visible()
    expect(page.get_by_role("status")).to_have_text("5 kandidaten")  # the whole college
    e2e.step("kandidaten", guide=True)

    # Find her: 'Zoeken' on name.
    page.get_by_role("textbox", name="Zoeken").fill("lotte")
    page.get_by_role("button", name="Zoeken").click()
    e2e.step("kandidaten-zoeken", guide=True)
    expect(page.get_by_role("status")).to_contain_text("1 kandidaat")
    rows = page.get_by_role("table", name="Kandidaten die aan het filter voldoen").locator(
        "tbody tr"
    )
    expect(rows).to_have_count(1)
    expect(rows).to_contain_text("Visser, Lotte")
    expect(rows).to_contain_text("Verpleegkunde 2025")
    rows.get_by_role("link", name="Wijzig deze gebruiker").click()

    # 'Wijzig deze gebruiker'.
    expect(page.get_by_role("heading", level=1)).to_have_text("Wijzig deze gebruiker: Lotte Visser")
    e2e.step("kandidaat-wijzigen", guide=True)

    # A new password, shown once.
    password_section = page.get_by_role("region", name="Wachtwoord")
    expect(
        password_section.get_by_label("Genereer een wachtwoord en toon het eenmalig")
    ).to_be_checked()
    password_section.get_by_role("button", name="Wachtwoord wijzigen").click()
    page.wait_for_load_state("load")
    e2e.check("kandidaat-nieuw-wachtwoord")
    alert = page.get_by_role("alert").filter(has_text="Nieuw wachtwoord")
    expect(alert).to_contain_text("Het nieuwe wachtwoord van l.visser is:")
    expect(alert).to_contain_text("Dit wachtwoord wordt maar één keer getoond")
    new_password = alert.locator(".password-once").inner_text().strip()
    assert len(new_password) >= 8
    e2e.shot("kandidaat-nieuw-wachtwoord", guide=True)

    # Another group: from 'Verpleegkunde 2025' to 'Techniek 2025'.
    links = page.get_by_role("region", name="Koppelingen")
    groups = links.get_by_role("group", name="Kandidaatgroepen")
    expect(groups.get_by_label("Verpleegkunde 2025")).to_be_checked()
    groups.get_by_label("Verpleegkunde 2025").uncheck()
    groups.get_by_label("Techniek 2025").check()
    links.get_by_role("button", name="Koppelingen opslaan").click()
    page.wait_for_load_state("load")
    e2e.check("kandidaat-koppelingen-opgeslagen")
    expect(page.get_by_role("alert")).to_have_text("De koppelingen zijn opgeslagen.")
    groups = page.get_by_role("region", name="Koppelingen").get_by_role(
        "group", name="Kandidaatgroepen"
    )
    expect(groups.get_by_label("Techniek 2025")).to_be_checked()
    expect(groups.get_by_label("Verpleegkunde 2025")).not_to_be_checked()
    history = page.get_by_role("table", name="Geschiedenis van deze kandidaat")
    expect(history).to_contain_text("Verpleegkunde 2025")
    expect(history).to_contain_text("Techniek 2025")
    e2e.shot("kandidaat-geschiedenis", guide=True, full_page=True)

    # 'Log in als deze gebruiker': her own page, with the banner.
    page.get_by_role("button", name="Log in als deze gebruiker").click()
    page.wait_for_load_state("load")
    expect(page.get_by_role("heading", name="Mijn gegevens")).to_be_visible()
    e2e.step("inloggen-als-banner", guide=True)
    banner = page.get_by_role("status").filter(has_text="Je bent ingelogd als")
    expect(banner).to_contain_text("Je bent ingelogd als Lotte Visser (l.visser)")
    expect(page.locator("main dl")).to_contain_text("Techniek 2025")
    expect(page.get_by_role("navigation", name="Hoofdmenu")).to_contain_text("Lotte Visser")
    started = AuditLog.objects.get(action=AuditLog.Action.IMPERSONATION_STARTED)
    assert (started.actor, started.target_user) == (people.beheerder, lotte)

    # 'Terug naar je eigen account': back on her page, as the beheerder again.
    banner.get_by_role("button", name="Terug naar je eigen account").click()
    page.wait_for_load_state("load")
    e2e.check("kandidaat-wijzigen-terug")
    expect(page).to_have_url(re.compile(rf"/beheer/kandidaten/{people.lotte.pk}/wijzigen/$"))
    expect(page.get_by_text("Je bent ingelogd als")).to_have_count(0)
    expect(page.get_by_role("navigation", name="Hoofdmenu")).to_contain_text("Marieke Jansen")
    assert AuditLog.objects.filter(action=AuditLog.Action.IMPERSONATION_ENDED).count() == 1
    # Her history on the page tells who was logged in as her.
    history = page.get_by_role("table", name="Geschiedenis van deze kandidaat")
    expect(history).to_contain_text("Ingelogd als andere gebruiker")
    expect(history).to_contain_text("Terug naar eigen account")

    # The shown password works for Lotte herself.
    e2e.login(lotte, password=new_password, page=second_page)
    expect(second_page.get_by_role("heading", name="Mijn gegevens")).to_be_visible()
    e2e.check("mijn-gegevens", page=second_page)
    expect(second_page.locator("main dl")).to_contain_text("Techniek 2025")
