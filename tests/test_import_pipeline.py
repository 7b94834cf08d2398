"""Each pure step of the import pipeline on its own."""

from datetime import date

import pytest

from imports.fields import find_header_row, headers_key, suggest_mapping
from imports.pipeline import clean_candidate_number, clean_date, clean_email, clean_rows

TODAY = date(2026, 11, 28)


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        (
            ["Kandidaatnummer *", "Voornaam *", "Tussenvoegsel", "Achternaam *", "E-mailadres"],
            {
                "0": "candidate_number",
                "1": "first_name",
                "2": "surname_prefix",
                "3": "last_name",
                "4": "email",
            },
        ),
        (
            ["Studentnummer", "Roepnaam", "Voorvoegsel", "ACHTERNAAM", "E-mail", "Klas"],
            {
                "0": "candidate_number",
                "1": "first_name",
                "2": "surname_prefix",
                "3": "last_name",
                "4": "email",
                "5": "group",
            },
        ),
        (
            ["Deelnemernummer", "voornaam", "Last name", "Geboortedatum", "Opmerking"],
            {"0": "candidate_number", "1": "first_name", "2": "last_name", "3": "birth_date"},
        ),
        (
            ["Leerlingnummer", "Stamnummer", "Roepnaam", "Achternaam"],
            {"0": "candidate_number", "2": "first_name", "3": "last_name"},
        ),
        (
            ["  e-mail ADRES ", "Gebruikersnaam", "Wachtwoord", "Geboren"],
            {"0": "email", "1": "username", "2": "password", "3": "birth_date"},
        ),
        (["Kandidaatgroep", "Achternaam"], {"0": "group", "1": "last_name"}),
        (["Émail"], {"0": "email"}),  # accents ignored
    ],
)
def test_suggest_mapping(headers, expected):
    assert suggest_mapping(headers) == expected


def test_header_row_found_below_title_lines():
    rows = [
        ["Export Eduarte 28-11-2026", None, None],
        [None, None, None],
        ["Studentnummer", "Roepnaam", "Achternaam"],
        ["0012345", "Jan", "Berg"],
    ]
    assert find_header_row(rows) == 2


def test_headers_key_ignores_case_and_spacing():
    assert headers_key(["Voornaam", "Achternaam"]) == headers_key([" voornaam", "ACHTERNAAM "])
    assert headers_key(["Voornaam", "Achternaam"]) != headers_key(["Achternaam", "Voornaam"])


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (12345.0, "12345"),
        (12345, "12345"),
        ("0012345", "0012345"),
        (" 00 12 ", "0012"),
        (None, ""),
        ("AB-12.3_4", "AB-12.3_4"),
    ],
)
def test_candidate_number_kept_as_text(value, expected):
    assert clean_candidate_number(value) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (date(2008, 3, 14), date(2008, 3, 14)),
        (39521, date(2008, 3, 14)),  # Excel serial
        (39521.0, date(2008, 3, 14)),
        ("14-03-2008", date(2008, 3, 14)),
        ("4-3-2008", date(2008, 3, 4)),
        ("2008-03-14", date(2008, 3, 14)),
        ("14/03/2008", date(2008, 3, 14)),
        ("", None),
        (None, None),
    ],
)
def test_clean_date(value, expected):
    assert clean_date(value, today=TODAY) == expected


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("31-02-2008", "deze datum bestaat niet"),
        ("morgen", "geen geldige datum"),
        ("01-01-2030", "de datum ligt niet in een mogelijke periode"),
    ],
)
def test_clean_date_errors(value, message):
    with pytest.raises(ValueError, match=message):
        clean_date(value, today=TODAY)


def test_email_lowercased_and_validated():
    assert clean_email(" Jan.Berg@School.NL ") == "jan.berg@school.nl"
    with pytest.raises(ValueError, match="geen geldig e-mailadres"):
        clean_email("jan@")


def test_clean_rows_errors_name_row_column_and_value():
    rows = [
        ["Leerlingenlijst"],
        ["Kandidaatnummer", "Voornaam", "Achternaam", "E-mail", "Geboortedatum"],
        ["0012345", " Jan  ", "Berg", "JAN@x.nl", "14-03-2008"],
        ["0012346", "Piet", "", "piet@", "31-02-2008"],
        [None, None, None, None, None],
        ["0012345", "Klaas", "Vaak", "", ""],
    ]
    mapping = suggest_mapping(rows[1])
    result = clean_rows(rows, header_index=1, headers=rows[1], mapping=mapping, today=TODAY)
    assert [r.row for r in result] == [3, 4, 6]
    assert result[0].values == {
        "candidate_number": "0012345",
        "first_name": "Jan",
        "last_name": "Berg",
        "email": "jan@x.nl",
        "birth_date": date(2008, 3, 14),
    }
    duplicate = "kolom Kandidaatnummer: rij 3 en rij 6 hebben hetzelfde kandidaatnummer 0012345"
    assert [str(e) for e in result[0].errors] == [f"Rij 3, {duplicate}"]
    assert [str(e) for e in result[1].errors] == [
        "Rij 4, kolom E-mail: geen geldig e-mailadres",
        "Rij 4, kolom Geboortedatum: deze datum bestaat niet",
        "Rij 4, kolom Achternaam: verplicht veld is leeg",
    ]
    assert [str(e) for e in result[2].errors] == [f"Rij 6, {duplicate}"]


def test_every_row_of_a_duplicate_set_is_flagged():
    rows = [
        ["Kandidaatnummer", "Voornaam", "Achternaam", "Gebruikersnaam"],
        ["0200001", "Jan", "Berg", "jan"],
        ["0200002", "Piet", "Bos", "JAN"],
        ["0200003", "Kees", "Dam", ""],
        ["0200004", "Anna", "Vos", ""],
        ["0200005", "Bert", "Wit", ""],
        ["0200006", "Cees", "Kok", ""],
        ["0200003", "Dirk", "Mol", ""],
        ["0200003", "Eva", "Ree", ""],
        ["ab1", "Fien", "Uil", ""],
        ["AB1", "Gijs", "Zwaan", ""],
    ]
    result = clean_rows(rows, header_index=0, headers=rows[0], mapping=suggest_mapping(rows[0]))
    errors = {r.row: [str(e) for e in r.errors] for r in result if r.errors}
    three = "rij 4, rij 8 en rij 9 hebben hetzelfde kandidaatnummer 0200003"
    same_user = "rij 2 en rij 3 hebben dezelfde gebruikersnaam jan"
    ab = "rij 10 en rij 11 hebben hetzelfde kandidaatnummer ab1"
    assert errors == {
        2: [f"Rij 2, kolom Gebruikersnaam: {same_user}"],
        3: [f"Rij 3, kolom Gebruikersnaam: {same_user}"],
        4: [f"Rij 4, kolom Kandidaatnummer: {three}"],
        8: [f"Rij 8, kolom Kandidaatnummer: {three}"],
        9: [f"Rij 9, kolom Kandidaatnummer: {three}"],
        10: [f"Rij 10, kolom Kandidaatnummer: {ab}"],
        11: [f"Rij 11, kolom Kandidaatnummer: {ab}"],
    }
    assert [e.value for r in result for e in r.errors] == [
        "jan",
        "JAN",
        "0200003",
        "0200003",
        "0200003",
        "ab1",
        "AB1",
    ]


def test_names_are_nfc_normalised():
    decomposed = "Zoe\u0308"  # 'Zoë' written as e + combining diaeresis
    rows = [["Kandidaatnummer", "Voornaam", "Achternaam"], ["1", decomposed, "Öztürk"]]
    result = clean_rows(rows, header_index=0, headers=rows[0], mapping=suggest_mapping(rows[0]))
    assert result[0].values["first_name"] == "Zoë"
    assert len(result[0].values["first_name"]) == 3


def test_too_long_value_is_an_error():
    rows = [["Kandidaatnummer", "Voornaam", "Achternaam"], ["1", "x" * 151, "Berg"]]
    result = clean_rows(rows, header_index=0, headers=rows[0], mapping=suggest_mapping(rows[0]))
    assert [str(e) for e in result[0].errors] == [
        "Rij 2, kolom Voornaam: te lang (151 tekens, maximaal 150)"
    ]


def test_fold_handles_letters_without_decomposition():
    from candidates.models import fold

    assert fold("Ayşe Yılmaz") == "ayse yilmaz"
    assert fold("Łukasz Øster") == "lukasz oster"
    assert fold("ÜMIT") == "umit"
