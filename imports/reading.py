"""Step 1 of the import pipeline: the uploaded bytes as rows of cells.

Colleges upload whatever their systems export, and now and then something hostile or broken.
The rule here: no input may crash or hang a worker, and every refusal is a Dutch sentence
that says what is wrong and where.

- The format follows the extension and is then checked against the file's first bytes.
- CSV is read here, with the csv module: plain Python, bounded by the upload limit.
- Spreadsheets (xlsx, xlsm, xls, ods) are opened only in a child process
  (imports.reader_child) with limits on memory and CPU. It checks the zip index (bombs, lying
  sizes) and every part (CRC, DTDs, stray cells) before calamine parses anything, so this
  process never decompresses a byte. A child that aborts, is killed or overruns becomes a
  ReadError; the worker lives on.
- Of a workbook, the sheet with the header is read (imports.fields finds headers), so an
  instruction sheet in front of the candidates is passed over.
- Subprocess rather than multiprocessing: Celery's prefork children are daemonic and may not
  fork children of their own. Limits are set by the child on itself, not in preexec_fn,
  which is unsafe in threaded servers.
"""

from __future__ import annotations

import csv
import datetime
import io
import itertools
import logging
import marshal
import os
import re
import struct
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings
from django.utils.formats import number_format
from django.utils.translation import gettext as _

from .fields import field_for_header, find_header_row
from .gcpause import cyclic_gc_paused
from .reader_child import column_letters

logger = logging.getLogger(__name__)

SUPPORTED_EXTENSIONS = (".xlsx", ".xlsm", ".xls", ".ods", ".csv")
# Title lines and the header row may sit above the data rows that max_rows counts.
HEADER_ROWS_MARGIN = 20
# A sheet has a recognisable header when one of its first rows names this many known fields.
MIN_HEADER_FIELDS = 2

CHILD_MEMORY_BYTES = 1536 * 1024 * 1024
CHILD_CPU_SECONDS = 60
CHILD_TIMEOUT_SECONDS = 90
_PROJECT_ROOT = Path(__file__).resolve().parent.parent

ZIP_MAGIC = b"PK\x03\x04"
CFB_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
CSV_DELIMITERS = (";", ",", "\t")
CSV_SAMPLE_RECORDS = 50
MEGABYTE = 1024 * 1024


class ReadError(Exception):
    """message: a Dutch sentence for the user (what is wrong, and where)."""

    def __init__(self, message: str, code: str):
        super().__init__(message)
        self.message = message
        self.code = code


@dataclass
class Table:
    # Every row of the sheet that was read (for CSV: the file), cells as read: str, int,
    # float, bool, datetime.date/datetime (datetime.time/timedelta for time-only and duration
    # cells), or None for empty; trailing empty rows dropped.
    rows: list[list[object]]
    file_format: str  # "xlsx", "xlsm", "xls", "ods", "csv"
    sheet: str | None = None  # the sheet that was read; None for CSV
    # Every sheet with a recognisable header, in workbook order (to choose from).
    sheets: list[str] = field(default_factory=list)
    encoding: str = ""  # CSV only: "utf-8-sig", "utf-8" or "cp1252"
    delimiter: str = ""  # CSV only


@cyclic_gc_paused()
def read_table(
    data: bytes, filename: str, *, max_rows: int | None = None, sheet: str | None = None
) -> Table:
    """A sheet of a spreadsheet (or a CSV file) as rows; ReadError when it cannot be.

    Without `sheet`: the one sheet with a recognisable header, the first of them when there
    are several, the first sheet when none has one (the mapping step then says what is
    missing). With `sheet`: that sheet, which must exist and have a header.
    """
    if max_rows is None:
        max_rows = settings.KB_IMPORT_MAX_ROWS
    extension = os.path.splitext(filename)[1].lower()
    _check_upload(data, filename, extension)
    limits = {
        "max_rows": max_rows + HEADER_ROWS_MARGIN,
        "max_columns": settings.KB_IMPORT_MAX_COLUMNS,
        "max_cell_chars": settings.KB_IMPORT_MAX_CELL_CHARS,
        "max_uncompressed": settings.KB_IMPORT_MAX_UNCOMPRESSED_BYTES,
        "head_rows": HEADER_ROWS_MARGIN,
    }
    container = _container(data)
    if extension == ".csv":
        if container in ("zip", "cfb", "pdf"):
            raise _not_a_spreadsheet(container, filename, expected_text=True)
        return _read_csv(data, limits, max_rows)
    if container == "cfb":
        # A workbook saved with a password is a CFB container around the encrypted package,
        # whatever its extension; a real .xls is CFB too, holding a "Workbook" stream ("Book"
        # before Excel 97). So a CFB named .xlsx/.xlsm/.ods without one is taken for an
        # encrypted file, and one with it for an .xls under the wrong name.
        encrypted = "EncryptedPackage".encode("utf-16-le") in data
        workbook_stream = any(n.encode("utf-16-le") in data for n in ("Workbook", "Book"))
        if encrypted or (extension != ".xls" and not workbook_stream):
            raise ReadError(_encrypted_message(), "encrypted")
        return _read_spreadsheet(data, dict(limits, kind="cfb"), max_rows, "xls", sheet)
    if container == "zip":
        return _read_spreadsheet(data, dict(limits, kind="zip"), max_rows, extension[1:], sheet)
    raise _not_a_spreadsheet(container, filename)


def _check_upload(data: bytes, filename: str, extension: str) -> None:
    if extension not in SUPPORTED_EXTENSIONS:
        raise ReadError(
            _(
                "Het bestandstype van ‘%(name)s’ wordt niet ondersteund. Gebruik een van deze "
                "bestandstypen: %(extensions)s."
            )
            % {"name": filename, "extensions": ", ".join(SUPPORTED_EXTENSIONS)},
            "unsupported_format",
        )
    if not data:
        raise ReadError(
            _("Het bestand ‘%(name)s’ is leeg (0 bytes).") % {"name": filename}, "empty"
        )
    if len(data) > settings.KB_IMPORT_MAX_FILE_BYTES:
        raise ReadError(
            _("Het bestand is %(size)s MB groot; het maximum is %(max)s MB.")
            % {"size": _megabytes(len(data)), "max": _megabytes(settings.KB_IMPORT_MAX_FILE_BYTES)},
            "too_large",
        )


# --- spreadsheets ------------------------------------------------------------------------------


@dataclass
class _Workbook:
    """What one run of the reader child returned."""

    kind: str  # what the content is: "xlsx", "ods" or "xls"
    names: list[str]  # every worksheet
    heads: dict[str, list]  # the first rows of every readable sheet
    sheet: str  # the sheet in `rows`
    rows: list[list[object]]


def _read_spreadsheet(data: bytes, opts: dict, max_rows: int, extension_format: str, sheet):
    book = _read_workbook(data, dict(opts, sheet=sheet), max_rows)
    with_header = [name for name in book.names if _has_header(book.heads.get(name))]
    chosen = _choose_sheet(sheet, book.names, with_header)
    if chosen != book.sheet:
        # The child read the first sheet in full while the header is on another: one more
        # run for that one (only workbooks with an instruction sheet first pay for it).
        book = _read_workbook(data, dict(opts, sheet=chosen), max_rows)
    if not book.rows:
        raise ReadError(
            _("Het eerste werkblad (‘%(sheet)s’) is leeg.") % {"sheet": book.sheet}, "empty"
        )
    # The extension decides between xlsx and xlsm; the content between OOXML, ODS and xls.
    if book.kind == "xlsx":
        file_format = extension_format if extension_format in ("xlsx", "xlsm") else "xlsx"
    else:
        file_format = book.kind
    return Table(rows=book.rows, file_format=file_format, sheet=book.sheet, sheets=with_header)


def _read_workbook(data: bytes, opts: dict, max_rows: int) -> _Workbook:
    # Half a million new objects: see read_table's cyclic_gc_paused.
    result = _load_result(_run_child(data, opts))
    if result[0] == "error":
        raise _child_error(result[1], result[2], opts, max_rows)
    _, kind, names, heads, sheet, rows, dates = result
    for row_index, column, value in dates:
        rows[row_index][column] = _date_from_tuple(value)
    heads[sheet] = rows[:HEADER_ROWS_MARGIN]
    return _Workbook(kind=kind, names=names, heads=heads, sheet=sheet, rows=rows)


def _has_header(rows: list[list[object]] | None) -> bool:
    """Whether the rows hold a header row naming at least MIN_HEADER_FIELDS known fields. One
    is not enough: an instruction sheet lists the columns one per row."""
    if not rows:
        return False
    header = rows[find_header_row(rows, look_at=HEADER_ROWS_MARGIN)]
    return len({field_for_header(cell) for cell in header} - {None}) >= MIN_HEADER_FIELDS


def _choose_sheet(wanted: str | None, names: list[str], with_header: list[str]) -> str:
    if wanted is None:
        return with_header[0] if with_header else names[0]
    if wanted in with_header:
        return wanted
    params = {"sheet": wanted, "sheets": ", ".join(f"‘{name}’" for name in names)}
    if wanted not in names:
        message = _(
            "Het bestand heeft geen werkblad ‘%(sheet)s’. Dit zijn de werkbladen: %(sheets)s."
        )
    else:
        message = _(
            "Op werkblad ‘%(sheet)s’ staat geen kopregel met kolommen die we herkennen. Dit zijn "
            "de werkbladen: %(sheets)s."
        )
    raise ReadError(message % params, "no_sheet")


def _run_child(data: bytes, opts: dict) -> bytes:
    """What imports.reader_child wrote, or a ReadError when it died or overran."""
    header = marshal.dumps(opts)
    command = [
        sys.executable,
        "-m",
        "imports.reader_child",
        str(CHILD_MEMORY_BYTES),
        str(CHILD_CPU_SECONDS),
    ]
    # A Rust panic must not spend time (or bytes) on a backtrace.
    env = dict(os.environ, RUST_BACKTRACE="0")
    try:
        process = subprocess.run(
            command,
            input=struct.pack(">I", len(header)) + header + data,
            capture_output=True,
            timeout=CHILD_TIMEOUT_SECONDS,
            cwd=_PROJECT_ROOT,
            env=env,
            check=False,
        )
    except subprocess.TimeoutExpired:
        logger.warning("Spreadsheet reader timed out after %s s", CHILD_TIMEOUT_SECONDS)
        raise ReadError(
            _(
                "Het lezen van het bestand duurde te lang (meer dan %(seconds)s seconden). Sla "
                "het opnieuw op in Excel of LibreOffice, zonder lege opmaak buiten de tabel, en "
                "probeer het opnieuw."
            )
            % {"seconds": _number(CHILD_TIMEOUT_SECONDS)},
            "unreadable",
        ) from None
    if process.returncode != 0:
        # Killed by the memory or CPU limit, or aborted inside the native reader.
        logger.warning(
            "Spreadsheet reader exited with %s: %s",
            process.returncode,
            process.stderr[-2000:].decode("utf-8", "replace"),
        )
        raise ReadError(_unreadable_message(), "unreadable")
    return process.stdout


def _load_result(output: bytes) -> tuple:
    # marshal, not pickle: even a reader subverted by a hostile file can only hand back plain
    # lists, strings and numbers, never objects that run code when they are loaded.
    try:
        result = marshal.loads(output)  # noqa: S302 (see above)
    except (EOFError, ValueError, TypeError):
        result = None
    valid = isinstance(result, tuple) and (
        (len(result) == 7 and result[0] == "ok") or (len(result) == 3 and result[0] == "error")
    )
    if not valid:
        logger.warning("Spreadsheet reader returned no valid result")
        raise ReadError(_unreadable_message(), "unreadable")
    return result


def _date_from_tuple(value: tuple):
    kind, *parts = value
    if kind == "datetime":
        return datetime.datetime(*parts)
    if kind == "date":
        return datetime.date(*parts)
    if kind == "time":
        return datetime.time(*parts)
    if kind == "timedelta":
        return datetime.timedelta(days=parts[0], seconds=parts[1], microseconds=parts[2])
    return parts[0]


def _stray_cell(params: dict, _limits: dict, _max_rows: int) -> ReadError:
    if params.get("ref") is None:
        message = _(
            "Het werkblad bevat een rij of cel die %(count)s keer wordt herhaald, ver buiten "
            "de gegevens. Verwijder lege opmaak of losse cellen buiten de tabel en probeer "
            "het opnieuw."
        ) % {"count": _number(params["repeat"])}
    elif params["ref"].isdigit():
        message = _(
            "Rij %(row)s ligt ver buiten de gegevens. Verwijder lege opmaak of losse cellen "
            "buiten de tabel en probeer het opnieuw."
        ) % {"row": _number(int(params["ref"]))}
    else:
        message = _(
            "Cel %(cell)s ligt ver buiten de gegevens. Verwijder lege opmaak of losse cellen "
            "buiten de tabel en probeer het opnieuw."
        ) % {"cell": params["ref"]}
    return ReadError(message, "stray_cell")


def _zip_bomb(params: dict, limits: dict, _max_rows: int) -> ReadError:
    reason = params["reason"]
    if reason == "members":
        message = _(
            "Het bestand bestaat uit %(count)s onderdelen; het maximum is %(max)s. Zo'n bestand "
            "wordt om veiligheidsredenen niet gelezen."
        ) % {"count": _number(params["count"]), "max": _number(params["limit"])}
    elif reason == "ratio":
        message = _(
            "Onderdeel ‘%(part)s’ wordt uitgepakt %(size)s MB groot, %(ratio)s keer zo groot als "
            "ingepakt. Zo'n bestand (een ‘zip-bom’) wordt om veiligheidsredenen niet gelezen."
        ) % {
            "part": params["member"],
            "size": _megabytes(params["size"]),
            "ratio": _number(params["ratio"]),
        }
    elif reason == "lying":
        message = _(
            "Onderdeel ‘%(part)s’ wordt bij het uitpakken groter dan het bestand zelf opgeeft. "
            "Zo'n bestand wordt om veiligheidsredenen niet gelezen."
        ) % {"part": params["member"]}
    else:
        message = _(
            "Het bestand wordt uitgepakt meer dan %(max)s MB groot. Zo'n bestand wordt om "
            "veiligheidsredenen niet gelezen; sla alleen de tabel op in een nieuw bestand."
        ) % {"max": _megabytes(limits["max_uncompressed"])}
    return ReadError(message, "zip_bomb")


def _unreadable(params: dict, _limits: dict, _max_rows: int) -> ReadError:
    if params.get("detail"):
        logger.info("Spreadsheet could not be parsed: %s", params["detail"])
    return ReadError(_unreadable_message(), "unreadable")


# What the reader child refused, by its code: (params, limits, max_rows) → ReadError.
_CHILD_ERRORS = {
    "too_many_rows": lambda p, limits, max_rows: _too_many_rows(p["count"], max_rows),
    "stray_cell": _stray_cell,
    "cell_too_long": lambda p, *_args: _cell_too_long(p["row"], p["column"], p["length"]),
    "zip_bomb": _zip_bomb,
    "xml_entities": lambda p, *_args: ReadError(
        _(
            "Het bestand bevat in onderdeel ‘%(part)s’ een DOCTYPE- of ENTITY-declaratie. "
            "Die worden om veiligheidsredenen niet geaccepteerd. Sla het bestand opnieuw op "
            "in Excel of LibreOffice en probeer het opnieuw."
        )
        % {"part": p["member"]},
        "xml_entities",
    ),
    "encrypted": lambda p, *_args: ReadError(_encrypted_message(), "encrypted"),
    "truncated": lambda p, *_args: ReadError(
        _(
            "Het bestand is beschadigd of onvolledig (misschien is het uploaden "
            "onderbroken). Sla het opnieuw op en probeer het nog eens."
        ),
        "truncated",
    ),
    "empty": lambda p, *_args: ReadError(_("Het bestand bevat geen werkbladen."), "empty"),
    "not_a_spreadsheet": lambda p, *_args: _not_a_spreadsheet(p["kind"], ""),
    "compression": lambda p, *_args: ReadError(
        _(
            "Onderdeel ‘%(part)s’ van het bestand is ingepakt op een manier die niet wordt "
            "ondersteund. Sla het bestand opnieuw op in Excel of LibreOffice en probeer het "
            "opnieuw."
        )
        % {"part": p["member"]},
        "unreadable",
    ),
}


def _child_error(code: str, params: dict, limits: dict, max_rows: int) -> ReadError:
    return _CHILD_ERRORS.get(code, _unreadable)(params, limits, max_rows)


# --- CSV ---------------------------------------------------------------------------------------


def _read_csv(data: bytes, limits: dict, max_rows: int) -> Table:
    _check_nul(data)
    text, encoding = _decode_csv(data)
    delimiter = _detect_delimiter(text)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    rows: list[list[object]] = []
    width = 0
    last_filled = 0  # rows up to and including the last one with a value
    filled_rows = 0
    row_number = 0
    try:
        for row_number, record in enumerate(reader, start=1):
            row: list[object] = [value or None for value in record]
            while row and row[-1] is None:
                row.pop()  # Excel writes ;;; for formatted but empty columns
            if row:
                _check_csv_row(row, row_number, limits)
                filled_rows += 1
                last_filled = row_number
                width = max(width, len(row))
            if filled_rows <= limits["max_rows"]:
                rows.append(row)
    except csv.Error as exc:
        # With strict=False the only error left: a field beyond csv.field_size_limit()
        # (128 KiB). That limit is global to the process, so it stays; the cell is found here.
        column, length = _longest_field(text, reader.line_num, delimiter)
        raise _cell_too_long(row_number + 1, column, length) from exc
    if filled_rows > limits["max_rows"]:
        raise _too_many_rows(filled_rows, max_rows)
    del rows[last_filled:]
    if not rows:
        raise ReadError(_("Het bestand bevat geen gegevens."), "empty")
    for row in rows:
        row.extend([None] * (width - len(row)))
    return Table(rows=rows, file_format="csv", encoding=encoding, delimiter=delimiter)


def _check_nul(data: bytes) -> None:
    nul = data.find(b"\x00")
    if nul != -1:
        line = len(re.findall(rb"\r\n|\r|\n", data[:nul])) + 1
        raise ReadError(
            _(
                "Regel %(line)s bevat een ongeldig teken (NUL). Het bestand is waarschijnlijk "
                "geen tekstbestand of is beschadigd; sla het opnieuw op als CSV en probeer het "
                "opnieuw."
            )
            % {"line": _number(line)},
            "nul_byte",
        )


def _check_csv_row(row: list, row_number: int, limits: dict) -> None:
    max_columns, max_chars = limits["max_columns"], limits["max_cell_chars"]
    if len(row) > max_columns:
        raise ReadError(
            _(
                "Rij %(row)s heeft een waarde in kolom %(column)s (%(letters)s); het "
                "maximum is %(max)s kolommen."
            )
            % {
                "row": _number(row_number),
                "column": _number(len(row)),
                "letters": column_letters(len(row) - 1),
                "max": _number(max_columns),
            },
            "too_many_columns",
        )
    # The row's last cell holds a value (see _read_csv), so max() always has one to measure.
    if max(map(len, filter(None, row))) > max_chars:
        for column, value in enumerate(row):
            if value is not None and len(value) > max_chars:
                raise _cell_too_long(row_number, column, len(value))


def _longest_field(text: str, line_number: int, delimiter: str) -> tuple[int, int]:
    """(column, length) of the longest field on a physical line, for an error message."""
    lines = io.StringIO(text, newline="")
    line = next(itertools.islice(lines, line_number - 1, None), "")
    fields = line.rstrip("\r\n").split(delimiter)
    column = max(range(len(fields)), key=lambda index: len(fields[index]))
    return column, len(fields[column].strip('"'))


def _decode_csv(data: bytes) -> tuple[str, str]:
    if data.startswith(b"\xef\xbb\xbf"):
        encoding = "utf-8-sig"
    else:
        try:
            return data.decode("utf-8"), "utf-8"
        except UnicodeDecodeError:
            # Not UTF-8: what Dutch Excel writes for "CSV (gescheiden door lijstscheidingsteken)".
            encoding = "cp1252"
    try:
        return data.decode(encoding), encoding
    except UnicodeDecodeError as exc:
        line = len(re.findall(rb"\r\n|\r|\n", data[: exc.start])) + 1
        raise ReadError(
            _(
                "Regel %(line)s bevat tekens die niet als tekst te lezen zijn. Sla het bestand "
                "opnieuw op als ‘CSV UTF-8’ en probeer het opnieuw."
            )
            % {"line": _number(line)},
            "unreadable",
        ) from exc


def _detect_delimiter(text: str) -> str:
    """The delimiter that splits the first records into the same number (> 1) of fields.

    Scored per candidate: how many of the first non-empty records have the most common field
    count, provided that count is above one; ties go to the larger count, then to ; (what
    Dutch Excel writes). A comma inside "Jansen, J." then cannot outvote the semicolons.
    """
    best, best_score = ";", (0, 0)
    for delimiter in CSV_DELIMITERS:
        reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
        try:
            counts = [len(r) for r in itertools.islice(reader, CSV_SAMPLE_RECORDS) if any(r)]
        except csv.Error:
            continue
        widths: dict[int, int] = {}
        for count in counts:
            widths[count] = widths.get(count, 0) + 1
        width, matches = max(widths.items(), key=lambda item: (item[1], item[0]), default=(0, 0))
        score = (matches, width) if width > 1 else (0, 0)
        if score > best_score:
            best, best_score = delimiter, score
    return best


# --- helpers -----------------------------------------------------------------------------------


def _container(data: bytes) -> str:
    if data.startswith(ZIP_MAGIC):
        return "zip"
    if data.startswith(CFB_MAGIC):
        return "cfb"
    if data.startswith(b"%PDF"):
        return "pdf"
    head = data[:512].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if head.startswith((b"<!doctype html", b"<html", b"<?xml", b"<table")):
        return "markup"
    return "other"


def _not_a_spreadsheet(kind: str, filename: str, expected_text: bool = False) -> ReadError:
    if kind == "pdf":
        message = _(
            "‘%(name)s’ is een PDF-document, geen spreadsheet. Upload het oorspronkelijke Excel-, "
            "OpenDocument- of CSV-bestand."
        ) % {"name": filename}
    elif expected_text:
        message = _(
            "‘%(name)s’ heet een CSV-bestand, maar is een Excel- of OpenDocument-bestand. Geef "
            "het de juiste extensie (zoals .xlsx) of sla het op als CSV en probeer het opnieuw."
        ) % {"name": filename}
    elif kind == "markup":
        message = _(
            "‘%(name)s’ is een webpagina of XML-bestand met de extensie van een spreadsheet. "
            "Open het in Excel of LibreOffice, sla het op als Excel-werkmap (.xlsx) en probeer "
            "het opnieuw."
        ) % {"name": filename}
    elif kind in ("docx", "odt"):
        message = _("Het bestand is een tekstdocument, geen spreadsheet.")
    elif kind == "pptx":
        message = _("Het bestand is een presentatie, geen spreadsheet.")
    elif kind == "zip":
        message = _("Het bestand is een zip-archief, maar geen spreadsheet.")
    else:
        message = _(
            "‘%(name)s’ is geen Excel- of OpenDocument-spreadsheet, hoewel de naam dat doet "
            "vermoeden. Is het misschien een CSV-bestand? Geef het dan de extensie .csv."
        ) % {"name": filename}
    return ReadError(message, "not_a_spreadsheet")


def _too_many_rows(count: int, max_rows: int) -> ReadError:
    return ReadError(
        _(
            "Het bestand bevat %(count)s rijen; het maximum is %(max)s. Splits het bestand en "
            "importeer de delen na elkaar."
        )
        % {"count": _number(count), "max": _number(max_rows)},
        "too_many_rows",
    )


def _cell_too_long(row: int, column: int, length: int) -> ReadError:
    return ReadError(
        _(
            "Rij %(row)s, kolom %(column)s: de waarde is %(length)s tekens lang; het maximum "
            "is %(max)s."
        )
        % {
            "row": _number(row),
            "column": column_letters(column),
            "length": _number(length),
            "max": _number(settings.KB_IMPORT_MAX_CELL_CHARS),
        },
        "cell_too_long",
    )


def _encrypted_message() -> str:
    return _(
        "Het bestand is beveiligd met een wachtwoord. Sla het op zonder wachtwoord en probeer "
        "het opnieuw."
    )


def _unreadable_message() -> str:
    return _(
        "Het bestand kon niet worden gelezen: het is beschadigd, of te groot of te ingewikkeld "
        "om te verwerken. Sla het opnieuw op in Excel of LibreOffice (alleen de tabel) en "
        "probeer het opnieuw."
    )


def _number(value: float) -> str:
    """50000 → "50.000" in Dutch (the active language decides)."""
    return number_format(value, force_grouping=True)


def _megabytes(size: int) -> str:
    value = round(size / MEGABYTE, 1)
    return number_format(int(value) if value.is_integer() else value, force_grouping=True)
