"""An exam environment signs candidates in for real against the live server: discovery, the
code flow with PKCE, the id_token verified with the JWKS, userinfo; every refusal ends without a
code, with error=access_denied offered back and a Dutch page that says why."""

from __future__ import annotations

import uuid
from datetime import date, timedelta

import pytest
from django.utils import timezone

from accounts.models import AuditLog
from candidates.services.candidates import candidates_set_active
from candidates.services.exam_environments import (
    exam_environment_create,
    exam_environment_new_secret,
    exam_environment_set_active,
)
from tests.helpers.exam import (
    LOGOUT_URI,
    REDIRECT_URI,
    Browser,
    ExamEnvironmentClient,
    exam_issuer,  # noqa: F401 (fixture)
)

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def toetsspeler(world, exam_issuer):  # noqa: F811
    registered = exam_environment_create(
        actor=world.beheerder,
        organisation=world.college,
        name="Toetsspeler",
        redirect_uris=[REDIRECT_URI],
        post_logout_redirect_uris=[LOGOUT_URI],
    )
    return registered


def rp_for(registered, issuer) -> ExamEnvironmentClient:
    app = registered.environment.application
    return ExamEnvironmentClient(issuer, app.client_id, registered.client_secret)


def sign_in(rp, issuer, username, **extra):
    browser = Browser(issuer)
    return browser.follow(rp.authorize_url(**extra), username=username)


def test_discovery_names_our_endpoints_and_strict_choices(toetsspeler, exam_issuer):  # noqa: F811
    config = rp_for(toetsspeler, exam_issuer).config
    assert config["issuer"] == exam_issuer
    assert config["authorization_endpoint"] == f"{exam_issuer}/oidc/authorize/"
    assert config["token_endpoint"] == f"{exam_issuer}/oidc/token/"
    assert config["userinfo_endpoint"] == f"{exam_issuer}/oidc/userinfo/"
    assert config["jwks_uri"] == f"{exam_issuer}/.well-known/jwks.json"
    assert config["end_session_endpoint"] == f"{exam_issuer}/oidc/logout/"
    assert config["response_types_supported"] == ["code"]
    assert config["code_challenge_methods_supported"] == ["S256"]
    assert config["id_token_signing_alg_values_supported"][0] == "RS256"
    assert set(config["token_endpoint_auth_methods_supported"]) == {
        "client_secret_basic",
        "client_secret_post",
    }
    assert {"candidate_number", "groups", "college", "roles", "email"} <= set(
        config["claims_supported"]
    )


def test_candidate_signs_in_with_pkce_and_verified_id_token(world, toetsspeler, exam_issuer):  # noqa: F811
    user = world.in_own_group.user
    user.first_name, user.surname_prefix, user.last_name = "Anna", "van der", "Berg"
    user.email = "anna@example.test"
    user.save()
    rp = rp_for(toetsspeler, exam_issuer)
    outcome = sign_in(rp, exam_issuer, "kand-own")
    assert outcome.callback is not None, outcome.page[:300]
    assert outcome.callback["state"] == rp.state
    assert outcome.callback["iss"] == exam_issuer

    answer = rp.redeem(outcome.callback["code"])
    assert answer.status_code == 200, answer.text
    tokens = answer.json()
    assert tokens["token_type"] == "Bearer"
    assert 0 < tokens["expires_in"] <= 900
    assert "refresh_token" not in tokens  # not asked for (scope offline_access)
    claims = rp.verified_claims(tokens["id_token"])
    assert claims["nonce"] == rp.nonce
    assert uuid.UUID(claims["sub"])  # opaque: not the username or the candidate number
    expected = {
        "preferred_username": "kand-own",
        "name": "Anna van der Berg",
        "given_name": "Anna",
        "family_name": "van der Berg",
        "candidate_number": "0000001",
        "groups": ["Zorg 1"],
        "college": "rocm",
        "roles": ["kandidaat"],
        "email": "anna@example.test",
    }
    assert {k: claims[k] for k in expected} == expected

    info = rp.userinfo(tokens["access_token"])
    assert info.status_code == 200
    assert info.json() == {"sub": claims["sub"], **expected}

    row = AuditLog.objects.get(action=AuditLog.Action.EXAM_LOGIN)
    assert (row.target_user, row.after) == (user, {"exam_environment": "Toetsspeler"})


def test_sub_is_stable_across_sign_ins_and_client_secret_post_works(
    world,
    toetsspeler,
    exam_issuer,  # noqa: F811
):
    subs = []
    for auth in ("basic", "post"):
        rp = rp_for(toetsspeler, exam_issuer)
        outcome = sign_in(rp, exam_issuer, "kand-own")
        answer = rp.redeem(outcome.callback["code"], auth=auth)
        assert answer.status_code == 200, answer.text
        subs.append(rp.verified_claims(answer.json()["id_token"])["sub"])
    assert subs[0] == subs[1]


def test_scope_openid_alone_gives_only_sub(world, toetsspeler, exam_issuer):  # noqa: F811
    rp = rp_for(toetsspeler, exam_issuer)
    outcome = sign_in(rp, exam_issuer, "kand-own", scope="openid")
    tokens = rp.redeem(outcome.callback["code"]).json()
    assert rp.userinfo(tokens["access_token"]).json().keys() == {"sub"}


def test_without_pkce_no_code(world, toetsspeler, exam_issuer):  # noqa: F811
    rp = rp_for(toetsspeler, exam_issuer)
    url = rp.authorize_url(code_challenge="", code_challenge_method="")
    outcome = Browser(exam_issuer).follow(url, username="kand-own")
    assert outcome.callback is not None
    assert "code" not in outcome.callback
    assert outcome.callback["error"] == "invalid_request"


def test_wrong_secret_and_old_secret_are_refused(world, toetsspeler, exam_issuer):  # noqa: F811
    rp = rp_for(toetsspeler, exam_issuer)
    outcome = sign_in(rp, exam_issuer, "kand-own")
    rp.client_secret = "niet-het-geheim"
    assert rp.redeem(outcome.callback["code"]).status_code == 401

    new = exam_environment_new_secret(actor=world.beheerder, environment=toetsspeler.environment)
    old_rp = rp_for(toetsspeler, exam_issuer)  # holds the old secret
    outcome = sign_in(old_rp, exam_issuer, "kand-own")
    assert old_rp.redeem(outcome.callback["code"]).status_code == 401
    old_rp.client_secret = new
    outcome = sign_in(old_rp, exam_issuer, "kand-own")
    assert old_rp.redeem(outcome.callback["code"]).status_code == 200


def assert_refused(outcome, rp, message: str) -> None:
    assert outcome.callback is None
    assert outcome.status == 403
    assert message in outcome.page
    assert "Terug naar Toetsspeler" in outcome.page
    back = f"{REDIRECT_URI}?error=access_denied&amp;state={rp.state}"
    assert back in outcome.page


def test_candidate_of_another_college_is_refused(world, toetsspeler, exam_issuer):  # noqa: F811
    rp = rp_for(toetsspeler, exam_issuer)
    outcome = sign_in(rp, exam_issuer, "kand-foreign")
    assert_refused(outcome, rp, "Deze toetsomgeving hoort bij een andere school")
    row = AuditLog.objects.get(action=AuditLog.Action.EXAM_LOGIN_REFUSED)
    assert row.target_user == world.of_other_college.user
    assert row.after == {"exam_environment": "Toetsspeler", "refusal": "other_college"}


def test_staff_only_where_the_environment_allows_staff(world, toetsspeler, exam_issuer):  # noqa: F811
    rp = rp_for(toetsspeler, exam_issuer)
    assert_refused(
        sign_in(rp, exam_issuer, "coord"), rp, "Deze toetsomgeving is alleen voor kandidaten."
    )
    environment = toetsspeler.environment
    environment.allow_staff = True
    environment.save()
    rp = rp_for(toetsspeler, exam_issuer)
    outcome = sign_in(rp, exam_issuer, "coord")
    assert "code" in outcome.callback
    claims = rp.verified_claims(rp.redeem(outcome.callback["code"]).json()["id_token"])
    assert (claims["roles"], claims["candidate_number"], claims["groups"]) == (
        ["toetscoordinator"],
        None,
        [],
    )


def test_switched_off_environment_refuses_and_revokes(world, toetsspeler, exam_issuer):  # noqa: F811
    rp = rp_for(toetsspeler, exam_issuer)
    tokens = rp.redeem(sign_in(rp, exam_issuer, "kand-own").callback["code"]).json()
    exam_environment_set_active(
        actor=world.beheerder, environment=toetsspeler.environment, active=False
    )
    assert rp.userinfo(tokens["access_token"]).status_code == 401
    rp = rp_for(toetsspeler, exam_issuer)
    assert_refused(
        sign_in(rp, exam_issuer, "kand-own"),
        rp,
        "Deze toetsomgeving is uitgeschakeld door de beheerder van de school.",
    )


def test_deactivating_the_candidate_revokes_the_token(world, toetsspeler, exam_issuer):  # noqa: F811
    rp = rp_for(toetsspeler, exam_issuer)
    tokens = rp.redeem(sign_in(rp, exam_issuer, "kand-own").callback["code"]).json()
    assert rp.userinfo(tokens["access_token"]).status_code == 200
    candidates_set_active(actor=world.beheerder, candidates=[world.in_own_group], is_active=False)
    assert rp.userinfo(tokens["access_token"]).status_code == 401


@pytest.mark.parametrize(
    ("change", "message", "refusal"),
    [
        ({"is_active": False}, "Je account is niet actief.", "inactive"),
        ({"valid_until": date(2020, 7, 31)}, "is verlopen", "expired"),
        (
            {"valid_from": date(2031, 8, 1)},
            "Je account is pas geldig vanaf 1 augustus 2031.",
            "not_yet_valid",
        ),
    ],
)
def test_account_refused_at_login_gets_no_code(
    world,
    toetsspeler,
    exam_issuer,  # noqa: F811
    change,
    message,
    refusal,
):
    user = world.in_own_group.user
    for name, value in change.items():
        setattr(user, name, value)
    user.save()
    rp = rp_for(toetsspeler, exam_issuer)
    outcome = sign_in(rp, exam_issuer, "kand-own")
    assert outcome.callback is None
    assert outcome.status == 200  # the login page again, with the reason
    assert message in outcome.page
    assert "Toetsspeler" in outcome.page  # it still names the environment that asks
    # …and offers the way back with the standard refusal.
    back = f"{REDIRECT_URI}?error=access_denied&amp;state={rp.state}&amp;iss="
    assert back in outcome.page
    assert "Terug naar Toetsspeler" in outcome.page
    row = AuditLog.objects.get(action=AuditLog.Action.EXAM_LOGIN_REFUSED)
    assert (row.target_user, row.after) == (
        user,
        {"exam_environment": "Toetsspeler", "refusal": refusal},
    )


def test_account_that_expires_during_the_session_is_refused(world, toetsspeler, exam_issuer):  # noqa: F811
    browser = Browser(exam_issuer)
    assert browser.login("kand-own").status_code == 302
    user = world.in_own_group.user
    user.valid_until = timezone.localdate() - timedelta(days=1)
    user.save()
    rp = rp_for(toetsspeler, exam_issuer)
    outcome = browser.follow(rp.authorize_url())
    # The session ended with the validity: back to the login page, no code.
    assert outcome.callback is None
    assert "/inloggen/" in outcome.visited[-1] or "Inloggen" in outcome.page


def test_rp_initiated_logout_ends_our_session_and_returns(world, toetsspeler, exam_issuer):  # noqa: F811
    rp = rp_for(toetsspeler, exam_issuer)
    browser = Browser(exam_issuer)
    outcome = browser.follow(rp.authorize_url(), username="kand-own")
    tokens = rp.redeem(outcome.callback["code"]).json()
    params = {
        "id_token_hint": tokens["id_token"],
        "client_id": rp.client_id,
        "post_logout_redirect_uri": LOGOUT_URI,
        "state": "uit-1",
    }
    response = browser.http.get(
        rp.config["end_session_endpoint"], params=params, allow_redirects=False, timeout=10
    )
    assert response.status_code == 302
    assert response.headers["Location"] == f"{LOGOUT_URI}?state=uit-1"
    # Signed out here too: the next sign-in asks for the password again.
    again = browser.http.get(rp.authorize_url(), allow_redirects=False, timeout=10)
    assert again.headers["Location"].startswith("/inloggen/")
    # An address that was not registered is not followed.
    params["post_logout_redirect_uri"] = "https://evil.example/"
    refused = browser.http.get(rp.config["end_session_endpoint"], params=params, timeout=10)
    assert "evil.example" not in refused.headers.get("Location", "")
