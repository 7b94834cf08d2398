"""Every spreadsheet the product writes goes through here, so no cell ever holds a formula.

A value from a college's file such as '=HYPERLINK(...)' or '+31 6…' would run as a formula in
Excel or LibreOffice (CSV/formula injection). openpyxl's write-only mode stores a str that starts
with '=' as a formula, so such values are written as explicit inline-string cells.
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Sequence
from datetime import date, datetime

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font

DANGEROUS_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def _cell(ws, value):
    if value is None or isinstance(value, bool | int | float | date | datetime):
        return value
    text = str(value)
    cell = WriteOnlyCell(ws, value=text)
    # Force the string type: openpyxl would otherwise treat a leading '=' as a formula.
    cell.data_type = "s"
    if text.startswith(DANGEROUS_PREFIXES):
        cell.quotePrefix = True
    return cell


def write_workbook(
    sheets: Iterable[tuple[str, Sequence[str], Iterable[Sequence[object]]]],
) -> bytes:
    """Write (title, headers, rows) sheets to .xlsx bytes. All strings stay strings."""
    wb = Workbook(write_only=True)
    for title, headers, rows in sheets:
        ws = wb.create_sheet(title=title[:31])
        header_cells = [_cell(ws, str(header)) for header in headers]
        for c in header_cells:
            c.font = Font(bold=True)
        ws.append(header_cells)
        for row in rows:
            ws.append([_cell(ws, v) for v in row])
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()
