"""Build import files in memory and run the import services, for the import tests."""

from __future__ import annotations

import io
from datetime import date

from openpyxl import Workbook

from imports import services
from imports.models import ImportBatch

HEADERS = [
    "Kandidaatnummer",
    "Voornaam",
    "Tussenvoegsel",
    "Achternaam",
    "E-mailadres",
    "Geboortedatum",
]


def xlsx_bytes(rows: list[list], headers: list[str] = HEADERS, title: str | None = None) -> bytes:
    wb = Workbook()
    ws = wb.active
    ws.title = "Kandidaten"
    if title:
        ws.append([title])
    ws.append(headers)
    for row in rows:
        ws.append(row)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def csv_bytes(
    rows: list[list],
    headers: list[str] = HEADERS,
    *,
    delimiter: str = ";",
    encoding: str = "cp1252",
    newline: str = "\r\n",
) -> bytes:
    lines = [delimiter.join(headers)]
    for row in rows:
        lines.append(delimiter.join("" if v is None else str(v) for v in row))
    return (newline.join(lines) + newline).encode(encoding)


def people(n: int, start: int = 1, domain: str = "leerling.example") -> list[list]:
    return [
        [
            f"{i:07d}",
            f"Voornaam{i}",
            "van der" if i % 3 == 0 else "",
            f"Achternaam{i}",
            f"k{i}@{domain}",
            date(2007, 1, 1 + i % 28),
        ]
        for i in range(start, start + n)
    ]


def make_batch(actor, data: bytes, name: str = "kandidaten.xlsx", **options) -> ImportBatch:
    batch = services.batch_create_from_upload(actor=actor, file_name=name, data=data)
    if options:
        services.batch_set_options(batch=batch, **options)
    return batch


def run_import(actor, data: bytes, name: str = "kandidaten.xlsx", **options) -> ImportBatch:
    """Queue and execute synchronously (what the worker does), returning the finished batch."""
    batch = make_batch(actor, data, name, **options)
    ImportBatch.objects.filter(pk=batch.pk).update(status=ImportBatch.Status.QUEUED)
    return services.import_execute(batch.pk)
