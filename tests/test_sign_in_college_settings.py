"""Instellingen → Inlogdienst: a beheerder sets up the college's OpenID Connect provider. The
issuer is checked against a real provider process on saving; the client secret is sealed and
never shown back; every change is one audit row."""

import pytest
from django.urls import reverse

from accounts.models import AuditLog, CollegeSignIn
from tests.helpers.candidates import logged_in
from tests.helpers.oidc_provider import run_provider

PAGE = reverse("candidates:settings_sign_in")
SECRET = "clientgeheim-0123456789"


@pytest.fixture(scope="module")
def provider():
    with run_provider() as p:
        yield p


def form_data(issuer, **changes):
    data = {
        "enabled": "on",
        "issuer": issuer,
        "client_id": "kandidaatbeheer",
        "client_secret": SECRET,
        "display_name": "",
        "claim": "email",
        "staff_only_via_provider": "",
    }
    data.update(changes)
    return {k: v for k, v in data.items() if v != ""}


def errors(response) -> dict:
    return {k: [str(e) for e in v] for k, v in response.context["form"].errors.items()}


@pytest.mark.parametrize("role", ["coordinator", "supervisor"])
def test_only_beheerders(client, world, role):
    assert logged_in(client, getattr(world, role)).get(PAGE).status_code == 403


def test_the_page_is_a_settings_section_and_names_the_redirect_uri(client, world):
    page = logged_in(client, world.beheerder).get(PAGE).content.decode()
    assert 'aria-current="page" href="/beheer/instellingen/inlogdienst/">Inlogdienst</a>' in page
    assert '<code id="redirect-uri">http://testserver/inloggen/school/rocm/terug/</code>' in page
    assert "Er is nog geen clientgeheim ingesteld." in page


def test_save_seals_the_secret_and_audits(client, world, provider):
    client = logged_in(client, world.beheerder)
    response = client.post(PAGE, form_data(provider.issuer, display_name="Schoolaccount"))
    assert response.status_code == 302
    row = CollegeSignIn.objects.get(organisation=world.college)
    assert (row.enabled, row.issuer, row.client_id, row.display_name, row.claim) == (
        True,
        provider.issuer,
        "kandidaatbeheer",
        "Schoolaccount",
        "email",
    )
    assert row.client_secret() == SECRET
    assert SECRET.encode() not in bytes(row.client_secret_sealed)
    entry = AuditLog.objects.get(action=AuditLog.Action.SETTINGS_CHANGED)
    assert entry.after == {
        "sign_in_enabled": True,
        "sign_in_issuer": provider.issuer,
        "sign_in_client_id": "kandidaatbeheer",
        "sign_in_display_name": "Schoolaccount",
        "sign_in_claim": "email",
        "sign_in_staff_only": False,
        "sign_in_client_secret": "new",
    }
    assert entry.before["sign_in_client_secret"] == "none"
    page = client.get(PAGE).content.decode()
    assert SECRET not in page
    assert "Er is een clientgeheim ingesteld." in page
    audit_page = client.get(reverse("candidates:audit")).content.decode()
    assert SECRET not in audit_page
    assert "Clientgeheim" in audit_page


def test_a_blank_secret_keeps_it_and_only_changes_are_audited(client, world, provider):
    client = logged_in(client, world.beheerder)
    client.post(PAGE, form_data(provider.issuer))
    AuditLog.objects.all().delete()
    response = client.post(
        PAGE, form_data(provider.issuer, client_secret="", staff_only_via_provider="on")
    )
    assert response.status_code == 302
    row = CollegeSignIn.objects.get(organisation=world.college)
    assert (row.client_secret(), row.staff_only_via_provider) == (SECRET, True)
    entry = AuditLog.objects.get()
    assert (entry.before, entry.after) == (
        {"sign_in_staff_only": False},
        {"sign_in_staff_only": True},
    )


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        (
            {"issuer": "http://login.example.test"},
            "issuer",
            "De issuer-URL moet met https:// beginnen (http:// alleen voor een inlogdienst op "
            "deze computer).",
        ),
        (
            {"issuer": "http://127.0.0.1:9"},
            "issuer",
            "Op http://127.0.0.1:9/.well-known/openid-configuration is geen OpenID "
            "Connect-configuratie te lezen. Controleer de issuer-URL.",
        ),
        ({"issuer": "geen url"}, "issuer", "Voer een geldige URL in."),
        (
            {"client_secret": ""},
            "client_secret",
            "Vul het clientgeheim in dat de inlogdienst voor deze school gaf.",
        ),
        (
            {"enabled": "", "staff_only_via_provider": "on"},
            "staff_only_via_provider",
            "Zet eerst inloggen via de inlogdienst aan: anders kan geen enkele medewerker meer "
            "inloggen.",
        ),
    ],
)
def test_bad_input_gets_a_dutch_message(client, world, provider, changes, field, message):
    data = form_data(**{"issuer": provider.issuer, **changes})
    response = logged_in(client, world.beheerder).post(PAGE, data)
    assert response.status_code == 200
    assert errors(response) == {field: [message]}
    assert not CollegeSignIn.objects.exists()
    assert not AuditLog.objects.filter(action=AuditLog.Action.SETTINGS_CHANGED).exists()


def test_another_colleges_provider_stays_its_own(client, world, provider):
    CollegeSignIn.objects.create(
        organisation=world.other_college, enabled=True, issuer=provider.issuer, client_id="roca"
    )
    logged_in(client, world.beheerder).post(PAGE, form_data(provider.issuer))
    assert CollegeSignIn.objects.get(organisation=world.other_college).client_id == "roca"
    assert CollegeSignIn.objects.get(organisation=world.college).client_id == "kandidaatbeheer"


def test_switching_off_works_while_the_provider_is_down(client, world):
    row = CollegeSignIn(
        organisation=world.college, enabled=True, issuer="http://127.0.0.1:9", client_id="kb"
    )
    row.set_client_secret(SECRET)
    row.save()
    data = form_data("http://127.0.0.1:9", enabled="", client_secret="", client_id="kb")
    response = logged_in(client, world.beheerder).post(PAGE, data)
    assert response.status_code == 302
    assert CollegeSignIn.objects.get(pk=row.pk).enabled is False
