"""'Download voorbeeld-bestand': an .xlsx made by the app, recognised without any mapping."""

from __future__ import annotations

import io
from datetime import date

from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.styles import Font, PatternFill

from .fields import FIELDS

EXAMPLE: dict[str, str | date] = {
    "candidate_number": "0012345",
    "first_name": "Jan",
    "surname_prefix": "van der",
    "last_name": "Berg",
    "email": "jan.vanderberg@leerling.example.nl",
    "birth_date": date(2008, 3, 14),
    "group": "Verpleegkunde 2026",
    "username": "",
    "password": "",
}
# Columns a college fills in by default; username and password are for special cases and
# are explained on the second sheet.
COLUMNS = (
    "candidate_number",
    "first_name",
    "surname_prefix",
    "last_name",
    "email",
    "birth_date",
    "group",
    "username",
    "password",
)


def example_workbook() -> bytes:
    wb = Workbook()
    ws = wb.worksheets[0]  # a new workbook has one sheet, a worksheet
    ws.title = "Kandidaten"
    by_name = {f.name: f for f in FIELDS}
    required_fill = PatternFill("solid", fgColor="FFF2CC")
    for col, name in enumerate(COLUMNS, start=1):
        field = by_name[name]
        header = ws.cell(
            row=1, column=col, value=f"{field.label} *" if field.required else str(field.label)
        )
        header.font = Font(bold=True)
        if field.required:
            header.fill = required_fill
        cell = ws.cell(row=2, column=col, value=EXAMPLE[name] or None)
        letter = header.column_letter
        ws.column_dimensions[letter].width = 24
        if name == "candidate_number":
            # Text format for the whole column, so Excel keeps leading zeros when typing.
            for row in range(2, 1001):
                ws.cell(row=row, column=col).number_format = "@"
        if name == "birth_date":
            for row in range(2, 1001):
                ws.cell(row=row, column=col).number_format = "DD-MM-YYYY"
        del cell
    ws.freeze_panes = "A2"

    info = wb.create_sheet("Toelichting")
    info.append([_("Kolom"), _("Verplicht"), _("Toelichting")])
    for c in info[1]:
        c.font = Font(bold=True)
    for name in COLUMNS:
        field = by_name[name]
        info.append([str(field.label), _("ja") if field.required else _("nee"), str(field.help)])
    info.append([])
    info.append(
        [
            _(
                "Kolommen met een * zijn verplicht. Laat de kopregel staan; de volgorde van "
                "de kolommen mag je veranderen."
            )
        ]
    )
    info.column_dimensions["A"].width = 20
    info.column_dimensions["B"].width = 10
    info.column_dimensions["C"].width = 80
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()
