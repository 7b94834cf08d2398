"""Hostile and broken input, at the two doors a file comes in by: the wizard's upload step
and `manage.py import_candidates`, and then in a real worker.

For every file: the wizard shows a Dutch sentence saying what is wrong, the command exits 2
with that sentence as its only output line, no traceback reaches anyone, nothing is written,
and the process that read it (web, command, worker) lives on with bounded memory. The files
are built here, with the builders of the reader's own tests (tests/test_reading_hostile_files.py).
Every spreadsheet the product writes back (error file, report, export) holds no formula.
"""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import pytest
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.urls import reverse
from openpyxl import load_workbook

from accounts.models import AuditLog, User
from accounts.secrets import seal
from candidates.models import Candidate
from candidates.xlsx import write_workbook
from imports import services
from imports.models import ImportBatch, ImportFile

from .helpers.imports import HEADERS, csv_bytes, people
from .helpers.imports import xlsx_bytes as candidates_xlsx
from .helpers.services import process_running
from .helpers.workers import page_text, wait_for_status
from .test_reading import (
    SHEET,
    inline_rows,
    read_part,
    replace_parts,
    sheet_xml,
    xlsx_with_sheet,
)
from .test_reading_hostile_files import (
    BILLION_LAUGHS,
    MB,
    RSS_GROWTH_LIMIT_KB,
    XXE,
    bomb_sheet,
    peak_rss_kb,
    workbook_around,
)

SAFETY = "Zo'n bestand wordt om veiligheidsredenen niet gelezen"
ENTITIES = (
    "Het bestand bevat in onderdeel ‘xl/sharedStrings.xml’ een DOCTYPE- of ENTITY-declaratie. "
    "Die worden om veiligheidsredenen niet geaccepteerd. Sla het bestand opnieuw op in Excel of "
    "LibreOffice en probeer het opnieuw."
)


@dataclass
class Hostile:
    name: str
    build: Callable[[], bytes]
    message: str  # what the wizard and the command say
    upload_message: str | None = None  # when the upload form says it before the reader does
    upload_status: int = 200  # the upload step again, with the message

    @cached_property
    def data(self) -> bytes:  # built when a test needs it, not when the module is collected
        return self.build()


def shared_strings(xml: bytes) -> bytes:
    sheet = sheet_xml('<row r="1"><c r="A1" t="s"><v>0</v></c></row>')
    return replace_parts(xlsx_with_sheet(sheet), {"xl/sharedStrings.xml": xml})


def zip_bomb() -> bytes:
    stream, crc, size = bomb_sheet(400)  # 1.2 MB that inflates to 400 MB
    return workbook_around(SHEET, stream, crc, size)


def stray_cell() -> bytes:
    rows = inline_rows(3) + '<row r="1048576"><c r="XFD1048576"><v>1</v></c></row>'
    return xlsx_with_sheet(sheet_xml(rows, dimension="A1:XFD1048576"))


def stray_cell_past_the_scan() -> bytes:
    """Spaces around '=' hide it from our scan; calamine then aborts allocating the grid."""
    rows = inline_rows(3) + "<row><c r = 'XFD1048576'><v>1</v></c></row>"
    return xlsx_with_sheet(sheet_xml(rows))


def long_cell() -> bytes:
    cell = f'<c r="B2" t="inlineStr"><is><t>{"x" * 200_000}</t></is></c>'
    return xlsx_with_sheet(sheet_xml(inline_rows(1, columns=2) + f'<row r="2">{cell}</row>'))


def encrypted() -> bytes:
    # What Excel writes for a workbook with a password: a CFB container, "EncryptedPackage".
    return (
        b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
        + "EncryptedPackage".encode("utf-16-le")
        + bytes(range(256)) * 40
    )


def truncated() -> bytes:
    data = candidates_xlsx(people(200))
    return data[: len(data) // 2]


def csv_mixed_line_endings_with_nul() -> bytes:
    return (
        b"Kandidaatnummer;Voornaam;Achternaam\r\n"
        b"0000101;Eva;Ede\n"
        b"0000102;Daan;Berg\r"
        b"0000103;Noor\x00;Dam\r\n"
    )


HOSTILE = [
    Hostile(
        "zip-bomb.xlsx",
        zip_bomb,
        "Het bestand wordt uitgepakt meer dan 200 MB groot. "
        f"{SAFETY}; sla alleen de tabel op in een nieuw bestand.",
    ),
    Hostile("billion-laughs.xlsx", lambda: shared_strings(BILLION_LAUGHS), ENTITIES),
    Hostile("xxe.xlsx", lambda: shared_strings(XXE), ENTITIES),
    Hostile(
        "stray-cell.xlsx",
        stray_cell,
        "Cel XFD1048576 ligt ver buiten de gegevens. Verwijder lege opmaak of losse cellen "
        "buiten de tabel en probeer het opnieuw.",
    ),
    Hostile(
        "stray-cell-past-the-scan.xlsx",
        stray_cell_past_the_scan,
        "Het bestand kon niet worden gelezen: het is beschadigd, of te groot of te ingewikkeld "
        "om te verwerken. Sla het opnieuw op in Excel of LibreOffice (alleen de tabel) en "
        "probeer het opnieuw.",
    ),
    Hostile(
        "encrypted.xlsx",
        encrypted,
        "Het bestand is beveiligd met een wachtwoord. Sla het op zonder wachtwoord en probeer "
        "het opnieuw.",
    ),
    Hostile(
        "truncated.xlsx",
        truncated,
        "Het bestand is beschadigd of onvolledig (misschien is het uploaden onderbroken). Sla "
        "het opnieuw op en probeer het nog eens.",
    ),
    Hostile(
        "empty.xlsx",
        lambda: b"",
        "Het bestand ‘empty.xlsx’ is leeg (0 bytes).",
        upload_message="Het verstuurde bestand is leeg.",
    ),
    Hostile(
        "scan.xlsx",
        lambda: b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n",
        "‘scan.xlsx’ is een PDF-document, geen spreadsheet. Upload het oorspronkelijke Excel-, "
        "OpenDocument- of CSV-bestand.",
    ),
    Hostile(
        "sixty-megabytes.xlsx",
        lambda: b"PK\x03\x04" + b"\x00" * (60 * MB - 4),
        "Het bestand is 60 MB groot; het maximum is 10 MB.",
        upload_message="Het bestand is 60,0 MB; het maximum is 10 MB.",
        upload_status=413,  # refused from its Content-Length, before the body is read
    ),
    Hostile(
        "too-many-rows.xlsx",
        lambda: xlsx_with_sheet(sheet_xml(inline_rows(60_000))),
        "Het bestand bevat 60.000 rijen; het maximum is 50.000. Splits het bestand en "
        "importeer de delen na elkaar.",
    ),
    Hostile(
        "long-cell.xlsx",
        long_cell,
        "Rij 2, kolom B: de waarde is 200.000 tekens lang; het maximum is 1.000.",
    ),
    Hostile(
        "nul.csv",
        csv_mixed_line_endings_with_nul,
        "Regel 4 bevat een ongeldig teken (NUL). Het bestand is waarschijnlijk geen "
        "tekstbestand of is beschadigd; sla het opnieuw op als CSV en probeer het opnieuw.",
    ),
]
IDS = [h.name for h in HOSTILE]


def snapshot() -> tuple[int, ...]:
    return (
        ImportBatch.objects.count(),
        ImportFile.objects.count(),
        User.objects.count(),
        Candidate.objects.count(),
        AuditLog.objects.count(),
    )


# --- the wizard ---------------------------------------------------------------------------------


@pytest.mark.parametrize("hostile", HOSTILE, ids=IDS)
def test_wizard_refuses_with_a_dutch_message_and_writes_nothing(client, world, hostile):
    client.force_login(world.beheerder)
    before, rss = snapshot(), peak_rss_kb()

    response = client.post(
        reverse("imports:start"), {"file": SimpleUploadedFile(hostile.name, hostile.data)}
    )

    assert response.status_code == hostile.upload_status
    text = page_text(response)
    assert (hostile.upload_message or hostile.message) in text
    assert "Traceback" not in text and "Exception" not in text
    assert snapshot() == before
    assert peak_rss_kb() - rss < RSS_GROWTH_LIMIT_KB
    # The same process goes on serving: the next, good file is accepted.
    good = client.post(
        reverse("imports:start"),
        {"file": SimpleUploadedFile("goed.xlsx", candidates_xlsx(people(2, start=900)))},
    )
    assert good.status_code == 302


# --- the command --------------------------------------------------------------------------------


@pytest.mark.parametrize("hostile", HOSTILE, ids=IDS)
def test_command_exits_2_with_the_dutch_message_and_writes_nothing(
    tmp_path, capsys, world, hostile
):
    path = tmp_path / hostile.name
    path.write_bytes(hostile.data)
    before, rss = snapshot(), peak_rss_kb()

    with pytest.raises(SystemExit) as exit_info:
        call_command("import_candidates", str(path), "--as", "beheerder", "--group", "Zorg 1")

    out, err = capsys.readouterr()
    assert exit_info.value.code == 2
    assert (out, err) == ("", hostile.message + "\n")
    assert snapshot() == before
    assert peak_rss_kb() - rss < RSS_GROWTH_LIMIT_KB


# --- every row or none --------------------------------------------------------------------------


def lying_dimension() -> bytes:
    """500 candidates; the sheet's <dimension> claims A1:A1 (a hint some readers trust)."""
    data = candidates_xlsx(people(500, start=1000))
    sheet = read_part(data, SHEET)
    sheet, replaced = re.subn(rb'<dimension ref="[^"]+"\s*/>', b'<dimension ref="A1:A1"/>', sheet)
    assert replaced == 1
    return replace_parts(data, {SHEET: sheet})


def test_a_lying_dimension_still_imports_every_row_in_the_wizard(client, world):
    client.force_login(world.beheerder)

    response = client.post(
        reverse("imports:start"), {"file": SimpleUploadedFile("k.xlsx", lying_dimension())}
    )

    batch = ImportBatch.objects.get()
    assert response["Location"] == reverse("imports:mapping", args=[batch.pk])
    check = client.get(reverse("imports:check", args=[batch.pk])).content.decode()
    assert 'data-count="new">500<' in check


def test_a_lying_dimension_still_imports_every_row_by_command(tmp_path, capsys, world):
    path = tmp_path / "k.xlsx"
    path.write_bytes(lying_dimension())

    with pytest.raises(SystemExit) as exit_info:
        call_command("import_candidates", str(path), "--as", "beheerder", "--group", "Zorg 1")

    assert exit_info.value.code == 0
    numbers = [f"{i:07d}" for i in range(1000, 1500)]
    assert Candidate.objects.filter(candidate_number__in=numbers).count() == 500


def test_csv_with_mixed_line_endings_imports_every_row(tmp_path, capsys, world):
    data = csv_mixed_line_endings_with_nul().replace(b"\x00", b"")
    path = tmp_path / "k.csv"
    path.write_bytes(data)

    with pytest.raises(SystemExit) as exit_info:
        call_command("import_candidates", str(path), "--as", "beheerder", "--group", "Zorg 1")

    assert exit_info.value.code == 0
    names = Candidate.objects.filter(candidate_number__in=["0000101", "0000102", "0000103"])
    assert sorted(names.values_list("user__first_name", flat=True)) == ["Daan", "Eva", "Noor"]


# --- in a worker ----------------------------------------------------------------------------------


def vm_peak_kb(pid: int) -> int:
    """Peak resident memory (VmHWM) of a running process, in kB."""
    status = Path(f"/proc/{pid}/status").read_text()
    return int(re.search(r"^VmHWM:\s+(\d+) kB", status, re.M).group(1))


def hostile_batch(actor, hostile: Hostile) -> ImportBatch:
    """A batch whose stored upload is hostile, as if the upload check had been fooled (or the
    file changed since): the worker must still refuse it, and survive."""
    batch = ImportBatch.objects.create(
        organisation=actor.organisation,
        created_by=actor,
        file_name=hostile.name,
        file_format="xlsx",
        headers=HEADERS,
        mapping={"0": "candidate_number", "1": "first_name", "3": "last_name"},
        options={"group_id": None, "report_email": ""},
    )
    # Sealed, as batch_create_from_upload stores every upload.
    ImportFile.objects.create(
        batch=batch, data=seal(hostile.data), size=len(hostile.data), sha256="-"
    )
    return batch


WORKER_CASES = ["zip-bomb.xlsx", "billion-laughs.xlsx", "stray-cell.xlsx"]
WORKER_CASES += ["stray-cell-past-the-scan.xlsx", "too-many-rows.xlsx", "long-cell.xlsx"]


def test_worker_refuses_hostile_uploads_and_lives_on_with_bounded_memory(
    world, celery_worker_process
):
    worker = celery_worker_process
    main_pid, [pool_pid] = worker.pid, worker.pool_pids
    before = Candidate.objects.count()

    for hostile in (h for h in HOSTILE if h.name in WORKER_CASES):
        batch = hostile_batch(world.beheerder, hostile)
        assert services.import_queue(batch=batch, actor=world.beheerder)
        batch = wait_for_status(batch, ImportBatch.Status.FAILED, timeout=30)
        assert batch.failure_reason == hostile.message, hostile.name

    assert worker.alive and worker.pid == main_pid
    assert worker.pool_pids == [pool_pid] and process_running(pool_pid)  # no child died
    assert vm_peak_kb(pool_pid) < 300 * 1024  # a 400 MB bomb never inflated in the worker
    assert Candidate.objects.count() == before
    # And it imports the next, good file as usual.
    good = services.batch_create_from_upload(
        actor=world.beheerder, file_name="goed.csv", data=csv_bytes(people(3, start=1100))
    )
    services.batch_set_options(batch=good, group_id=world.own_group.pk)
    assert services.import_queue(batch=good, actor=world.beheerder)
    assert wait_for_status(good, ImportBatch.Status.DONE).counts["new"] == 3
    assert worker.pool_pids == [pool_pid]


# --- what we write back -------------------------------------------------------------------------

FORMULAS = ["=1+1", '=HYPERLINK("http://evil.example","klik")', "+31 6 1234", "-2+3", "@SUM(A1)"]


def assert_no_formula(data: bytes) -> list[list]:
    """No <f> element in any sheet, and every cell that looks like a formula is text. Returns
    the values of the first sheet (the rows; a report's later sheets hold per-group counts)."""
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        for name in archive.namelist():
            if name.startswith("xl/worksheets/"):
                assert not re.search(rb"<(\w+:)?f[ >/]", archive.read(name)), name
    workbook = load_workbook(io.BytesIO(data))
    values: list[list[list]] = []
    for sheet in workbook.worksheets:
        values.append([])
        for row in sheet.iter_rows():
            for cell in row:
                assert cell.data_type != "f", f"{sheet.title}!{cell.coordinate}"
            values[-1].append([cell.value for cell in row])
    return values[0]


def test_error_file_report_and_export_hold_no_formula(
    client, world, tmp_path, capsys, django_capture_on_commit_callbacks
):
    rows = people(len(FORMULAS), start=1200)
    for row, formula in zip(rows, FORMULAS, strict=True):
        row[1] = formula  # first name
    rows[0][4] = "=cmd|' /C calc'!A0"  # an e-mail address that is not one: an error row
    path = tmp_path / "formules.xlsx"
    # As text cells (openpyxl's own append would store "=1+1" as a formula).
    path.write_bytes(write_workbook([("Kandidaten", HEADERS, rows)]))

    # The error file of the wizard's check step.
    client.force_login(world.beheerder)
    client.post(
        reverse("imports:start"), {"file": SimpleUploadedFile(path.name, path.read_bytes())}
    )
    batch = ImportBatch.objects.get()
    error_values = assert_no_formula(client.get(reverse("imports:errors", args=[batch.pk])).content)
    assert [row[1] for row in error_values] == ["Voornaam", "=1+1"]
    assert error_values[1][4] == "=cmd|' /C calc'!A0"
    assert error_values[1][6] == "Rij 2, kolom E-mailadres: geen geldig e-mailadres"

    # The report of the command, and of the mail.
    report = tmp_path / "rapport.xlsx"
    with pytest.raises(SystemExit), django_capture_on_commit_callbacks(execute=True):
        call_command(
            "import_candidates", str(path), "--as", "beheerder", "--group", "Zorg 1",
            "--skip-invalid", "--report", str(report), "--report-to", "rapport@rocm.example",
        )  # fmt: skip
    report_values = assert_no_formula(report.read_bytes())
    names = {" ".join(part for part in row[1:4] if part) for row in rows[1:]}
    assert {r[3] for r in report_values[1:]} >= names
    [report_attachment] = [
        content
        for message in mail.outbox
        if message.to == ["rapport@rocm.example"]
        for name, content, _type in message.attachments
        if name.endswith(".xlsx")
    ]
    assert_no_formula(report_attachment)

    # The export of the candidate list.
    imported = Candidate.objects.filter(candidate_number__in=[r[0] for r in rows[1:]])
    assert imported.count() == len(FORMULAS) - 1
    response = client.post(
        reverse("candidates:list") + "?q=&sort=name",
        {"action": "export", "ids": [c.pk for c in imported]},
    )
    export_values = assert_no_formula(response.content)
    assert sorted(r[2] for r in export_values[1:]) == sorted(FORMULAS[1:])
