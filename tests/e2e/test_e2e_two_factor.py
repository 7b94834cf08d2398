"""A beheerder of a college that requires two-step sign-in logs in for the first time: sets up
an authenticator app (the code computed here from the secret the page shows, as the phone
would), keeps the recovery codes, and next time signs in with one of them. Then the college's
setting, their own overview and the reset on Medewerkers. Every page passes axe."""

from __future__ import annotations

import pytest
from django_otp.plugins.otp_static.models import StaticDevice
from playwright.sync_api import expect

from accounts.models import AuditLog
from tests.helpers.two_factor import code_from_text, give_app, require_two_factor

pytestmark = pytest.mark.django_db(transaction=True)


def test_beheerder_sets_up_two_step_sign_in(e2e, people):
    page = e2e.page
    require_two_factor(people.college)
    e2e.login(people.beheerder)

    # First sign-in: straight to the enrolment.
    expect(page.get_by_role("heading", level=1)).to_have_text("Tweestapsverificatie instellen")
    e2e.step("tweestapsverificatie-instellen", guide=True, full_page=True)
    qr = page.get_by_role("img", name="QR-code om Kandidaatbeheer aan je authenticator-app")
    expect(qr).to_be_visible()
    assert qr.evaluate("img => img.naturalWidth") > 100  # the SVG drew
    secret = page.locator("#two-factor-secret").inner_text()

    page.get_by_label("Code uit je app").fill(code_from_text(secret))
    page.get_by_role("button", name="Bevestigen").click()
    page.wait_for_load_state("load")

    # The ten recovery codes, once.
    expect(page.get_by_role("heading", level=1)).to_have_text("Tweestapsverificatie is ingesteld")
    e2e.step("tweestapsverificatie-herstelcodes", guide=True)
    codes = page.get_by_role("list", name="Herstelcodes").locator("code").all_inner_texts()
    assert len(codes) == 10
    page.get_by_role("link", name="Ik heb de codes bewaard").click()
    page.wait_for_load_state("load")
    expect(page.get_by_role("heading", name="Kandidaten")).to_be_visible()
    e2e.check("kandidaten-na-tweestapsverificatie")

    # Next time: the password, then a code (here a recovery code: the phone stayed home).
    e2e.logout()
    e2e.login(people.beheerder)
    expect(page.get_by_role("heading", level=1)).to_have_text("Tweestapsverificatie")
    e2e.step("tweestapsverificatie-controleren", guide=True)
    page.get_by_label("Code uit je app of herstelcode").fill("fout-fout")
    page.get_by_role("button", name="Bevestigen").click()
    page.wait_for_load_state("load")
    e2e.check("tweestapsverificatie-fout")
    expect(page.get_by_text("Deze code klopt niet.")).to_be_visible()
    # django-otp throttles after a wrong code; the wait is over for this test at once.
    StaticDevice.objects.filter(user=people.beheerder).update(throttling_failure_count=0)
    page.get_by_label("Code uit je app of herstelcode").fill(codes[0])
    page.get_by_role("button", name="Bevestigen").click()
    page.wait_for_load_state("load")
    expect(page.get_by_role("heading", name="Kandidaten")).to_be_visible()
    expect(page.get_by_role("alert")).to_contain_text("Je hebt er nog 9 over.")
    e2e.check("kandidaten-na-herstelcode")

    # Their own overview.
    page.get_by_role("navigation", name="Hoofdmenu").get_by_role(
        "link", name="Tweestapsverificatie"
    ).click()
    page.wait_for_load_state("load")
    expect(page.locator("#recovery-codes-left")).to_have_text("Je hebt nog 9 herstelcodes.")
    e2e.step("tweestapsverificatie-overzicht", guide=True)

    # The college's setting.
    e2e.menu("Instellingen")
    e2e.check("instellingen")
    page.get_by_role("navigation", name="Onderdelen van de instellingen").get_by_role(
        "link", name="Tweestapsverificatie"
    ).click()
    page.wait_for_load_state("load")
    e2e.step("instellingen-tweestapsverificatie", guide=True)
    roles = page.get_by_role("group", name="Verplicht voor")
    expect(roles.get_by_label("Beheerder")).to_be_checked()
    expect(roles.get_by_label("Toetscoördinator")).to_be_checked()
    roles.get_by_label("Begeleider").check()
    page.get_by_role("button", name="Opslaan").click()
    page.wait_for_load_state("load")
    e2e.check("instellingen-tweestapsverificatie-opgeslagen")
    expect(page.get_by_role("alert")).to_have_text(
        "De instellingen voor tweestapsverificatie zijn opgeslagen."
    )
    people.college.refresh_from_db()
    assert people.college.two_factor_roles == ["beheerder", "toetscoordinator", "begeleider"]

    # Medewerkers: a colleague lost their phone.
    give_app(people.coordinator)
    e2e.menu("Medewerkers")
    e2e.step("medewerkers-tweestapsverificatie", guide=True)
    row = page.get_by_role("row").filter(has_text=people.coordinator.username)
    page.once("dialog", lambda dialog: dialog.accept())
    row.get_by_role("button", name="Resetten").click()
    page.wait_for_load_state("load")
    e2e.check("medewerkers-tweestapsverificatie-gereset")
    expect(page.get_by_role("alert")).to_contain_text("is gereset")
    assert AuditLog.objects.filter(
        action=AuditLog.Action.TWO_FACTOR_RESET, target_user=people.coordinator
    ).exists()
