from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.models import AuditLog

from .factories import TEST_PASSWORD

LOGIN = reverse("accounts:login")


def login(client, username, password=TEST_PASSWORD, ip="10.0.0.1"):
    return client.post(LOGIN, {"username": username, "password": password}, REMOTE_ADDR=ip)


@pytest.mark.parametrize(
    ("role", "landing"),
    [
        ("beheerder", "candidates:list"),
        ("coordinator", "candidates:list"),
        ("supervisor", "candidates:mine"),
    ],
)
def test_each_role_lands_on_its_start_page(client, world, role, landing):
    user = getattr(world, role)
    assert login(client, user.username).status_code == 302
    response = client.get(reverse("accounts:home"))
    assert response.status_code == 302
    assert response["Location"] == reverse(landing)


def test_candidate_lands_on_own_details(client, world):
    login(client, "kand-own")
    response = client.get(reverse("accounts:home"))
    assert response["Location"] == reverse("candidates:me")


def test_login_page_is_dutch(client, db):
    response = client.get(LOGIN)
    assert response.status_code == 200
    assert "Inloggen" in response.content.decode()
    assert 'lang="nl"' in response.content.decode()


def test_wrong_password_message_and_audit(client, world):
    response = login(client, "kand-own", "fout")
    assert response.status_code == 200
    assert "Gebruikersnaam of wachtwoord is onjuist" in response.content.decode()
    row = AuditLog.objects.get(action=AuditLog.Action.LOGIN_FAILED)
    assert row.target_user == world.in_own_group.user
    assert row.ip_address == "10.0.0.1"


def test_expired_account_is_told_why(client, world):
    user = world.in_own_group.user
    user.valid_until = timezone.localdate() - timedelta(days=1)
    user.save()
    response = login(client, user.username)
    body = response.content.decode()
    assert response.status_code == 200
    assert "Je account was geldig tot en met" in body
    assert "is verlopen" in body
    assert "_auth_user_id" not in client.session


def test_not_yet_valid_account_is_told_why(client, world):
    user = world.in_own_group.user
    user.valid_from = timezone.localdate() + timedelta(days=3)
    user.save()
    response = login(client, user.username)
    assert "Je account is pas geldig vanaf" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_inactive_account_is_told_why(client, world):
    user = world.in_own_group.user
    user.is_active = False
    user.save()
    response = login(client, user.username)
    assert "Je account is niet actief" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_inactive_account_wrong_password_reveals_nothing(client, world):
    user = world.in_own_group.user
    user.is_active = False
    user.save()
    body = login(client, user.username, "fout").content.decode()
    assert "Je account is niet actief" not in body
    assert "Gebruikersnaam of wachtwoord is onjuist" in body


def test_deactivated_user_loses_running_session(client, world):
    user = world.beheerder
    login(client, user.username)
    assert client.get(reverse("candidates:list")).status_code == 200
    user.is_active = False
    user.save()
    response = client.get(reverse("candidates:list"))
    assert response.status_code == 302
    assert response["Location"].startswith(LOGIN)


def test_throttle_per_username_and_address(client, world, settings):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        login(client, "coord", "fout", ip="10.0.0.7")
    locked = login(client, "coord", TEST_PASSWORD, ip="10.0.0.7")
    assert locked.status_code == 429
    assert "Te veel mislukte inlogpogingen" in locked.content.decode()
    # Same school address, another pupil: not locked out.
    assert login(client, "begel", TEST_PASSWORD, ip="10.0.0.7").status_code == 302
    client.logout()
    # Same user from another address: not locked out either.
    assert login(client, "coord", TEST_PASSWORD, ip="10.0.0.8").status_code == 302


def test_throttle_cools_off(client, world, settings):
    from axes.models import AccessAttempt

    for _ in range(settings.AXES_FAILURE_LIMIT):
        login(client, "coord", "fout", ip="10.0.0.9")
    assert login(client, "coord", TEST_PASSWORD, ip="10.0.0.9").status_code == 429
    AccessAttempt.objects.update(attempt_time=timezone.now() - timedelta(hours=1))
    assert login(client, "coord", TEST_PASSWORD, ip="10.0.0.9").status_code == 302


def test_successful_login_audited(client, world):
    login(client, "coord", ip="10.1.2.3")
    row = AuditLog.objects.get(action=AuditLog.Action.LOGIN)
    assert (row.actor, row.target_user, row.ip_address) == (
        world.coordinator,
        world.coordinator,
        "10.1.2.3",
    )


def test_absolute_session_timeout(client, world, settings):
    from accounts.middleware import SESSION_STARTED_KEY

    login(client, "beheerder")
    session = client.session
    session[SESSION_STARTED_KEY] = 0
    session.save()
    response = client.get(reverse("candidates:list"))
    assert response.status_code == 302
    assert response["Location"] == reverse("accounts:login")


def test_must_change_password_at_first_login(client, world):
    user = world.in_own_group.user
    user.must_change_password = True
    user.save()
    assert login(client, user.username).status_code == 302
    response = client.get(reverse("candidates:me"))
    assert response["Location"] == reverse("accounts:password_change")
    page = client.get(reverse("accounts:password_change")).content.decode()
    assert "Kies een eigen wachtwoord voordat je verdergaat." in page
    response = client.post(
        reverse("accounts:password_change"),
        {
            "old_password": TEST_PASSWORD,
            "new_password1": "Een-Nieuw-Wachtwoord-9",
            "new_password2": "Een-Nieuw-Wachtwoord-9",
        },
    )
    assert response.status_code == 302
    user.refresh_from_db()
    assert user.must_change_password is False
    assert user.check_password("Een-Nieuw-Wachtwoord-9")
    assert client.get(reverse("candidates:me")).status_code == 200


def test_generated_password_hash_upgraded_at_first_login(client, world):
    from django.contrib.auth.hashers import identify_hasher, make_password

    user = world.in_own_group.user
    user.password = make_password("Gegenereerd-abc-123", hasher="pbkdf2_sha256_generated")
    user.save()
    assert login(client, user.username, "Gegenereerd-abc-123").status_code == 302
    user.refresh_from_db()
    assert identify_hasher(user.password).algorithm != "pbkdf2_sha256_generated"
    assert user.check_password("Gegenereerd-abc-123")


def test_generated_passwords_pass_every_validator():
    from django.contrib.auth.password_validation import validate_password

    from accounts.models import User
    from accounts.passwords import ALPHABET, entropy_bits, generate_password

    assert entropy_bits(12) >= 68
    for _ in range(200):
        password = generate_password(12)
        assert len(password) == 12
        assert set(password) <= set(ALPHABET)
        validate_password(password, user=User(username="jan", first_name="Jan"))


def test_lower_case_passwords_are_long_enough():
    from accounts.passwords import LOWER_ALPHABET, entropy_bits, generate_password, min_length

    assert min_length("lower") == 14
    assert entropy_bits(14, "lower") >= 64
    password = generate_password(12, "lower")
    assert len(password) == 14
    assert set(password) <= set(LOWER_ALPHABET)


def test_impersonation_does_not_extend_the_session(client, world):
    import time

    from accounts.middleware import SESSION_STARTED_KEY

    client.force_login(world.beheerder)
    session = client.session
    session[SESSION_STARTED_KEY] = int(time.time()) - 600
    session.save()
    client.get(reverse("candidates:list"))
    started = client.session[SESSION_STARTED_KEY]
    client.post(reverse("hijack:acquire"), {"user_pk": world.in_own_group.pk})
    assert client.session[SESSION_STARTED_KEY] == started
    client.post(reverse("hijack:release"))
    assert client.session[SESSION_STARTED_KEY] == started


def test_dutch_even_for_an_english_browser_until_english_is_chosen(client, db):
    response = client.get(LOGIN, HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9")
    assert response["Content-Language"] == "nl"
    assert 'lang="nl"' in response.content.decode()
    client.post(reverse("set_language"), {"language": "en", "next": LOGIN})
    response = client.get(LOGIN)
    assert response["Content-Language"] == "en"
    assert 'lang="en"' in response.content.decode()
