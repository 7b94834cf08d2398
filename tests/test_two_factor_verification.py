"""After the password, the second step: the code from the app or a recovery code. The
middleware keeps a session that has not passed it out of every page but these, and sends it
on afterwards to where it was going (an exam environment's authorisation request too)."""

from datetime import timedelta
from urllib.parse import quote

import pytest
from django.urls import reverse
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.models import AuditLog, Organisation, Role, default_two_factor_roles

from .factories import TEST_PASSWORD
from .helpers.candidates import rows
from .helpers.two_factor import code_for, give_app, recovery_codes_on, require_two_factor

LOGIN = reverse("accounts:login")
VERIFY = reverse("two_factor:verify")
ENROL = reverse("two_factor:enrol")
LIST = reverse("candidates:list")
# An exam environment sends its users here (OpenID Connect); the query must survive.
AUTHORIZE = "/o/authorize/?client_id=toets&response_type=code&state=x%2Fy&scope=openid+profile"


@pytest.fixture
def college(world):
    return require_two_factor(world.college)


@pytest.fixture
def app(world, college):
    return give_app(world.beheerder)


def sign_in(client, user, next_url=""):
    url = f"{LOGIN}?next={quote(next_url)}" if next_url else LOGIN
    return client.post(url, {"username": user.username, "password": TEST_PASSWORD})


def verify_url(next_url):
    return f"{VERIFY}?next={quote(next_url, safe='')}"


def test_a_new_college_requires_it_of_beheerders_and_coordinators(db):
    college = Organisation.objects.create(name="ROC Nieuw", code="nieuw")
    assert college.two_factor_roles == ["beheerder", "toetscoordinator"]
    assert default_two_factor_roles() == [Role.BEHEERDER, Role.TOETSCOORDINATOR]
    assert college.requires_two_factor(Role.BEHEERDER)
    assert not college.requires_two_factor(Role.BEGELEIDER)
    assert not college.requires_two_factor(Role.KANDIDAAT)


def test_the_code_from_the_app_lets_the_beheerder_in(client, world, app):
    assert sign_in(client, world.beheerder)["Location"] == "/"
    assert client.get("/")["Location"] == verify_url("/")
    page = client.get(verify_url("/")).content.decode()
    assert "Tweestapsverificatie" in page
    assert "Code uit je app of herstelcode" in page
    assert "Beheer</a>" not in page  # no menu of pages that would only lead back here

    response = client.post(VERIFY, {"code": code_for(app), "next": LIST})

    assert response.status_code == 302
    assert response["Location"] == LIST
    assert "Beheer</a>" in client.get(LIST).content.decode()
    assert rows(AuditLog.Action.TWO_FACTOR_FAILED) == []


def test_verifying_starts_a_new_session_key(client, world, app):
    sign_in(client, world.beheerder)
    before = client.session.session_key
    client.post(VERIFY, {"code": code_for(app)})
    assert client.session.session_key != before


def test_next_survives_the_password_and_the_second_step(client, world, app):
    """The exam environment's /o/authorize/?… goes on after both steps, query and all."""
    assert sign_in(client, world.beheerder, next_url=AUTHORIZE)["Location"] == AUTHORIZE
    response = client.get(AUTHORIZE)
    assert response["Location"] == verify_url(AUTHORIZE)

    response = client.post(response["Location"], {"code": code_for(app), "next": AUTHORIZE})

    assert response["Location"] == AUTHORIZE


def test_without_an_app_next_survives_the_enrolment_too(client, world, college):
    sign_in(client, world.beheerder, next_url=AUTHORIZE)
    response = client.get(verify_url(AUTHORIZE))
    assert response["Location"] == f"{ENROL}?next={quote(AUTHORIZE, safe='')}"


@pytest.mark.parametrize("target", ["https://elders.example/", "//elders.example/pad"])
def test_next_to_another_site_is_ignored(client, world, app, target):
    sign_in(client, world.beheerder)
    response = client.post(VERIFY, {"code": code_for(app), "next": target})
    assert response["Location"] == reverse("accounts:home")


def test_a_wrong_code_is_refused_in_dutch_audited_and_throttled(client, world, app):
    sign_in(client, world.beheerder)
    wrong = f"{(int(code_for(app)) + 1) % 1000000:06d}"

    page = client.post(VERIFY, {"code": wrong, "next": LIST})

    assert page.status_code == 200
    assert "Deze code klopt niet." in page.content.decode()
    assert client.get(LIST)["Location"] == verify_url(LIST)
    (row,) = rows(AuditLog.Action.TWO_FACTOR_FAILED)
    assert (row.actor, row.after) == (world.beheerder, {"two_factor_failure": "wrong"})
    # Straight after a wrong code even the right one waits (django-otp's throttling)…
    page = client.post(VERIFY, {"code": code_for(app)})
    assert "Te veel onjuiste codes achter elkaar." in page.content.decode()
    assert rows(AuditLog.Action.TWO_FACTOR_FAILED)[-1].after == {"two_factor_failure": "throttled"}
    # …until the wait is over.
    TOTPDevice.objects.filter(pk=app.pk).update(
        throttling_failure_timestamp=timezone.now() - timedelta(minutes=5)
    )
    assert client.post(VERIFY, {"code": code_for(app)})["Location"] == "/"


def test_a_recovery_code_works_once(client, world, app):
    client.force_login(world.beheerder)
    client.post(VERIFY, {"code": code_for(app)})
    codes = recovery_codes_on(client.post(reverse("two_factor:recovery_codes")).content.decode())
    assert len(codes) == 10
    client.post(reverse("accounts:logout"))

    sign_in(client, world.beheerder)
    page = client.post(VERIFY, {"code": codes[3].upper(), "next": LIST}, follow=True)

    assert page.redirect_chain[0] == (LIST, 302)
    assert "Je hebt een herstelcode gebruikt. Je hebt er nog 9 over." in page.content.decode()
    (row,) = rows(AuditLog.Action.RECOVERY_CODE_USED)
    assert row.after == {"recovery_codes_left": 9}
    client.post(reverse("accounts:logout"))

    sign_in(client, world.beheerder)
    page = client.post(VERIFY, {"code": codes[3]})
    assert "Deze code klopt niet." in page.content.decode()


def test_new_recovery_codes_replace_the_old_ones(client, world, app):
    client.force_login(world.beheerder)
    client.post(VERIFY, {"code": code_for(app)})
    old = recovery_codes_on(client.post(reverse("two_factor:recovery_codes")).content.decode())
    new = recovery_codes_on(client.post(reverse("two_factor:recovery_codes")).content.decode())
    assert len(new) == 10 and not set(old) & set(new)
    assert len(rows(AuditLog.Action.RECOVERY_CODES_RENEWED)) == 2
    client.post(reverse("accounts:logout"))
    sign_in(client, world.beheerder)
    assert "Deze code klopt niet." in client.post(VERIFY, {"code": old[0]}).content.decode()


# --- What the middleware lets through --------------------------------------------------------


def test_every_other_page_waits_for_the_second_step(client, world, app):
    client.force_login(world.beheerder)
    for url in (
        LIST,
        reverse("candidates:settings"),
        reverse("candidates:staff"),
        reverse("imports:start"),
        reverse("accounts:password_change"),
        reverse("two_factor:overview"),
        "/platform-admin/",
    ):
        response = client.get(url)
        assert (url, response.status_code, response["Location"]) == (url, 302, verify_url(url))
    # A form sent before verifying goes to its page afterwards, not repeated.
    response = client.post(reverse("candidates:settings"), {"password_length": 8})
    assert response["Location"] == verify_url(reverse("candidates:settings"))


def test_logout_language_and_static_files_stay_open(client, world, app):
    client.force_login(world.beheerder)
    response = client.post(reverse("set_language"), {"language": "en", "next": VERIFY})
    assert response["Location"] == VERIFY
    assert client.get("/static/css/app.css").status_code != 302
    response = client.post(reverse("accounts:logout"))
    assert response["Location"] == reverse("accounts:login")
    assert "_auth_user_id" not in client.session


def test_must_change_password_comes_after_the_second_step(client, world, app):
    world.beheerder.must_change_password = True
    world.beheerder.save()
    client.force_login(world.beheerder)
    change = reverse("accounts:password_change")
    page = client.get(LIST, follow=True)
    assert [url for url, _status in page.redirect_chain] == [change, verify_url(change)]
    assert client.post(change, {})["Location"] == verify_url(change)  # no change without it

    response = client.post(VERIFY, {"code": code_for(app), "next": change})
    assert response["Location"] == change
    assert client.get(change).status_code == 200
    assert client.get(LIST)["Location"] == change


def test_optional_roles_and_candidates_are_not_asked(client, world, college):
    for user, home in (
        (world.supervisor, reverse("candidates:mine")),
        (world.in_own_group.user, reverse("candidates:me")),
    ):
        client.force_login(user)
        assert client.get(home).status_code == 200


def test_someone_who_chose_an_app_is_asked_for_it_even_where_optional(client, world, college):
    app = give_app(world.supervisor)
    client.force_login(world.supervisor)
    mine = reverse("candidates:mine")
    assert client.get(mine)["Location"] == verify_url(mine)
    client.post(VERIFY, {"code": code_for(app)})
    assert client.get(mine).status_code == 200


def test_a_college_without_the_requirement_asks_nobody(client, world):
    assert world.college.two_factor_roles == []  # the test factories' choice
    client.force_login(world.beheerder)
    assert client.get(LIST).status_code == 200


def test_sign_in_through_the_college_identity_provider_skips_it(client, world, app):
    """That provider does its own multi-factor authentication (the session marker is the
    contract with the sign-in through the college's identity provider)."""
    client.force_login(world.beheerder)
    session = client.session
    session["kb_sign_in_method"] = "college_idp"
    session.save()

    assert client.get(LIST).status_code == 200
    assert client.get(VERIFY)["Location"] == reverse("accounts:home")
