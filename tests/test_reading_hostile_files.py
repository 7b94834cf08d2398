"""Hostile and broken uploads: each one is refused with its own code and a Dutch sentence,
without crashing, hanging or bloating the process that asked (a web or Celery worker).

Every file is built here, in memory. The bombs are real: their parts are valid deflate
streams that would inflate to hundreds of megabytes.
"""

from __future__ import annotations

import logging
import re
import resource
import struct
import time
import zlib

import pytest
from django.utils import translation

from imports import reading
from imports.reading import read_table

from .test_reading import (
    MAIN_NS,
    SHEET,
    inline_rows,
    ods_bytes,
    ods_text,
    read_error,
    read_part,
    replace_parts,
    sheet_xml,
    xlsx_bytes,
    xlsx_with_sheet,
)

MB = 1024 * 1024
CFB_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
# Peak resident memory may grow by at most this much while a hostile file is refused.
RSS_GROWTH_LIMIT_KB = 200 * 1024


@pytest.fixture(autouse=True)
def dutch():
    with translation.override("nl"):
        yield


def peak_rss_kb() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # kilobytes on Linux


def refuse(data: bytes, filename: str, **kwargs):
    """The ReadError, with the peak memory growth (KB) and seconds it took to get there."""
    before, started = peak_rss_kb(), time.perf_counter()
    error = read_error(data, filename, **kwargs)
    return error, peak_rss_kb() - before, time.perf_counter() - started


def raw_zip(members: list[tuple[str, bytes, int, int, int]]) -> bytes:
    """A zip from (name, bytes as stored, method, crc, declared size): free to lie."""
    body, directory = bytearray(), bytearray()
    for name, stored, method, crc, size in members:
        encoded, offset = name.encode(), len(body)
        fields = (20, 0, method, 0, 0, crc, len(stored), size, len(encoded), 0)
        body += struct.pack("<4sHHHHHIIIHH", b"PK\x03\x04", *fields) + encoded + stored
        directory += (
            struct.pack("<4sH", b"PK\x01\x02", 20)
            + struct.pack("<HHHHHIIIHHHHHII", *fields, 0, 0, 0, 0, offset)
            + encoded
        )
    end = struct.pack(
        "<4sHHHHIIH", b"PK\x05\x06", 0, 0, len(members), len(members), len(directory), len(body), 0
    )
    return bytes(body + directory + end)


def deflated_repeats(block: bytes, times: int) -> bytes:
    """The raw deflate stream of `block` repeated `times` times, without compressing it all:
    after a full flush a deflate stream restarts from scratch, so one flushed block can be
    repeated as often as wanted and still decode to the repeated input."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    flushed = compressor.compress(block) + compressor.flush(zlib.Z_FULL_FLUSH)
    final = zlib.compressobj(9, zlib.DEFLATED, -15).flush(zlib.Z_FINISH)
    return flushed * times + final


def workbook_around(sheet_name: str, stored: bytes, crc: int, size: int) -> bytes:
    """A real xlsx whose first sheet is the given (raw deflated) part, sizes as declared."""
    original = xlsx_bytes([["x"]])
    members = []
    for name in (
        "[Content_Types].xml",
        "_rels/.rels",
        "xl/workbook.xml",
        "xl/_rels/workbook.xml.rels",
        "xl/styles.xml",
    ):
        content = read_part(original, name)
        compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
        packed = compressor.compress(content) + compressor.flush()
        members.append((name, packed, 8, zlib.crc32(content), len(content)))
    members.append((sheet_name, stored, 8, crc, size))
    return raw_zip(members)


def bomb_sheet(megabytes: int) -> tuple[bytes, int, int]:
    """(deflated, crc, size) of a worksheet of `megabytes` MB of rows."""
    row = b'<row><c t="inlineStr"><is><t>ha</t></is></c></row>'
    block = row * (MB // len(row))
    head = f'<worksheet xmlns="{MAIN_NS}"><sheetData>'.encode()
    # The head is padded to one block so that the whole part is `megabytes` equal blocks.
    first = head + block[len(head) :]
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    stream = compressor.compress(first) + compressor.flush(zlib.Z_FULL_FLUSH)
    stream += deflated_repeats(block, megabytes - 1)
    crc = zlib.crc32(first)
    for _ in range(megabytes - 1):
        crc = zlib.crc32(block, crc)
    return stream, crc, len(block) * megabytes


# --- archives -----------------------------------------------------------------------------------


def test_zip_bomb_is_refused_before_anything_inflates():
    stream, crc, size = bomb_sheet(400)
    data = workbook_around(SHEET, stream, crc, size)
    assert len(data) < 2 * MB and size > 400_000_000  # 1.2 MB that inflates to 400 MB
    assert zlib.decompressobj(-15).decompress(stream[: 64 * 1024], 4096).startswith(b"<worksheet")

    error, rss_growth, seconds = refuse(data, "kandidaten.xlsx")

    assert error.code == "zip_bomb"
    assert error.message.startswith("Het bestand wordt uitgepakt meer dan 200 MB groot.")
    assert "veiligheidsredenen" in error.message
    assert rss_growth < RSS_GROWTH_LIMIT_KB
    assert seconds < 5


def test_zip_bomb_part_with_an_absurd_ratio_is_refused():
    """Below the total limit, one part that inflates hundreds of times to 30 MB is a bomb."""
    stream, crc, size = bomb_sheet(30)
    data = workbook_around(SHEET, stream, crc, size)
    # The bomb is real: the stream inflates to exactly the declared size and checksum.
    inflater, inflated, check = zlib.decompressobj(-15), 0, 0
    for start in range(0, len(stream), 4096):
        piece = inflater.decompress(stream[start : start + 4096])
        inflated, check = inflated + len(piece), zlib.crc32(piece, check)
    assert (inflated, check, inflater.eof) == (size, crc, True)
    assert size // len(stream) > 200

    error, rss_growth, seconds = refuse(data, "kandidaten.xlsx")

    assert error.code == "zip_bomb"
    assert error.message.startswith(f"Onderdeel ‘{SHEET}’ wordt uitgepakt 30 MB groot")
    assert rss_growth < RSS_GROWTH_LIMIT_KB
    assert seconds < 5


def test_zip_part_that_inflates_beyond_its_declared_size_is_refused():
    """The directory says 4 KB, the stream inflates to 300 MB: the reader stops after the
    first chunk instead of trusting the declared size."""
    stream, crc, _ = bomb_sheet(300)
    data = workbook_around(SHEET, stream, crc, 4096)

    error, rss_growth, seconds = refuse(data, "kandidaten.xlsx")

    assert error.code == "zip_bomb"
    assert error.message.startswith(
        f"Onderdeel ‘{SHEET}’ wordt bij het uitpakken groter dan het bestand zelf opgeeft."
    )
    assert rss_growth < RSS_GROWTH_LIMIT_KB
    assert seconds < 5


def test_unsupported_compression_method():
    data = raw_zip([(SHEET, b"BZh91AY&SY", 12, 0, 10), ("xl/workbook.xml", b"<w/>", 0, 0, 4)])

    error = read_error(data, "kandidaten.xlsx")

    assert error.code == "unreadable"
    assert error.message.startswith(
        f"Onderdeel ‘{SHEET}’ van het bestand is ingepakt op een manier die niet wordt ondersteund."
    )


def test_truncated_xlsx():
    data = xlsx_bytes([["Naam"], *[[f"Kandidaat {n}"] for n in range(200)]])

    error = read_error(data[: len(data) // 2], "kandidaten.xlsx")

    assert error.code == "truncated"
    assert error.message.startswith("Het bestand is beschadigd of onvolledig")


def test_corrupt_part_with_a_wrong_checksum():
    data = xlsx_bytes([["Naam"], ["Eva"]])
    sheet = read_part(data, SHEET)
    data = workbook_around(SHEET, zlib.compress(sheet)[2:-4], zlib.crc32(sheet) ^ 1, len(sheet))

    error = read_error(data, "kandidaten.xlsx")

    assert error.code == "truncated"
    assert "beschadigd of onvolledig" in error.message


def test_word_document_renamed_to_xlsx():
    data = replace_parts(xlsx_bytes([["x"]]), {"xl/workbook.xml": None})
    data = replace_parts(data, {"word/document.xml": b"<w:document/>"})

    error = read_error(data, "kandidaten.xlsx")

    assert error.code == "not_a_spreadsheet"
    assert error.message == "Het bestand is een tekstdocument, geen spreadsheet."


# --- XML ----------------------------------------------------------------------------------------

BILLION_LAUGHS = (
    b'<?xml version="1.0"?><!DOCTYPE sst [<!ENTITY lol "lol">'
    + b"".join(
        b'<!ENTITY lol%d "%s">' % (n, b"&lol%d;" % (n - 1) * 10 if n > 1 else b"&lol;" * 10)
        for n in range(1, 10)
    )
    + b']><sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="1" '
    b'uniqueCount="1"><si><t>&lol9;</t></si></sst>'
)
XXE = (
    b'<?xml version="1.0"?><!DOCTYPE sst [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
    b'<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="1" '
    b'uniqueCount="1"><si><t>&xxe;</t></si></sst>'
)


@pytest.mark.parametrize(
    "shared_strings",
    [
        pytest.param(BILLION_LAUGHS, id="billion-laughs"),
        pytest.param(XXE, id="xxe"),
        pytest.param(XXE.replace(b"DOCTYPE", b"doctype"), id="lowercase"),
        pytest.param(
            XXE.decode().replace('1.0"?>', '1.0" encoding="UTF-16"?>').encode("utf-16"), id="utf-16"
        ),
    ],
)
def test_entity_declarations_in_shared_strings_are_refused(shared_strings):
    # openpyxl writes inline strings; Excel puts them in xl/sharedStrings.xml.
    sheet = sheet_xml('<row r="1"><c r="A1" t="s"><v>0</v></c></row>')
    data = replace_parts(xlsx_with_sheet(sheet), {"xl/sharedStrings.xml": shared_strings})

    error = read_error(data, "kandidaten.xlsx")

    assert error.code == "xml_entities"
    assert error.message.startswith(
        "Het bestand bevat in onderdeel ‘xl/sharedStrings.xml’ een DOCTYPE- of ENTITY-declaratie."
    )


def test_entity_declaration_in_ods_content_is_refused():
    row = f"<table:table-row>{ods_text('x')}</table:table-row>"
    data = ods_bytes(f'<table:table table:name="K">{row}</table:table>')
    content = read_part(data, "content.xml").replace(
        b"?>", b'?><!DOCTYPE office:document-content [<!ENTITY a "b">]>', 1
    )
    data = replace_parts(data, {"content.xml": content})

    error = read_error(data, "kandidaten.ods")

    assert error.code == "xml_entities"
    assert "‘content.xml’" in error.message


# --- stray cells and sizes ----------------------------------------------------------------------


def test_stray_cell_at_the_last_cell_of_the_sheet():
    """XFD1048576 would make the reader allocate 17 billion cells and abort the process."""
    rows = inline_rows(3) + '<row r="1048576"><c r="XFD1048576"><v>1</v></c></row>'
    data = xlsx_with_sheet(sheet_xml(rows, dimension="A1:XFD1048576"))

    error, rss_growth, seconds = refuse(data, "kandidaten.xlsx")

    assert error.code == "stray_cell"
    assert error.message == (
        "Cel XFD1048576 ligt ver buiten de gegevens. Verwijder lege opmaak of losse cellen "
        "buiten de tabel en probeer het opnieuw."
    )
    assert rss_growth < RSS_GROWTH_LIMIT_KB
    assert seconds < 5


@pytest.mark.parametrize(
    ("cell_xml", "name"),
    [
        ('<row r="1048576"><c r="A1048576" s="1"/></row>', "A1048576"),  # formatting only
        ('<row r="70"><c r="gs70"><v>1</v></c></row>', "GS70"),  # column 201, lower case
        ('<row r="900000"><c r="B000900000"><v>1</v></c></row>', "B900000"),  # leading zeros
    ],
)
def test_stray_cells_in_the_forms_spreadsheet_programs_write(cell_xml, name):
    data = xlsx_with_sheet(sheet_xml(inline_rows(3) + cell_xml))

    error = read_error(data, "kandidaten.xlsx")

    assert error.code == "stray_cell"
    assert error.message.startswith(f"Cel {name} ligt ver buiten de gegevens.")


def test_stray_cell_that_slips_past_the_scan_only_costs_the_child_process(caplog):
    """Spaces around "=" are valid XML the scan does not look for. calamine then aborts
    (SIGABRT while allocating the grid): the child dies, the worker gets a ReadError."""
    rows = inline_rows(3) + "<row><c r = 'XFD1048576'><v>1</v></c></row>"
    data = xlsx_with_sheet(sheet_xml(rows))

    error, rss_growth, seconds = refuse(data, "kandidaten.xlsx")

    assert "Spreadsheet reader exited with -6: memory allocation of" in caplog.text
    assert error.code == "unreadable"
    assert error.message.startswith("Het bestand kon niet worden gelezen")
    assert rss_growth < RSS_GROWTH_LIMIT_KB
    assert seconds < 10


def test_ods_with_a_value_repeated_over_a_million_rows():
    data = ods_bytes(
        f'<table:table table:name="K"><table:table-row>{ods_text("Naam")}</table:table-row>'
        f'<table:table-row table:number-rows-repeated="1048000">{ods_text("Eva")}'
        "</table:table-row></table:table>"
    )

    error, rss_growth, seconds = refuse(data, "kandidaten.ods")

    assert error.code == "stray_cell"
    assert error.message.startswith(
        "Het werkblad bevat een rij of cel die 1.048.000 keer wordt herhaald"
    )
    assert rss_growth < RSS_GROWTH_LIMIT_KB
    assert seconds < 5


def test_ods_with_a_value_after_sixteen_thousand_empty_cells():
    data = ods_bytes(
        f'<table:table table:name="K"><table:table-row>{ods_text("Naam")}'
        f'<table:table-cell table:number-columns-repeated="16000"/>{ods_text("ver weg")}'
        "</table:table-row></table:table>"
    )

    error = read_error(data, "kandidaten.ods")

    assert error.code == "stray_cell"
    assert "16.000 keer" in error.message


def test_the_wrong_dimension_element_does_not_shorten_the_sheet():
    """Excel's <dimension ref="A1:C500"> is only a hint. A writer that leaves it at A1:A1
    while the sheet holds 500 rows must still yield all 500."""
    original = xlsx_bytes([[f"{n:07d}", f"Voornaam{n}", n] for n in range(1, 501)])
    sheet = read_part(original, SHEET)
    assert re.search(rb'<dimension ref="A1:C500"\s*/>', sheet)
    data = replace_parts(original, {SHEET: re.sub(rb'ref="A1:C500"', b'ref="A1:A1"', sheet)})
    assert b'<dimension ref="A1:A1"' in read_part(data, SHEET)

    rows = read_table(data, "k.xlsx").rows

    assert len(rows) == 500
    assert rows[0] == ["0000001", "Voornaam1", 1.0]
    assert rows[-1] == ["0000500", "Voornaam500", 500.0]


def test_more_rows_than_the_limit():
    data = xlsx_with_sheet(sheet_xml(inline_rows(60_000)))

    error = read_error(data, "kandidaten.xlsx")

    assert error.code == "too_many_rows"
    assert error.message.startswith("Het bestand bevat 60.000 rijen; het maximum is 50.000.")


def test_more_rows_than_a_lowered_limit(settings):
    settings.KB_IMPORT_MAX_ROWS = 100
    # 100 data rows plus up to 20 title and header lines are allowed.
    assert len(read_table(b"".join(b"%d\n" % n for n in range(120)), "k.csv").rows) == 120

    error = read_error(b"".join(b"%d\n" % n for n in range(121)), "k.csv")

    assert error.code == "too_many_rows"
    assert error.message.startswith("Het bestand bevat 121 rijen; het maximum is 100.")


def test_file_larger_than_the_limit():
    error = read_error(b"x" * (60 * MB), "kandidaten.xlsx")

    assert error.code == "too_large"
    assert error.message == "Het bestand is 60 MB groot; het maximum is 10 MB."


def test_empty_file():
    error = read_error(b"", "kandidaten.xlsx")

    assert error.code == "empty"
    assert error.message == "Het bestand ‘kandidaten.xlsx’ is leeg (0 bytes)."


# --- cells --------------------------------------------------------------------------------------


def test_cell_of_two_hundred_thousand_characters():
    """Excel stops at 32,767 characters (and so does openpyxl); other writers do not."""
    long_cell = f'<c r="B2" t="inlineStr"><is><t>{"x" * 200_000}</t></is></c>'
    data = xlsx_with_sheet(sheet_xml(inline_rows(1, columns=2) + f'<row r="2">{long_cell}</row>'))

    error = read_error(data, "kandidaten.xlsx")

    assert error.code == "cell_too_long"
    assert error.message == (
        "Rij 2, kolom B: de waarde is 200.000 tekens lang; het maximum is 1.000."
    )


def test_csv_cell_of_two_hundred_thousand_characters():
    data = b"Nummer;Opmerking\n1;" + b"x" * 200_000 + b"\n"

    error = read_error(data, "kandidaten.csv")

    assert error.code == "cell_too_long"
    assert error.message == (
        "Rij 2, kolom B: de waarde is 200.000 tekens lang; het maximum is 1.000."
    )


def test_csv_cell_just_over_a_lowered_limit(settings):
    settings.KB_IMPORT_MAX_CELL_CHARS = 10
    error = read_error(b"Naam;Plaats\nEva;Ede\nDaan;Bergen op Zoom\n", "kandidaten.csv")

    assert error.code == "cell_too_long"
    assert error.message == "Rij 3, kolom B: de waarde is 14 tekens lang; het maximum is 10."


def test_csv_with_a_nul_byte():
    error = read_error(b"Naam;Plaats\r\nEva;Ede\r\nDaan\x00;Ede\r\n", "kandidaten.csv")

    assert error.code == "nul_byte"
    assert error.message.startswith("Regel 3 bevat een ongeldig teken (NUL).")


def test_csv_with_a_value_beyond_the_column_limit(settings):
    settings.KB_IMPORT_MAX_COLUMNS = 5
    error = read_error(b"a;b;c\n1;2;3;;;;x\n", "kandidaten.csv")

    assert error.code == "too_many_columns"
    assert error.message == "Rij 2 heeft een waarde in kolom 7 (G); het maximum is 5 kolommen."


def test_csv_that_is_not_text():
    error = read_error(b"Naam;Plaats\n\x81\x8d\x8f\n", "kandidaten.csv")

    assert error.code == "unreadable"
    assert error.message.startswith("Regel 2 bevat tekens die niet als tekst te lezen zijn.")


# --- disguises ----------------------------------------------------------------------------------


def test_encrypted_xlsx():
    """Excel stores a workbook with a password as a CFB container ("EncryptedPackage")."""
    data = CFB_MAGIC + bytes(range(256)) * 40

    error = read_error(data, "kandidaten.xlsx")

    assert error.code == "encrypted"
    assert error.message == (
        "Het bestand is beveiligd met een wachtwoord. Sla het op zonder wachtwoord en probeer "
        "het opnieuw."
    )


def test_encrypted_ods():
    encryption = (
        '<manifest:file-entry manifest:full-path="settings.xml" manifest:media-type="text/xml">'
        '<manifest:encryption-data manifest:checksum-type="SHA1/1K"/></manifest:file-entry>'
    )
    data = ods_bytes('<table:table table:name="K"/>', manifest_extra=encryption)

    error = read_error(data, "kandidaten.ods")

    assert error.code == "encrypted"
    assert "beveiligd met een wachtwoord" in error.message


def test_broken_xls_is_unreadable(caplog):
    """A CFB file with a workbook stream goes to the reader, which cannot make sense of it."""
    caplog.set_level(logging.INFO, logger="imports.reading")
    data = CFB_MAGIC + bytes(500) + "Workbook".encode("utf-16-le") + bytes(range(256)) * 40

    error = read_error(data, "kandidaten.xls")

    assert error.code == "unreadable"
    assert error.message.startswith("Het bestand kon niet worden gelezen")
    assert "Spreadsheet could not be parsed" in caplog.text


def test_pdf_renamed_to_xlsx():
    error = read_error(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n", "kandidaten.xlsx")

    assert error.code == "not_a_spreadsheet"
    assert error.message.startswith("‘kandidaten.xlsx’ is een PDF-document, geen spreadsheet.")


def test_web_page_saved_as_xls():
    error = read_error(b"<html><body><table><tr><td>Eva</td></tr></table>", "export.xls")

    assert error.code == "not_a_spreadsheet"
    assert error.message.startswith("‘export.xls’ is een webpagina of XML-bestand")


def test_xlsx_renamed_to_csv():
    error = read_error(xlsx_bytes([["Naam"]]), "kandidaten.csv")

    assert error.code == "not_a_spreadsheet"
    assert error.message.startswith("‘kandidaten.csv’ heet een CSV-bestand, maar is een Excel-")


def test_text_renamed_to_xlsx():
    error = read_error(b"Naam;Plaats\nEva;Ede\n", "kandidaten.xlsx")

    assert error.code == "not_a_spreadsheet"
    assert "Geef het dan de extensie .csv." in error.message


# --- the child process --------------------------------------------------------------------------


def test_a_reader_that_overruns_is_stopped(monkeypatch):
    monkeypatch.setattr(reading, "CHILD_TIMEOUT_SECONDS", 0.01)

    error, _, seconds = refuse(xlsx_bytes([["Naam"], ["Eva"]]), "kandidaten.xlsx")

    assert error.code == "unreadable"
    assert error.message.startswith("Het lezen van het bestand duurde te lang")
    assert seconds < 5


def test_the_worker_reads_normally_after_a_reader_died():
    rows = inline_rows(3) + "<row><c r = 'XFD1048576'><v>1</v></c></row>"
    assert read_error(xlsx_with_sheet(sheet_xml(rows)), "k.xlsx").code == "unreadable"

    assert read_table(xlsx_bytes([["Naam"], ["Eva"]]), "k.xlsx").rows == [["Naam"], ["Eva"]]


def test_stray_cell_message_names_row_when_the_row_has_no_cells():
    data = xlsx_with_sheet(
        sheet_xml(inline_rows(3) + '<row r="1048576" ht="30" customHeight="1"/>')
    )

    error = read_error(data, "kandidaten.xlsx")

    assert error.code == "stray_cell"
    assert error.message.startswith("Rij 1.048.576 ligt ver buiten de gegevens.")
    assert re.search(r"Verwijder lege opmaak", error.message)
