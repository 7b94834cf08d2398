"""Who may sign in to an exam environment (the rule, every case), the claims they get, and the
lifecycle that revokes their tokens: in-process, with Django's test client as the browser."""

from __future__ import annotations

import uuid
from datetime import date, timedelta
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from django.urls import reverse
from django.utils import timezone
from oauth2_provider.models import AccessToken, Grant

from accounts.models import AuditLog, ExamEnvironment, Role, User
from accounts.oidc.asking import back_url
from accounts.oidc.rules import Refusal, refusal_message, sign_in_refusal
from accounts.oidc.tokens import exam_tokens_revoke
from candidates.oidc import claims_of
from candidates.services.candidates import (
    candidate_update,
    candidates_deactivate_expired,
    candidates_set_valid_until,
)
from candidates.services.exam_environments import exam_environment_create
from candidates.services.retention import accounts_apply_retention
from candidates.services.school_year import group_archive
from tests.helpers.candidates import logged_in
from tests.helpers.exam import REDIRECT_URI, pkce_pair
from tests.helpers.two_factor import verified

TODAY = date(2026, 11, 30)


def user(**kwargs) -> User:
    defaults = {"organisation_id": 1, "role": Role.KANDIDAAT, "is_active": True}
    return User(**{**defaults, **kwargs})


def environment(**kwargs) -> ExamEnvironment:
    return ExamEnvironment(**{"organisation_id": 1, "active": True, "allow_staff": False, **kwargs})


@pytest.mark.parametrize(
    ("who", "env", "impersonating", "refusal"),
    [
        ({}, {}, False, None),
        ({}, {}, True, Refusal.IMPERSONATION),
        ({}, {"active": False}, False, Refusal.DISABLED),
        ({"organisation_id": 2}, {}, False, Refusal.OTHER_COLLEGE),
        ({"is_active": False}, {}, False, Refusal.INACTIVE),
        ({"valid_from": date(2031, 8, 1)}, {}, False, Refusal.NOT_YET_VALID),
        ({"valid_until": date(2026, 11, 29)}, {}, False, Refusal.EXPIRED),
        ({"valid_from": TODAY, "valid_until": TODAY}, {}, False, None),
        ({"role": Role.BEGELEIDER}, {}, False, Refusal.STAFF),
        ({"role": Role.BEHEERDER}, {"allow_staff": True}, False, None),
        ({"role": Role.TOETSCOORDINATOR}, {"allow_staff": True}, False, None),
        ({"role": ""}, {"allow_staff": True}, False, Refusal.NO_ROLE),
        # The environment's state comes first: it is the same for everybody.
        ({"organisation_id": 2, "is_active": False}, {"active": False}, False, Refusal.DISABLED),
        ({"organisation_id": 2, "is_active": False}, {}, False, Refusal.OTHER_COLLEGE),
    ],
)
def test_the_rule(who, env, impersonating, refusal):
    answer = sign_in_refusal(
        user=user(**who), environment=environment(**env), impersonating=impersonating, today=TODAY
    )
    assert answer == refusal


def test_an_unregistered_client_is_refused_like_a_disabled_one():
    assert sign_in_refusal(user=user(), environment=None, impersonating=False) == Refusal.DISABLED


@pytest.mark.parametrize(
    ("refusal", "who", "message"),
    [
        (Refusal.NOT_YET_VALID, {"valid_from": date(2031, 8, 1)},
         "Je account is nog niet geldig: vanaf 1 augustus 2031"),
        (Refusal.EXPIRED, {}, "Je account is verlopen"),
        (Refusal.INACTIVE, {}, "Je account staat op inactief"),
        (Refusal.OTHER_COLLEGE, {}, "Deze toetsomgeving hoort bij een andere school"),
        (Refusal.STAFF, {}, "Deze toetsomgeving is alleen voor kandidaten."),
    ],
)  # fmt: skip
def test_refusals_are_dutch_sentences(refusal, who, message):
    assert refusal_message(refusal, user(**who)) == message


# --- Claims --------------------------------------------------------------------------------------


def test_claims_of_a_candidate(world):
    candidate = world.in_own_group
    u = candidate.user
    u.surname_prefix, u.last_name = "van der", "Berg"
    u.save()
    candidate.groups.add(world.other_group)
    claims = claims_of(u)
    assert uuid.UUID(claims.pop("sub"))
    assert claims == {
        "preferred_username": "kand-own",
        "name": "Anna van der Berg",
        "given_name": "Anna",
        "family_name": "van der Berg",
        "candidate_number": "0000001",
        "groups": ["Techniek 1", "Zorg 1"],
        "college": "rocm",
        "roles": ["kandidaat"],
        "email": u.email,
    }


def test_sub_is_stable_and_survives_renumbering_and_renaming(world):
    candidate = world.in_own_group
    first = claims_of(candidate.user)["sub"]
    candidate_update(
        actor=world.beheerder, candidate=candidate, candidate_number="9999999", last_name="Nieuw"
    )
    candidate.user.username = "kand-renamed"
    candidate.user.save()
    assert claims_of(candidate.user)["sub"] == first
    assert claims_of(world.in_other_group.user)["sub"] != first
    assert first not in {"kand-own", "0000001", str(candidate.pk)}


# --- Through the authorization endpoint ------------------------


@pytest.fixture
def registered(world):
    return exam_environment_create(
        actor=world.beheerder,
        organisation=world.college,
        name="Toetsspeler",
        redirect_uris=[REDIRECT_URI],
    )


def authorize_url(registered, state="s-1") -> str:
    _verifier, challenge = pkce_pair()
    params = {
        "response_type": "code",
        "client_id": registered.environment.application.client_id,
        "redirect_uri": REDIRECT_URI,
        "scope": "openid profile",
        "state": state,
        "code_challenge": challenge,
        "code_challenge_method": "S256",
    }
    return f"{reverse('oauth2_provider:authorize')}?{urlencode(params)}"


def test_a_pending_password_change_comes_first_then_the_sign_in_continues(
    client, world, registered
):
    u = world.in_own_group.user
    u.must_change_password = True
    u.save()
    url = authorize_url(registered)
    response = logged_in(client, u).get(url)
    change = f"{reverse('accounts:password_change')}?{urlencode({'next': url})}"
    assert response["Location"] == change
    response = client.post(
        change,
        {
            "old_password": "Correct-Paard-Batterij-7",
            "new_password1": "Een-Nieuw-Wachtwoord-9",
            "new_password2": "Een-Nieuw-Wachtwoord-9",
        },
    )
    assert response["Location"] == url
    response = client.get(url)
    assert response["Location"].startswith(REDIRECT_URI)
    assert "code" in parse_qs(urlsplit(response["Location"]).query)


def test_password_change_never_continues_to_another_site(client, world):
    logged_in(client, world.in_own_group.user)
    response = client.post(
        f"{reverse('accounts:password_change')}?next=https://evil.example/",
        {
            "old_password": "Correct-Paard-Batterij-7",
            "new_password1": "Een-Nieuw-Wachtwoord-9",
            "new_password2": "Een-Nieuw-Wachtwoord-9",
        },
    )
    assert response["Location"] == reverse("accounts:home")


def test_impersonation_never_yields_a_code(client, world, registered):
    verified(client, world.beheerder)  # 'Log in als deze gebruiker' needs the second factor
    client.post(
        reverse("hijack:acquire"),
        {"user_pk": world.in_own_group.pk, "next": reverse("candidates:me")},
    )
    assert client.session["_auth_user_id"] == str(world.in_own_group.pk)
    response = client.get(authorize_url(registered))
    assert response.status_code == 403
    page = response.content.decode()
    assert "Bij &#x27;Log in als deze gebruiker&#x27; kun je niet inloggen" in page
    assert f"{REDIRECT_URI}?error=access_denied&amp;state=s-1" in page
    assert not Grant.objects.exists()
    row = AuditLog.objects.get(action=AuditLog.Action.EXAM_LOGIN_REFUSED)
    assert row.after == {"exam_environment": "Toetsspeler", "refusal": "impersonation"}


def test_a_post_to_the_authorization_endpoint_is_not_allowed(client, world, registered):
    response = logged_in(client, world.in_own_group.user).post(
        authorize_url(registered), {"allow": "Authorize"}
    )
    assert response.status_code == 405
    assert not Grant.objects.exists()


def test_an_unknown_client_gets_a_dutch_page_and_no_redirect(client, world):
    url = reverse("oauth2_provider:authorize") + "?response_type=code&client_id=nope"
    response = logged_in(client, world.in_own_group.user).get(url)
    assert response.status_code == 400
    assert "Inloggen bij de toetsomgeving is niet mogelijk" in response.content.decode()


def test_the_login_page_names_the_environment_that_asks(client, world, registered):
    response = client.get(authorize_url(registered))
    login = response["Location"]
    assert login.startswith(reverse("accounts:login"))
    page = client.get(login).content.decode()
    assert "Log in om verder te gaan naar <strong>Toetsspeler</strong> van ROC Midden." in page
    # An unknown client or another page as `next` names nothing.
    page = client.get(reverse("accounts:login") + "?next=/beheer/").content.decode()
    assert "Log in om verder te gaan" not in page


def test_the_history_shows_ingelogd_bij(client, world, registered):
    candidate = world.in_own_group
    logged_in(client, candidate.user).get(authorize_url(registered))
    client.logout()
    page = logged_in(client, world.beheerder).get(reverse("candidates:edit", args=[candidate.pk]))
    assert "Ingelogd bij Toetsspeler" in page.content.decode()


# --- Lifecycle -----------------------------------------------------------------------------------


def give_token(registered, user) -> AccessToken:
    return AccessToken.objects.create(
        user=user,
        application=registered.environment.application,
        token=uuid.uuid4().hex,
        expires=timezone.now() + timedelta(minutes=15),
        scope="openid",
    )


def test_revoke_takes_the_users_and_the_clients_tokens_only(world, registered):
    give_token(registered, world.in_own_group.user)
    give_token(registered, world.in_other_group.user)
    assert exam_tokens_revoke(user_ids=[world.in_own_group.pk]) == 1
    assert list(AccessToken.objects.values_list("user_id", flat=True)) == [world.in_other_group.pk]
    app_id = registered.environment.application_id
    assert exam_tokens_revoke(application_ids=[app_id]) == 1
    assert exam_tokens_revoke() == 0


def test_nightly_expiry_revokes(world, registered):
    u = world.in_own_group.user
    u.valid_until = timezone.localdate() - timedelta(days=1)
    u.save()
    give_token(registered, u)
    give_token(registered, world.in_other_group.user)
    assert candidates_deactivate_expired() == 1
    assert list(AccessToken.objects.values_list("user_id", flat=True)) == [world.in_other_group.pk]


def test_editing_status_or_validity_revokes(world, registered):
    give_token(registered, world.in_own_group.user)
    candidate_update(actor=world.beheerder, candidate=world.in_own_group, first_name="Ann")
    assert AccessToken.objects.count() == 1  # a name change is no reason
    candidate_update(actor=world.beheerder, candidate=world.in_own_group, is_active=False)
    assert AccessToken.objects.count() == 0
    give_token(registered, world.in_other_group.user)
    candidates_set_valid_until(
        actor=world.beheerder,
        candidates=[world.in_other_group],
        valid_until=timezone.localdate() - timedelta(days=1),
    )
    assert AccessToken.objects.count() == 0


def test_login_page_lets_its_form_lead_on_to_the_environment_only(client, world, registered):
    login = client.get(client.get(authorize_url(registered))["Location"])
    csp = login["Content-Security-Policy"]
    assert "form-action 'self' https://toets.example.test" in csp
    plain = client.get(reverse("accounts:login") + "?next=/beheer/")["Content-Security-Policy"]
    assert "form-action 'self'" in plain
    assert "toets.example.test" not in plain
    registered.environment.active = False
    registered.environment.save()
    login = client.get(client.get(authorize_url(registered))["Location"])
    assert "toets.example.test" not in login["Content-Security-Policy"]


def test_the_way_back_goes_only_to_a_registered_address(world, registered):
    good = authorize_url(registered)
    assert back_url(good).startswith(f"{REDIRECT_URI}?error=access_denied&state=s-1&iss=")
    evil = good.replace("toets.example.test", "evil.example")
    assert back_url(evil) == ""
    assert back_url("https://evil.example/oidc/authorize/?client_id=x") == ""


def test_anonymising_revokes(world, registered):
    u = world.in_own_group.user
    u.valid_until = timezone.localdate() - timedelta(days=800)  # past the 12-month period
    u.save()
    give_token(registered, u)
    give_token(registered, world.in_other_group.user)
    assert accounts_apply_retention() == 1
    assert list(AccessToken.objects.values_list("user_id", flat=True)) == [world.in_other_group.pk]


def test_archiving_a_group_and_deactivating_its_members_revokes(world, registered):
    members = list(world.own_group.members.all())
    for member in members:
        give_token(registered, member.user)
    give_token(registered, world.in_other_group.user)
    deactivated = group_archive(
        actor=world.beheerder, group=world.own_group, deactivate_members=True
    )
    assert deactivated == len(members)
    assert list(AccessToken.objects.values_list("user_id", flat=True)) == [world.in_other_group.pk]
