"""'Beveilig importresultaten met een wachtwoord': the import-results spreadsheet (it lists the
generated passwords, many of minors) as an encrypted Office file, in the report mail and in
the file `import_candidates --report` writes. The password is kept sealed, never mailed,
never shown back."""

from __future__ import annotations

import io
import json
import zipfile

import msoffcrypto
import pytest
from django.contrib.auth.hashers import check_password
from django.core import mail
from django.db import connection
from django.urls import reverse
from msoffcrypto.exceptions import InvalidKeyError
from openpyxl import load_workbook

from accounts.models import AuditLog, Organisation, User
from candidates.xlsx import write_workbook
from imports.models import ImportBatch
from imports.reports import protect_xlsx

from .helpers.candidates import logged_in, rows
from .helpers.imports import people, run_import, xlsx_bytes
from .test_audit_log import _changes, as_beheerder
from .test_college_settings import SETTINGS, settings_data
from .test_import_command import run

pytestmark = pytest.mark.django_db

SECRET = "Geheim-2027!"
HEADERS = (
    "Rij",
    "Gebruikersnaam",
    "Kandidaatnummer",
    "Naam",
    "Kandidaatgroep",
    "Wachtwoord",
    "Status",
    "Account",
    "Fout",
)


def decrypted_rows(data: bytes, password: str) -> list[tuple]:
    office = msoffcrypto.OfficeFile(io.BytesIO(data))
    office.load_key(password=password)
    plain = io.BytesIO()
    office.decrypt(plain)
    return list(load_workbook(plain).worksheets[0].iter_rows(values_only=True))


def college() -> Organisation:
    return Organisation.objects.get(code="rocm")


def set_password(password: str) -> None:
    org = college()
    org.set_report_password(password)
    org.save(update_fields=["report_password_sealed"])


def stored_column(org: Organisation) -> bytes:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT report_password_sealed FROM accounts_organisation WHERE id = %s", [org.pk]
        )
        value = cursor.fetchone()[0]
    return bytes(value) if value is not None else b""


def assert_report_rows(found: list[tuple]) -> None:
    """The two new candidates of people(2, start=200) in Zorg 1, with working passwords."""
    assert found[0] == HEADERS
    passwords = [row[5] for row in found[1:]]
    assert found[1:] == [
        (
            2,
            "rocm-0000200",
            "0000200",
            "Voornaam200 Achternaam200",
            "Zorg 1",
            passwords[0],
            "nieuw",
            "actief",
            None,
        ),
        (
            3,
            "rocm-0000201",
            "0000201",
            "Voornaam201 van der Achternaam201",
            "Zorg 1",
            passwords[1],
            "nieuw",
            "actief",
            None,
        ),
    ]
    for username, password in zip(("rocm-0000200", "rocm-0000201"), passwords, strict=True):
        assert check_password(password, User.objects.get(username=username).password)


# --- protect_xlsx ---------------------------------------------------------------------------


def test_protected_workbook_opens_with_the_password_only():
    data = write_workbook([("Blad", ["Naam", "Wachtwoord"], [["Anna", "abc123XYZ"], ["Bert", 7]])])
    protected = protect_xlsx(data, SECRET)
    assert protected[:8] == bytes.fromhex("d0cf11e0a1b11ae1")  # an OLE container, not a zip
    assert decrypted_rows(protected, SECRET) == [
        ("Naam", "Wachtwoord"),
        ("Anna", "abc123XYZ"),
        ("Bert", 7),
    ]
    with pytest.raises(zipfile.BadZipFile):
        load_workbook(io.BytesIO(protected))
    with pytest.raises(InvalidKeyError):
        decrypted_rows(protected, "Geheim-2028!")
    assert b"abc123XYZ" not in protected


def test_protected_workbook_uses_agile_aes_256():
    protected = protect_xlsx(write_workbook([("Blad", ["A"], [["x"]])]), SECRET)
    office = msoffcrypto.OfficeFile(io.BytesIO(protected))
    info = office.file.openstream("EncryptionInfo").read()
    assert info[:4] == b"\x04\x00\x04\x00"  # version 4.4: Agile encryption
    assert b'cipherAlgorithm="AES"' in info and b'keyBits="256"' in info


def test_protect_without_a_password_is_refused():
    with pytest.raises(ValueError):
        protect_xlsx(write_workbook([("Blad", ["A"], [["x"]])]), "")


# --- the setting -----------------------------------------------------------------------------


def test_setting_is_stored_sealed_shown_as_set_and_audited(client, world):
    client = logged_in(client, world.beheerder)
    response = client.post(SETTINGS, settings_data(world.college, report_password=SECRET))
    assert response.status_code == 302
    org = college()
    assert org.report_password() == SECRET
    column = stored_column(org)
    assert column and SECRET.encode() not in column
    page = client.get(SETTINGS).content.decode()
    assert "Er is een wachtwoord ingesteld" in page
    assert SECRET not in page
    (row,) = rows(AuditLog.Action.SETTINGS_CHANGED)
    assert (row.before, row.after) == ({"report_password": "none"}, {"report_password": "new"})
    assert SECRET not in json.dumps([row.before, row.after])


def test_saving_without_a_new_one_keeps_it_then_it_is_replaced_and_removed(client, world):
    set_password(SECRET)
    client = logged_in(client, world.beheerder)
    client.post(SETTINGS, settings_data(world.college, mail_sender_name="Examenbureau"))
    assert college().report_password() == SECRET
    (row,) = rows(AuditLog.Action.SETTINGS_CHANGED)
    assert "report_password" not in row.after
    client.post(SETTINGS, settings_data(college(), report_password="Nieuw-wachtwoord"))
    assert college().report_password() == "Nieuw-wachtwoord"
    client.post(SETTINGS, settings_data(college(), remove_report_password="on"))
    assert college().report_password() == "" and stored_column(college()) == b""
    audited = AuditLog.objects.filter(action=AuditLog.Action.SETTINGS_CHANGED).order_by("pk")
    assert [(r.before, r.after) for r in audited][1:] == [
        ({"report_password": "set"}, {"report_password": "new"}),
        ({"report_password": "set"}, {"report_password": "none"}),
    ]
    assert "Er is geen wachtwoord ingesteld" in client.get(SETTINGS).content.decode()


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        (
            {"report_password": "kort123"},
            "Het wachtwoord voor de importresultaten moet minimaal 8 tekens hebben.",
        ),
        (
            {"report_password": SECRET, "remove_report_password": "on"},
            "Vul een nieuw wachtwoord voor de importresultaten in of kies voor verwijderen, "
            "niet allebei.",
        ),
    ],
)
def test_bad_report_password_gives_a_dutch_message(client, world, changes, message):
    response = logged_in(client, world.beheerder).post(
        SETTINGS, settings_data(world.college, **changes)
    )
    assert response.status_code == 200
    assert message in response.content.decode()
    assert changes["report_password"] not in response.content.decode()  # never rendered back
    assert college().report_password() == ""
    assert not rows(AuditLog.Action.SETTINGS_CHANGED)


def test_audit_log_shows_the_change_in_dutch(client, world):
    client = as_beheerder(client, world)
    client.post(SETTINGS, settings_data(world.college, report_password=SECRET))
    page = client.get(reverse("candidates:audit")).content.decode()
    assert _changes(page) == ["Wachtwoord voor importresultaten: (niet ingesteld) → nieuw"]


# --- the report mail -------------------------------------------------------------------------

PROTECTED_TEXT = (
    "De bijlage is beveiligd met een wachtwoord. Vraag de beheerder van ROC Midden om het "
    "wachtwoord; het wordt nooit per e-mail verstuurd."
)


def import_with_report(world, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        batch = run_import(
            world.beheerder,
            xlsx_bytes(people(2, start=200)),
            group_id=world.own_group.pk,
            report_email="admin@rocm.example",
        )
    assert batch.status == ImportBatch.Status.DONE, batch.failure_reason
    (report,) = [m for m in mail.outbox if m.subject.startswith("Importresultaat")]
    return report


def test_report_mail_attaches_the_protected_file_and_says_so(
    world, django_capture_on_commit_callbacks
):
    set_password(SECRET)
    report = import_with_report(world, django_capture_on_commit_callbacks)
    ((name, content, mimetype),) = report.attachments
    assert name.endswith(".xlsx")  # Excel and LibreOffice ask for the password on opening
    assert mimetype == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    with pytest.raises(zipfile.BadZipFile):
        load_workbook(io.BytesIO(content))
    assert_report_rows(decrypted_rows(content, SECRET))
    html = report.alternatives[0][0]
    assert PROTECTED_TEXT in report.body and PROTECTED_TEXT in html
    assert SECRET not in report.body and SECRET not in html


def test_without_the_setting_the_report_is_a_plain_workbook(
    world, django_capture_on_commit_callbacks
):
    report = import_with_report(world, django_capture_on_commit_callbacks)
    ((_name, content, _mimetype),) = report.attachments
    assert_report_rows(list(load_workbook(io.BytesIO(content)).worksheets[0].values))
    assert "beveiligd met een wachtwoord" not in report.body


# --- the command -----------------------------------------------------------------------------


def command_import(tmp_path, capsys, *extra):
    path = tmp_path / "lijst.xlsx"
    path.write_bytes(xlsx_bytes(people(2, start=200)))
    report = tmp_path / "rapport.xlsx"
    code, _out, err = run(
        capsys, path, "--as", "beheerder", "--group", "Zorg 1", "--report", report, *extra
    )
    return code, err, report


def test_command_report_password_protects_the_file(tmp_path, capsys, world):
    code, err, report = command_import(tmp_path, capsys, "--report-password", SECRET)
    assert (code, err) == (0, "")
    with pytest.raises(zipfile.BadZipFile):
        load_workbook(report)
    assert_report_rows(decrypted_rows(report.read_bytes(), SECRET))


def test_command_uses_the_college_password_and_the_flag_overrides_it(tmp_path, capsys, world):
    set_password(SECRET)
    code, _err, report = command_import(tmp_path, capsys)
    assert code == 0
    assert_report_rows(decrypted_rows(report.read_bytes(), SECRET))
    User.objects.filter(username__in=["rocm-0000200", "rocm-0000201"]).delete()
    code, _err, report = command_import(tmp_path, capsys, "--report-password", "Ander-wachtwoord")
    assert code == 0
    with pytest.raises(InvalidKeyError):
        decrypted_rows(report.read_bytes(), SECRET)
    assert decrypted_rows(report.read_bytes(), "Ander-wachtwoord")[0] == HEADERS


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (
            ["--report-password", "kort"],
            "--report-password: het wachtwoord moet minimaal 8 tekens hebben.\n",
        ),
    ],
)
def test_command_short_report_password_exit_2(tmp_path, capsys, world, extra, message):
    code, err, report = command_import(tmp_path, capsys, *extra)
    assert (code, err) == (2, message)
    assert not report.exists()
    assert not User.objects.filter(username="rocm-0000200").exists()


def test_command_report_password_needs_report(tmp_path, capsys, world):
    path = tmp_path / "lijst.xlsx"
    path.write_bytes(xlsx_bytes(people(1, start=200)))
    code, _out, err = run(
        capsys, path, "--as", "beheerder", "--group", "Zorg 1", "--report-password", SECRET
    )
    assert (code, err) == (2, "--report-password: gebruik dit samen met --report PAD.xlsx.\n")
