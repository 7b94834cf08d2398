"""Looks inside one uploaded spreadsheet, in a throw-away process (see imports.reading).

Everything that decompresses or parses the upload happens here, never in the web or worker
process: a hostile file can make a native reader allocate the whole 16384 x 1048576 grid and
abort, and the zip checks themselves inflate data. This process runs under hard limits
(address space, CPU seconds, no files, no core dumps) that it sets on itself before it reads a
single byte of the upload; when it dies, the parent reports "unreadable" and lives on.

It imports nothing from Django (fast start, small surface) and returns codes and numbers, not
messages: the Dutch sentences are made by the parent, which knows the active language.

Protocol
    argv:   <address space limit in bytes> <CPU seconds>
    stdin:  4-byte big-endian length N, N bytes of marshal'ed options, then the file.
    stdout: marshal'ed ("ok", kind, sheets, heads, sheet, rows, dates) or ("error", code, params).
            kind is what the content turned out to be: "xlsx", "ods" or "xls"; sheets all
            worksheet names; rows the whole of `sheet` (the one asked for, else the first
            readable one); heads the first rows of every other readable sheet, so the parent
            can find the sheet with the header. Marshal cannot carry dates, so date cells
            travel in `dates` as (row, column, tuple) and are None in `rows` (and in heads).
"""

from __future__ import annotations

import datetime
import gc
import io
import marshal
import re
import resource
import struct
import sys
import zipfile
import zlib
from xml.etree import ElementTree

from python_calamine import (
    CalamineError,
    CalamineWorkbook,
    PasswordError,
    SheetTypeEnum,
    ZipError,
)

ODS_MIMETYPE = b"application/vnd.oasis.opendocument.spreadsheet"
MAX_MEMBERS = 10_000
# A member is a bomb when it inflates more than RATIO_LIMIT times *and* to more than
# RATIO_MIN_BYTES: tiny, very repetitive parts (styles, empty sheets) compress extremely well.
RATIO_LIMIT = 200
RATIO_MIN_BYTES = 10 * 1024 * 1024
# Members that are never parsed as XML (still inflated: that checks their size and CRC).
BINARY_SUFFIXES = tuple(".bin .png .jpg .jpeg .gif .bmp .emf .wmf .tif .tiff .wdp".split())
# The small parts that decide how the rest is checked; read before the others.
INDEX_PARTS = ("mimetype", "META-INF/manifest.xml", "xl/workbook.xml", "xl/_rels/workbook.xml.rels")

# A DTD is the door to both entity expansion ("billion laughs") and external entities (XXE).
# No spreadsheet program writes one, so any DOCTYPE or ENTITY declaration is refused, in any
# case (quick-xml accepts <!doctype) and also in parts encoded as UTF-16. IGNORECASE on a
# bytes pattern folds ASCII letters only, which is what these encoded keywords consist of.
DECLARATION_RE = {
    encoding: re.compile(
        b"|".join(re.escape(word.encode(encoding)) for word in ("<!DOCTYPE", "<!ENTITY")),
        re.IGNORECASE,
    )
    for encoding in ("utf-8", "utf-16-le", "utf-16-be")
}
REF_RE = re.compile(rb"([A-Za-z]{0,16})0*([0-9]{0,16})")
ROW_START_RE = re.compile(rb"<row[\s>/]")
ODS_REPEAT_RE = re.compile(rb'table:number-(rows|columns)-repeated\s*=\s*["\']0*([1-9][0-9]*)')
ODS_VALUE_RE = re.compile(
    rb"office:(?:value|value-type|string-value|date-value|time-value|boolean-value)\s*="
    rb"|table:formula\s*="
)
ODS_CELL_TAGS = (b"<table:table-cell", b"<table:covered-table-cell")


class Rejected(Exception):
    def __init__(self, code: str, **params):
        super().__init__(code)
        self.code = code
        self.params = params


def column_letters(index: int) -> str:
    """0-based column index as the spreadsheet shows it: 0 → A, 26 → AA."""
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


# --- zip container ----------------------------------------------------------------------------


def check_zip(data: bytes, opts: dict) -> tuple[str, dict]:
    """Refuse bombs, lies, DTDs and stray cells before any parser sees the archive.

    Returns ("ods" or "xlsx", {sheet name: (code, params)}) for xlsx sheets that are far too
    large: those are refused only when they are the sheet to read.
    """
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        infos = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, ValueError, OSError) as exc:
        raise Rejected("truncated") from exc
    check_index(infos, opts["max_uncompressed"])
    by_name = {info.filename: info for info in infos}
    small = {name: read_member(archive, by_name[name]) for name in INDEX_PARTS if name in by_name}
    kind = zip_kind(small, by_name)
    if kind == "ods" and b"encryption-data" in small.get("META-INF/manifest.xml", b""):
        raise Rejected("encrypted")  # LibreOffice keeps the zip readable, encrypts the parts
    sheet_parts = xlsx_sheet_parts(small) if kind == "xlsx" else {}
    far: dict[str, tuple] = {}
    for info in infos:
        name = info.filename
        if name in small:
            continue
        content = read_member(archive, info)
        if kind == "ods" and name == "content.xml":
            ods_far_repeat(content, opts)
        elif kind == "xlsx" and (name in sheet_parts or name.startswith("xl/worksheets/")):
            found = far_reference(content, opts)
            if found and name not in sheet_parts:
                raise Rejected(found[0], **found[1])  # a sheet we cannot name: the safe side
            if found:
                far[sheet_parts[name]] = found
    return kind, far


def check_index(infos: list[zipfile.ZipInfo], max_uncompressed: int) -> None:
    """What the zip's own directory gives away, before a byte is inflated."""
    if len(infos) > MAX_MEMBERS:
        raise Rejected("zip_bomb", reason="members", count=len(infos), limit=MAX_MEMBERS)
    declared = sum(info.file_size for info in infos)
    if declared > max_uncompressed:
        raise Rejected("zip_bomb", reason="total")
    for info in infos:
        if info.flag_bits & 0x1:
            raise Rejected("encrypted")
        if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
            raise Rejected("compression", member=info.filename)
        compressed = max(info.compress_size, 1)
        # Deflate never grows data by more than a few bytes per 16 KiB: more stored bytes
        # than that means the part inflates to more than it declares.
        if info.compress_size > info.file_size + (info.file_size >> 10) + 64:
            raise Rejected("zip_bomb", reason="lying", member=info.filename)
        if info.file_size > RATIO_MIN_BYTES and info.file_size > RATIO_LIMIT * compressed:
            ratio = info.file_size // compressed
            raise Rejected(
                "zip_bomb", reason="ratio", member=info.filename, size=info.file_size, ratio=ratio
            )


def read_member(archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> bytes:
    """One part, inflated by zipfile to at most its declared size (which check_index bounds),
    checked against its CRC and, unless binary, for DTDs."""
    try:
        with archive.open(info) as member:
            content = member.read(info.file_size)  # read(n) never inflates more than n bytes
            if len(content) != info.file_size or member.read(1):
                raise Rejected("truncated")
    except (zipfile.BadZipFile, EOFError, zlib.error, OSError, ValueError) as exc:
        raise Rejected("truncated") from exc
    if not info.filename.lower().endswith(BINARY_SUFFIXES):
        if DECLARATION_RE[xml_encoding(content)].search(content):
            raise Rejected("xml_entities", member=info.filename)
    return content


def xml_encoding(start: bytes) -> str:
    """UTF-16 shows in the first two bytes (BOM or a zero byte next to "<"); else UTF-8."""
    if start[:2] == b"\xff\xfe" or start[1:2] == b"\x00":
        return "utf-16-le"
    if start[:2] == b"\xfe\xff" or start[:1] == b"\x00":
        return "utf-16-be"
    return "utf-8"


def zip_kind(small: dict[str, bytes], by_name: dict) -> str:
    mimetype = small.get("mimetype", b"").strip()
    if mimetype == ODS_MIMETYPE:
        return "ods"
    if mimetype.startswith(b"application/vnd.oasis.opendocument.text"):
        raise Rejected("not_a_spreadsheet", kind="odt")
    if "xl/workbook.xml" in by_name:
        return "xlsx"
    if "word/document.xml" in by_name:
        raise Rejected("not_a_spreadsheet", kind="docx")
    if "ppt/presentation.xml" in by_name:
        raise Rejected("not_a_spreadsheet", kind="pptx")
    raise Rejected("not_a_spreadsheet", kind="zip")


def xlsx_sheet_parts(small: dict[str, bytes]) -> dict[str, str]:
    """{part: sheet name}, resolved from workbook.xml and its relationships as calamine does.
    Both were checked for DTDs above, so ElementTree parses plain XML. Empty when unclear:
    then a far reference anywhere refuses the file."""
    try:
        workbook = ElementTree.fromstring(small.get("xl/workbook.xml", b""))
        rels = ElementTree.fromstring(small.get("xl/_rels/workbook.xml.rels", b""))
    except ElementTree.ParseError:
        return {}
    targets = {rel.get("Id"): rel.get("Target", "") for rel in rels}
    parts = {}
    for sheet in workbook.iter():
        if not sheet.tag.endswith("}sheet"):
            continue
        rid = next((v for k, v in sheet.attrib.items() if k.endswith("}id")), None)
        target = targets.get(rid, "")
        part = target[1:] if target.startswith("/") else "xl/" + target
        parts[part] = sheet.get("name", "")
    return parts


# --- grids too large to build ------------------------------------------------------------------


def far_reference(content: bytes, opts: dict) -> tuple | None:
    """("stray_cell" or "too_many_rows", params) when the sheet refers to a cell whose row or
    column number has more digits or letters than the limits: calamine builds one dense grid
    from A1 to the last cell, so XFD1048576 alone asks for 17 billion cells and aborts.

    Matching only such references keeps the scan of a normal sheet one pass of the regex
    engine. It knows the form spreadsheet programs write (` r="B12"`, any case, leading
    zeros); a hand-made variant that slips past is still stopped by the memory limit. Cells
    between the limit and the next digit or letter are caught after parsing (convert).
    """
    letters = len(column_letters(opts["max_columns"] - 1))
    digits = len(str(opts["max_rows"]))
    pattern = re.compile(
        rb' r="(?:[A-Za-z]{%d}|[A-Za-z]{0,%d}+0*+[1-9][0-9]{%d})' % (letters + 1, letters, digits)
    )
    match = pattern.search(content)
    if not match:
        return None
    ref_letters, ref_digits = REF_RE.match(content, match.start() + 4).groups()
    row = int(ref_digits or b"0")
    rows_before = len(ROW_START_RE.findall(content, 0, match.start()))
    if len(ref_letters) <= letters and row <= 2 * rows_before:
        # Every row up to here is present: the sheet is simply long.
        return ("too_many_rows", {"count": len(ROW_START_RE.findall(content))})
    if not ref_letters:
        # A <row r="..."> element: name its first cell when it has one.
        cell = re.compile(rb'<c\b[^>]*? r="([A-Za-z]{1,3})0*%d"' % row)
        found = cell.search(content, match.end(), match.end() + 512)
        ref_letters = found.group(1) if found else b""
    return ("stray_cell", {"ref": f"{ref_letters.decode().upper()[:8]}{row}"})


def ods_far_repeat(content: bytes, opts: dict) -> None:
    """Refuse repeats in ODS content.xml that would make calamine build a huge grid.

    LibreOffice writes huge repeats for the empty rest of a sheet, which calamine skips while
    they stay trailing. So a huge repeat is refused only when the repeated cell has a value, or
    a value follows it in the same row (cell repeat) or in the same table (row repeat). Every
    table counts: calamine parses all sheets of an ODS file when it opens it.
    """
    limits = {b"rows": opts["max_rows"], b"columns": opts["max_columns"]}
    for match in ODS_REPEAT_RE.finditer(content):
        kind, digits = match.groups()
        count = int(digits[:20])
        if count <= limits[kind]:
            continue
        start, scope_end = match.start(), b"</table:table>"
        if kind == b"columns":
            start = content.rfind(b"<", 0, match.start())
            if not content.startswith(ODS_CELL_TAGS, start):
                continue  # <table:table-column>: a column style, never a cell
            scope_end = b"</table:table-row>"
        end = content.find(scope_end, start)
        if ODS_VALUE_RE.search(content, start, len(content) if end == -1 else end):
            raise Rejected("stray_cell", ref=None, repeat=count)


# --- parsing ----------------------------------------------------------------------------------


def read(data: bytes, opts: dict) -> tuple:
    kind, far = check_zip(data, opts) if opts["kind"] == "zip" else ("xls", {})
    try:
        workbook = CalamineWorkbook.from_filelike(io.BytesIO(data))
        names = [m.name for m in workbook.sheets_metadata if m.typ == SheetTypeEnum.WorkSheet]
        sheet = sheet_to_read(names, far, opts.get("sheet"))
        # Only the first rows of the other sheets become Python objects: the header is there.
        heads = {
            name: plain(workbook.get_sheet_by_name(name).to_python(nrows=opts["head_rows"]))
            for name in names
            if name != sheet and name not in far
        }
        rows = workbook.get_sheet_by_name(sheet).to_python(skip_empty_area=False)
    except PasswordError as exc:
        raise Rejected("encrypted") from exc
    except ZipError as exc:
        raise Rejected("truncated") from exc
    except CalamineError as exc:
        raise Rejected("unreadable", detail=str(exc)[:300]) from exc
    return ("ok", kind, names, heads, sheet, *convert(rows, opts))


def sheet_to_read(names: list[str], far: dict, wanted: str | None) -> str:
    if not names:
        raise Rejected("empty")
    if wanted in names:
        sheet = wanted
    else:
        sheet = next((name for name in names if name not in far), names[0])
    if sheet in far:
        code, params = far[sheet]
        raise Rejected(code, **params)
    return sheet


def plain(rows: list[list]) -> list[list]:
    """Rows that marshal can carry, for finding a header: text and numbers, else None."""
    simple = (str, float, bool, int)
    return [[v if type(v) in simple and v != "" else None for v in row] for row in rows]


def convert(rows: list[list], opts: dict) -> tuple[list, list]:
    """Check the grid against the limits and make it marshal-able ("" → None, dates apart)."""
    while rows and rows[-1].count("") == len(rows[-1]):
        rows.pop()
    check_extent(rows, opts["max_rows"], opts["max_columns"])
    max_chars = opts["max_cell_chars"]
    dates = []
    simple = (str, float, bool, int)
    for index, row in enumerate(rows):
        for column, value in enumerate(row):
            kind = type(value)
            if kind is str:
                if not value:
                    row[column] = None
                elif len(value) > max_chars:
                    raise Rejected("cell_too_long", row=index + 1, column=column, length=len(value))
            elif kind not in simple:
                dates.append((index, column, date_tuple(value)))
                row[column] = None
    return rows, dates


def check_extent(rows: list[list], max_rows: int, max_columns: int) -> None:
    if rows and len(rows[0]) > max_columns:
        for index, row in enumerate(rows):
            for column in range(max_columns, len(row)):
                if row[column] != "":
                    raise Rejected("stray_cell", ref=column_letters(column) + str(index + 1))
    if len(rows) > max_rows:
        filled = sum(1 for row in rows if row.count("") != len(row))
        if filled > max_rows:
            raise Rejected("too_many_rows", count=filled)
        # Few rows, spread far: a lonely cell far below the table.
        column = max(i for i, value in enumerate(rows[-1]) if value != "")
        raise Rejected("stray_cell", ref=column_letters(column) + str(len(rows)))


def date_tuple(value) -> tuple:
    if isinstance(value, datetime.datetime):
        return ("datetime", *value.timetuple()[:6], value.microsecond)
    if isinstance(value, datetime.date):
        return ("date", value.year, value.month, value.day)
    if isinstance(value, datetime.time):
        return ("time", value.hour, value.minute, value.second, value.microsecond)
    if isinstance(value, datetime.timedelta):
        return ("timedelta", value.days, value.seconds, value.microseconds)
    return ("text", str(value))


def limit_resources(memory_bytes: int, cpu_seconds: int) -> None:
    resource.setrlimit(resource.RLIMIT_AS, (memory_bytes, memory_bytes))
    resource.setrlimit(resource.RLIMIT_CPU, (cpu_seconds, cpu_seconds))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))  # an abort must not write a core file
    resource.setrlimit(resource.RLIMIT_FSIZE, (0, 0))  # the reader never writes files


def main() -> int:
    # The limits hold before the first byte of the upload is read.
    limit_resources(int(sys.argv[1]), int(sys.argv[2]))
    # A short-lived process that builds half a million objects: cyclic garbage collection
    # would only walk them again and again (it doubled the time of a 50,000-row read).
    gc.disable()
    payload = sys.stdin.buffer.read()
    (length,) = struct.unpack(">I", payload[:4])
    opts = marshal.loads(payload[4 : 4 + length])
    data = payload[4 + length :]
    del payload
    try:
        result = read(data, opts)
    except Rejected as exc:
        result = ("error", exc.code, exc.params)
    sys.stdout.buffer.write(marshal.dumps(result))
    sys.stdout.buffer.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
