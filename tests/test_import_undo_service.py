"""Undoing an import (imports.undo): what goes, what comes back, what is left alone."""

import threading
from datetime import date
from types import SimpleNamespace

import pytest
from django.db import OperationalError, connection, transaction
from django.utils import timezone

from accounts.models import AuditLog, AuditLogSubject, User
from candidates.models import Candidate, CandidateGroup
from imports import tasks, undo
from imports.models import ImportBatch

from .helpers.undo import changed_later, finished_days_ago, import_rows, row, signed_in, user_of

pytestmark = pytest.mark.django_db

NEW = [row("0000101", "Fenna", "Nieuw"), row("0000102", "Gijs", "Nieuw")]


def allow_coordinators_to_delete(college) -> None:
    college.coordinators_may_delete = True
    college.save(update_fields=["coordinators_may_delete"])


def undone(batch, actor) -> undo.UndoPlan:
    plan = undo.undo_now(batch_id=batch.pk, actor=actor)
    batch.refresh_from_db()
    return plan


def test_created_accounts_are_deleted_and_the_undo_is_one_audit_row(world):
    batch = import_rows(world.beheerder, NEW, group_id=world.own_group.pk)
    ids = [user_of(n, world.college).pk for n in ("0000101", "0000102")]

    preview = undo.undo_plan(batch, world.beheerder)
    assert sorted(preview.delete) == sorted(ids)
    assert Candidate.objects.filter(pk__in=ids).count() == 2  # the preview changed nothing

    plan = undone(batch, world.beheerder)

    assert not User.objects.filter(pk__in=ids).exists()
    assert not Candidate.objects.filter(pk__in=ids).exists()
    assert plan.counts == {
        "deleted": 2,
        "deactivated": 0,
        "restored": 0,
        "links_removed": 0,
        "groups_removed": 0,
        "conflicts": 0,
        "hidden": 0,
        "passwords_kept": 0,
    }
    row_ = AuditLog.objects.get(action=AuditLog.Action.IMPORT_UNDONE)
    assert (row_.actor, row_.organisation, row_.target_repr) == (
        world.beheerder,
        world.college,
        "kandidaten.xlsx",
    )
    assert row_.after == {"batch": str(batch.pk), **plan.counts}
    assert batch.undone_at is not None and batch.undone_by == world.beheerder
    assert batch.undo_counts["deleted"] == 2
    assert CandidateGroup.objects.filter(pk=world.own_group.pk).exists()  # not the import's


def test_changed_fields_get_their_previous_values_back(world):
    anna = world.in_own_group.user
    before = (anna.first_name, anna.email, world.in_own_group.birth_date)
    batch = import_rows(
        world.beheerder,
        [row("0000001", "Annie", "Eigen", "annie@nieuw.example", date(2007, 5, 6))],
        group_id=world.own_group.pk,
    )
    anna.refresh_from_db()
    assert (anna.first_name, anna.email) == ("Annie", "annie@nieuw.example")

    plan = undone(batch, world.beheerder)

    anna.refresh_from_db()
    candidate = Candidate.objects.get(pk=anna.pk)
    assert (anna.first_name, anna.email, candidate.birth_date) == before
    assert "annie" not in candidate.search_text and "anna" in candidate.search_text
    assert plan.counts["restored"] == 1
    subject = AuditLogSubject.objects.get(audit__action=AuditLog.Action.IMPORT_UNDONE)
    assert subject.user == anna
    assert subject.after["first_name"] == "Anna"
    assert subject.before["first_name"] == "Annie"


def test_links_the_import_added_are_removed_and_older_ones_kept(world):
    bert = world.in_other_group
    batch = import_rows(
        world.beheerder,
        [row("0000002", "Bert", "Ander", "kand-other@example.test")],
        group_id=world.own_group.pk,
    )
    assert set(bert.groups.all()) == {world.other_group, world.own_group}

    plan = undone(batch, world.beheerder)

    assert set(bert.groups.all()) == {world.other_group}
    assert plan.counts["links_removed"] == 1
    assert plan.restore == {bert.pk: {"valid_until": None}}  # the import extended validity


def test_a_group_the_import_created_is_removed_when_empty(world):
    batch = import_rows(world.beheerder, NEW, new_group_name="Nieuw 2027")
    assert CandidateGroup.objects.filter(name="Nieuw 2027").exists()

    plan = undone(batch, world.beheerder)

    assert not CandidateGroup.objects.filter(name="Nieuw 2027").exists()
    assert plan.counts["groups_removed"] == 1


def test_a_created_group_with_a_member_left_alone_stays(world):
    batch = import_rows(world.beheerder, NEW, new_group_name="Nieuw 2027")
    changed_later(user_of("0000101", world.college), world.beheerder, first_name="Fenne")

    plan = undone(batch, world.beheerder)

    group = CandidateGroup.objects.get(name="Nieuw 2027")
    assert [c.candidate_number for c in group.members.all()] == ["0000101"]
    assert plan.counts["groups_removed"] == 0
    assert plan.counts["deleted"] == 1


def test_an_account_used_since_the_import_is_deactivated_not_deleted(world):
    batch = import_rows(world.beheerder, NEW, new_group_name="Nieuw 2027")
    fenna = user_of("0000101", world.college)
    signed_in(fenna)  # a sign-in is no change: no conflict

    plan = undone(batch, world.beheerder)

    fenna.refresh_from_db()
    assert fenna.is_active is False
    assert list(Candidate.objects.get(pk=fenna.pk).groups.all()) == []
    assert (plan.deactivate, plan.counts["deleted"], plan.counts["conflicts"]) == ([fenna.pk], 1, 0)
    assert not CandidateGroup.objects.filter(name="Nieuw 2027").exists()
    subject = AuditLogSubject.objects.get(audit__action=AuditLog.Action.IMPORT_UNDONE)
    assert (subject.user, subject.after) == (fenna, {"is_active": False})


def test_a_candidate_changed_after_the_import_is_a_conflict_and_left_alone(world):
    anna = world.in_own_group.user
    batch = import_rows(
        world.beheerder, [row("0000001", "Annie", "Eigen"), *NEW], group_id=world.own_group.pk
    )
    changed_later(anna, world.coordinator, last_name="Eigenaar")
    gijs = user_of("0000102", world.college)
    changed_later(gijs, world.beheerder, email="gijs@elders.example")

    preview = undo.undo_plan(batch, world.beheerder)
    assert [(c.username, c.name, c.reason) for c in preview.conflicts] == [
        ("kand-own", "Annie Eigenaar", "na de import opnieuw gewijzigd"),
        (gijs.username, "Gijs Nieuw", "na de import opnieuw gewijzigd"),
    ]

    plan = undone(batch, world.beheerder)

    anna.refresh_from_db()
    assert (anna.first_name, anna.last_name) == ("Annie", "Eigenaar")
    assert User.objects.filter(pk=gijs.pk).exists()
    assert not Candidate.objects.filter(candidate_number="0000101").exists()
    assert (plan.counts["conflicts"], plan.counts["deleted"]) == (2, 1)
    assert batch.undo_counts["conflict_list"] == [c.to_json() for c in preview.conflicts]


def test_a_later_import_of_the_same_candidate_is_a_conflict(world):
    first = import_rows(world.beheerder, [row("0000001", "Annie", "Eigen")])
    import_rows(world.beheerder, [row("0000001", "Anne", "Eigen")])

    plan = undone(first, world.beheerder)

    world.in_own_group.user.refresh_from_db()
    assert world.in_own_group.user.first_name == "Anne"
    assert plan.counts["conflicts"] == 1


def test_a_previous_username_taken_since_is_a_conflict(world):
    anna = world.in_own_group.user
    batch = import_rows(world.beheerder, [row("0000001", "Annie", "Eigen")])
    # The import gave Anna a new username? Only when the file has one; give it here.
    AuditLogSubject.objects.filter(audit__after__batch=str(batch.pk)).update(
        before={"first_name": "Anna", "username": "kand-other"},
        after={"first_name": "Annie", "username": "kand-own"},
    )

    plan = undone(batch, world.beheerder)

    anna.refresh_from_db()
    assert anna.first_name == "Annie"
    assert [c.reason for c in plan.conflicts] == [
        "de vorige gebruikersnaam is nu van een ander account"
    ]


@pytest.mark.parametrize(("days", "allowed"), [(13.9, True), (14.1, False)])
def test_only_an_import_of_the_last_14_days_can_be_undone(world, days, allowed):
    batch = import_rows(world.beheerder, NEW)
    finished_days_ago(batch, days)
    batch.refresh_from_db()
    if allowed:
        undo.undo_check(batch, world.beheerder)
        assert undo.undoable(batch)
        return
    with pytest.raises(undo.UndoRefused) as refused:
        undo.undo_now(batch_id=batch.pk, actor=world.beheerder)
    assert (refused.value.code, refused.value.message) == (
        "too_old",
        "Deze import is ouder dan 14 dagen en kan niet meer ongedaan worden gemaakt.",
    )
    assert Candidate.objects.filter(candidate_number="0000101").exists()


@pytest.mark.parametrize(
    ("who", "may"),
    [
        ("coordinator", True),  # who ran it
        ("beheerder", True),
        ("other_coordinator", False),
        ("supervisor", False),
        ("outsider", False),  # a beheerder of another college
    ],
)
def test_who_may_undo(world, who, may):
    allow_coordinators_to_delete(world.college)
    batch = import_rows(world.coordinator, NEW, group_id=world.own_group.pk)
    actor = getattr(world, who)
    if may:
        undone(batch, actor)
        assert not Candidate.objects.filter(candidate_number="0000101").exists()
        return
    with pytest.raises(undo.UndoRefused) as refused:
        undo.undo_now(batch_id=batch.pk, actor=actor)
    assert (refused.value.code, refused.value.message) == (
        "not_allowed",
        "Je mag deze import niet ongedaan maken.",
    )
    assert Candidate.objects.filter(candidate_number="0000101").exists()
    assert not AuditLog.objects.filter(action=AuditLog.Action.IMPORT_UNDONE).exists()


def test_a_candidate_the_actor_no_longer_sees_is_left_alone_and_not_named(world):
    allow_coordinators_to_delete(world.college)
    batch = import_rows(world.coordinator, NEW, group_id=world.own_group.pk)
    gijs = user_of("0000102", world.college)
    # Moved out of the coordinator's sight without a trace in the audit log.
    Candidate.groups.through.objects.filter(candidate_id=gijs.pk).delete()

    plan = undone(batch, world.coordinator)

    assert User.objects.filter(pk=gijs.pk).exists()
    assert (plan.counts["hidden"], plan.counts["deleted"], plan.conflicts) == (1, 1, [])


def test_an_import_cannot_be_undone_twice(world):
    batch = import_rows(world.beheerder, NEW)
    undone(batch, world.beheerder)

    with pytest.raises(undo.UndoRefused) as refused:
        undo.undo_now(batch_id=batch.pk, actor=world.beheerder)
    assert refused.value.code == "already_undone"
    assert refused.value.message.startswith("Deze import is al ongedaan gemaakt op ")
    assert AuditLog.objects.filter(action=AuditLog.Action.IMPORT_UNDONE).count() == 1
    assert not undo.undoable(ImportBatch.objects.get(pk=batch.pk))


def test_a_failed_import_cannot_be_undone(world):
    batch = import_rows(world.beheerder, NEW)
    ImportBatch.objects.filter(pk=batch.pk).update(status=ImportBatch.Status.FAILED)
    batch.refresh_from_db()
    with pytest.raises(undo.UndoRefused) as refused:
        undo.undo_check(batch, world.beheerder)
    assert refused.value.code == "not_done"


def test_a_large_import_is_claimed_and_queued_once(
    world, monkeypatch, django_capture_on_commit_callbacks
):
    monkeypatch.setattr(undo, "TASK_THRESHOLD", 1)
    sent = []
    monkeypatch.setattr(undo, "_enqueue", lambda *args: sent.append(args))
    batch = import_rows(world.beheerder, NEW)

    with django_capture_on_commit_callbacks(execute=True):
        assert undo.undo_request(batch=batch, actor=world.beheerder, ip="10.0.0.1") is None
    assert sent == [("imports.tasks.undo_import", str(batch.pk), "10.0.0.1")]
    with pytest.raises(undo.UndoRefused) as refused:
        undo.undo_request(batch=batch, actor=world.beheerder)
    assert (refused.value.code, refused.value.message) == (
        "already_undone",
        "Deze import wordt al ongedaan gemaakt.",
    )

    undo.undo_run_queued(str(batch.pk), "10.0.0.1")
    batch.refresh_from_db()
    assert batch.undone_at is not None
    assert not Candidate.objects.filter(candidate_number__in=["0000101", "0000102"]).exists()
    assert AuditLog.objects.get(action=AuditLog.Action.IMPORT_UNDONE).ip_address == "10.0.0.1"
    undo.undo_run_queued(str(batch.pk))  # delivered twice: nothing more
    assert AuditLog.objects.filter(action=AuditLog.Action.IMPORT_UNDONE).count() == 1


def test_a_queue_that_cannot_reach_the_broker_gives_the_claim_back(
    world, monkeypatch, django_capture_on_commit_callbacks
):
    monkeypatch.setattr(undo, "TASK_THRESHOLD", 1)

    def broker_down(*args):
        raise ConnectionError("no broker")

    monkeypatch.setattr(undo, "_enqueue", broker_down)
    batch = import_rows(world.beheerder, NEW)
    with django_capture_on_commit_callbacks(execute=True):
        undo.undo_request(batch=batch, actor=world.beheerder)
    batch.refresh_from_db()
    assert (batch.undo_queued_at, batch.undone_at) == (None, None)
    assert batch.undo_failure == (
        "De achtergrondverwerking is nu niet bereikbaar. Probeer het later opnieuw."
    )
    assert undo.undoable(batch)


def test_database_trouble_is_retried_then_the_claim_is_given_back(world, monkeypatch):
    batch = import_rows(world.beheerder, NEW)
    ImportBatch.objects.filter(pk=batch.pk).update(
        undo_queued_at=timezone.now(), undone_by=world.beheerder
    )
    calls = []

    def database_down(**kwargs):
        calls.append(kwargs["batch_id"])
        raise OperationalError("server closed the connection unexpectedly")

    monkeypatch.setattr(undo, "undo_now", database_down)
    # The task closes a broken connection before it retries; this test's connection holds
    # its transaction, so it stays open.
    monkeypatch.setattr(tasks, "connection", SimpleNamespace(close=lambda: None))

    tasks.undo_import.apply(args=[str(batch.pk)])

    assert len(calls) == 1 + tasks.DATABASE_RETRIES  # the claim was kept for each retry
    batch.refresh_from_db()
    assert (batch.undo_queued_at, batch.undone_at) == (None, None)
    assert batch.undo_failure == (
        "De database was niet bereikbaar. Er is niets gewijzigd; probeer het later opnieuw."
    )
    assert Candidate.objects.filter(candidate_number="0000101").exists()


# --- the college's delete right (review of issue 12 §5) -------------------------------------------


def test_a_coordinator_without_the_delete_right_deactivates_instead_of_deleting(world):
    """Review: the undo deleted the import's accounts although the college does not let
    coordinators delete (coordinators_may_delete=False, may_delete_candidates)."""
    world.college.coordinators_may_delete = False
    world.college.save(update_fields=["coordinators_may_delete"])
    batch = import_rows(
        world.coordinator, [row("0000101", "Fenna", "Nieuw")], group_id=world.own_group.pk
    )
    pk = user_of("0000101", world.college).pk

    plan = undone(batch, world.coordinator)

    assert User.objects.filter(pk=pk).exists(), "coordinator without delete right deleted it"
    fenna = User.objects.get(pk=pk)
    assert fenna.is_active is False
    assert not Candidate.groups.through.objects.filter(candidate_id=pk).exists()
    assert (plan.no_delete_right, plan.delete, plan.deactivate) == (True, [], [pk])
    assert (plan.counts["deleted"], plan.counts["deactivated"]) == (0, 1)
    assert batch.undo_counts["no_delete_right"] is True
    subject = AuditLogSubject.objects.get(audit__action=AuditLog.Action.IMPORT_UNDONE)
    assert (subject.user_id, subject.after) == (pk, {"is_active": False})


def test_the_beheerder_deletes_whatever_the_coordinators_may(world):
    batch = import_rows(
        world.coordinator, [row("0000101", "Fenna", "Nieuw")], group_id=world.own_group.pk
    )
    pk = user_of("0000101", world.college).pk

    plan = undone(batch, world.beheerder)

    assert not User.objects.filter(pk=pk).exists()
    assert (plan.no_delete_right, plan.counts["deleted"]) == (False, 1)


# --- deleted or changed between the plan and the writes (PostgreSQL's read committed) ----------


def plan_then(monkeypatch, meanwhile) -> None:
    """Run `meanwhile` right after the undo's plan is read, as a deletion or an edit committing
    in another transaction at that moment would (they do not take the college lock)."""
    real = undo.undo_plan

    def plan_and_interleave(batch, actor):
        plan = real(batch, actor)
        meanwhile()
        return plan

    monkeypatch.setattr(undo, "undo_plan", plan_and_interleave)


def test_a_candidate_deleted_after_the_plan_is_a_conflict_not_an_error(world, monkeypatch):
    batch = import_rows(
        world.beheerder,
        [row("0000001", "Annie", "Eigen"), *NEW],
        new_group_name="Nieuw 2027",
    )
    anna, gijs = world.in_own_group.user, user_of("0000102", world.college)
    fenna = user_of("0000101", world.college)
    plan_then(monkeypatch, lambda: User.objects.filter(pk__in=[anna.pk, gijs.pk]).delete())

    plan = undone(batch, world.beheerder)

    assert [c.to_json() for c in plan.conflicts] == [
        {"username": "", "name": "—", "reason": "verwijderd sinds de import"}
    ] * 2
    assert {c.user_id for c in plan.conflicts} == {anna.pk, gijs.pk}
    assert (plan.delete, plan.restore, plan.counts["links_removed"]) == (
        [fenna.pk],
        {},
        0,  # Anna's link went with her; Fenna's with Fenna
    )
    assert not Candidate.objects.filter(candidate_number__in=["0000101", "0000102"]).exists()
    assert not CandidateGroup.objects.filter(name="Nieuw 2027").exists()
    assert batch.undone_at is not None and batch.undo_counts["conflicts"] == 2


def test_a_candidate_changed_after_the_plan_keeps_the_change(world, monkeypatch):
    batch = import_rows(
        world.beheerder,
        [row("0000001", "Annie", "Eigen"), *NEW],
        new_group_name="Nieuw 2027",
    )
    anna, fenna = world.in_own_group.user, user_of("0000101", world.college)
    plan_then(
        monkeypatch,
        lambda: (
            changed_later(anna, world.beheerder, last_name="Eigenaar"),
            changed_later(fenna, world.beheerder, last_name="Later"),
        ),
    )

    plan = undone(batch, world.beheerder)

    anna.refresh_from_db()
    assert (anna.first_name, anna.last_name) == ("Annie", "Eigenaar")  # not overwritten
    assert User.objects.filter(pk=fenna.pk).exists()  # not deleted
    assert [(c.user_id, c.name, c.reason) for c in plan.conflicts] == [
        (anna.pk, "Annie Eigenaar", "na de import opnieuw gewijzigd"),
        (fenna.pk, "Fenna Later", "na de import opnieuw gewijzigd"),
    ]
    assert (plan.restore, plan.counts["deleted"], plan.counts["groups_removed"]) == ({}, 1, 0)
    group = CandidateGroup.objects.get(name="Nieuw 2027")  # Anna and Fenna are still in it
    assert set(group.members.values_list("pk", flat=True)) == {anna.pk, fenna.pk}
    assert not AuditLogSubject.objects.filter(audit__action=AuditLog.Action.IMPORT_UNDONE).exists()


@pytest.mark.django_db(transaction=True)
def test_on_postgresql_a_deletion_and_an_edit_committed_meanwhile_are_conflicts(world, monkeypatch):
    """The same as above with real transactions: another connection deletes one candidate and
    edits another, and commits, after the undo's plan and before its locks."""
    if connection.vendor != "postgresql":
        pytest.skip("read committed between two connections: PostgreSQL only")
    batch = import_rows(world.beheerder, [row("0000001", "Annie", "Eigen"), *NEW])
    anna, gijs = world.in_own_group.user, user_of("0000102", world.college)

    def elsewhere():
        try:
            with transaction.atomic():
                User.objects.filter(pk=gijs.pk).delete()
                changed_later(anna, world.beheerder, last_name="Eigenaar")
        finally:
            connection.close()

    def meanwhile():
        other = threading.Thread(target=elsewhere)
        other.start()
        other.join(timeout=60)
        assert not other.is_alive()

    plan_then(monkeypatch, meanwhile)

    plan = undone(batch, world.beheerder)

    anna.refresh_from_db()
    assert (anna.first_name, anna.last_name) == ("Annie", "Eigenaar")
    assert sorted((c.user_id, c.reason) for c in plan.conflicts) == sorted(
        [(anna.pk, "na de import opnieuw gewijzigd"), (gijs.pk, "verwijderd sinds de import")]
    )
    assert plan.counts["deleted"] == 1 and batch.undone_at is not None
