"""username_maker: the college's pattern filled in once, the same usernames as filling it in
for every candidate number (render_placeholders, cut at the maximum length, lowercased)."""

import pytest

from accounts.models import Organisation
from accounts.placeholders import USERNAME_MAX_LENGTH, render_placeholders
from imports.planning import make_username, username_maker


def college(pattern: str, code: str = "RocM") -> Organisation:
    return Organisation(name="ROC", code=code, username_pattern=pattern)


def rendered(org: Organisation, number: str) -> str:
    values = {"code": org.code, "candidate_number": number}
    pattern = org.username_pattern or "{code}-{candidate_number}"
    return render_placeholders(pattern, values, max_length=USERNAME_MAX_LENGTH).lower()


@pytest.mark.parametrize(
    "pattern",
    [
        "",
        "{code}-{candidate_number}",
        "{candidate_number}",
        "K{candidate_number}.{code}",
        "{candidate_number}{candidate_number}",
        "{code}",
        "{{{candidate_number}}}",
        "{code}-{candidate_number:>100000}",
        "{onbekend}-{candidate_number}",
        "x" * 140 + "{candidate_number}",
        "x" * 160 + "{candidate_number}",
        "İ" * 100 + "{candidate_number}",
    ],
)
@pytest.mark.parametrize("number", ["0012345", "A-1.b_2", "9" * 40])
def test_same_username_as_filling_in_the_pattern(pattern, number):
    org = college(pattern)
    assert username_maker(org)(number) == rendered(org, number)
    assert make_username(org, number) == rendered(org, number)


def test_marker_in_the_pattern_or_code_falls_back_to_filling_in():
    for org in (college("a\x00{candidate_number}"), college("{code}-{candidate_number}", "R\x00")):
        assert username_maker(org)("0012345") == rendered(org, "0012345")


def test_one_maker_for_many_numbers():
    make = username_maker(college("{code}-{candidate_number}"))
    assert [make(n) for n in ("0001", "0002", "AbC")] == ["rocm-0001", "rocm-0002", "rocm-abc"]
