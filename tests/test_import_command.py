"""python manage.py import_candidates: same services, JSON output, exit codes 0/1/2."""

import json

import pytest
from django.core.management import call_command

from candidates.models import Candidate, CandidateGroup

from .helpers.imports import HEADERS, csv_bytes, people, xlsx_bytes
from .test_import_wizard import two_sheet_workbook

pytestmark = pytest.mark.django_db


def run(capsys, *args):
    with pytest.raises(SystemExit) as exit_info:
        call_command("import_candidates", *map(str, args))
    out, err = capsys.readouterr()
    return exit_info.value.code, out, err


def test_dry_run_json(tmp_path, capsys, world):
    path = tmp_path / "lijst.xlsx"
    path.write_bytes(xlsx_bytes(people(3, start=10)))
    code, out, err = run(
        capsys, path, "--as", "beheerder", "--group", "Zorg 1", "--dry-run", "--json"
    )
    assert (code, err) == (0, "")
    assert json.loads(out) == {
        "rows": 3,
        "created": 3,
        "updated": 0,
        "unchanged": 0,
        "skipped": 0,
        "errors": [],
        "sheet": "Kandidaten",
        "mapping": {
            "Kandidaatnummer": "candidate_number",
            "Voornaam": "first_name",
            "Tussenvoegsel": "surname_prefix",
            "Achternaam": "last_name",
            "E-mailadres": "email",
            "Geboortedatum": "birth_date",
        },
        "batch": None,  # a dry run imports nothing, so there is nothing to undo
    }
    assert not Candidate.objects.filter(candidate_number="0000010").exists()


def test_import_and_reimport(tmp_path, capsys, world):
    path = tmp_path / "lijst.csv"
    path.write_bytes(csv_bytes(people(4, start=20)))
    report = tmp_path / "rapport.xlsx"
    code, out, _ = run(
        capsys,
        path,
        "--as",
        "beheerder",
        "--group",
        "Nieuw 2027",
        "--create-group",
        "--report",
        report,
        "--json",
    )
    assert code == 0
    assert json.loads(out)["created"] == 4
    assert report.read_bytes()[:2] == b"PK"
    assert Candidate.objects.filter(groups__name="Nieuw 2027").count() == 4
    code, out, _ = run(capsys, path, "--as", "beheerder", "--group", "Nieuw 2027", "--json")
    result = json.loads(out)
    assert (code, result["created"], result["updated"], result["unchanged"]) == (0, 0, 0, 4)


def test_validation_errors_exit_1_and_write_nothing(tmp_path, capsys, world):
    rows = people(2, start=30)
    rows[0][1] = ""
    path = tmp_path / "lijst.xlsx"
    path.write_bytes(xlsx_bytes(rows))
    code, out, _ = run(capsys, path, "--as", "beheerder", "--group", "Zorg 1", "--json")
    assert code == 1
    assert json.loads(out)["errors"] == [
        {"row": 2, "column": "Voornaam", "message": "verplicht veld is leeg"}
    ]
    assert not Candidate.objects.filter(candidate_number__in=["0000030", "0000031"]).exists()
    code, out, _ = run(
        capsys, path, "--as", "beheerder", "--group", "Zorg 1", "--json", "--skip-invalid"
    )
    assert (code, json.loads(out)["created"], json.loads(out)["skipped"]) == (0, 1, 1)


def test_map_option(tmp_path, capsys, world):
    path = tmp_path / "lijst.xlsx"
    path.write_bytes(xlsx_bytes([["40", "Jan", "Berg"]], headers=["Nr", "Naam", "Familie"]))
    code, _, err = run(capsys, path, "--as", "beheerder", "--group", "Zorg 1")
    assert code == 2
    assert "Geen kolom gevonden voor: Kandidaatnummer, Voornaam, Achternaam" in err
    code, out, _ = run(
        capsys,
        path,
        "--as",
        "beheerder",
        "--group",
        "Zorg 1",
        "--json",
        "--map",
        "Nr=candidate_number",
        "--map",
        "Naam=first_name",
        "--map",
        "Familie=last_name",
    )
    assert code == 0
    assert json.loads(out)["mapping"] == {
        "Nr": "candidate_number",
        "Naam": "first_name",
        "Familie": "last_name",
    }


@pytest.mark.parametrize(
    ("content", "name", "message"),
    [(b"%PDF-1.7 ...", "lijst.xlsx", "PDF"), (b"", "lijst.csv", "leeg")],
)
def test_unreadable_file_exit_2_one_dutch_line(tmp_path, capsys, world, content, name, message):
    path = tmp_path / name
    path.write_bytes(content)
    code, out, err = run(capsys, path, "--as", "beheerder")
    assert code == 2
    assert out == ""
    assert message in err
    assert "Traceback" not in err
    assert err.count("\n") <= 1


def test_wrong_user_exit_2(tmp_path, capsys, world):
    path = tmp_path / "lijst.xlsx"
    path.write_bytes(xlsx_bytes(people(1)))
    code, _, err = run(capsys, path, "--as", "begel")
    assert code == 2
    assert "mag niet importeren" in err


def test_coordinator_command_applies_visibility(tmp_path, capsys, world):
    path = tmp_path / "lijst.xlsx"
    path.write_bytes(xlsx_bytes(people(1, start=50)))
    code, _, err = run(capsys, path, "--as", "coord", "--group", "Techniek 1")
    assert code == 2
    assert "Kandidaatgroep 'Techniek 1' bestaat niet of je bent er niet aan gekoppeld" in err


def test_create_groups_from_the_class_column(tmp_path, capsys, world):
    path = tmp_path / "klassen.xlsx"
    classes = ["VP2A", "VP2A", "VP2B"]
    rows = [[*row, klas] for row, klas in zip(people(3, start=230), classes, strict=True)]
    path.write_bytes(xlsx_bytes(rows, headers=[*HEADERS, "Klas"]))
    code, out, _ = run(capsys, path, "--as", "coord", "--json")
    assert code == 1
    assert [e["message"] for e in json.loads(out)["errors"]] == [
        "kandidaatgroep bestaat niet of je bent er niet aan gekoppeld"
    ] * 3
    assert not CandidateGroup.objects.filter(name__in=["VP2A", "VP2B"]).exists()

    code, out, err = run(capsys, path, "--as", "coord", "--create-groups", "--json")
    assert (code, err) == (0, "")
    assert json.loads(out)["created"] == 3
    vp2a, vp2b = CandidateGroup.objects.get(name="VP2A"), CandidateGroup.objects.get(name="VP2B")
    assert list(vp2a.coordinators.all()) == [world.coordinator]  # so they stay visible
    assert sorted(c.candidate_number for c in Candidate.objects.filter(groups=vp2a)) == [
        "0000230",
        "0000231",
    ]
    assert [c.candidate_number for c in Candidate.objects.filter(groups=vp2b)] == ["0000232"]


def test_sheet_option(tmp_path, capsys, world):
    path = tmp_path / "twee.xlsx"
    path.write_bytes(two_sheet_workbook())
    code, out, err = run(capsys, path, "--as", "beheerder", "--dry-run", "--json")
    assert (code, err) == (0, "")
    assert (json.loads(out)["sheet"], json.loads(out)["rows"]) == ("Vorig jaar", 1)
    code, out, err = run(
        capsys, path, "--as", "beheerder", "--sheet", "Kandidaten", "--dry-run", "--json"
    )
    assert (code, err) == (0, "")
    assert (json.loads(out)["sheet"], json.loads(out)["rows"]) == ("Kandidaten", 2)
    code, out, _ = run(capsys, path, "--as", "beheerder", "--sheet", "Kandidaten", "--dry-run")
    assert "Gelezen werkblad: Kandidaten" in out
    code, out, err = run(capsys, path, "--as", "beheerder", "--sheet", "Klassen", "--dry-run")
    assert code == 2
    assert err.strip() == (
        "Het bestand heeft geen werkblad ‘Klassen’. Dit zijn de werkbladen: ‘Uitleg’, "
        "‘Vorig jaar’, ‘Kandidaten’."
    )
