"""Generated passwords: their entropy, and a hash cost derived from it (docs/passwords.md)."""

import math
from collections import Counter

import pytest
from django.contrib.auth.hashers import check_password, identify_hasher, make_password
from django.urls import reverse

from accounts.hashers import WORK_TARGET_BITS, GeneratedPasswordHasher, generated_iterations
from accounts.models import User
from accounts.passwords import (
    ALPHABET,
    ALPHABETS,
    LOWER_ALPHABET,
    MIN_GENERATED_BITS,
    _draw,
    generate_password,
    generated_bits,
    min_length,
)

from .helpers.imports import people, run_import, xlsx_bytes

GENERATED = GeneratedPasswordHasher.algorithm


def test_entropy_counts_the_letter_and_digit_rule():
    # 51**12 passwords minus the 45**12 letter-only and 6**12 digit-only ones.
    assert generated_bits(12) == pytest.approx(math.log2(51**12 - 45**12 - 6**12))
    assert round(generated_bits(12), 2) == 67.71
    assert round(generated_bits(14), 2) == 79.14
    assert round(generated_bits(14, "lower"), 2) == 67.95
    assert generated_bits(10) == generated_bits(12)  # raised to the minimum length
    assert round(MIN_GENERATED_BITS, 2) == 67.71


def test_iterations_make_the_work_reach_the_target_for_every_setting():
    assert generated_iterations(generated_bits(14)) == 1
    assert generated_iterations(generated_bits(13)) == 24
    assert generated_iterations(generated_bits(12)) == 1256
    assert generated_iterations(generated_bits(14, "lower")) == 1057
    for fmt in ALPHABETS:
        for length in range(min_length(fmt), 41):
            bits = generated_bits(length, fmt)
            work = bits + math.log2(generated_iterations(bits))
            assert work >= WORK_TARGET_BITS, (fmt, length)
    # Without a setting (make_password): the count of the weakest password allowed.
    assert GeneratedPasswordHasher.iterations == 1256


def test_hash_records_its_iterations_and_verifies():
    hasher = GeneratedPasswordHasher()
    one = hasher.encode_generated("abcDEF346789xy", iterations=1)
    many = hasher.encode_generated("abcDEF346789xy", iterations=1256)
    assert one.split("$")[:2] == [GENERATED, "1"]
    assert many.split("$")[:2] == [GENERATED, "1256"]
    for encoded in (one, many):
        assert check_password("abcDEF346789xy", encoded)
        assert not check_password("abcDEF346789xz", encoded)
    salt = hasher.decode(one)["salt"]
    assert len(salt) == 22 and "$" not in salt
    assert not hasher.must_update(one.replace("$1$", f"${hasher.iterations}$"))
    # Two hashes of one password differ: a fresh salt each time.
    assert hasher.decode(hasher.encode_generated("x", iterations=1))["salt"] != salt


@pytest.mark.django_db
@pytest.mark.parametrize(("length", "fmt", "iterations"), [(14, "mixed", 1), (12, "mixed", 1256)])
def test_import_hashes_with_the_iterations_of_the_colleges_setting(world, length, fmt, iterations):
    world.college.password_length, world.college.password_format = length, fmt
    world.college.save()
    batch = run_import(world.beheerder, xlsx_bytes(people(2, start=100)), report_email="")
    assert batch.status == "done", batch.failure_reason
    for user in User.objects.filter(username__in=["rocm-0000100", "rocm-0000101"]):
        algorithm, count, _salt, _hash = user.password.split("$")
        assert (algorithm, int(count)) == (GENERATED, iterations)


@pytest.mark.django_db
def test_one_iteration_hash_upgraded_at_first_login(client, world):
    user = world.in_own_group.user
    user.password = GeneratedPasswordHasher().encode_generated("Gegenereerd-abc-123", iterations=1)
    user.save()
    response = client.post(
        reverse("accounts:login"), {"username": user.username, "password": "Gegenereerd-abc-123"}
    )
    assert response.status_code == 302
    user.refresh_from_db()
    assert identify_hasher(user.password).algorithm != GENERATED
    assert user.check_password("Gegenereerd-abc-123")


def test_make_password_with_the_generated_hasher_uses_the_safe_default():
    encoded = make_password("abcDEF346789", hasher=GENERATED)
    assert encoded.split("$")[1] == "1256"


@pytest.mark.parametrize("fmt", ["mixed", "lower"])
def test_drawn_characters_are_uniform_over_the_alphabet(fmt):
    alphabet = ALPHABETS[fmt]
    counts = Counter(_draw(alphabet, 200_000))
    # 200,000 draws: a character's count is off by more than 10 % about once in 10**9. A plain
    # `byte % size` gives 'a' a fifth more (mixed), 24 of 29 characters an eighth more (lower).
    expected = 200_000 / len(alphabet)
    assert set(counts) == set(alphabet)
    assert all(abs(n - expected) < 0.1 * expected for n in counts.values()), counts


def test_generated_password_holds_a_letter_and_a_digit():
    for _ in range(300):
        password = generate_password(12)
        assert len(password) == 12 and set(password) <= set(ALPHABET)
        assert any(c.isdigit() for c in password) and any(c.isalpha() for c in password)


def test_alphabets_hold_no_look_alikes():
    assert not set("0O1lI5S2Z") & (set(ALPHABET) | set(LOWER_ALPHABET))
