"""Setting up two-step sign-in: after the password, staff whose role requires it and who have no
authenticator app yet are led to the enrolment page, scan (or type) the secret, confirm it with
the code their app shows, and see their ten recovery codes once."""

from urllib.parse import quote

import pytest
from django.urls import reverse
from django_otp.plugins.otp_static.models import StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.models import AuditLog

from .factories import TEST_PASSWORD
from .helpers.candidates import rows
from .helpers.two_factor import (
    code_for,
    code_from_text,
    give_app,
    recovery_codes_on,
    require_two_factor,
    secret_on,
)

LOGIN = reverse("accounts:login")
ENROL = reverse("two_factor:enrol")
VERIFY = reverse("two_factor:verify")
LIST = reverse("candidates:list")


@pytest.fixture
def college(world):
    return require_two_factor(world.college)


def sign_in(client, user, next_url=""):
    data = {"username": user.username, "password": TEST_PASSWORD}
    url = f"{LOGIN}?next={quote(next_url)}" if next_url else LOGIN
    return client.post(url, data, follow=True)


def test_a_beheerder_without_an_app_is_led_to_the_enrolment_after_the_password(
    client, world, college
):
    page = sign_in(client, world.beheerder)

    assert [url for url, _status in page.redirect_chain] == [
        "/",
        f"{VERIFY}?next=%2F",
        f"{ENROL}?next=%2F",
    ]
    html = page.content.decode()
    assert "Tweestapsverificatie instellen" in html
    assert 'src="data:image/svg+xml' in html  # the QR code, drawn here, no outside service
    assert 'alt="QR-code om Kandidaatbeheer aan je authenticator-app toe te voegen"' in html
    assert len(secret_on(html).replace(" ", "")) == 32  # 20 bytes, base32
    assert not TOTPDevice.objects.filter(user=world.beheerder).exists()  # nothing until confirmed


def test_enrolment_with_the_code_of_the_app_shows_ten_recovery_codes_once(client, world, college):
    html = sign_in(client, world.beheerder).content.decode()
    secret = secret_on(html)

    page = client.post(ENROL, {"code": code_from_text(secret), "next": LIST})

    html = page.content.decode()
    assert page.status_code == 200
    assert "Tweestapsverificatie is ingesteld" in html
    codes = recovery_codes_on(html)
    assert len(codes) == 10 == len(set(codes))
    assert sorted(codes) == sorted(
        StaticToken.objects.filter(device__user=world.beheerder).values_list("token", flat=True)
    )
    assert f'href="{LIST}"' in html  # 'Ik heb de codes bewaard' goes on to where they were going
    device = TOTPDevice.objects.get(user=world.beheerder)
    assert device.confirmed
    assert code_from_text(secret) == code_for(device)  # the secret shown is the one stored
    # The session passed its second factor: the back office opens.
    assert client.get(LIST).status_code == 200
    (row,) = rows(AuditLog.Action.TWO_FACTOR_ENROLLED)
    assert (row.actor, row.target_user) == (world.beheerder, world.beheerder)
    assert (row.before, row.after) == ({"two_factor": "none"}, {"two_factor": "set"})
    # The codes are not shown again: the overview tells how many are left.
    overview = client.get(reverse("two_factor:overview")).content.decode()
    assert "Je hebt nog 10 herstelcodes." in overview
    assert not any(code in overview for code in codes)


def test_the_secret_stays_the_same_until_confirmed(client, world, college):
    first = secret_on(sign_in(client, world.beheerder).content.decode())
    again = secret_on(client.get(ENROL).content.decode())
    assert first == again


@pytest.mark.parametrize("code", ["000000", "12345", "abcdefgh", " "])
def test_a_wrong_code_at_enrolment_says_so_in_dutch(client, world, college, code):
    sign_in(client, world.beheerder)

    page = client.post(ENROL, {"code": code})

    html = page.content.decode()
    assert page.status_code == 200
    expected = "Vul de code in." if not code.strip() else "Deze code klopt niet."
    assert expected in html
    assert not TOTPDevice.objects.filter(user=world.beheerder).exists()
    assert client.get(LIST)["Location"].startswith(VERIFY)


def test_the_enrolment_code_cannot_be_used_again_to_sign_in(client, world, college):
    secret = secret_on(sign_in(client, world.beheerder).content.decode())
    code = code_from_text(secret)
    client.post(ENROL, {"code": code})
    client.post(reverse("accounts:logout"))

    sign_in(client, world.beheerder)
    page = client.post(VERIFY, {"code": code, "next": LIST})

    assert "Deze code klopt niet." in page.content.decode()


def test_a_password_alone_cannot_replace_an_app(client, world, college):
    """Someone who knows only the password must not be able to set up their own app."""
    give_app(world.beheerder)
    sign_in(client, world.beheerder)

    response = client.get(ENROL)

    assert response.status_code == 302
    assert response["Location"] == f"{VERIFY}?next=%2F"


def test_a_verified_user_may_set_up_a_new_phone(client, world, college):
    old = give_app(world.beheerder)
    sign_in(client, world.beheerder)
    client.post(VERIFY, {"code": code_for(old)})

    html = client.get(ENROL).content.decode()
    assert "Je stelt een nieuwe app in." in html
    client.post(ENROL, {"code": code_from_text(secret_on(html))})

    assert not TOTPDevice.objects.filter(pk=old.pk).exists()
    assert TOTPDevice.objects.filter(user=world.beheerder, confirmed=True).count() == 1
    (row,) = rows(AuditLog.Action.TWO_FACTOR_ENROLLED)
    assert row.before == {"two_factor": "set"}


def test_candidates_never_get_the_pages(client, world, college):
    client.force_login(world.in_own_group.user)
    for url in (ENROL, VERIFY, reverse("two_factor:overview")):
        assert client.get(url).status_code == 403
    assert client.get(reverse("candidates:me")).status_code == 200
