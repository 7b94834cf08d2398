"""'Medewerkers alleen via de eigen inlogdienst': the password form refuses the college's staff
with a Dutch message, while its candidates, other colleges and platform operators log in as
before; switched off, or with the provider off, staff use their password again."""

import pytest
from django.urls import reverse

from accounts.models import CollegeSignIn
from tests.factories import TEST_PASSWORD, UserFactory

LOGIN = reverse("accounts:login")
MESSAGE = (
    "Medewerkers van ROC Midden loggen niet in met een wachtwoord, maar via de inlogdienst van "
    "de school: kies ‘Inloggen met ROC Midden-account’."
)


def login(client, username):
    return client.post(LOGIN, {"username": username, "password": TEST_PASSWORD})


@pytest.fixture
def provider_only(world):
    return CollegeSignIn.objects.create(
        organisation=world.college,
        enabled=True,
        issuer="https://login.example.test",
        client_id="kb",
        display_name="ROC Midden-account",
        staff_only_via_provider=True,
    )


@pytest.mark.parametrize("role", ["beheerder", "coordinator", "supervisor"])
def test_staff_are_sent_to_the_provider(client, world, provider_only, role):
    response = login(client, getattr(world, role).username)
    assert response.status_code == 200
    assert [str(e) for e in response.context["form"].non_field_errors()] == [MESSAGE]
    assert "_auth_user_id" not in client.session
    # The button the message names is on the same page.
    assert "Inloggen met ROC Midden-account" in response.content.decode()


def test_a_wrong_password_still_gets_the_usual_message(client, world, provider_only):
    response = client.post(LOGIN, {"username": "beheerder", "password": "fout"})
    assert "Gebruikersnaam of wachtwoord is onjuist" in response.content.decode()
    assert MESSAGE not in response.content.decode()


def test_candidates_keep_their_password(client, world, provider_only):
    assert login(client, "kand-own").status_code == 302
    assert client.session["_auth_user_id"] == str(world.in_own_group.user.pk)
    assert "kb_sign_in_method" not in client.session


def test_other_colleges_and_platform_operators_are_not_affected(client, world, provider_only):
    assert login(client, "outsider").status_code == 302
    client.logout()
    UserFactory(organisation=None, role="", username="operator", is_superuser=True, is_staff=True)
    assert login(client, "operator").status_code == 302


@pytest.mark.parametrize("change", [{"staff_only_via_provider": False}, {"enabled": False}])
def test_off_again_or_provider_off_means_password_again(client, world, provider_only, change):
    CollegeSignIn.objects.filter(pk=provider_only.pk).update(**change)
    assert login(client, "beheerder").status_code == 302
