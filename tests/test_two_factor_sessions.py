"""Two-step sign-in and the life of a session: nothing of an earlier sign-in on the same browser
(an SSO sign-in, a passed second factor) lets a later password login in, and a requirement
switched on, or a new role, reaches sessions that are already open."""

from django.contrib.auth import SESSION_KEY
from django.contrib.sessions.models import Session
from django.urls import reverse
from django_otp import DEVICE_ID_SESSION_KEY

from accounts.middleware import SIGN_IN_METHOD_KEY
from accounts.models import Role
from accounts.two_factor.rules import HAS_DEVICE_KEY, REQUIRED_KEY
from accounts.two_factor.views import NEW_KEY

from .factories import TEST_PASSWORD
from .helpers.two_factor import give_app, require_two_factor, verified

LIST = reverse("candidates:list")
MINE = reverse("candidates:mine")
LOGIN = reverse("accounts:login")
VERIFY = reverse("two_factor:verify")


def _switch_off_and_on(client, user):
    """The account is switched off for a while (or its validity ends), and on again. The
    browser asks a page in between: off to the login page."""
    user.is_active = False
    user.save(update_fields=["is_active"])
    response = client.get(LIST)
    assert response.status_code == 302
    assert response["Location"].startswith(LOGIN)
    user.is_active = True
    user.save(update_fields=["is_active"])


def _password_login(client, username):
    response = client.post(LOGIN, {"username": username, "password": TEST_PASSWORD})
    assert response.status_code == 302, response.content[:500]
    assert client.session[SESSION_KEY] is not None


def _asked_for_second_factor(client, url=LIST):
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"].startswith(VERIFY)


# --- a password login starts clean --------------------------------------------------------------


def test_password_login_after_an_sso_session_still_asks_the_second_factor(client, world):
    require_two_factor(world.college)
    give_app(world.beheerder)
    client.force_login(world.beheerder)  # signed in through the college's provider earlier
    session = client.session
    session[SIGN_IN_METHOD_KEY] = "college_idp"
    session.save()
    assert client.get(LIST).status_code == 200
    _switch_off_and_on(client, world.beheerder)

    _password_login(client, "beheerder")  # someone with the password only

    assert SIGN_IN_METHOD_KEY not in client.session
    _asked_for_second_factor(client)


def test_password_login_after_a_verified_session_still_asks_the_second_factor(client, world):
    require_two_factor(world.college)
    verified(client, world.beheerder)
    assert client.get(LIST).status_code == 200
    _switch_off_and_on(client, world.beheerder)

    _password_login(client, "beheerder")

    assert DEVICE_ID_SESSION_KEY not in client.session
    _asked_for_second_factor(client)


def test_a_password_login_keeps_nothing_of_the_session_before_it(client, world):
    """Whatever a session holds before the password login (left by an earlier sign-in, or
    planted), the login starts a new one: the login view itself, not only the middleware."""
    require_two_factor(world.college)
    device = give_app(world.beheerder)
    session = client.session  # a session without a user in it
    session[SIGN_IN_METHOD_KEY] = "college_idp"
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session[HAS_DEVICE_KEY] = {"user": world.beheerder.pk, "has_device": False}
    session[REQUIRED_KEY] = {"user": world.beheerder.pk, "required": False}
    session[NEW_KEY] = "JBSWY3DPEHPK3PXP"
    session.save()
    old_key = session.session_key

    _password_login(client, "beheerder")

    session = client.session
    assert session.session_key != old_key
    assert not Session.objects.filter(session_key=old_key).exists()
    for key in (SIGN_IN_METHOD_KEY, DEVICE_ID_SESSION_KEY, HAS_DEVICE_KEY, REQUIRED_KEY, NEW_KEY):
        assert key not in session, key
    _asked_for_second_factor(client)


def test_the_session_of_a_deactivated_account_is_emptied(client, world):
    client.force_login(world.beheerder)
    session = client.session
    session[SIGN_IN_METHOD_KEY] = "college_idp"
    session.save()
    old_key = session.session_key
    world.beheerder.is_active = False
    world.beheerder.save(update_fields=["is_active"])

    response = client.get(LIST)

    assert response.status_code == 302
    assert not Session.objects.filter(session_key=old_key).exists()
    assert SIGN_IN_METHOD_KEY not in client.session


def test_a_password_login_without_a_required_second_factor_goes_straight_in(client, world):
    _password_login(client, "coord")
    assert client.get(LIST).status_code == 200


# --- open sessions follow the college and the role ---------------------------------------------


def test_requirement_switched_on_reaches_an_open_session(client, world):
    client.force_login(world.coordinator)
    assert client.get(LIST).status_code == 200  # not required yet

    require_two_factor(world.college)  # beheerders and toetscoördinatoren from now on

    _asked_for_second_factor(client)


def test_promotion_to_a_role_that_requires_it_reaches_an_open_session(client, world):
    require_two_factor(world.college)  # beheerders and toetscoördinatoren, not begeleiders
    client.force_login(world.supervisor)
    assert client.get(MINE).status_code == 200

    world.supervisor.role = Role.BEHEERDER  # promoted on Medewerkers
    world.supervisor.save(update_fields=["role"])

    _asked_for_second_factor(client)


def test_requirement_switched_off_frees_an_open_session_without_an_app(client, world):
    require_two_factor(world.college)
    client.force_login(world.coordinator)
    _asked_for_second_factor(client)

    require_two_factor(world.college, roles=[])

    assert client.get(LIST).status_code == 200


def test_someone_with_an_app_is_still_asked_when_the_college_no_longer_requires_it(
    client, world
):
    require_two_factor(world.college)
    give_app(world.coordinator)
    client.force_login(world.coordinator)
    _asked_for_second_factor(client)

    require_two_factor(world.college, roles=[])

    _asked_for_second_factor(client)
