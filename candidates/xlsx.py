"""Every spreadsheet the product writes goes through here, so no cell ever holds a formula.

A value from a college's file such as '=HYPERLINK(...)' or '+31 6…' would run as a formula in
Excel or LibreOffice (CSV/formula injection). Every str is written with XlsxWriter's
`write_string` (never `write`, which turns a leading '=' into a formula), the workbook's
string-to-formula/number/URL conversions are off as a second guard, and a text that starts
like a formula also gets Excel's quote prefix, so editing the cell keeps it text.

XlsxWriter, not openpyxl: it writes the 10,000-row import report with about 2.5 times less CPU
(docs/performance.md). `in_memory`: the report holds passwords, so no temporary file may
hold a cell (XlsxWriter's `constant_memory` mode would write the rows to a temporary file).
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Sequence
from datetime import date, datetime

import xlsxwriter

DANGEROUS_PREFIXES = ("=", "+", "-", "@", "\t", "\r")

WORKBOOK_OPTIONS = {
    "in_memory": True,
    "strings_to_formulas": False,
    "strings_to_numbers": False,
    "strings_to_urls": False,
    "nan_inf_to_errors": True,
}


class _Writer:
    def __init__(self, workbook: xlsxwriter.Workbook) -> None:
        self.bold = workbook.add_format({"bold": True})
        self.quoted = workbook.add_format({"quote_prefix": True})
        self.quoted_bold = workbook.add_format({"bold": True, "quote_prefix": True})
        self.dates = workbook.add_format({"num_format": "yyyy-mm-dd"})
        self.datetimes = workbook.add_format({"num_format": "yyyy-mm-dd hh:mm:ss"})

    def row(self, ws, index: int, values: Sequence[object], *, header: bool = False) -> None:
        for column, value in enumerate(values):
            if value is None or value == "":
                continue  # an empty cell, as openpyxl wrote it
            if isinstance(value, bool):
                ws.write_boolean(index, column, value)
            elif isinstance(value, int | float):
                ws.write_number(index, column, value)
            elif isinstance(value, datetime):
                ws.write_datetime(index, column, value.replace(tzinfo=None), self.datetimes)
            elif isinstance(value, date):
                ws.write_datetime(index, column, value, self.dates)
            else:
                self.text(ws, index, column, str(value), header)

    def text(self, ws, index: int, column: int, text: str, header: bool) -> None:
        if text.startswith(DANGEROUS_PREFIXES):
            ws.write_string(index, column, text, self.quoted_bold if header else self.quoted)
        else:
            ws.write_string(index, column, text, self.bold if header else None)


def write_workbook(
    sheets: Iterable[tuple[str, Sequence[str], Iterable[Sequence[object]]]],
) -> bytes:
    """Write (title, headers, rows) sheets to .xlsx bytes. All strings stay strings."""
    out = io.BytesIO()
    workbook = xlsxwriter.Workbook(out, WORKBOOK_OPTIONS)
    writer = _Writer(workbook)
    for title, headers, rows in sheets:
        ws = workbook.add_worksheet(title[:31])
        writer.row(ws, 0, [str(h) for h in headers], header=True)
        for index, row in enumerate(rows, start=1):
            writer.row(ws, index, row)
    workbook.close()
    return out.getvalue()
