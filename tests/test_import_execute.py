"""The write step of the import with groups named in the class column that do not exist yet
(`PlannedRow.new_group_name`): each is created once, audited, linked to the importing
coordinator, and counted per group in the batch summary, the report mail and its .xlsx.

The plans are built here directly (plan the file, then name the new groups on its rows), so
the writer is tested on its own."""

import io

import pytest
from django.core import mail
from openpyxl import load_workbook

from accounts.models import AuditLog
from candidates.models import Candidate, CandidateGroup
from candidates.selectors import candidates_visible_to
from imports import services
from imports.models import ImportBatch
from imports.options import ImportOptions

from .helpers.imports import make_batch, people, xlsx_bytes

pytestmark = pytest.mark.django_db


def prepared_batch(actor, rows, group_names, **options):
    """A running batch and its prepared plan, with `group_names[i]` as row i's new group."""
    batch = make_batch(actor, xlsx_bytes(rows), **options)
    ImportBatch.objects.filter(pk=batch.pk).update(status=ImportBatch.Status.RUNNING)
    batch.refresh_from_db()
    dry = services.import_dry_run(batch)
    for planned, name in zip(dry.plan.rows, group_names, strict=True):
        planned.new_group_name = name
    opts = ImportOptions.from_json(batch.options)
    passwords, hashes = services._passwords(
        batch, opts, services._password_rows(dry.plan), may_dispatch=False
    )
    return batch, services.Prepared(dry.plan, dry.table, passwords, hashes)


def members(name: str) -> list[str]:
    group = CandidateGroup.objects.get(name=name)
    return sorted(group.members.values_list("candidate_number", flat=True))


def test_each_new_group_is_created_once_and_counted(world, django_capture_on_commit_callbacks):
    batch, prepared = prepared_batch(
        world.beheerder,
        people(5, start=500),
        ["Klas 1A", "Klas 1B", "klas 1a", "KLAS 1A", ""],
        report_email="admin@rocm.example",
    )
    with django_capture_on_commit_callbacks(execute=True):
        batch = services._write(batch, prepared)

    assert batch.status == ImportBatch.Status.DONE
    created = CandidateGroup.objects.filter(organisation=world.college, name__istartswith="klas")
    assert sorted(created.values_list("name", flat=True)) == ["Klas 1A", "Klas 1B"]
    assert members("Klas 1A") == ["0000500", "0000502", "0000503"]
    assert members("Klas 1B") == ["0000501"]
    assert not Candidate.objects.get(candidate_number="0000504").groups.exists()
    assert [g.coordinators.count() for g in created] == [0, 0]  # a beheerder imported
    audits = AuditLog.objects.filter(action=AuditLog.Action.GROUP_CREATED).order_by("pk")
    assert [(a.actor, a.target_repr) for a in audits] == [
        (world.beheerder, "Klas 1A"),
        (world.beheerder, "Klas 1B"),
    ]
    finished = AuditLog.objects.get(action=AuditLog.Action.IMPORT_FINISHED)
    assert finished.after["groups_created"] == ["Klas 1A", "Klas 1B"]
    assert batch.counts["groups"] == [
        {"name": "Klas 1A", "count": 3},
        {"name": "Klas 1B", "count": 1},
    ]

    [report] = [m for m in mail.outbox if m.subject.startswith("Importresultaat")]
    assert "Kandidaatgroepen:\n- Klas 1A: 3 kandidaten\n- Klas 1B: 1 kandidaat\n" in report.body
    sheets = load_workbook(io.BytesIO(report.attachments[0][1]))
    assert list(sheets["Kandidaatgroepen"].iter_rows(values_only=True)) == [
        ("Kandidaatgroep", "Aantal kandidaten"),
        ("Klas 1A", 3),
        ("Klas 1B", 1),
    ]


def test_coordinator_is_linked_to_the_groups_their_import_creates(world):
    batch, prepared = prepared_batch(
        world.coordinator,
        people(3, start=530),
        ["Klas 2C", "Klas 2C", ""],
        group_id=world.own_group.pk,
        report_email="",
    )
    batch = services._write(batch, prepared)

    assert batch.status == ImportBatch.Status.DONE, batch.failure_reason
    group = CandidateGroup.objects.get(organisation=world.college, name="Klas 2C")
    assert list(group.coordinators.all()) == [world.coordinator]
    assert members("Klas 2C") == ["0000530", "0000531"]
    visible = candidates_visible_to(world.coordinator).filter(candidate_number__startswith="00005")
    assert visible.count() == 3
    assert batch.counts["groups"] == [
        {"name": "Klas 2C", "count": 2},
        {"name": "Zorg 1", "count": 3},
    ]


def test_a_group_of_that_name_made_meanwhile_by_someone_else_stops_the_import(world):
    batch, prepared = prepared_batch(
        world.coordinator,
        people(2, start=560),
        ["Klas 3D", ""],
        group_id=world.own_group.pk,
        report_email="",
    )
    CandidateGroup.objects.create(organisation=world.college, name="KLAS 3d")

    with pytest.raises(services.ImportFailed, match="waaraan je niet gekoppeld bent"):
        services._write(batch, prepared)

    assert not Candidate.objects.filter(candidate_number__in=["0000560", "0000561"]).exists()
    assert CandidateGroup.objects.filter(name__iexact="klas 3d").count() == 1


def test_an_import_without_groups_has_an_empty_group_summary(world):
    batch, prepared = prepared_batch(world.beheerder, people(2, start=590), ["", ""])
    batch = services._write(batch, prepared)
    assert (batch.counts["new"], batch.counts["groups"]) == (2, [])
