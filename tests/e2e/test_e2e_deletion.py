"""A beheerder deletes a candidate after the confirmation page, looks at a group's
confirmation page, and sets the retention periods on Instellingen → Privacy. Every page is
checked with axe-core and photographed for the guide (Privacy en bewaartermijnen)."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from accounts.models import AuditLog, Organisation, User

pytestmark = pytest.mark.django_db(transaction=True)


def test_beheerder_deletes_a_candidate_after_confirming(e2e, people):
    page = e2e.page
    lotte = people.lotte
    e2e.login(people.beheerder)
    e2e.check("kandidaten")
    e2e.goto(f"/beheer/kandidaten/{lotte.pk}/wijzigen/", "kandidaat-wijzigen-verwijderen")
    page.get_by_role("link", name="Verwijder deze kandidaat").click()
    page.wait_for_load_state("load")
    expect(page.get_by_role("heading", level=1)).to_have_text("Lotte Visser verwijderen")
    expect(page.get_by_role("alert")).to_contain_text("1 account wordt verwijderd.")
    e2e.step("kandidaat-verwijderen-bevestigen", guide=True)
    assert User.objects.filter(pk=lotte.pk).exists()  # nothing happened yet

    page.get_by_role("button", name="Verwijder 1 account").click()
    page.wait_for_load_state("load")
    e2e.check("kandidaat-verwijderd")
    expect(page.get_by_role("alert")).to_have_text("1 account is verwijderd.")
    assert not User.objects.filter(pk=lotte.pk).exists()
    (row,) = AuditLog.objects.filter(action=AuditLog.Action.ACCOUNTS_DELETED)
    assert row.after == {"accounts": 1} and "Visser" not in str(row.after)


def test_group_confirmation_and_privacy_settings(e2e, people):
    page = e2e.page
    e2e.login(people.beheerder)
    e2e.check("kandidaten")
    group = people.nursing
    members = group.members.count()
    e2e.goto(f"/beheer/kandidaatgroepen/{group.pk}/", "groep-verwijderen-knop")
    page.get_by_role("link", name="Verwijder groep en kandidaten").click()
    page.wait_for_load_state("load")
    expect(page.get_by_role("alert")).to_contain_text(f"{members} accounts worden verwijderd.")
    e2e.step("groep-verwijderen-bevestigen", guide=True)
    page.get_by_role("link", name="Annuleren").click()
    page.wait_for_load_state("load")
    e2e.check("groep-na-annuleren")
    assert group.members.count() == members

    e2e.goto("/beheer/instellingen/privacy/", "instellingen-privacy")
    page.get_by_label("Bewaartermijn na einde geldigheid (maanden)").fill("18")
    page.get_by_label(
        "Toetscoördinatoren mogen kandidaten in hun eigen groepen verwijderen"
    ).check()
    e2e.shot("instellingen-privacy", guide=True, full_page=True)
    page.get_by_role("button", name="Instellingen opslaan").click()
    page.wait_for_load_state("load")
    e2e.check("instellingen-privacy-opgeslagen")
    expect(page.get_by_role("alert")).to_have_text("De instellingen zijn opgeslagen.")
    college = Organisation.objects.get(pk=people.college.pk)
    assert college.retention_months == 18 and college.coordinators_may_delete
