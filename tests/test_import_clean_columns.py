"""clean_rows cleans column by column, each distinct text once: the outcome is what cleaning
every cell of every row gives, errors included, in the same order."""

import re
import unicodedata
from datetime import date, datetime

import pytest
from django.contrib.auth.validators import UnicodeUsernameValidator
from django.core.exceptions import ValidationError
from django.core.validators import validate_email

from imports.fields import suggest_mapping
from imports.pipeline import CellError, _text, clean_email, clean_rows, clean_username

TODAY = date(2026, 11, 28)
HEADERS = ["Kandidaatnummer", "Voornaam", "Achternaam", "E-mailadres", "Geboortedatum"]


def clean(rows, headers=HEADERS):
    return clean_rows(
        [headers, *rows],
        header_index=0,
        headers=headers,
        mapping=suggest_mapping(headers),
        today=TODAY,
    )


def test_a_repeated_bad_value_is_reported_on_every_row():
    rows = clean([[f"{n}", "Jan", "Smit", "geen-adres", "31-02-2000"] for n in range(1, 4)])
    assert [[(e.row, e.column, e.message, e.value) for e in r.errors] for r in rows] == [
        [
            (row, "E-mailadres", "geen geldig e-mailadres", "geen-adres"),
            (row, "Geboortedatum", "deze datum bestaat niet", "31-02-2000"),
        ]
        for row in (2, 3, 4)
    ]
    assert [r.values["email"] for r in rows] == [None, None, None]


def test_numbers_and_booleans_are_not_taken_for_one_another():
    rows = clean(
        [["1", 1, 1.0, None, None], ["2", True, 2.5, None, None], ["3", "1", " 1 ", None, None]]
    )
    assert [(r.values["first_name"], r.values["last_name"]) for r in rows] == [
        ("1", "1"),
        ("True", "2.5"),
        ("1", "1"),
    ]


def test_errors_in_column_order_then_required_then_duplicates():
    rows = clean(
        [
            ["7", "", "", "x@", datetime(2030, 1, 1)],
            ["7", "Ann", "Smit", "", date(2001, 5, 4)],
            [None, None, None, None, None],  # empty: skipped
            ["8", "Bo", "Smit", "bo@example.nl", "04-05-2001"],
        ]
    )
    assert [r.row for r in rows] == [2, 3, 5]
    assert [e.message for e in rows[0].errors] == [
        "geen geldig e-mailadres",
        "de datum ligt niet in een mogelijke periode",
        "verplicht veld is leeg",
        "verplicht veld is leeg",
        "rij 2 en rij 3 hebben hetzelfde kandidaatnummer 7",
    ]
    assert rows[1].values == {
        "candidate_number": "7",
        "first_name": "Ann",
        "last_name": "Smit",
        "email": "",
        "birth_date": date(2001, 5, 4),
    }
    assert rows[2].values["birth_date"] == date(2001, 5, 4)
    assert rows[2].errors == []


def test_too_long_is_checked_for_each_cleaned_value():
    rows = clean([["1", "a" * 151, "b", None, None], ["2", "a" * 151, "b", None, None]])
    assert [str(r.errors[0]) for r in rows] == [
        f"Rij {n}, kolom Voornaam: te lang (151 tekens, maximaal 150)" for n in (2, 3)
    ]


@pytest.mark.parametrize(
    "value",
    [
        "  Jan \t van\n der  Berg ",
        "Zoe\u0308",  # decomposed ë becomes one character
        "a\xa0b\u2003c\x1fd\x1ce",
        "",
        "   ",
        "plain",
    ],
)
def test_text_is_normalised_and_its_whitespace_collapsed(value):
    expected = re.sub(r"\s+", " ", unicodedata.normalize("NFC", value)).strip()
    assert _text(value) == expected


@pytest.mark.parametrize(
    "address",
    [
        "jan@example.nl",
        "j.smit+tag@sub.example.co.uk",
        "user@localhost",
        "user@[127.0.0.1]",
        "user@[::1]",
        "user@[300.1.1.1]",
        '"quoted name"@example.nl',
        "a@b",
        "a@-example.nl",
        "a@example..nl",
        "@example.nl",
        "a@",
        "a@@example.nl",
        "zoë@example.nl",
        "jan@zoë.nl",
        "a" * 310 + "@example.nl",
        "a" * 64 + "@" + "b" * 63 + ".nl",
    ],
)
def test_email_accepted_exactly_when_django_accepts_it(address):
    try:
        validate_email(address.lower())
        valid = True
    except ValidationError:
        valid = False
    if valid:
        assert clean_email(address) == address.lower()
    else:
        with pytest.raises(CellError):
            clean_email(address)


@pytest.mark.parametrize("name", ["jan.smit", "Zoë_1", "a@b+c-d", "met spatie", "a/b", "ü"])
def test_username_accepted_exactly_when_django_accepts_it(name):
    try:
        UnicodeUsernameValidator()(name)
        valid = True
    except ValidationError:
        valid = False
    if valid:
        assert clean_username(name) == name
    else:
        with pytest.raises(CellError):
            clean_username(name)
