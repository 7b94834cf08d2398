"""Section 8: the floor. Reading the same files with python-calamine, openpyxl (read-only) and
the csv module alone, in this process, next to our reader (imports.reading.read_table: the
checks for hostile files plus calamine in a child process with memory and CPU limits)."""

from __future__ import annotations

import csv
import io

from ..datafiles import input_file
from ..measure import repeat


def calamine_rows(data: bytes) -> list:
    from python_calamine import CalamineWorkbook

    return CalamineWorkbook.from_filelike(io.BytesIO(data)).get_sheet_by_index(0).to_python()


def openpyxl_rows(data: bytes) -> list:
    from openpyxl import load_workbook

    workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    try:
        return [list(row) for row in workbook.worksheets[0].iter_rows(values_only=True)]
    finally:
        workbook.close()


def csv_rows(data: bytes) -> list:
    return list(csv.reader(io.StringIO(data.decode("cp1252"), newline=""), delimiter=";"))


def run(ctx) -> None:
    from imports.reading import read_table

    section = "8. floor: reading the bytes"
    for size in ctx.sizes:
        xlsx = input_file(size, "xlsx")
        data = xlsx.read_bytes()
        readers = {
            "python-calamine alone": lambda data=data: calamine_rows(data),
            "openpyxl read-only alone": lambda data=data: openpyxl_rows(data),
            "ours: read_table (checks + calamine in child)": (
                lambda data=data, name=xlsx.name: read_table(data, name)
            ),
        }
        medians = {}
        for name, reader in readers.items():
            timing = repeat(reader, ctx.runs)
            rows = timing.last.rows if hasattr(timing.last, "rows") else timing.last
            if len(rows) != size + 1:
                raise RuntimeError(f"{name} read {len(rows)} rows of {xlsx.name}")
            key = name.split(":")[0].split()[0].lower()
            medians[key] = ctx.add(
                section,
                f"floor.xlsx.{key}.{size}",
                f"{size:,} rows .xlsx: {name}",
                "s",
                samples=timing.samples,
            ).median
        ctx.add(
            section,
            f"floor.xlsx.ratio.{size}",
            f"{size:,} rows .xlsx: ours / calamine alone",
            "×",
            value=medians["ours"] / medians["python-calamine"],
        )
        text = input_file(size, "csv")
        data_csv = text.read_bytes()
        for name, reader in {
            "csv module alone": lambda data=data_csv: csv_rows(data),
            "ours: read_table": lambda data=data_csv, name=text.name: read_table(data, name),
        }.items():
            timing = repeat(reader, ctx.runs)
            rows = timing.last.rows if hasattr(timing.last, "rows") else timing.last
            if len(rows) != size + 1:
                raise RuntimeError(f"{name} read {len(rows)} rows of {text.name}")
            key = name.split(":")[0].split()[0].lower()
            ctx.add(
                section,
                f"floor.csv.{key}.{size}",
                f"{size:,} rows .csv: {name}",
                "s",
                samples=timing.samples,
            )
