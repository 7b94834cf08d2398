"""The nightly retention: accounts whose validity ended more than the college's retention
period ago are anonymised (or deleted), in bounded batches, idempotently, with one audit row
per run that names nobody."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.auth import authenticate
from django.db import connection
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.models import AuditLog, AuditLogSubject, OutgoingMail, RetiredUsername, User
from candidates.models import Candidate
from candidates.services import retention
from candidates.services.candidates import candidate_update
from candidates.tasks import apply_retention

from .factories import TEST_PASSWORD, CandidateFactory
from .helpers.candidates import today

pytestmark = pytest.mark.django_db


def expired(world, months_ago: int, n: int = 1, **kwargs) -> list[Candidate]:
    """Candidates whose last valid day was `months_ago` months and one day ago."""
    until = retention.shift_months(today(), -months_ago) - timedelta(days=1)
    return [
        CandidateFactory(
            organisation=world.college,
            groups=[world.own_group],
            birth_date=today().replace(year=2008),
            user__valid_until=until,
            user__is_active=False,
            **kwargs,
        )
        for _ in range(n)
    ]


def test_shift_months_clamps_to_the_last_day():
    from datetime import date

    assert retention.shift_months(date(2026, 3, 31), -1) == date(2026, 2, 28)
    assert retention.shift_months(date(2026, 1, 15), -12) == date(2025, 1, 15)
    assert retention.shift_months(date(2026, 11, 30), 3) == date(2027, 2, 28)


def test_anonymises_everything_personal(world):
    (old,) = expired(world, 12, user__username="oud-1", user__email="oud@example.test")
    number, username = old.candidate_number, old.user.username
    # An earlier change left the person's name in an audit row, and a mail waits for them.
    candidate_update(actor=world.beheerder, candidate=old, first_name="Geheim")
    OutgoingMail.objects.create(
        kind=OutgoingMail.Kind.CREDENTIALS,
        to="oud@example.test",
        recipient_user=old.user,
        subject="x",
        secret=b"sealed",
    )

    assert retention.accounts_apply_retention() == 1

    user = User.objects.get(pk=old.pk)
    candidate = Candidate.objects.get(pk=old.pk)
    assert user.username == f"geanonimiseerd-{old.pk}"
    assert (user.first_name, user.surname_prefix, user.last_name, user.email) == ("", "", "", "")
    assert not user.has_usable_password() and not user.is_active
    assert user.anonymised_at is not None and user.last_login is None
    assert candidate.candidate_number == f"geanonimiseerd-{old.pk}"
    assert candidate.birth_date is None and candidate.search_text == "" and candidate.name_key == ""
    assert not OutgoingMail.objects.filter(recipient_user=user).exists()
    # What the audit log said about them is gone; that something happened stays.
    about = AuditLog.objects.filter(target_user=user)
    assert about.exists()
    assert all(r.target_repr == "" and r.before == {} and r.after == {} for r in about)
    for name in (username, user.username):
        request = RequestFactory().post("/")
        assert authenticate(request, username=name, password=TEST_PASSWORD) is None
    assert RetiredUsername.objects.get(username=username).free_after > timezone.now()
    # The run's own row: a count, no one's name, number or username.
    (run,) = AuditLog.objects.filter(action=AuditLog.Action.ACCOUNTS_ANONYMISED)
    assert run.organisation == world.college and run.actor is None and run.target_user is None
    assert run.after == {"accounts": 1, "retention_months": 12}
    assert run.target_repr == ""
    text = f"{run.before}{run.after}{run.target_repr}"
    for secret in (username, number, "Geheim", "oud@example.test"):
        assert secret not in text


def test_leaves_accounts_within_the_period_alone(world):
    recent = expired(world, 11)
    expired(world, 12)
    assert retention.accounts_apply_retention() == 1
    assert User.objects.get(pk=recent[0].pk).anonymised_at is None
    # Never-ending validity and other colleges' settings are respected too.
    assert User.objects.get(pk=world.in_own_group.pk).anonymised_at is None


def test_each_college_its_own_period(world):
    world.other_college.retention_months = 24
    world.other_college.save()
    expired(world, 13)
    foreign = CandidateFactory(
        organisation=world.other_college,
        user__valid_until=retention.shift_months(today(), -13),
    )
    assert retention.accounts_apply_retention() == 1
    assert User.objects.get(pk=foreign.pk).anonymised_at is None


def test_idempotent(world):
    expired(world, 12, n=3)
    assert retention.accounts_apply_retention() == 3
    snapshot = list(User.objects.order_by("pk").values())
    assert retention.accounts_apply_retention() == 0
    assert list(User.objects.order_by("pk").values()) == snapshot
    # A second run that changed nothing writes no second audit row.
    assert AuditLog.objects.filter(action=AuditLog.Action.ACCOUNTS_ANONYMISED).count() == 1


def test_the_task_runs_it(world):
    expired(world, 12, n=2)
    assert apply_retention.apply().get() == 2


def _batch_queries(world, n: int) -> int:
    expired(world, 12, n=n)
    org = type(world.college).objects.get(pk=world.college.pk)
    cutoff = retention.shift_months(today(), -org.retention_months)
    due = Candidate.objects.filter(user__valid_until__lt=today(), user__anonymised_at=None)
    ids = sorted(due.values_list("pk", flat=True))
    with CaptureQueriesContext(connection) as ctx:
        assert retention._retention_batch(org, cutoff, ids[: retention.BATCH_SIZE]) == n
    return len(ctx.captured_queries)


@pytest.mark.parametrize("mode", ["anonymise", "delete"])
def test_queries_per_batch_do_not_grow_with_its_size(world, mode):
    """A full batch costs the same statements as a batch of two: nothing runs per account."""
    world.college.retention_action = mode
    world.college.save()
    small = _batch_queries(world, 2)
    full = _batch_queries(world, retention.BATCH_SIZE)
    assert small == full


def test_batches_are_bounded(world):
    victims = expired(world, 12, n=5)
    org = world.college
    cutoff = retention.shift_months(today(), -12)
    ids = sorted(c.pk for c in victims)
    assert retention._retention_batch(org, cutoff, ids[:2]) == 2
    assert User.objects.filter(anonymised_at__isnull=False).count() == 2
    assert retention.organisation_apply_retention(org, batch_size=2) == 3
    (run,) = AuditLog.objects.filter(action=AuditLog.Action.ACCOUNTS_ANONYMISED)
    assert run.after["accounts"] == 3


def test_a_batch_that_fails_leaves_no_half_anonymised_account(world, monkeypatch):
    victims = expired(world, 12, n=3)

    def boom(ids):
        raise RuntimeError("worker died")

    monkeypatch.setattr(retention, "_forget_in_audit_log", boom)
    with pytest.raises(RuntimeError):
        retention.accounts_apply_retention()
    for c in victims:
        user = User.objects.get(pk=c.pk)
        assert user.anonymised_at is None and user.username == c.user.username
        assert user.has_usable_password()
        assert Candidate.objects.get(pk=c.pk).candidate_number == c.candidate_number
    assert not RetiredUsername.objects.exists()
    assert not AuditLog.objects.filter(action=AuditLog.Action.ACCOUNTS_ANONYMISED).exists()


def test_delete_mode_deletes_and_reserves(world):
    world.college.retention_action = "delete"
    world.college.save()
    (old,) = expired(world, 12, user__username="weg-1")
    assert retention.accounts_apply_retention() == 1
    assert not User.objects.filter(pk=old.pk).exists()
    assert RetiredUsername.objects.filter(username="weg-1").exists()
    (run,) = AuditLog.objects.filter(action=AuditLog.Action.ACCOUNTS_DELETED)
    assert run.after == {"accounts": 1, "retention_months": 12} and run.target_repr == ""


def test_import_subjects_about_them_are_scrubbed(world):
    (old,) = expired(world, 12)
    row = AuditLog.objects.create(
        organisation=world.college, action=AuditLog.Action.IMPORT_FINISHED, after={"rows": 1}
    )
    AuditLogSubject.objects.create(
        audit=row,
        user=old.user,
        action=AuditLog.Action.USER_CREATED,
        target_repr=old.user.username,
        after={"first_name": "Geheim"},
    )
    retention.accounts_apply_retention()
    subject = AuditLogSubject.objects.get(audit=row)
    assert (subject.target_repr, subject.after) == ("", {})


def test_an_anonymised_account_is_shown_by_its_placeholder(world, client):
    from django.urls import reverse

    from .helpers.candidates import logged_in

    (old,) = expired(world, 12)
    retention.accounts_apply_retention()
    placeholder = f"geanonimiseerd-{old.pk}"
    user = User.objects.get(pk=old.pk)
    assert user.display_name == user.sort_name == str(user) == placeholder
    page = logged_in(client, world.beheerder).get(reverse("candidates:list")).content.decode()
    assert f">{placeholder}</a>" in page
