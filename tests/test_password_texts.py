"""The password form speaks to the user with 'je', like every other page; the rules are
Django's own validators."""

import pytest
from django.contrib.auth.password_validation import (
    get_default_password_validators,
    password_validators_help_texts,
    validate_password,
)
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import translation

from .factories import TEST_PASSWORD


def test_help_texts_use_je():
    with translation.override("nl"):
        assert password_validators_help_texts() == [
            "Je wachtwoord mag niet te veel op je andere persoonlijke gegevens lijken.",
            "Je wachtwoord moet minstens 8 tekens lang zijn.",
            "Je wachtwoord mag geen veelgebruikt wachtwoord zijn.",
            "Je wachtwoord mag niet alleen uit cijfers bestaan.",
        ]
    with translation.override("en"):
        assert password_validators_help_texts()[1] == (
            "Your password must contain at least 8 characters."
        )


@pytest.mark.parametrize("password", ["kort1", "12345678901", "wachtwoord", "password123"], ids=str)
def test_the_rules_are_djangos(password):
    django_rules = [type(v).__mro__[1] for v in get_default_password_validators()]
    assert [c.__module__ for c in django_rules] == ["django.contrib.auth.password_validation"] * 4
    with pytest.raises(ValidationError):
        validate_password(password)


def test_change_form_shows_je_texts_and_error(client, world):
    client.force_login(world.beheerder)
    url = reverse("accounts:password_change")
    page = client.get(url).content.decode()
    assert "Je wachtwoord moet minstens 8 tekens lang zijn." in page
    assert "Uw wachtwoord" not in page
    response = client.post(
        url,
        {
            "old_password": "niet-het-goede",
            "new_password1": "Een-Nieuw-Wachtwoord-9",
            "new_password2": "Een-Nieuw-Wachtwoord-9",
        },
    )
    assert response.status_code == 200
    assert "Je huidige wachtwoord klopt niet. Vul het opnieuw in." in response.content.decode()
    assert world.beheerder.check_password(TEST_PASSWORD)
