"""import_candidates --undo BATCH_ID [--dry-run] [--json]: the same rules as the undo page."""

import json
import uuid

import pytest

from candidates.models import Candidate
from imports.models import ImportBatch

from .helpers.imports import people, xlsx_bytes
from .helpers.undo import changed_later, finished_days_ago, import_rows, row, signed_in, user_of
from .test_import_command import run as run_command

pytestmark = pytest.mark.django_db


def run(capsys, *args):
    """The command's own output only: what the import before it wrote to stderr (an eager
    task's log line) is read and dropped first."""
    capsys.readouterr()
    return run_command(capsys, *args)


NEW = [row("0000101", "Fenna", "Nieuw"), row("0000102", "Gijs", "Nieuw")]


def test_the_json_of_an_import_names_its_batch_and_undo_takes_it_back(tmp_path, capsys, world):
    path = tmp_path / "lijst.xlsx"
    path.write_bytes(xlsx_bytes(people(3, start=40)))
    code, out, _ = run(capsys, path, "--as", "beheerder", "--group", "Zorg 1", "--json")
    batch_id = json.loads(out)["batch"]
    assert code == 0
    assert ImportBatch.objects.get(pk=batch_id).status == ImportBatch.Status.DONE

    code, out, err = run(capsys, "--undo", batch_id, "--as", "beheerder", "--json")

    assert (code, err) == (0, "")
    assert json.loads(out) == {
        "batch": batch_id,
        "dry_run": False,
        "deleted": 3,
        "deactivated": 0,
        "restored": 0,
        "links_removed": 0,
        "groups_removed": 0,
        "no_delete_right": False,
        "conflicts": [],
    }
    assert not Candidate.objects.filter(candidate_number__in=["0000040", "0000041"]).exists()


def test_dry_run_reports_and_changes_nothing(capsys, world):
    batch = import_rows(
        world.beheerder, [row("0000001", "Annie", "Eigen"), *NEW], new_group_name="Nieuw 2027"
    )
    signed_in(user_of("0000101", world.college))
    gijs = user_of("0000102", world.college)
    changed_later(gijs, world.beheerder, first_name="Gijsbert")

    code, out, err = run(capsys, "--undo", batch.pk, "--as", "beheerder", "--dry-run", "--json")

    assert (code, err) == (0, "")
    assert json.loads(out) == {
        "batch": str(batch.pk),
        "dry_run": True,
        "deleted": 0,
        "deactivated": 1,
        "restored": 1,
        "links_removed": 2,  # Fenna's and Anna's link to the new group
        "groups_removed": 0,  # Gijs, a conflict, stays in it
        "no_delete_right": False,
        "conflicts": [
            {
                "username": gijs.username,
                "name": "Gijsbert Nieuw",
                "reason": "na de import opnieuw gewijzigd",
            }
        ],
    }
    assert ImportBatch.objects.get(pk=batch.pk).undone_at is None
    assert user_of("0000101", world.college).is_active


def test_text_output(capsys, world):
    batch = import_rows(world.beheerder, NEW)
    code, out, _ = run(capsys, "--undo", batch.pk, "--as", "beheerder")
    assert code == 0
    assert out == (
        "Ongedaan gemaakt: 2 verwijderd, 0 gedeactiveerd, 0 teruggezet, 0 koppelingen en "
        "0 kandidaatgroepen verwijderd, 0 conflicten.\n"
    )


def test_unknown_batch(capsys, world):
    for batch_id in (str(uuid.uuid4()), "geen-id"):
        code, out, err = run(capsys, "--undo", batch_id, "--as", "beheerder", "--json")
        assert (code, out, err) == (2, "", f"Import '{batch_id}' bestaat niet.\n")


def test_too_old(capsys, world):
    batch = import_rows(world.beheerder, NEW)
    finished_days_ago(batch, 15)
    code, out, err = run(capsys, "--undo", batch.pk, "--as", "beheerder")
    assert (code, out) == (2, "")
    assert err == "Deze import is ouder dan 14 dagen en kan niet meer ongedaan worden gemaakt.\n"


def test_already_undone(capsys, world):
    batch = import_rows(world.beheerder, NEW)
    assert run(capsys, "--undo", batch.pk, "--as", "beheerder")[0] == 0
    code, out, err = run(capsys, "--undo", batch.pk, "--as", "beheerder")
    assert (code, out) == (2, "")
    assert err.startswith("Deze import is al ongedaan gemaakt op ")


@pytest.mark.parametrize("who", ["coord2", "outsider"])
def test_not_allowed(capsys, world, who):
    batch = import_rows(world.coordinator, NEW, group_id=world.own_group.pk)
    code, out, err = run(capsys, "--undo", batch.pk, "--as", who)
    assert (code, out, err) == (2, "", "Je mag deze import niet ongedaan maken.\n")
    assert Candidate.objects.filter(candidate_number="0000101").exists()


def test_a_file_or_undo_is_required(capsys, world):
    code, out, err = run(capsys, "--as", "beheerder")
    assert (code, out, err) == (
        2,
        "",
        "Geef het bestand op dat je wilt importeren (of --undo BATCH_ID).\n",
    )
