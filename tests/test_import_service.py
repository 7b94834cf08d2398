"""The import services end to end (in process): dry run, write, re-import, orphan guard."""

from datetime import date

import pytest
from django.contrib.auth.hashers import check_password, identify_hasher
from django.core import mail

from accounts.models import AuditLog, AuditLogSubject, OutgoingMail, Role, User
from candidates.models import Candidate, CandidateGroup
from candidates.selectors import candidates_visible_to
from imports import services
from imports.models import ImportBatch, ImportFile

from .helpers.imports import make_batch, people, run_import, xlsx_bytes

pytestmark = pytest.mark.django_db


def test_dry_run_counts_and_writes_nothing(world):
    batch = make_batch(
        world.beheerder, xlsx_bytes(people(5, start=10)), group_id=world.own_group.pk
    )
    before = Candidate.objects.count()
    plan = services.import_dry_run(batch).plan
    assert plan.counts == {"rows": 5, "new": 5, "updated": 0, "unchanged": 0, "errors": 0}
    assert Candidate.objects.count() == before


def test_existing_candidates_matched_on_number_within_college(world):
    # 0000001..0000003 exist in this college (and 0000001 in the other college too).
    batch = run_import(
        world.beheerder,
        xlsx_bytes(people(3)),
        group_id=world.own_group.pk,
        valid_until=date(2027, 7, 31),
    )
    assert batch.status == ImportBatch.Status.DONE, batch.failure_reason
    assert (batch.counts["new"], batch.counts["updated"]) == (0, 3)
    cand = Candidate.objects.select_related("user").get(
        organisation=world.college, candidate_number="0000002"
    )
    assert cand.user.username == "kand-other"
    assert cand.user.first_name == "Voornaam2"
    foreign = Candidate.objects.select_related("user").get(pk=world.of_other_college.pk)
    assert foreign.user.first_name == "Dirk"


def test_new_candidates_get_username_from_pattern_and_cheap_hash(world):
    rows = people(2, start=100)
    batch = run_import(
        world.beheerder,
        xlsx_bytes(rows),
        group_id=world.own_group.pk,
        valid_until=date(2027, 7, 31),
        report_email="admin@rocm.example",
    )
    assert batch.counts["new"] == 2
    user = User.objects.get(username="rocm-0000100")
    assert user.role == Role.KANDIDAAT
    assert user.organisation == world.college
    assert (user.first_name, user.last_name, user.email) == (
        "Voornaam100",
        "Achternaam100",
        "k100@leerling.example",
    )
    assert identify_hasher(user.password).algorithm == "pbkdf2_sha256_generated"
    assert user.candidate.groups.get() == world.own_group
    assert user.valid_until == date(2027, 7, 31)
    assert ImportFile.objects.filter(batch=batch).count() == 0  # upload removed


def test_report_mail_has_passwords_that_work(world, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        batch = run_import(
            world.beheerder,
            xlsx_bytes(people(2, start=200)),
            group_id=world.own_group.pk,
            report_email="admin@rocm.example",
        )
    assert batch.status == ImportBatch.Status.DONE
    report = [m for m in mail.outbox if m.to == ["admin@rocm.example"]]
    assert len(report) == 2
    name, content, mimetype = report[0].attachments[0]
    assert name.endswith(".xlsx")
    import io

    from openpyxl import load_workbook

    ws = load_workbook(io.BytesIO(content)).active
    rows = list(ws.iter_rows(values_only=True))
    assert rows[0][:7] == (
        "Rij",
        "Gebruikersnaam",
        "Kandidaatnummer",
        "Naam",
        "Kandidaatgroep",
        "Wachtwoord",
        "Status",
    )
    by_user = {r[1]: r for r in rows[1:]}
    assert set(by_user) == {"rocm-0000200", "rocm-0000201"}
    user = User.objects.get(username="rocm-0000200")
    assert check_password(by_user["rocm-0000200"][5], user.password)
    assert by_user["rocm-0000200"][6] == "nieuw"
    # Credentials were not mailed: the login slips follow in a mail of their own.
    assert [m.subject for m in report] == [
        "Importresultaat: kandidaten.xlsx",
        "Inlogbriefjes: kandidaten.xlsx",
    ]
    assert len(report[0].attachments) == 1
    name, pdf, mimetype = report[1].attachments[0]
    assert (name, mimetype, pdf[:4]) == ("inlogbriefjes.pdf", "application/pdf", b"%PDF")
    batch.refresh_from_db()
    assert batch.slips is not None
    assert OutgoingMail.objects.filter(batch_id=batch.pk, secret__isnull=False).count() == 0
    # Delivered: nothing decryptable left in the outbox row.
    row = OutgoingMail.objects.get(batch_id=batch.pk, kind=OutgoingMail.Kind.IMPORT_REPORT)
    assert row.status == OutgoingMail.Status.SENT
    assert row.secret is None


def test_credentials_by_mail_one_per_candidate(world, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        batch = run_import(
            world.beheerder,
            xlsx_bytes(people(3, start=300)),
            group_id=world.own_group.pk,
            send_credentials=True,
            report_email="",
        )
    assert batch.status == ImportBatch.Status.DONE
    credentials = [m for m in mail.outbox if m.to[0].endswith("@leerling.example")]
    assert sorted(m.to[0] for m in credentials) == [
        "k300@leerling.example",
        "k301@leerling.example",
        "k302@leerling.example",
    ]
    body = credentials[0].body
    user = User.objects.get(email=credentials[0].to[0])
    assert f"Gebruikersnaam: {user.username}" in body
    password = body.split("Wachtwoord: ")[1].split("\n")[0]
    assert check_password(password, user.password)
    assert credentials[0].alternatives[0][1] == "text/html"
    assert OutgoingMail.objects.filter(batch_id=batch.pk, secret__isnull=False).count() == 0


def test_same_file_twice_is_unchanged(world):
    data = xlsx_bytes(people(4, start=400))
    first = run_import(
        world.beheerder, data, group_id=world.own_group.pk, valid_until=date(2027, 7, 31)
    )
    second = run_import(
        world.beheerder, data, group_id=world.own_group.pk, valid_until=date(2027, 7, 31)
    )
    assert first.counts["new"] == 4
    assert (second.counts["new"], second.counts["updated"], second.counts["unchanged"]) == (0, 0, 4)
    assert Candidate.objects.filter(candidate_number__startswith="00004").count() == 4


def test_reimport_updates_fields_extends_validity_adds_group_keeps_password(world):
    rows = people(2, start=500)
    run_import(
        world.beheerder,
        xlsx_bytes(rows),
        group_id=world.own_group.pk,
        valid_until=date(2027, 7, 31),
    )
    user = User.objects.get(username="rocm-0000500")
    old_hash = user.password
    rows[0][3] = "Nieuwenhuis"
    batch = run_import(
        world.beheerder,
        xlsx_bytes(rows),
        group_id=world.other_group.pk,
        valid_until=date(2028, 7, 31),
    )
    assert (batch.counts["new"], batch.counts["updated"]) == (0, 2)
    user.refresh_from_db()
    assert user.last_name == "Nieuwenhuis"
    assert user.valid_until == date(2028, 7, 31)
    assert user.password == old_hash
    assert set(user.candidate.groups.all()) == {world.own_group, world.other_group}
    assert "nieuwenhuis" in user.candidate.search_text
    change = AuditLogSubject.objects.filter(action=AuditLog.Action.USER_CHANGED, user=user).get()
    assert change.before["last_name"] == "Achternaam500"
    assert change.after["last_name"] == "Nieuwenhuis"


def test_errors_block_import_unless_skip_invalid(world):
    rows = people(3, start=600)
    rows[1][3] = ""
    batch = run_import(world.beheerder, xlsx_bytes(rows), group_id=world.own_group.pk)
    assert batch.status == ImportBatch.Status.FAILED
    assert batch.failure_reason == "Het bestand bevat 1 fouten. Er is niets geïmporteerd."
    assert not Candidate.objects.filter(candidate_number__startswith="00006").exists()
    batch = run_import(
        world.beheerder, xlsx_bytes(rows), group_id=world.own_group.pk, skip_invalid=True
    )
    assert batch.status == ImportBatch.Status.DONE
    assert (batch.counts["new"], batch.counts["skipped"]) == (2, 1)


def test_username_taken_in_other_college_reveals_nothing(world):
    headers = ["Kandidaatnummer", "Voornaam", "Achternaam", "Gebruikersnaam"]
    data = xlsx_bytes([["0700", "Jan", "Berg", "kand-foreign"]], headers=headers)
    batch = make_batch(world.beheerder, data, group_id=world.own_group.pk)
    plan = services.import_dry_run(batch).plan
    assert [str(e) for e in plan.errors] == [
        "Rij 2, kolom Gebruikersnaam: deze gebruikersnaam is al in gebruik"
    ]


def test_coordinator_orphan_guard(world):
    batch = make_batch(world.coordinator, xlsx_bytes(people(1, start=700)))
    plan = services.import_dry_run(batch).plan
    assert len(plan.problems) == 1
    assert "niet meer voor jou zichtbaar" in plan.problems[0]
    assert not plan.can_import
    services.batch_set_options(batch=batch, group_id=world.own_group.pk)
    assert services.import_dry_run(batch).plan.problems == []


def test_coordinator_cannot_link_to_group_of_someone_else(world):
    batch = make_batch(
        world.coordinator, xlsx_bytes(people(1, start=710)), group_id=world.other_group.pk
    )
    plan = services.import_dry_run(batch).plan
    assert "De gekozen kandidaatgroep bestaat niet of je mag er niet aan koppelen." in plan.problems


def test_coordinator_new_group_is_linked_to_them(world):
    batch = run_import(
        world.coordinator, xlsx_bytes(people(2, start=720)), new_group_name="Nieuw cohort"
    )
    assert batch.status == ImportBatch.Status.DONE, batch.failure_reason
    group = CandidateGroup.objects.get(organisation=world.college, name="Nieuw cohort")
    assert list(group.coordinators.all()) == [world.coordinator]
    visible = candidates_visible_to(world.coordinator).filter(
        candidate_number__in=["0000720", "0000721"]
    )
    assert visible.count() == 2


def test_coordinator_cannot_touch_candidate_they_cannot_see(world):
    headers = ["Kandidaatnummer", "Voornaam", "Achternaam"]
    data = xlsx_bytes([["0000002", "Bert", "Overschreven"]], headers=headers)
    batch = make_batch(world.coordinator, data, group_id=world.own_group.pk)
    plan = services.import_dry_run(batch).plan
    assert plan.counts["errors"] == 1
    assert "die jij niet kunt zien" in str(plan.errors[0])


def test_supervisors_linked_to_group_and_directly(world):
    batch = run_import(
        world.beheerder,
        xlsx_bytes(people(1, start=730)),
        group_id=world.other_group.pk,
        supervisor_ids=[world.supervisor.pk],
        link_supervisors_directly=True,
    )
    assert batch.status == ImportBatch.Status.DONE
    cand = Candidate.objects.get(candidate_number="0000730", organisation=world.college)
    assert list(cand.supervisors.all()) == [world.supervisor]
    assert world.supervisor in world.other_group.supervisors.all()


def test_file_group_column_links_each_candidate(world):
    headers = ["Kandidaatnummer", "Voornaam", "Achternaam", "Klas"]
    data = xlsx_bytes(
        [
            ["0740", "Jan", "Berg", "Zorg 1"],
            ["0741", "Piet", "Bos", "Techniek 1"],
            ["0742", "Kees", "Dam", "Bestaat niet"],
        ],
        headers=headers,
    )
    batch = make_batch(world.beheerder, data)
    plan = services.import_dry_run(batch).plan
    assert [str(e) for e in plan.errors] == [
        "Rij 4, kolom Klas: kandidaatgroep bestaat niet of je bent er niet aan gekoppeld"
    ]
    services.batch_set_options(batch=batch, skip_invalid=True)
    ImportBatch.objects.filter(pk=batch.pk).update(status=ImportBatch.Status.QUEUED)
    services.import_execute(batch.pk)
    assert Candidate.objects.get(candidate_number="0740").groups.get() == world.own_group
    assert Candidate.objects.get(candidate_number="0741").groups.get() == world.other_group


def test_passwords_from_file_are_validated_and_fully_hashed(world):
    headers = ["Kandidaatnummer", "Voornaam", "Achternaam", "Wachtwoord"]
    data = xlsx_bytes(
        [["0750", "Jan", "Berg", "Sterk-Wachtwoord-2026"], ["0751", "Piet", "Bos", "12345678"]],
        headers=headers,
    )
    batch = make_batch(world.beheerder, data, password_mode="file", group_id=world.own_group.pk)
    errors = [str(e) for e in services.import_dry_run(batch).plan.errors]
    assert len(errors) == 1
    assert errors[0].startswith("Rij 3, kolom Wachtwoord:")
    services.batch_set_options(batch=batch, skip_invalid=True)
    ImportBatch.objects.filter(pk=batch.pk).update(status=ImportBatch.Status.QUEUED)
    services.import_execute(batch.pk)
    user = User.objects.get(candidate__candidate_number="0750")
    assert check_password("Sterk-Wachtwoord-2026", user.password)
    assert identify_hasher(user.password).algorithm != "pbkdf2_sha256_generated"


def test_import_is_all_or_nothing_on_database_error(world, monkeypatch):
    from imports import services as svc

    def boom(*args, **kwargs):
        raise svc.IntegrityError("injected unique violation")

    monkeypatch.setattr(svc, "_link", boom)
    batch = run_import(
        world.beheerder, xlsx_bytes(people(20, start=800)), group_id=world.own_group.pk
    )
    assert batch.status == ImportBatch.Status.FAILED
    assert "Er is niets opgeslagen" in batch.failure_reason
    assert not Candidate.objects.filter(candidate_number__startswith="00008").exists()
    assert not User.objects.filter(username__startswith="rocm-00008").exists()
    monkeypatch.undo()
    assert services.import_requeue(batch=batch, actor=world.beheerder)
    batch = services.import_execute(batch.pk)
    assert batch.status == ImportBatch.Status.DONE
    assert Candidate.objects.filter(candidate_number__startswith="00008").count() == 20


def test_execute_twice_imports_once(world):
    batch = run_import(
        world.beheerder,
        xlsx_bytes(people(3, start=900)),
        group_id=world.own_group.pk,
        report_email="a@rocm.example",
    )
    again = services.import_execute(batch.pk)
    assert again.status == ImportBatch.Status.DONE
    assert Candidate.objects.filter(candidate_number__startswith="00009").count() == 3
    kinds = OutgoingMail.objects.filter(batch_id=batch.pk).values_list("kind", flat=True)
    assert sorted(kinds) == [OutgoingMail.Kind.IMPORT_REPORT, OutgoingMail.Kind.LOGIN_SLIPS]


def test_login_slips_are_a_task_of_their_own_queued_after_the_report(world, monkeypatch):
    """The import commits and queues the report mail first; the slips PDF is rendered by a
    task of its own, so with two worker processes the report does not wait for it."""
    queued: list[tuple] = []

    def record(name, *args):
        batch = ImportBatch.objects.get(pk=args[0])
        report = OutgoingMail.objects.get(batch_id=batch.pk, kind=OutgoingMail.Kind.IMPORT_REPORT)
        queued.append((name, args, batch.status, batch.slips, batch.slips_pending is None, report))

    monkeypatch.setattr(services, "_enqueue", record)
    batch = run_import(
        world.beheerder,
        xlsx_bytes(people(3, start=800)),
        group_id=world.own_group.pk,
        report_email="examen@rocm.example",
    )
    [(name, args, status, slips, no_entries, _report)] = queued
    assert (name, args) == (services.SLIPS_TASK, (str(batch.pk),))
    assert (status, slips, no_entries) == (ImportBatch.Status.DONE, None, False)
    assert not OutgoingMail.objects.filter(kind=OutgoingMail.Kind.LOGIN_SLIPS).exists()

    monkeypatch.undo()
    from imports.tasks import deliver_slips

    deliver_slips.delay(str(batch.pk))
    batch.refresh_from_db()
    assert batch.slips is not None and batch.slips_pending is None
    assert (
        OutgoingMail.objects.filter(batch_id=batch.pk, kind=OutgoingMail.Kind.LOGIN_SLIPS).count()
        == 1
    )
    deliver_slips.delay(str(batch.pk))  # a redelivery: nothing more
    assert OutgoingMail.objects.filter(kind=OutgoingMail.Kind.LOGIN_SLIPS).count() == 1
