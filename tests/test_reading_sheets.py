"""Workbooks with several sheets: the reader takes the sheet with the header, not simply the
first one, and reads another sheet only when asked by name.

The files are real .xlsx (openpyxl) and .ods (zipfile, as tests/test_reading.py builds them).
"""

from __future__ import annotations

import io
import json

import pytest
from django.core.management import call_command
from django.utils import translation
from openpyxl import Workbook

from imports import services
from imports.example import example_workbook
from imports.models import ImportBatch
from imports.reading import read_table

from .helpers.imports import make_batch
from .test_reading import ods_bytes, ods_text, read_error, replace_parts, sheet_xml

HEADER = ["Kandidaatnummer", "Voornaam", "Achternaam"]
INSTRUCTIONS = [
    ["Instructie voor de examencoördinator"],
    ["Vul de kandidaten in op het werkblad Kandidaten."],
    ["Kandidaatnummer"],  # a column named on its own line is not a header
    ["Laat de kopregel staan."],
]
EVA = ["0000101", "Eva", "Jansen"]
DAAN = ["0000102", "Daan", "Bakker"]


@pytest.fixture(autouse=True)
def dutch():
    with translation.override("nl"):
        yield


def workbook(*sheets: tuple[str, list[list]]) -> bytes:
    book = Workbook()
    book.remove(book.active)
    for title, rows in sheets:
        sheet = book.create_sheet(title)
        for row in rows:
            sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def ods_table(name: str, rows: list[list[str]]) -> str:
    body = "".join(
        "<table:table-row>" + "".join(ods_text(value) for value in row) + "</table:table-row>"
        for row in rows
    )
    return f'<table:table table:name="{name}">{body}</table:table>'


SCHOOL_WORKBOOK = [("Instructie", INSTRUCTIONS), ("Kandidaten", [HEADER, EVA, DAAN])]


def test_candidates_on_the_second_sheet_after_an_instruction_sheet():
    table = read_table(workbook(*SCHOOL_WORKBOOK), "school.xlsx")

    assert (table.sheet, table.sheets) == ("Kandidaten", ["Kandidaten"])
    assert table.rows == [HEADER, EVA, DAAN]


def test_candidates_on_the_second_sheet_of_an_ods_file():
    data = ods_bytes(
        ods_table("Uitleg", [["Zie het tweede werkblad."], ["Voornaam"]])
        + ods_table("Kandidaten", [HEADER, EVA])
    )

    table = read_table(data, "school.ods")

    assert (table.sheet, table.sheets, table.file_format) == ("Kandidaten", ["Kandidaten"], "ods")
    assert table.rows == [HEADER, EVA]


def test_header_below_title_lines_on_a_later_sheet_is_found():
    data = workbook(
        ("Leeg", []),
        ("Uitleg", INSTRUCTIONS),
        ("Export", [["Export Eduarte 2025-08-28"], [], HEADER, EVA]),
    )

    table = read_table(data, "export.xlsx")

    assert (table.sheet, table.sheets) == ("Export", ["Export"])
    assert table.rows == [
        ["Export Eduarte 2025-08-28", None, None],
        [None, None, None],
        HEADER,
        EVA,
    ]


def test_the_products_own_template_reads_its_candidate_sheet_not_the_explanation():
    """Its second sheet, Toelichting, names every column, one per row, with a header of its
    own ("Kolom", "Verplicht", "Toelichting"): no sheet to choose."""
    table = read_table(example_workbook(), "voorbeeld.xlsx")

    assert (table.sheet, table.sheets) == ("Kandidaten", ["Kandidaten"])


def test_several_sheets_with_a_header_the_first_is_read_and_all_are_listed():
    data = workbook(
        ("Uitleg", INSTRUCTIONS),
        ("Zorg", [HEADER, EVA]),
        ("Techniek", [HEADER, DAAN]),
    )

    table = read_table(data, "school.xlsx")

    assert (table.sheet, table.sheets) == ("Zorg", ["Zorg", "Techniek"])
    assert table.rows == [HEADER, EVA]


def test_a_sheet_asked_for_by_name_is_read():
    data = workbook(("Uitleg", INSTRUCTIONS), ("Zorg", [HEADER, EVA]), ("Techniek", [HEADER, DAAN]))

    table = read_table(data, "school.xlsx", sheet="Techniek")

    assert (table.sheet, table.sheets) == ("Techniek", ["Zorg", "Techniek"])
    assert table.rows == [HEADER, DAAN]


def test_a_sheet_that_does_not_exist_names_the_sheets_there_are():
    error = read_error(workbook(*SCHOOL_WORKBOOK), "school.xlsx", sheet="Blad1")

    assert error.code == "no_sheet"
    assert error.message == (
        "Het bestand heeft geen werkblad ‘Blad1’. Dit zijn de werkbladen: ‘Instructie’, "
        "‘Kandidaten’."
    )


def test_a_sheet_without_a_header_is_refused_by_name():
    error = read_error(workbook(*SCHOOL_WORKBOOK), "school.xlsx", sheet="Instructie")

    assert error.code == "no_sheet"
    assert error.message == (
        "Op werkblad ‘Instructie’ staat geen kopregel met kolommen die we herkennen. Dit zijn de "
        "werkbladen: ‘Instructie’, ‘Kandidaten’."
    )


def test_no_header_on_any_sheet_reads_the_first_sheet():
    data = workbook(("Blad1", [["Nr", "Naam"], ["1", "Eva"]]), ("Blad2", [["x"]]))

    table = read_table(data, "lijst.xlsx")

    assert (table.sheet, table.sheets) == ("Blad1", [])
    assert table.rows == [["Nr", "Naam"], ["1", "Eva"]]


def test_csv_has_no_sheets():
    table = read_table(b"Kandidaatnummer;Voornaam;Achternaam\n1;Eva;Jansen\n", "k.csv")

    assert (table.sheet, table.sheets) == (None, [])


def test_a_stray_cell_on_the_sheet_asked_for_is_refused():
    """Sheets that would make the reader build a huge grid are left out of the search; they
    are refused only when they are the sheet to read."""
    data = workbook(("Kandidaten", [HEADER, EVA]), ("Oud", [HEADER, DAAN]))
    stray = sheet_xml('<row r="1048576"><c r="XFD1048576"><v>1</v></c></row>')
    data = replace_parts(data, {"xl/worksheets/sheet2.xml": stray})

    assert read_table(data, "k.xlsx").sheets == ["Kandidaten"]
    error = read_error(data, "k.xlsx", sheet="Oud")

    assert error.code == "stray_cell"
    assert error.message.startswith("Cel XFD1048576 ligt ver buiten de gegevens.")


def test_a_stray_cell_on_the_first_sheet_when_no_sheet_has_a_header_is_refused():
    data = workbook(("Blad1", [["x"]]), ("Blad2", [["y"]]))
    stray = sheet_xml('<row r="1048576"><c r="XFD1048576"><v>1</v></c></row>')
    data = replace_parts(data, {"xl/worksheets/sheet1.xml": stray})

    error = read_error(data, "k.xlsx")

    assert error.code == "stray_cell"


# --- the import uses the sheet ----------------------------------------------------------------


@pytest.mark.django_db
def test_batch_table_reads_the_sheet_chosen_for_the_batch(world):
    data = workbook(("Zorg", [HEADER, EVA]), ("Techniek", [HEADER, DAAN]))
    batch = make_batch(world.beheerder, data)
    assert services.batch_table(batch).rows == [HEADER, EVA]

    ImportBatch.objects.filter(pk=batch.pk).update(sheet_name="Techniek")
    batch.refresh_from_db()
    table = services.batch_table(batch)

    assert (table.sheet, table.rows) == ("Techniek", [HEADER, DAAN])


@pytest.mark.django_db
def test_command_imports_a_school_workbook_with_an_instruction_sheet_first(tmp_path, capsys, world):
    """This file was refused with "Geen kolom gevonden voor: Kandidaatnummer, Voornaam,
    Achternaam" while only the first sheet was read."""
    path = tmp_path / "school.xlsx"
    path.write_bytes(workbook(*SCHOOL_WORKBOOK))

    with pytest.raises(SystemExit) as exit_info:
        call_command(
            "import_candidates", str(path), "--as", "beheerder", "--group", "Zorg 1", "--json"
        )
    out, err = capsys.readouterr()

    assert (exit_info.value.code, err) == (0, "")
    assert json.loads(out)["created"] == 2
