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
    stdout: marshal'ed ("ok", kind, sheet_name, rows, dates) or ("error", code, params);
            kind is what the content turned out to be: "xlsx", "ods" or "xls".
            Marshal cannot carry dates, so date cells travel in `dates` as (row, column,
            tuple) and are None in `rows`; the parent puts them back.
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

from python_calamine import CalamineError, CalamineWorkbook, PasswordError, ZipError

ODS_MIMETYPE = b"application/vnd.oasis.opendocument.spreadsheet"
MAX_MEMBERS = 10_000
# A member is a bomb when it inflates more than RATIO_LIMIT times *and* to more than
# RATIO_MIN_BYTES: tiny, very repetitive parts (styles, empty sheets) compress extremely well.
RATIO_LIMIT = 200
RATIO_MIN_BYTES = 10 * 1024 * 1024
OUT_CHUNK = 1024 * 1024  # most bytes inflated at once
IN_CHUNK = 256 * 1024
# Bytes carried from one chunk to the next, so that a pattern cut by a chunk boundary is
# still seen whole. Larger than any pattern below, and than any sane ODS cell tag.
OVERLAP = 4096
# Members that are never parsed as XML; they are still inflated to check their real size.
BINARY_SUFFIXES = tuple(".bin .png .jpg .jpeg .gif .bmp .emf .wmf .tif .tiff .wdp".split())


# A DTD is the door to both entity expansion ("billion laughs") and external entities (XXE).
# No spreadsheet program writes one, so any DOCTYPE or ENTITY declaration is refused, in any
# case (quick-xml accepts <!doctype) and also in parts encoded as UTF-16. One pattern per
# encoding keeps the literal "<!" prefix that makes the scan fast.
def _declaration_pattern(encoding: str) -> re.Pattern:
    def char(c: str) -> bytes:
        variants = {c.upper(), c.lower()}
        encoded = [re.escape(v.encode(encoding)) for v in sorted(variants)]
        return encoded[0] if len(encoded) == 1 else b"(?:" + b"|".join(encoded) + b")"

    words = [b"".join(char(c) for c in word) for word in ("<!DOCTYPE", "<!ENTITY")]
    return re.compile(b"|".join(words))


DECLARATION_RE = {enc: _declaration_pattern(enc) for enc in ("utf-8", "utf-16-le", "utf-16-be")}


def _xml_encoding(start: bytes) -> str:
    """UTF-16 shows in the first two bytes (BOM or a zero byte next to "<"); else UTF-8."""
    if start[:2] == b"\xff\xfe" or start[1:2] == b"\x00":
        return "utf-16-le"
    if start[:2] == b"\xfe\xff" or start[:1] == b"\x00":
        return "utf-16-be"
    return "utf-8"


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


def check_zip(data: bytes, opts: dict) -> str:
    """Refuse bombs, lies, DTDs and stray cells before any parser sees the archive.

    Returns "ods" or "xlsx". Every member is inflated here by our own bounded loop (never by
    zipfile's reader, which trusts the declared size), so a member that inflates to more than
    it declares is caught after at most one chunk.
    """
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        infos = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, ValueError, OSError) as exc:
        raise Rejected("truncated") from exc
    if len(infos) > MAX_MEMBERS:
        raise Rejected("zip_bomb", reason="members", count=len(infos), limit=MAX_MEMBERS)
    declared = sum(info.file_size for info in infos)
    if declared > opts["max_uncompressed"]:
        raise Rejected("zip_bomb", reason="total", size=declared, limit=opts["max_uncompressed"])
    for info in infos:
        if info.flag_bits & 0x1:
            raise Rejected("encrypted")
        if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
            raise Rejected("unreadable", reason="compression", member=info.filename)
        if info.file_size > RATIO_MIN_BYTES and info.file_size > RATIO_LIMIT * max(
            info.compress_size, 1
        ):
            raise Rejected(
                "zip_bomb",
                reason="ratio",
                member=info.filename,
                size=info.file_size,
                ratio=info.file_size // max(info.compress_size, 1),
            )

    names = {info.filename for info in infos}
    kind = _zip_kind(data, infos, names)
    # The small parts that decide what to scan are read first.
    first = ("mimetype", "META-INF/manifest.xml", "xl/workbook.xml", "xl/_rels/workbook.xml.rels")
    infos.sort(key=lambda info: first.index(info.filename) if info.filename in first else 99)
    small: dict[str, bytes] = {}
    unresolved = object()
    first_sheet = unresolved
    budget = [opts["max_uncompressed"]]
    for info in infos:
        name = info.filename
        if first_sheet is unresolved and name not in first:
            first_sheet = _first_sheet_part(small, names) if kind == "xlsx" else None
        refs = None
        if kind == "xlsx" and (
            name == first_sheet or (first_sheet is None and name.startswith("xl/worksheets/"))
        ):
            refs = CellRefScan(opts["max_rows"], opts["max_columns"])
        elif kind == "ods" and name == "content.xml":
            refs = OdsRepeatScan(opts["max_rows"], opts["max_columns"])
        keep = name in first and info.file_size <= 1024 * 1024
        content = _scan_member(data, info, budget, refs, keep)
        if keep:
            small[name] = content
        if kind == "ods" and name == "META-INF/manifest.xml" and b"encryption-data" in content:
            # LibreOffice keeps the zip readable and encrypts the parts inside it.
            raise Rejected("encrypted")
    return kind


def _zip_kind(data: bytes, infos: list, names: set) -> str:
    if "mimetype" in names:
        info = next(i for i in infos if i.filename == "mimetype")
        if info.file_size <= 200:
            mimetype = _scan_member(data, info, [200], None, True).strip()
            if mimetype == ODS_MIMETYPE:
                return "ods"
            if mimetype.startswith(b"application/vnd.oasis.opendocument.text"):
                raise Rejected("not_a_spreadsheet", kind="odt")
    if "xl/workbook.xml" in names:
        return "xlsx"
    if "word/document.xml" in names:
        raise Rejected("not_a_spreadsheet", kind="docx")
    if "ppt/presentation.xml" in names:
        raise Rejected("not_a_spreadsheet", kind="pptx")
    raise Rejected("not_a_spreadsheet", kind="zip")


def _first_sheet_part(small: dict[str, bytes], names: set) -> str | None:
    """The part calamine reads as sheet 0: the first <sheet> of workbook.xml, via its r:id,
    resolved as calamine does. None when that cannot be worked out: then every worksheet is
    scanned (the safe side)."""
    workbook = small.get("xl/workbook.xml", b"")
    rels = small.get("xl/_rels/workbook.xml.rels", b"")
    sheet = re.search(rb"<(?:\w+:)?sheet\s[^>]*>", workbook)
    rid = sheet and re.search(rb"\s(?:r|relationships):id\s*=\s*[\"']([^\"']+)", sheet.group(0))
    if not rid:
        return None
    for rel in re.finditer(rb"<(?:\w+:)?Relationship\s[^>]*>", rels):
        if re.search(rb"\sId\s*=\s*[\"']" + re.escape(rid.group(1)) + rb"[\"']", rel.group(0)):
            target = re.search(rb"\sTarget\s*=\s*[\"']([^\"']+)", rel.group(0))
            if not target:
                return None
            path = target.group(1).decode("utf-8", "replace")
            if path.startswith("/xl/"):
                path = path[1:]
            elif not path.startswith("xl/"):
                path = "xl/" + path
            return path if path in names else None
    return None


def _scan_member(data: bytes, info, budget: list[int], refs, keep: bool) -> bytes:
    """Inflate one member in bounded chunks: real size, CRC, DTDs and (optionally) cells."""
    offset = info.header_offset
    header = data[offset : offset + 30]
    if len(header) < 30 or header[:4] != b"PK\x03\x04":
        raise Rejected("truncated")
    name_length, extra_length = struct.unpack("<HH", header[26:30])
    start = offset + 30 + name_length + extra_length
    end = start + info.compress_size
    if end > len(data):
        raise Rejected("truncated")
    scan_xml = not info.filename.lower().endswith(BINARY_SUFFIXES)
    declaration = None
    size = crc = 0
    tail = b""
    kept = []
    for piece in _inflate(memoryview(data)[start:end], info.compress_type):
        size += len(piece)
        budget[0] -= len(piece)
        if size > info.file_size:
            raise Rejected("zip_bomb", reason="lying", member=info.filename)
        if budget[0] < 0:
            raise Rejected("zip_bomb", reason="total", size=None, limit=None)
        crc = zlib.crc32(piece, crc)
        if keep:
            kept.append(piece)
        if scan_xml:
            if declaration is None:
                declaration = DECLARATION_RE[_xml_encoding(piece)]
            buffer = tail + piece
            if declaration.search(buffer, max(0, len(tail) - 32)):
                raise Rejected("xml_entities", member=info.filename)
            if refs is not None:
                refs.feed(buffer, len(tail))
            tail = buffer[-OVERLAP:]
    if size != info.file_size or crc != info.CRC:
        raise Rejected("truncated")
    return b"".join(kept)


def _inflate(raw: memoryview, method: int):
    if method == zipfile.ZIP_STORED:
        for index in range(0, len(raw), OUT_CHUNK):
            yield bytes(raw[index : index + OUT_CHUNK])
        return
    inflater = zlib.decompressobj(-15)
    try:
        for index in range(0, len(raw), IN_CHUNK):
            piece = inflater.decompress(raw[index : index + IN_CHUNK], OUT_CHUNK)
            while piece:
                yield piece
                # Whatever did not fit in OUT_CHUNK waits in unconsumed_tail (or inside zlib).
                piece = inflater.decompress(inflater.unconsumed_tail, OUT_CHUNK)
            if inflater.eof:
                return
    except zlib.error as exc:
        raise Rejected("truncated") from exc
    if not inflater.eof:
        raise Rejected("truncated")


# --- stray cells ------------------------------------------------------------------------------


def _alternatives_above(value: str, cls) -> list[bytes]:
    """Regex alternatives for strings as long as `value` that sort after it."""
    result = []
    for index, char in enumerate(value):
        higher = cls(char)
        if higher:
            prefix = b"".join(cls(c, exact=True) for c in value[:index])
            rest = len(value) - index - 1
            result.append(prefix + higher + (cls("", any_char=True) * rest))
    return result


def _letter_class(char: str, exact: bool = False, any_char: bool = False) -> bytes:
    if any_char:
        return b"[A-Za-z]"
    if exact:
        return f"[{char}{char.lower()}]".encode()
    if char == "Z":
        return b""
    up = chr(ord(char) + 1)
    return f"[{up}-Z{up.lower()}-z]".encode()


def _digit_class(char: str, exact: bool = False, any_char: bool = False) -> bytes:
    if any_char:
        return b"[0-9]"
    if exact:
        return char.encode()
    if char == "9":
        return b""
    return f"[{int(char) + 1}-9]".encode()


class CellRefScan:
    """Finds cell references far outside the allowed area in a worksheet's XML.

    calamine builds one dense grid from the top-left to the bottom-right cell, so a single
    cell at XFD1048576 asks for 17 billion cells and aborts the process. The regex matches
    only *bad* references (it is built from the limits), so a normal sheet costs one fast
    scan. It knows the form spreadsheet programs write (` r="B12"`, in any case, with leading
    zeros); a hand-made variant that slips past is still stopped by the memory limit.
    """

    def __init__(self, max_rows: int, max_columns: int):
        last_column = column_letters(max_columns - 1)
        bad_column = [b"[A-Za-z]{%d}" % (len(last_column) + 1)]
        bad_column += [
            a + b"0{0,32}+[0-9]" for a in _alternatives_above(last_column, _letter_class)
        ]
        last_row = str(max_rows)
        bad_row = [b"[1-9][0-9]{%d}" % len(last_row)]
        bad_row += [a + b"(?![0-9])" for a in _alternatives_above(last_row, _digit_class)]
        # The leading space keeps attributes that merely end in "r" (operator="between") out;
        # possessive quantifiers keep the ~10 tries per ordinary reference cheap.
        self.pattern = re.compile(
            b' r="(?:'
            + b"|".join(bad_column)
            + b"|[A-Za-z]{0,3}+(?:0{32}|0{0,32}+(?:"
            + b"|".join(bad_row)
            + b")))"
        )
        self.max_rows = max_rows
        self.max_columns = max_columns
        self.rows_before = 0  # <row elements in earlier chunks

    def feed(self, buffer: bytes, new_from: int) -> None:
        counted_to = max(0, new_from - 3)  # a "<row" cut by the chunk boundary counts now
        rows = self.rows_before
        for match in self.pattern.finditer(buffer, max(0, new_from - 128)):
            if match.end() <= new_from:
                continue  # seen whole in the previous chunk
            if match.start() > counted_to:
                rows += buffer.count(b"<row", counted_to, match.start())
                counted_to = match.start()
            letters, digits = REF_RE.match(buffer, match.start() + 4).groups()
            letters, row = letters.decode().upper(), int(digits or b"0")
            far_column = len(letters) > 3 or _column_number(letters) > self.max_columns
            if not far_column and self.max_rows < row <= 2 * rows:
                # Every row up to here is present: the sheet is simply long. The child counts
                # its rows after parsing and says so ("too_many_rows").
                continue
            if not letters:
                # A <row r="..."> element: name its first cell when it has one.
                cell = re.compile(rb'<c\b[^>]*? r="([A-Za-z]{1,3})0*%d"' % row)
                found = cell.search(buffer, match.end(), match.end() + 512)
                letters = found.group(1).decode().upper() if found else ""
            raise Rejected("stray_cell", ref=f"{letters[:8]}{row}", row=row)
        self.rows_before = rows + buffer.count(b"<row", counted_to)


REF_RE = re.compile(rb"([A-Za-z]{0,16})0*([0-9]{0,16})")


def _column_number(letters: str) -> int:
    number = 0
    for char in letters:
        number = number * 26 + ord(char) - 64
    return number


class OdsRepeatScan:
    """Finds repeats in ODS content.xml that would make calamine build a huge grid.

    ODS compresses runs with table:number-rows-repeated / number-columns-repeated. LibreOffice
    writes huge repeats for the empty rest of a sheet, which calamine skips while they stay
    trailing. So a huge repeat is refused only when the repeated cell has a value, or a value
    follows it in the same row (cell repeat) or in the same table (row repeat). Every table is
    scanned: calamine parses all sheets of an ODS file, not just the first.
    """

    BIG = re.compile(rb'table:number-(rows|columns)-repeated\s*=\s*["\']0*([1-9][0-9]*)')
    VALUE = re.compile(
        rb"office:(?:value|value-type|string-value|date-value|time-value|boolean-value)\s*="
        rb"|table:formula\s*="
    )
    CELL_TAGS = (b"<table:table-cell", b"<table:covered-table-cell")

    def __init__(self, max_rows: int, max_columns: int):
        self.limits = {b"rows": max_rows, b"columns": max_columns}
        self.base = 0  # absolute offset of the current buffer
        self.pending = None  # (end of scope, absolute start of scope, repeat count)

    def feed(self, buffer: bytes, new_from: int) -> None:
        position = max(0, new_from - 128)
        while True:
            if self.pending:
                end_marker, scope_start, count = self.pending
                start = max(scope_start - self.base, position)
                value = self.VALUE.search(buffer, start)
                end = buffer.find(end_marker, start)
                if value and (end == -1 or value.start() < end):
                    raise Rejected("stray_cell", ref=None, repeat=count)
                if end == -1:
                    break  # the scope goes on in the next chunk
                self.pending = None
                position = end + len(end_marker)
                continue
            match = self.BIG.search(buffer, position)
            while match and match.end() <= new_from:
                match = self.BIG.search(buffer, match.end())
            if not match:
                break
            kind, digits = match.groups()
            count = int(digits[:20])
            position = match.end()
            if count <= self.limits[kind]:
                continue
            if kind == b"columns":
                tag_start = buffer.rfind(b"<", 0, match.start())
                if tag_start != -1 and not buffer.startswith(self.CELL_TAGS, tag_start):
                    continue  # <table:table-column>: a column style, never a cell
                # The scope starts at the tag itself: the repeated cell's own value counts.
                position = max(tag_start, 0)
                self.pending = (b"</table:table-row>", self.base + position, count)
            else:
                self.pending = (b"</table:table>", self.base + match.start(), count)
        self.base += len(buffer) - min(len(buffer), OVERLAP)


# --- parsing ----------------------------------------------------------------------------------


def read(data: bytes, opts: dict):
    kind = check_zip(data, opts) if opts["kind"] == "zip" else "xls"
    try:
        workbook = CalamineWorkbook.from_filelike(io.BytesIO(data))
        if not workbook.sheet_names:
            raise Rejected("empty", sheet="")
        sheet_name = workbook.sheet_names[0]
        sheet = workbook.get_sheet_by_index(0)
        rows = sheet.to_python(skip_empty_area=False)
    except PasswordError as exc:
        raise Rejected("encrypted") from exc
    except ZipError as exc:
        raise Rejected("truncated") from exc
    except CalamineError as exc:
        raise Rejected("unreadable", reason="parser", detail=str(exc)[:300]) from exc
    return ("ok", kind, sheet_name, *convert(rows, opts))


def convert(rows: list[list], opts: dict) -> tuple[list, list]:
    """Check the grid against the limits and make it marshal-able ("" → None, dates apart)."""
    max_rows, max_columns, max_chars = opts["max_rows"], opts["max_columns"], opts["max_cell_chars"]
    while rows and rows[-1].count("") == len(rows[-1]):
        rows.pop()
    if rows and len(rows[0]) > max_columns:
        for index, row in enumerate(rows):
            for column in range(max_columns, len(row)):
                if row[column] != "":
                    ref = column_letters(column) + str(index + 1)
                    raise Rejected("stray_cell", ref=ref, row=index + 1)
    if len(rows) > max_rows:
        filled = [index for index, row in enumerate(rows) if row.count("") != len(row)]
        if len(filled) > max_rows:
            raise Rejected("too_many_rows", count=len(filled))
        # Few rows, spread far: a lonely cell far below the table.
        last = rows[-1]
        column = max(i for i, value in enumerate(last) if value != "")
        raise Rejected("stray_cell", ref=column_letters(column) + str(len(rows)), row=len(rows))
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
                dates.append((index, column, _date_tuple(value)))
                row[column] = None
    return rows, dates


def _date_tuple(value) -> tuple:
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
