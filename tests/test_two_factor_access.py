"""What needs a session that passed the second factor ('Log in als deze gebruiker', the
platform admin), the college's choice of who must use it, and a beheerder resetting a
colleague's second factor."""

import pytest
from django.contrib import admin
from django.test import Client, RequestFactory
from django.urls import reverse
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.models import AuditLog, Role

from .factories import TEST_PASSWORD, UserFactory
from .helpers.candidates import logged_in, make_superuser, rows
from .helpers.two_factor import code_for, give_app, require_two_factor, verified

ACQUIRE = reverse("hijack:acquire")
RELEASE = reverse("hijack:release")
VERIFY = reverse("two_factor:verify")
SETTINGS = reverse("candidates:two_factor_settings")
ADMIN = reverse("admin:index")


def current_user_id(client):
    return client.session.get("_auth_user_id")


def impersonate(client, target):
    return client.post(ACQUIRE, {"user_pk": target.pk, "next": reverse("candidates:me")})


# --- 'Log in als deze gebruiker' ---------------------------------------------------------------


def test_impersonation_is_refused_without_a_verified_session(client, world):
    """Even where the college does not require two-step sign-in of beheerders."""
    client = logged_in(client, world.beheerder)
    target = world.in_own_group.user

    response = impersonate(client, target)

    edit = reverse("candidates:edit", args=[target.pk])
    assert response.status_code == 302
    assert response["Location"] == f"{VERIFY}?next={edit.replace('/', '%2F')}"
    assert current_user_id(client) == str(world.beheerder.pk)
    assert rows(AuditLog.Action.IMPERSONATION_STARTED) == []
    page = client.get(response["Location"], follow=True).content.decode()
    assert "‘Log in als deze gebruiker’ kan alleen na tweestapsverificatie." in page


def test_impersonation_works_once_verified_and_the_return_stays_verified(client, world):
    require_two_factor(world.college)
    app = give_app(world.beheerder)
    client.force_login(world.beheerder)
    client.post(VERIFY, {"code": code_for(app)})

    assert impersonate(client, world.in_own_group.user).status_code == 302
    assert current_user_id(client) == str(world.in_own_group.user.pk)
    client.post(RELEASE, {"next": "/"})

    assert current_user_id(client) == str(world.beheerder.pk)
    # No second verification after 'Terug naar je eigen account'.
    assert client.get(reverse("candidates:list")).status_code == 200


def test_the_candidates_session_cannot_use_the_beheerders_factor(client, world):
    """The factor kept aside during impersonation belongs to the beheerder: the candidate's
    own session is not verified by it."""
    client = verified(client, world.beheerder)
    impersonate(client, world.in_own_group.user)
    assert client.session.get("otp_device_id") is None


def test_impersonation_after_sign_in_through_the_college_identity_provider(client, world):
    client.force_login(world.beheerder)
    session = client.session
    session["kb_sign_in_method"] = "college_idp"
    session.save()

    assert impersonate(client, world.in_own_group.user).status_code == 302
    assert current_user_id(client) == str(world.in_own_group.user.pk)
    client.post(RELEASE, {"next": "/"})
    assert client.session.get("kb_sign_in_method") == "college_idp"


def test_refusals_of_the_rule_come_before_the_second_factor(client, world):
    """A target one may not become stays a 403 (or 404), verified or not."""
    client = logged_in(client, world.beheerder)
    assert impersonate(client, world.coordinator).status_code == 403
    assert impersonate(client, world.of_other_college.user).status_code == 404


# --- The platform admin ------------------------------------------------------------------------


def test_the_platform_admin_needs_a_verified_operator(client, db):
    root = make_superuser()
    client.force_login(root)

    response = client.get(ADMIN)
    assert response["Location"] == f"{VERIFY}?next=%2Fplatform-admin%2F"
    assert client.get(response["Location"])["Location"].startswith(reverse("two_factor:enrol"))

    app = give_app(root)
    client.post(VERIFY, {"code": code_for(app)})
    assert client.get(ADMIN).status_code == 200


def test_the_admin_site_itself_refuses_an_unverified_operator(db):
    """Behind the middleware, django-otp's OTPAdminSite checks again."""
    root = make_superuser()
    request = RequestFactory().get(ADMIN)
    request.user = root
    root.is_verified = lambda: False
    assert admin.site.has_permission(request) is False
    root.is_verified = lambda: True
    assert admin.site.has_permission(request) is True


# --- Instellingen → Tweestapsverificatie --------------------------------------------------------


def test_the_beheerder_chooses_the_roles_and_it_is_audited(client, world):
    client = logged_in(client, world.beheerder)
    page = client.get(SETTINGS).content.decode()
    assert 'aria-current="page" href="/beheer/instellingen/tweestapsverificatie/"' in page

    response = client.post(SETTINGS, {"roles": ["begeleider", "beheerder"]}, follow=True)

    assert "De instellingen voor tweestapsverificatie zijn opgeslagen." in (
        response.content.decode()
    )
    world.college.refresh_from_db()
    assert world.college.two_factor_roles == ["beheerder", "begeleider"]
    (row,) = rows(AuditLog.Action.SETTINGS_CHANGED)
    assert (row.actor, row.organisation) == (world.beheerder, world.college)
    assert row.before == {"two_factor_roles": []}
    assert row.after == {"two_factor_roles": ["beheerder", "begeleider"]}
    # The supervisor's next session is asked; the coordinator's is not.
    client.force_login(world.supervisor)
    assert client.get(reverse("candidates:mine"))["Location"].startswith(VERIFY)
    client.force_login(world.coordinator)
    assert client.get(reverse("candidates:list")).status_code == 200
    # Saving the same again writes nothing (the beheerder, now asked too, verifies first).
    client = verified(client, world.beheerder)
    page = client.post(SETTINGS, {"roles": ["beheerder", "begeleider"]}, follow=True)
    assert "Er was niets gewijzigd." in page.content.decode()
    assert len(rows(AuditLog.Action.SETTINGS_CHANGED)) == 1


def test_an_unknown_role_is_refused_in_dutch(client, world):
    client = logged_in(client, world.beheerder)
    page = client.post(SETTINGS, {"roles": ["kandidaat"]})
    assert page.status_code == 200
    assert "Kies alleen rollen uit de lijst." in page.content.decode()
    world.college.refresh_from_db()
    assert world.college.two_factor_roles == []


@pytest.mark.parametrize("who", ["coordinator", "supervisor", "in_own_group"])
def test_only_beheerders_open_the_setting(client, world, who):
    user = getattr(world, who)
    user = getattr(user, "user", user)
    assert logged_in(client, user).get(SETTINGS).status_code == 403


# --- Reset by a beheerder ----------------------------------------------------------------------


def reset(client, staff):
    return client.post(reverse("candidates:staff_two_factor_reset", args=[staff.pk]))


def test_a_beheerder_resets_a_colleagues_second_factor(client, world):
    require_two_factor(world.college)
    app = give_app(world.coordinator)
    other = verified_elsewhere(world.coordinator, app)
    client = verified(client, world.beheerder)
    staff_page = client.get(reverse("candidates:staff")).content.decode()
    assert 'Resetten<span class="visually-hidden"> (Test' in staff_page

    response = reset(client, world.coordinator)

    assert response["Location"] == reverse("candidates:staff")
    assert not TOTPDevice.objects.filter(user=world.coordinator).exists()
    assert not StaticDevice.objects.filter(user=world.coordinator).exists()
    (row,) = rows(AuditLog.Action.TWO_FACTOR_RESET)
    assert (row.actor, row.target_user) == (world.beheerder, world.coordinator)
    assert (row.before, row.after) == ({"two_factor": "set"}, {"two_factor": "none"})
    # The colleague's open session no longer counts as verified: they set up a new app.
    response = other.get(reverse("candidates:list"))
    assert response["Location"].startswith(VERIFY)
    assert other.get(response["Location"])["Location"].startswith(reverse("two_factor:enrol"))


def verified_elsewhere(user, app):
    """A second browser of `user`, verified with the code of `app`."""
    other = Client()
    other.force_login(user)
    other.post(VERIFY, {"code": code_for(app)})
    assert other.get(reverse("candidates:list")).status_code == 200
    return other


def test_another_beheerder_can_be_reset_but_not_oneself(client, world):
    second = UserFactory(organisation=world.college, role=Role.BEHEERDER)
    give_app(second)
    client = verified(client, world.beheerder)
    assert reset(client, world.beheerder).status_code == 404
    assert TOTPDevice.objects.filter(user=world.beheerder).exists()
    assert reset(client, second).status_code == 302
    assert not TOTPDevice.objects.filter(user=second).exists()


def test_reset_is_for_beheerders_of_the_same_college(client, world):
    give_app(world.supervisor)
    assert reset(logged_in(client, world.coordinator), world.supervisor).status_code == 403
    assert reset(logged_in(client, world.outsider), world.supervisor).status_code == 404
    client = logged_in(client, world.beheerder)
    url = reverse("candidates:staff_two_factor_reset", args=[world.supervisor.pk])
    assert client.get(url).status_code == 405
    assert TOTPDevice.objects.filter(user=world.supervisor).exists()
    assert rows(AuditLog.Action.TWO_FACTOR_RESET) == []


def test_the_admin_login_page_asks_for_the_code_too(client, db):
    """Signing in on the admin's own login page (django-otp's form): password and code."""
    root = make_superuser()
    app = give_app(root)
    page = client.get(reverse("admin:login"))
    assert page.status_code == 200
    assert 'name="otp_token"' in page.content.decode()

    data = {"username": root.username, "password": TEST_PASSWORD}
    response = client.post(reverse("admin:login"), {**data, "otp_token": "000000"})
    assert response.status_code == 200  # refused: the form again
    response = client.post(
        reverse("admin:login"),
        {**data, "otp_device": app.persistent_id, "otp_token": code_for(app)},
    )
    assert response.status_code == 302
    assert client.get(ADMIN).status_code == 200
