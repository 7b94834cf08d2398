"""The nightly tasks, run once through the real Celery beat schedule."""

import pytest
from celery.beat import Scheduler
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.models import AuditLog, OutgoingMail
from candidates import tasks  # noqa: F401  (registers the tasks with the Celery app)
from candidates.services.candidates import candidates_deactivate_expired
from config.celery import app as celery_app

from .factories import CandidateFactory, UserFactory
from .helpers.candidates import days, make_candidate, make_candidates, rows

NIGHTLY = ("deactivate-expired-candidates", "mail-expiry-digests")


def run_beat_once(*names):
    """What `celery beat` does when the entries fall due: apply each scheduled entry. With no
    broker configured (tests), Celery runs the task in-process (task_always_eager)."""
    scheduler = Scheduler(app=celery_app, lazy=True)
    scheduler.setup_schedule()
    for name in names:
        entry = scheduler.schedule[name]
        scheduler.apply_entry(entry, producer=None)


def test_the_beat_schedule_names_our_tasks():
    schedule = celery_app.conf.beat_schedule
    assert schedule["deactivate-expired-candidates"]["task"] == (
        "candidates.tasks.deactivate_expired_candidates"
    )
    assert schedule["mail-expiry-digests"]["task"] == "candidates.tasks.send_expiry_digests"
    assert "candidates.tasks.deactivate_expired_candidates" in celery_app.tasks
    assert "candidates.tasks.send_expiry_digests" in celery_app.tasks


@pytest.fixture
def lifecycle(world):
    expired = make_candidate(world, user__username="kand-verlopen", user__valid_until=days(-1))
    last_day = make_candidate(world, user__username="kand-vandaag", user__valid_until=days(0))
    soon = make_candidate(
        world,
        user__username="kand-binnenkort",
        user__last_name="Binnenkort",
        user__valid_until=days(20),
    )
    later = make_candidate(world, user__username="kand-later", user__valid_until=days(45))
    other_soon = make_candidate(
        world,
        groups=[world.other_group],
        user__username="kand-ander-binnenkort",
        user__valid_until=days(5),
    )
    foreign_expired = CandidateFactory(
        organisation=world.other_college,
        groups=[world.foreign_group],
        user__username="kand-vreemd-verlopen",
        user__valid_until=days(-30),
    )
    return {
        "expired": expired,
        "last_day": last_day,
        "soon": soon,
        "later": later,
        "other_soon": other_soon,
        "foreign_expired": foreign_expired,
    }


def active(candidate) -> bool:
    candidate.user.refresh_from_db()
    return candidate.user.is_active


def test_nightly_run_deactivates_expired_accounts_and_logs_it(world, lifecycle):
    run_beat_once("deactivate-expired-candidates")
    assert not active(lifecycle["expired"])
    assert not active(lifecycle["foreign_expired"])  # every college, each in its own log
    assert active(lifecycle["last_day"])  # valid through today
    assert active(lifecycle["soon"]) and active(world.in_own_group)
    (row,) = rows(AuditLog.Action.ACCOUNT_EXPIRED, lifecycle["expired"])
    assert row.actor is None and row.organisation == world.college
    assert row.before == {"is_active": True}
    assert row.after == {"is_active": False, "valid_until": days(-1).isoformat()}
    (foreign_row,) = rows(AuditLog.Action.ACCOUNT_EXPIRED, lifecycle["foreign_expired"])
    assert foreign_row.organisation == world.other_college
    # A second night finds nothing more to do.
    run_beat_once("deactivate-expired-candidates")
    assert len(rows(AuditLog.Action.ACCOUNT_EXPIRED)) == 2


def test_nightly_run_mails_each_coordinator_a_digest(
    world, lifecycle, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        run_beat_once(*NIGHTLY)
    by_recipient = {m.to[0]: m for m in mail.outbox}
    assert set(by_recipient) == {world.coordinator.email, world.other_coordinator.email}

    mine = by_recipient[world.coordinator.email]
    assert mine.subject == "2 accounts verlopen binnen 30 dagen"
    assert "kand-binnenkort" in mine.body and "kand-vandaag" in mine.body
    assert "kand-later" not in mine.body  # beyond 30 days
    assert "kand-verlopen" not in mine.body  # already expired and deactivated
    assert "kand-ander-binnenkort" not in mine.body  # not in this coordinator's groups
    assert "Zorg 1" in mine.body
    assert "?validity=expiring" in mine.body
    html = mine.alternatives[0][0]
    assert "<td>kand-binnenkort</td>" in html

    theirs = by_recipient[world.other_coordinator.email]
    assert theirs.subject == "1 account verloopt binnen 30 dagen"
    assert "kand-ander-binnenkort" in theirs.body and "kand-binnenkort" not in theirs.body

    assert OutgoingMail.objects.filter(kind=OutgoingMail.Kind.EXPIRY_DIGEST).count() == 2
    # Running again on the same day sends nothing twice.
    with django_capture_on_commit_callbacks(execute=True):
        run_beat_once("mail-expiry-digests")
    assert len(mail.outbox) == 2


def test_no_digest_without_expiring_accounts_or_address(world, django_capture_on_commit_callbacks):
    quiet = UserFactory(organisation=world.college, role="toetscoordinator", email="")
    world.own_group.coordinators.add(quiet)
    make_candidate(world, user__valid_until=days(3))
    with django_capture_on_commit_callbacks(execute=True):
        run_beat_once("mail-expiry-digests")
    # coord has one expiring candidate; coord2 has none; the one without an address gets none.
    assert [m.to[0] for m in mail.outbox] == [world.coordinator.email]


def test_expiry_runs_in_bounded_batches_with_the_same_queries_each(world):
    expired = make_candidates(world.college, world.own_group, 5, user__valid_until=days(-1))
    # 5 accounts in batches of 2 make three batches and one empty read (in its own savepoint:
    # three queries) that ends the run; 9 make five. Every batch costs the same queries.
    with CaptureQueriesContext(connection) as two_batches:
        assert candidates_deactivate_expired(batch_size=2) == 5
    for candidate in expired:
        candidate.user.refresh_from_db()
        assert candidate.user.is_active is False
    assert candidates_deactivate_expired(batch_size=2) == 0  # safe to run twice
    more = make_candidates(world.college, world.own_group, 9, user__valid_until=days(-1))
    with CaptureQueriesContext(connection) as five_batches:
        assert candidates_deactivate_expired(batch_size=2) == len(more)
    per_batch = (len(five_batches) - len(two_batches)) // 2
    assert len(two_batches) == 3 * per_batch + 3
    assert len(five_batches) == 5 * per_batch + 3
