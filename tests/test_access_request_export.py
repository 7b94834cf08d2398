"""'Download alle gegevens': one .zip with the same records as .xlsx and JSON, everything
about the candidate and nothing secret, audited, and only for those who see the candidate."""

from __future__ import annotations

import io
import json
import zipfile

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from accounts.models import AuditLog, AuditLogSubject
from accounts.services import audit
from candidates.services.candidates import candidate_set_password, candidates_set_active

from .factories import TEST_PASSWORD
from .helpers.candidates import logged_in, rows

BATCH = "8f0c6a52-3c1e-4d3f-9a57-2f1e0c4b7a11"


def url(candidate):
    return reverse("candidates:access_request", args=[candidate.pk])


def _open(response) -> tuple[dict, dict[str, list[list]]]:
    archive = zipfile.ZipFile(io.BytesIO(response.content))
    names = sorted(archive.namelist())
    username = json.loads(archive.read(names[0]))["candidate"]
    assert names == [f"gegevens-{username}.json", f"gegevens-{username}.xlsx"]
    data = json.loads(archive.read(names[0]))
    workbook = load_workbook(io.BytesIO(archive.read(names[1])), read_only=True)
    sheets = {
        ws.title: [list(r) for r in ws.iter_rows(values_only=True)] for ws in workbook.worksheets
    }
    return data, sheets


def _history(world):
    """A candidate with a past: an import, a status change, a password reset, a sign-in."""
    c = world.in_own_group
    started = audit(
        action=AuditLog.Action.IMPORT_STARTED,
        actor=world.coordinator,
        organisation=world.college,
        target_repr="klas.xlsx",
        after={"batch": BATCH},
    )
    finished = audit(
        action=AuditLog.Action.IMPORT_FINISHED,
        actor=world.coordinator,
        organisation=world.college,
        target_repr="klas.xlsx",
        after={"batch": BATCH, "new": 1},
    )
    AuditLogSubject.objects.create(
        audit=finished,
        user=c.user,
        action=AuditLog.Action.USER_CREATED,
        target_repr=c.user.username,
        after={"candidate_number": "0000001"},
    )
    candidates_set_active(actor=world.beheerder, candidates=[c], is_active=False)
    candidate_set_password(
        actor=world.beheerder,
        candidate=c,
        password="Geheim-Wachtwoord-9",
        must_change_password=False,
        ip="10.0.0.9",
    )
    audit(action=AuditLog.Action.LOGIN, actor=c.user, target=c.user, ip="192.0.2.7")
    return started


def test_the_zip_holds_every_section_as_xlsx_and_json(client, world):
    _history(world)
    response = logged_in(client, world.beheerder).post(url(world.in_own_group))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/zip"
    assert response["Content-Disposition"] == 'attachment; filename="gegevens-kand-own.zip"'
    assert "no-store" in response["Cache-Control"]
    data, sheets = _open(response)
    assert set(data) == {
        "candidate",
        "exported",
        "profile",
        "groups",
        "supervisors",
        "status_history",
        "audit",
        "imports",
    }
    assert list(sheets) == [
        "Gegevens",
        "Kandidaatgroepen",
        "Begeleiders",
        "Statusgeschiedenis",
        "Auditlog",
        "Imports",
    ]
    profile = {r["field"]: r["value"] for r in data["profile"]}
    assert profile["Gebruikersnaam"] == "kand-own"
    assert profile["Kandidaatnummer"] == "0000001"
    assert profile["Actief"] is False
    assert [r[:2] for r in sheets["Gegevens"][:3]] == [
        ["Gegeven", "Waarde"],
        ["Gebruikersnaam", "kand-own"],
        ["Voornaam", "Anna"],
    ]
    assert [g["name"] for g in data["groups"]] == ["Zorg 1"]
    assert data["groups"][0]["coordinators"] == "coord"
    assert data["supervisors"] == [
        {"username": "begel", "name": world.supervisor.display_name, "via": "Zorg 1"}
    ]


def test_every_audit_row_about_them_and_the_import(client, world):
    _history(world)
    response = logged_in(client, world.beheerder).post(url(world.in_own_group))
    data, sheets = _open(response)
    actions = [r["action_code"] for r in data["audit"]]
    # Newest first; the download itself is the newest row.
    assert actions == [
        "data_exported",
        "login",
        "password_reset",
        "status_changed",
        "user_created",
    ]
    assert [r["action_code"] for r in data["status_history"]] == [
        "status_changed",
        "user_created",
    ]
    login = next(r for r in data["audit"] if r["action_code"] == "login")
    assert login["ip_address"] == "192.0.2.7"  # their own sign-in: their address
    reset = next(r for r in data["audit"] if r["action_code"] == "password_reset")
    assert reset["ip_address"] == ""  # a colleague's address is not the candidate's data
    assert reset["actor"].endswith("(beheerder)")
    assert data["imports"] == [
        {
            "batch": BATCH,
            "file": "klas.xlsx",
            "started": data["imports"][0]["started"],
            "started_by": f"{world.coordinator.display_name} (coord)",
            "outcome": "Import voltooid",
            "what": "Gebruiker aangemaakt",
        }
    ]
    assert sheets["Imports"][1][:2] == [BATCH, "klas.xlsx"]
    assert len(sheets["Auditlog"]) == 1 + 5


def test_never_a_password_hash_or_secret(client, world):
    _history(world)
    c = world.in_own_group
    audit(
        action=AuditLog.Action.USER_CHANGED,
        actor=world.beheerder,
        target=c.user,
        after={"first_name": "Anneke", "password_hash": "pbkdf2$x", "sealed_secret": "abc"},
    )
    c.user.refresh_from_db()
    response = logged_in(client, world.beheerder).post(url(c))
    archive = zipfile.ZipFile(io.BytesIO(response.content))
    everything = b"".join(archive.read(n) for n in archive.namelist())
    xlsx_text = b"".join(
        zipfile.ZipFile(io.BytesIO(archive.read(n))).read(m)
        for n in archive.namelist()
        if n.endswith(".xlsx")
        for m in zipfile.ZipFile(io.BytesIO(archive.read(n))).namelist()
    )
    for secret in (
        c.user.password.encode(),
        c.user.password.split("$")[-1].encode(),
        b"Geheim-Wachtwoord-9",
        TEST_PASSWORD.encode(),
        b"pbkdf2$x",
        b"password_hash",
        b"sealed_secret",
    ):
        assert secret not in everything
        assert secret not in xlsx_text
    assert b"Anneke" in everything


def test_the_download_is_an_audit_row(client, world):
    logged_in(client, world.coordinator).post(url(world.in_own_group), REMOTE_ADDR="10.1.2.3")
    [row] = rows(AuditLog.Action.DATA_EXPORTED, world.in_own_group)
    assert (row.actor, row.organisation, row.ip_address) == (
        world.coordinator,
        world.college,
        "10.1.2.3",
    )


@pytest.mark.parametrize(
    "who, candidate, status",
    [
        ("beheerder", "in_own_group", 200),
        ("beheerder", "in_other_group", 200),
        ("coordinator", "in_own_group", 200),
        ("coordinator", "in_other_group", 404),  # not in their groups
        ("outsider", "in_own_group", 404),  # another college
        ("beheerder", "of_other_college", 404),
        ("supervisor", "in_own_group", 403),  # supervisors have no edit page
    ],
)
def test_only_who_sees_the_candidate_may_download(client, world, who, candidate, status):
    target = getattr(world, candidate)
    response = logged_in(client, getattr(world, who)).post(url(target))
    assert response.status_code == status
    assert len(rows(AuditLog.Action.DATA_EXPORTED)) == (1 if status == 200 else 0)


def test_a_get_downloads_nothing(client, world):
    response = logged_in(client, world.beheerder).get(url(world.in_own_group))
    assert response.status_code == 405
    assert rows(AuditLog.Action.DATA_EXPORTED) == []


def test_an_id_beyond_any_integer_is_a_404(client, world):
    response = logged_in(client, world.beheerder).post(
        "/beheer/kandidaten/99999999999999999999999/gegevens/"
    )
    assert response.status_code == 404


def test_the_candidate_page_offers_the_download(client, world):
    page = logged_in(client, world.beheerder).get(
        reverse("candidates:edit", args=[world.in_own_group.pk])
    )
    assert f'action="{url(world.in_own_group)}"' in page.content.decode()
    assert "Download alle gegevens" in page.content.decode()


def test_an_export_that_fails_leaves_no_row(world, monkeypatch):
    from candidates.services import access_request

    def broken(sheets):
        raise OSError("disk full")

    monkeypatch.setattr(access_request, "write_workbook", broken)
    with pytest.raises(OSError):
        access_request.access_request_export(actor=world.beheerder, candidate=world.in_own_group)
    assert rows(AuditLog.Action.DATA_EXPORTED) == []
