"""Reading uploads: every supported format arrives as the rows the spreadsheet shows.

The files are built in memory: openpyxl for xlsx, zipfile for hand-made ODS and for
rewriting parts, plain bytes for CSV. tests/test_reading_hostile_files.py reuses the builders.
"""

from __future__ import annotations

import io
import time
import zipfile
from datetime import date, datetime

import pytest
from django.utils import translation
from openpyxl import Workbook

from imports.reading import SUPPORTED_EXTENSIONS, ReadError, Table, read_table

MAIN_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
SHEET = "xl/worksheets/sheet1.xml"


@pytest.fixture(autouse=True)
def dutch():
    with translation.override("nl"):
        yield


# --- builders (also used by test_reading_hostile_files) ---------------------------------------


def xlsx_bytes(rows: list[list], *, title: str = "Kandidaten", sheets: int = 1) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = title
    for row in rows:
        sheet.append(row)
    for number in range(2, sheets + 1):
        workbook.create_sheet(f"Blad{number}").append(["tweede werkblad"])
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def replace_parts(data: bytes, parts: dict[str, bytes | None]) -> bytes:
    """The same archive with some parts replaced (or removed, for None) or added."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as source, zipfile.ZipFile(out, "w") as target:
        for info in source.infolist():
            if info.filename not in parts:
                target.writestr(info, source.read(info.filename), zipfile.ZIP_DEFLATED)
        for name, content in parts.items():
            if content is not None:
                target.writestr(name, content, zipfile.ZIP_DEFLATED)
    return out.getvalue()


def read_part(data: bytes, name: str) -> bytes:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return archive.read(name)


def sheet_xml(rows_xml: str, dimension: str = "A1") -> bytes:
    return (
        f'<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="{MAIN_NS}">'
        f'<dimension ref="{dimension}"/><sheetData>{rows_xml}</sheetData></worksheet>'
    ).encode()


def inline_rows(count: int, *, first: int = 1, columns: int = 3) -> str:
    """`count` rows of inline-string cells, fast enough for tens of thousands of rows."""
    letters = "ABCDEFGHI"[:columns]
    return "".join(
        f'<row r="{r}">'
        + "".join(f'<c r="{c}{r}" t="inlineStr"><is><t>{c}{r}</t></is></c>' for c in letters)
        + "</row>"
        for r in range(first, first + count)
    )


def xlsx_with_sheet(sheet: bytes) -> bytes:
    """A real openpyxl workbook whose first sheet is replaced by hand-written XML."""
    return replace_parts(xlsx_bytes([["x"]]), {SHEET: sheet})


ODS_NS = (
    'xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
    'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" '
    'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0"'
)
ODS_MANIFEST = (
    '<?xml version="1.0" encoding="UTF-8"?><manifest:manifest xmlns:manifest='
    '"urn:oasis:names:tc:opendocument:xmlns:manifest:1.0" manifest:version="1.2">'
    '<manifest:file-entry manifest:full-path="/" '
    'manifest:media-type="application/vnd.oasis.opendocument.spreadsheet"/>'
    '<manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/>'
    "{extra}</manifest:manifest>"
)


def ods_bytes(tables_xml: str, *, manifest_extra: str = "") -> bytes:
    """A minimal ODS as LibreOffice writes it: mimetype first and stored, content, manifest."""
    content = (
        f'<?xml version="1.0" encoding="UTF-8"?><office:document-content {ODS_NS} '
        f'office:version="1.2"><office:body><office:spreadsheet>{tables_xml}'
        "</office:spreadsheet></office:body></office:document-content>"
    )
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("mimetype", "application/vnd.oasis.opendocument.spreadsheet")
        archive.writestr("content.xml", content, zipfile.ZIP_DEFLATED)
        archive.writestr(
            "META-INF/manifest.xml", ODS_MANIFEST.format(extra=manifest_extra), zipfile.ZIP_DEFLATED
        )
    return out.getvalue()


def ods_text(value: str) -> str:
    return (
        f'<table:table-cell office:value-type="string"><text:p>{value}</text:p></table:table-cell>'
    )


def read_error(data: bytes, filename: str, **kwargs) -> ReadError:
    with pytest.raises(ReadError) as caught:
        read_table(data, filename, **kwargs)
    return caught.value


# --- xlsx ---------------------------------------------------------------------------------------


def test_xlsx_with_title_rows_above_the_header():
    data = xlsx_bytes(
        [
            ["Kandidaten ROC Midden 2025"],
            [],
            ["Kandidaatnummer", "Voornaam", "Achternaam"],
            ["1001", "Eva", "de Vries"],
            ["1002", "Daan", "Bakker"],
        ]
    )

    table = read_table(data, "kandidaten.xlsx")

    assert table == Table(
        rows=[
            ["Kandidaten ROC Midden 2025", None, None],
            [None, None, None],
            ["Kandidaatnummer", "Voornaam", "Achternaam"],
            ["1001", "Eva", "de Vries"],
            ["1002", "Daan", "Bakker"],
        ],
        file_format="xlsx",
        sheet="Kandidaten",
        sheets=["Kandidaten"],
    )


def test_leading_zeros_of_numbers_stored_as_text_survive():
    table = read_table(xlsx_bytes([["Nummer"], ["0012345"], [12345]]), "k.xlsx")

    assert table.rows == [["Nummer"], ["0012345"], [12345.0]]
    assert isinstance(table.rows[1][0], str)


def test_date_cells_arrive_as_dates():
    data = xlsx_bytes(
        [["Geboortedatum", "Aangemeld"], [date(2007, 3, 9), datetime(2025, 1, 6, 9, 30)]]
    )

    table = read_table(data, "k.xlsx")

    assert table.rows[1] == [date(2007, 3, 9), datetime(2025, 1, 6, 9, 30)]
    assert type(table.rows[1][0]) is date
    assert type(table.rows[1][1]) is datetime


def test_numbers_booleans_and_empty_cells_keep_their_type():
    data = xlsx_bytes([["a", "b", "c", "d", "e"], [1, 2.5, True, None, ""]])

    assert read_table(data, "k.xlsx").rows[1] == [1.0, 2.5, True, None, None]


def test_data_away_from_a1_keeps_its_rows_and_columns():
    """Row 5 in Excel is rows[4], column C is index 2: error messages rely on it."""
    workbook = Workbook()
    workbook.active["C5"] = "Voornaam"
    workbook.active["D6"] = "Eva"
    out = io.BytesIO()
    workbook.save(out)

    rows = read_table(out.getvalue(), "k.xlsx").rows

    assert len(rows) == 6
    assert rows[4] == [None, None, "Voornaam", None]
    assert rows[5] == [None, None, None, "Eva"]


def test_trailing_empty_rows_are_dropped():
    data = xlsx_with_sheet(
        sheet_xml(
            '<row r="1"><c r="A1" t="inlineStr"><is><t>Naam</t></is></c></row>'
            '<row r="2"><c r="A2" t="inlineStr"><is><t>Eva</t></is></c></row>'
            '<row r="3"><c r="A3" t="inlineStr"><is><t></t></is></c></row>'
            '<row r="9"><c r="A9" s="1"/></row>'
        )
    )

    assert read_table(data, "k.xlsx").rows == [["Naam"], ["Eva"]]


def test_without_a_header_on_any_sheet_the_first_sheet_is_read():
    data = xlsx_bytes([["Naam"], ["Eva"]], sheets=2)

    table = read_table(data, "k.xlsx")

    assert table.sheet == "Kandidaten"
    assert table.rows == [["Naam"], ["Eva"]]


def test_a_stray_cell_on_another_sheet_does_not_matter():
    """A sheet that would need a huge grid is left out of the search for the header; only
    the sheet that is read is held to the limits."""
    data = xlsx_bytes([["Naam"], ["Eva"]], sheets=2)
    stray = sheet_xml('<row r="1048576"><c r="XFD1048576"><v>1</v></c></row>')
    data = replace_parts(data, {"xl/worksheets/sheet2.xml": stray})

    assert read_table(data, "k.xlsx").rows == [["Naam"], ["Eva"]]


def test_xlsm_is_read_like_xlsx():
    data = xlsx_bytes([["Naam"], ["Eva"]])
    types = read_part(data, "[Content_Types].xml").replace(
        b"spreadsheetml.sheet.main+xml", b"ms-excel.sheet.macroEnabled.main+xml"
    )
    assert b"macroEnabled" in types
    data = replace_parts(data, {"[Content_Types].xml": types})

    table = read_table(data, "kandidaten.xlsm")

    assert table.file_format == "xlsm"
    assert table.rows == [["Naam"], ["Eva"]]


def test_xlsx_renamed_to_xls_is_read_as_what_it_is():
    table = read_table(xlsx_bytes([["Naam"], ["Eva"]]), "export.xls")

    assert table.file_format == "xlsx"
    assert table.rows == [["Naam"], ["Eva"]]


def test_fifty_thousand_rows_are_read_completely_and_quickly():
    """The product limit: 50,000 data rows plus a header. The whole read (checks, child
    process, transfer) stays well within a second; the bound here leaves room for a busy CI."""
    rows = inline_rows(50_001, columns=9)
    data = xlsx_with_sheet(sheet_xml(rows))

    started = time.perf_counter()
    table = read_table(data, "groot.xlsx")
    elapsed = time.perf_counter() - started

    assert len(table.rows) == 50_001
    assert table.rows[0][0] == "A1"
    assert table.rows[-1] == [f"{c}50001" for c in "ABCDEFGHI"]
    assert elapsed < 5


# --- ods ----------------------------------------------------------------------------------------


def test_ods_as_libreoffice_writes_it():
    """LibreOffice pads every row to 1024 columns and the sheet to 1,048,576 rows with
    repeated empty cells; those are not data and must not be refused as stray cells."""
    data = ods_bytes(
        '<table:table table:name="Kandidaten">'
        '<table:table-column table:number-columns-repeated="1024"/>'
        f"<table:table-row>{ods_text('Nummer')}{ods_text('Naam')}{ods_text('Geboren')}"
        '<table:table-cell table:number-columns-repeated="1021"/></table:table-row>'
        f"<table:table-row>{ods_text('0012345')}{ods_text('Eva')}"
        '<table:table-cell office:value-type="date" office:date-value="2007-03-09">'
        "<text:p>09-03-07</text:p></table:table-cell>"
        '<table:table-cell table:number-columns-repeated="1021"/></table:table-row>'
        '<table:table-row table:number-rows-repeated="1048574">'
        '<table:table-cell table:number-columns-repeated="1024"/></table:table-row>'
        "</table:table>"
        '<table:table table:name="Blad2"><table:table-row>'
        f"{ods_text('ander blad')}</table:table-row></table:table>"
    )

    table = read_table(data, "kandidaten.ods")

    assert table == Table(
        rows=[["Nummer", "Naam", "Geboren"], ["0012345", "Eva", date(2007, 3, 9)]],
        file_format="ods",
        sheet="Kandidaten",
        sheets=["Kandidaten"],
    )


# --- csv ----------------------------------------------------------------------------------------


def test_csv_from_dutch_excel_semicolons_and_cp1252():
    data = "Voornaam;Achternaam;Plaats\r\nRené;Ëlzinga;Zaandam\r\nZoë;Müller;Enschede\r\n"

    table = read_table(data.encode("cp1252"), "export.csv")

    assert table == Table(
        rows=[
            ["Voornaam", "Achternaam", "Plaats"],
            ["René", "Ëlzinga", "Zaandam"],
            ["Zoë", "Müller", "Enschede"],
        ],
        file_format="csv",
        encoding="cp1252",
        delimiter=";",
    )


def test_csv_utf8_with_bom_and_commas():
    data = "\ufeffNummer,Naam\n0012345,Zoë\n0012346,Noël\n".encode()

    table = read_table(data, "export.csv")

    assert (table.encoding, table.delimiter) == ("utf-8-sig", ",")
    assert table.rows == [["Nummer", "Naam"], ["0012345", "Zoë"], ["0012346", "Noël"]]


def test_csv_utf8_without_bom():
    table = read_table("Naam;Plaats\nZoë;Ede\n".encode(), "export.csv")

    assert (table.encoding, table.delimiter) == ("utf-8", ";")
    assert table.rows == [["Naam", "Plaats"], ["Zoë", "Ede"]]


def test_tab_separated_csv():
    table = read_table(b"Nummer\tNaam\tGroep\n1\tEva\tZorg 1\n2\tDaan\tZorg 2\n", "export.csv")

    assert table.delimiter == "\t"
    assert table.rows == [
        ["Nummer", "Naam", "Groep"],
        ["1", "Eva", "Zorg 1"],
        ["2", "Daan", "Zorg 2"],
    ]


def test_csv_with_mixed_line_endings():
    data = b"Nummer;Naam\r\n1;Eva\n2;Daan\r3;Sem\r\n"

    assert read_table(data, "export.csv").rows == [
        ["Nummer", "Naam"],
        ["1", "Eva"],
        ["2", "Daan"],
        ["3", "Sem"],
    ]


def test_csv_delimiter_is_not_fooled_by_commas_in_values():
    data = (
        b"Kandidaten 2025\n"
        b"Naam;Opmerking;Groep\n"
        b"Jansen, J.;komt later, met ouder;Zorg 1\n"
        b"Bakker, D.;geen;Zorg 2\n"
        b"de Vries, E.;ok;Zorg 1\n"
    )

    table = read_table(data, "export.csv")

    assert table.delimiter == ";"
    assert table.rows[2] == ["Jansen, J.", "komt later, met ouder", "Zorg 1"]


def test_csv_quoted_fields_keep_delimiters_and_line_breaks():
    data = b'Naam;Adres\r\n"Eva";"Dorpsstraat 1;\r\nachterhuis"\r\n"Daan ""DJ"" Bakker";\r\n'

    assert read_table(data, "export.csv").rows == [
        ["Naam", "Adres"],
        ["Eva", "Dorpsstraat 1;\r\nachterhuis"],
        ['Daan "DJ" Bakker', None],
    ]


def test_csv_cells_stay_text_and_empty_cells_become_none():
    """Excel writes ;;; up to the last formatted column and empty lines below the data."""
    data = b"Nummer;Naam;Datum;;;\r\n0012345;;17-05-2007;;;\r\n\r\n;;;;;\r\n"

    table = read_table(data, "export.csv")

    assert table.rows == [["Nummer", "Naam", "Datum"], ["0012345", None, "17-05-2007"]]


def test_csv_rows_are_padded_to_the_widest_row():
    table = read_table(b"a;b;c\n1\n\n2;3\n", "export.csv")

    assert table.rows == [["a", "b", "c"], ["1", None, None], [None, None, None], ["2", "3", None]]


def test_csv_with_only_blank_lines_is_empty():
    error = read_error(b"\r\n;;;\r\n\r\n", "leeg.csv")

    assert error.code == "empty"
    assert error.message == "Het bestand bevat geen gegevens."


# --- choosing the format ------------------------------------------------------------------------


def test_supported_extensions():
    assert SUPPORTED_EXTENSIONS == (".xlsx", ".xlsm", ".xls", ".ods", ".csv")


@pytest.mark.parametrize("filename", ["kandidaten.numbers", "kandidaten.txt", "kandidaten"])
def test_unknown_extension_lists_the_supported_ones(filename):
    error = read_error(b"Naam;Plaats\n", filename)

    assert error.code == "unsupported_format"
    assert filename in error.message
    assert ".xlsx, .xlsm, .xls, .ods, .csv" in error.message


def test_extension_is_case_insensitive():
    assert read_table(b"Naam;Plaats\nEva;Ede\n", "EXPORT.CSV").rows[1] == ["Eva", "Ede"]


def test_max_rows_argument_overrides_the_setting(settings):
    settings.KB_IMPORT_MAX_ROWS = 1_000
    data = b"".join(b"%d;x\n" % n for n in range(40))

    assert len(read_table(data, "k.csv", max_rows=20).rows) == 40  # 20 + 20 header lines
    error = read_error(data, "k.csv", max_rows=19)
    assert error.code == "too_many_rows"
    assert error.message.startswith("Het bestand bevat 40 rijen; het maximum is 19.")
