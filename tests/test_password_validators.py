"""Weak Dutch passwords are refused: a Dutch list of common passwords next to Django's, and
no password that is the user's name, username or college with a few digits around it."""

import pytest
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import translation

from accounts.passwords import generate_password
from accounts.validators import CommonPasswordValidator, UserAttributeSimilarityValidator

from .factories import TEST_PASSWORD, CandidateFactory, OrganisationFactory

COMMON = "Dit wachtwoord wordt te vaak gebruikt en is makkelijk te raden."


def messages(password, user=None) -> list[str]:
    with translation.override("nl"):
        try:
            validate_password(password, user)
        except ValidationError as error:
            return error.messages
    return []


@pytest.mark.parametrize(
    "password",
    [
        "welkom123",
        "Welkom2024!",
        "wachtwoord1",
        "voetbal123",
        "zomer2024",
        "Feyenoord1908",
        "!!Prinses2012",
        "amsterdam123",
    ],
)
def test_common_dutch_passwords_are_refused(password):
    assert messages(password) == [COMMON]


def test_an_unlisted_dutch_word_is_not_refused_as_common():
    # The list holds what people pick, not every Dutch word.
    assert messages("konijntje") == []


def test_djangos_english_list_still_applies():
    assert messages("password123") == [COMMON]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("password", "what"),
    [
        ("Midden2024!", "de naam van je school"),
        ("rocmidden99", "de naam van je school"),
        ("Jorinde2008", "je voornaam"),
        ("Zwanenburg1!", "je achternaam"),
        ("Kand0042!!", "je gebruikersnaam"),
    ],
)
def test_passwords_like_the_user_or_college_are_refused(password, what):
    college = OrganisationFactory(name="ROC Midden", code="rocm")
    candidate = CandidateFactory(
        organisation=college,
        user__username="kand0042",
        user__first_name="Jorinde",
        user__last_name="Zwanenburg",
    )
    assert messages(password, candidate.user) == [f"Dit wachtwoord lijkt te veel op {what}."]


@pytest.mark.django_db
def test_a_strong_password_passes_for_the_same_user():
    college = OrganisationFactory(name="ROC Midden", code="rocm")
    candidate = CandidateFactory(
        organisation=college, user__first_name="Jorinde", user__last_name="Zwanenburg"
    )
    assert messages("Kr8tige-Paddestoel-Vaart", candidate.user) == []


@pytest.mark.django_db
@pytest.mark.parametrize("fmt", ["mixed", "lower"])
def test_generated_passwords_pass_every_validator(fmt):
    """Imports and resets generate passwords without running the validators (they are random
    and long); they would pass them anyway."""
    college = OrganisationFactory(name="ROC Midden", code="rocm", password_format=fmt)
    candidate = CandidateFactory(organisation=college)
    for _ in range(300):
        validate_password(generate_password(12, fmt), candidate.user)
        validate_password(college.new_password(), candidate.user)


def test_the_dutch_list_is_loaded_next_to_djangos():
    passwords = CommonPasswordValidator().passwords
    assert {"welkom123", "wachtwoord", "voetbal", "zomer2024", "password"} <= passwords
    assert 2000 < len(passwords) - 20000


def test_the_similarity_validator_is_ours():
    assert UserAttributeSimilarityValidator().get_error_message() == (
        "Dit wachtwoord lijkt te veel op %(verbose_name)s."
    )


def test_forced_change_refuses_welkom123(client, world):
    user = world.in_own_group.user
    user.must_change_password = True
    user.save()
    client.force_login(user)
    url = reverse("accounts:password_change")
    response = client.post(
        url,
        {"old_password": TEST_PASSWORD, "new_password1": "welkom123", "new_password2": "welkom123"},
    )
    assert response.status_code == 200
    assert response.context["form"].errors == {"new_password2": [COMMON]}
    user.refresh_from_db()
    assert user.must_change_password
    assert user.check_password(TEST_PASSWORD)
