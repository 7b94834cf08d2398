"""'Inloggen met <school>' end to end: the app on pytest-django's live server, two real OpenID
Connect providers in processes of their own (tests/helpers/oidc_provider.py), and an HTTP
client that follows every redirect like a browser."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
import requests
from django.contrib.sessions.backends.db import SessionStore
from django.urls import reverse

from accounts.models import AuditLog, CollegeSignIn
from tests.factories import TEST_PASSWORD
from tests.helpers.oidc_provider import run_provider, sign_in


@pytest.fixture(scope="module")
def provider():
    with run_provider() as p:
        yield p


@pytest.fixture(scope="module")
def other_provider():
    with run_provider() as p:
        yield p


def configure(college, provider, **extra) -> CollegeSignIn:
    sign_in_row = CollegeSignIn(
        organisation=college,
        enabled=True,
        issuer=provider.issuer,
        client_id=f"kb-{college.code}",
        **extra,
    )
    sign_in_row.set_client_secret("geheim-van-de-school")
    sign_in_row.save()
    return sign_in_row


def start_url(live_server, college) -> str:
    return live_server.url + reverse("accounts:college_sign_in", args=[college.code])


def session_of(http: requests.Session) -> dict:
    key = http.cookies.get("sessionid")
    return dict(SessionStore(session_key=key).load()) if key else {}


def refusal_text(response) -> str:
    start = response.text.index('id="sign-in-refused">') + len('id="sign-in-refused">')
    return response.text[start : response.text.index("</div>", start)]


def test_a_beheerder_signs_in_with_the_colleges_provider(live_server, world, provider):
    configure(world.college, provider)
    provider.set_user("u-123", {"email": "BEHEERDER@Example.TEST"})  # case differs: still them
    http = requests.Session()

    response = sign_in(http, start_url(live_server, world.college), provider, "u-123")

    assert response.status_code == 200
    assert urlsplit(response.url).path == reverse("candidates:list")
    session = session_of(http)
    assert session["_auth_user_id"] == str(world.beheerder.pk)
    assert session["kb_sign_in_method"] == "college_idp"
    row = AuditLog.objects.get(action=AuditLog.Action.LOGIN)
    assert (row.target_user, row.organisation, row.after) == (
        world.beheerder,
        world.college,
        {"sign_in": "college_idp"},
    )


def test_the_login_page_offers_one_button_per_college_with_a_provider(live_server, world, provider):
    configure(world.college, provider, display_name="ROC Midden-account")
    CollegeSignIn.objects.create(
        organisation=world.other_college, enabled=False, issuer=provider.issuer, client_id="x"
    )
    page = requests.get(live_server.url + reverse("accounts:login"), timeout=30).text
    assert "Inloggen met ROC Midden-account" in page
    assert f'href="{reverse("accounts:college_sign_in", args=["rocm"])}"' in page
    assert "Inloggen met ROC Anders" not in page  # switched off: no button, and its link is 404
    with_next = requests.get(
        live_server.url + reverse("accounts:login") + "?next=/beheer/kandidaatgroepen/", timeout=30
    ).text
    assert 'href="/inloggen/school/rocm/?next=/beheer/kandidaatgroepen/"' in with_next
    assert requests.get(start_url(live_server, world.other_college), timeout=30).status_code == 404


def test_next_is_kept_through_the_provider(live_server, world, provider):
    configure(world.college, provider)
    provider.set_user("u-123", {"email": "beheerder@example.test"})
    http = requests.Session()
    url = start_url(live_server, world.college) + "?next=" + reverse("candidates:groups")
    response = sign_in(http, url, provider, "u-123")
    assert urlsplit(response.url).path == reverse("candidates:groups")


def test_username_claim(live_server, world, provider):
    configure(world.college, provider, claim=CollegeSignIn.Claim.USERNAME)
    provider.set_user("u-9", {"email": "iemand@example.test", "preferred_username": "Coord"})
    http = requests.Session()
    response = sign_in(http, start_url(live_server, world.college), provider, "u-9")
    assert urlsplit(response.url).path == reverse("candidates:list")
    assert session_of(http)["_auth_user_id"] == str(world.coordinator.pk)


@pytest.mark.parametrize(
    ("claims", "refusal", "text"),
    [
        (
            {"email": "onbekend@example.test"},
            "no_account",
            "Er is bij ROC Midden geen account van een medewerker dat hoort bij "
            "onbekend@example.test. Vraag de beheerder van je school om een account met dit "
            "e-mailadres of deze gebruikersnaam.",
        ),
        (
            {"email": "kand-own@example.test"},
            "candidate",
            "Kandidaten loggen niet in via de inlogdienst van de school, maar met hun "
            "gebruikersnaam en wachtwoord.",
        ),
        (
            # The beheerder of the other college, at our college's provider: not ours.
            {"email": "outsider@example.test"},
            "no_account",
            "Er is bij ROC Midden geen account van een medewerker dat hoort bij "
            "outsider@example.test. Vraag de beheerder van je school om een account met dit "
            "e-mailadres of deze gebruikersnaam.",
        ),
    ],
)
def test_refusals(live_server, world, provider, claims, refusal, text):
    configure(world.college, provider)
    provider.set_user("u-x", claims)
    http = requests.Session()

    response = sign_in(http, start_url(live_server, world.college), provider, "u-x")

    assert response.status_code == 403
    assert refusal_text(response) == text
    assert "_auth_user_id" not in session_of(http)
    row = AuditLog.objects.get(action=AuditLog.Action.LOGIN_FAILED)
    assert (row.organisation, row.after) == (
        world.college,
        {"sign_in": "college_idp", "refusal": refusal},
    )


def test_an_inactive_staff_account_is_refused(live_server, world, provider):
    world.supervisor.is_active = False
    world.supervisor.save(update_fields=["is_active"])
    configure(world.college, provider)
    provider.set_user("u-s", {"email": "begel@example.test"})
    http = requests.Session()
    response = sign_in(http, start_url(live_server, world.college), provider, "u-s")
    assert response.status_code == 403
    assert refusal_text(response) == (
        "Je account bij ROC Midden staat op inactief. Neem contact op met de beheerder van je "
        "school."
    )
    assert "_auth_user_id" not in session_of(http)


def test_the_other_colleges_provider_signs_nobody_into_ours(
    live_server, world, provider, other_provider
):
    """The other college's provider vouches for someone with our beheerder's address: at the
    other college there is no such staff account, and the answer of its provider cannot be
    replayed to our college's callback either (the state belongs to the other college)."""
    configure(world.college, provider)
    configure(world.other_college, other_provider)
    other_provider.set_user("evil", {"email": "beheerder@example.test"})
    http = requests.Session()

    response = sign_in(http, start_url(live_server, world.other_college), other_provider, "evil")
    assert response.status_code == 403
    assert "Er is bij ROC Anders geen account" in refusal_text(response)

    # Again, but the provider's answer is carried to our college's callback instead.
    page = http.get(start_url(live_server, world.other_college), timeout=30)
    answer = http.post(page.url, data={"sub": "evil"}, allow_redirects=False, timeout=30)
    callback = urlsplit(answer.headers["Location"])
    assert callback.path == reverse("accounts:college_sign_in_callback", args=["roca"])
    ours = reverse("accounts:college_sign_in_callback", args=["rocm"])
    response = http.get(f"{live_server.url}{ours}?{callback.query}", timeout=30)
    assert response.status_code == 502
    assert refusal_text(response).startswith(
        "Inloggen via de inlogdienst van ROC Midden is niet gelukt"
    )
    assert "_auth_user_id" not in session_of(http)
    refusals = AuditLog.objects.filter(action=AuditLog.Action.LOGIN_FAILED)
    assert sorted((r.organisation.code, r.after["refusal"]) for r in refusals) == [
        ("roca", "no_account"),
        ("rocm", "provider_error"),
    ]


def test_denied_at_the_provider(live_server, world, provider):
    configure(world.college, provider)
    http = requests.Session()
    page = http.get(start_url(live_server, world.college), timeout=30)
    response = http.post(page.url, data={"action": "deny"}, timeout=30)
    assert response.status_code == 502
    assert refusal_text(response) == (
        "Inloggen via de inlogdienst van ROC Midden is niet gelukt: de inlogdienst gaf een "
        "foutmelding of het antwoord hoorde niet bij deze inlogpoging. Probeer het opnieuw."
    )


def test_an_unreachable_provider_is_a_provider_error_not_a_500(live_server, world, provider):
    configure(world.college, provider)
    CollegeSignIn.objects.filter(organisation=world.college).update(issuer="http://127.0.0.1:9")
    response = requests.get(start_url(live_server, world.college), timeout=30)
    assert response.status_code == 502
    assert "Inloggen via de inlogdienst van ROC Midden is niet gelukt" in response.text


def test_a_provider_that_names_nobody_is_refused(live_server, world, provider):
    """Neither the id_token nor userinfo (asked as well) carries the e-mail address."""
    configure(world.college, provider)
    provider.set_user("u-anon", {"name": "Iemand"})
    http = requests.Session()
    response = sign_in(http, start_url(live_server, world.college), provider, "u-anon")
    assert response.status_code == 403
    assert refusal_text(response) == (
        "De inlogdienst van ROC Midden gaf niet door wie je bent (geen e-mailadres of "
        "gebruikersnaam). Vraag de beheerder van je school de instellingen na te kijken."
    )
    assert AuditLog.objects.get(action=AuditLog.Action.LOGIN_FAILED).after["refusal"] == "no_claim"


def test_a_college_idp_sign_in_is_not_asked_for_a_second_factor(live_server, world, provider):
    # The college requires two-step sign-in of beheerders; its own provider does the second
    # factor, so a sign-in through it goes straight in, while a password sign-in would not.
    world.college.two_factor_roles = ["beheerder", "toetscoordinator"]
    world.college.save(update_fields=["two_factor_roles"])
    configure(world.college, provider)
    provider.set_user("u-2fa", {"email": world.beheerder.email})
    http = requests.Session()

    response = sign_in(http, start_url(live_server, world.college), provider, "u-2fa")

    assert response.status_code == 200
    assert urlsplit(response.url).path == reverse("candidates:list")
    assert session_of(http)["_auth_user_id"] == str(world.beheerder.pk)
    password_login = requests.Session()
    page = password_login.get(live_server.url + reverse("accounts:login"))
    token = password_login.cookies["csrftoken"]
    response = password_login.post(
        live_server.url + reverse("accounts:login"),
        data={
            "username": world.beheerder.username,
            "password": TEST_PASSWORD,
            "csrfmiddlewaretoken": token,
        },
        headers={"Referer": page.url},
    )
    assert urlsplit(response.url).path == reverse("two_factor:enrol")
