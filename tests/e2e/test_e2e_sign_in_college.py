"""A beheerder sets up the college's sign-in service and signs in with it in Chromium; a
candidate who tries the same is refused on a Dutch page. The provider is a real process
(tests/helpers/oidc_provider.py); every page of ours passes axe."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from accounts.models import AuditLog, CollegeSignIn
from tests.helpers.oidc_provider import run_provider

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def provider():
    with run_provider() as p:
        yield p


def authorize_at_provider(e2e, provider, sub: str, *, page=None) -> None:
    """The provider's own page (not ours, so not held to our axe check): 'Authorize' as sub."""
    page = page or e2e.page
    page.wait_for_url(f"{provider.issuer}/oauth2/authorize**")
    page.kb_watch.checked.add(page.url)
    page.locator("input[name=sub]").fill(sub)
    page.get_by_role("button", name="Authorize").click()
    page.wait_for_load_state("load")


def test_beheerder_sets_up_and_signs_in_with_the_school_account(e2e, people, provider):
    page = e2e.page
    e2e.login(people.beheerder)
    e2e.goto("/beheer/instellingen/", "instellingen")
    page.get_by_role("link", name="Inlogdienst").click()
    e2e.check("instellingen-inlogdienst")
    page.get_by_label("Medewerkers kunnen inloggen via de inlogdienst van de school").check()
    page.get_by_label("Issuer-URL van de inlogdienst").fill(provider.issuer)
    page.get_by_label("Client-ID").fill("kandidaatbeheer-rocm")
    page.get_by_label("Clientgeheim").fill("geheim-0123456789")
    page.get_by_label("Naam op de knop ‘Inloggen met …’").fill("ROC Midden-account")
    e2e.shot("instellingen-inlogdienst", guide=True, full_page=True)
    page.get_by_role("button", name="Opslaan").click()
    expect(page.get_by_text("De instellingen van de inlogdienst zijn opgeslagen.")).to_be_visible()
    e2e.check("instellingen-inlogdienst-opgeslagen")
    assert CollegeSignIn.objects.get(organisation=people.college).client_secret() == (
        "geheim-0123456789"
    )
    e2e.logout()

    provider.set_user("entra-42", {"email": "M.Jansen@rocmidden.example"})
    button = page.get_by_role("link", name="Inloggen met ROC Midden-account")
    expect(button).to_be_visible()
    e2e.shot("inloggen-met-schoolaccount", guide=True)
    button.click()
    authorize_at_provider(e2e, provider, "entra-42")
    expect(page.get_by_role("heading", name="Kandidaten", exact=True)).to_be_visible()
    e2e.check("kandidaten-na-schoolaccount")
    login = AuditLog.objects.filter(action=AuditLog.Action.LOGIN).latest("id")
    assert (login.target_user, login.after) == (people.beheerder, {"sign_in": "college_idp"})


def test_a_candidate_is_refused_on_a_dutch_page(e2e, people, provider):
    page = e2e.page
    row = CollegeSignIn(
        organisation=people.college, enabled=True, issuer=provider.issuer, client_id="kb"
    )
    row.set_client_secret("geheim")
    row.save()
    provider.set_user("leerling-1", {"email": "l.visser@leerling.example"})
    e2e.goto("/inloggen/", "inloggen")
    page.get_by_role("link", name="Inloggen met ROC Midden").click()
    authorize_at_provider(e2e, provider, "leerling-1")
    expect(page.get_by_role("heading", name="Inloggen niet gelukt")).to_be_visible()
    expect(page.get_by_role("alert")).to_have_text(
        "Kandidaten loggen niet in via de inlogdienst van de school, maar met hun "
        "gebruikersnaam en wachtwoord."
    )
    e2e.step("inloggen-met-schoolaccount-geweigerd", guide=True)
    page.get_by_role("link", name="Terug naar inloggen").click()
    e2e.check("inloggen")
