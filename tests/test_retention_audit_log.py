"""The audit log's own retention: rows older than the college's period go nightly, except the
rows that prove what the college deleted and under which settings."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.models import AuditLog, AuditLogSubject
from candidates.services import retention

pytestmark = pytest.mark.django_db


def row(org, action, days_ago: int) -> AuditLog:
    return AuditLog.objects.create(
        organisation=org, action=action, created=timezone.now() - timedelta(days=days_ago)
    )


def test_old_rows_go_kept_kinds_stay(world):
    old = row(world.college, AuditLog.Action.USER_CHANGED, 800)
    AuditLogSubject.objects.create(audit=old, action=AuditLog.Action.USER_CREATED)
    recent = row(world.college, AuditLog.Action.USER_CHANGED, 600)
    kept = [row(world.college, action, 2000) for action in retention.AUDIT_KEPT_ACTIONS]
    assert retention.audit_log_purge() == 1
    assert not AuditLog.objects.filter(pk=old.pk).exists()
    assert not AuditLogSubject.objects.exists()
    assert AuditLog.objects.filter(pk__in=[recent.pk, *(k.pk for k in kept)]).count() == 5
    (run,) = AuditLog.objects.filter(
        action=AuditLog.Action.AUDIT_PURGED, created__gt=timezone.now() - timedelta(hours=1)
    )
    assert run.after == {"audit_rows": 1, "audit_retention_months": 24}
    assert run.organisation == world.college and run.actor is None


def test_each_college_its_own_period_and_idempotent(world):
    world.college.audit_retention_months = 6
    world.college.save()
    row(world.college, AuditLog.Action.LOGIN, 200)
    foreign = row(world.other_college, AuditLog.Action.LOGIN, 200)
    assert retention.audit_log_purge() == 1
    assert AuditLog.objects.filter(pk=foreign.pk).exists()
    assert retention.audit_log_purge() == 0
    assert AuditLog.objects.filter(action=AuditLog.Action.AUDIT_PURGED).count() == 1


def test_rows_of_no_college_follow_the_default(db):
    old = row(None, AuditLog.Action.LOGIN_FAILED, 800)
    recent = row(None, AuditLog.Action.LOGIN_FAILED, 100)
    assert retention.audit_log_purge() == 1
    assert not AuditLog.objects.filter(pk=old.pk).exists()
    assert AuditLog.objects.filter(pk=recent.pk).exists()


def test_bounded_batches(world):
    for _ in range(5):
        row(world.college, AuditLog.Action.LOGIN, 800)
    assert retention.audit_log_purge(batch_size=2) == 5
    (run,) = AuditLog.objects.filter(action=AuditLog.Action.AUDIT_PURGED)
    assert run.after["audit_rows"] == 5


def test_import_results_follow_the_audit_retention(world):
    from imports.models import ImportBatch
    from imports.tasks import forget_old_import_results

    results = [{"row": 2, "name": "Anna Eigen", "username": "kand-own"}]

    def batch(days_ago: int) -> ImportBatch:
        b = ImportBatch.objects.create(
            organisation=world.college,
            created_by=world.beheerder,
            file_name="k.xlsx",
            file_format="xlsx",
            results=results,
            counts={"rows": 1},
        )
        ImportBatch.objects.filter(pk=b.pk).update(
            created=timezone.now() - timedelta(days=days_ago)
        )
        return b

    old, recent = batch(800), batch(30)
    assert forget_old_import_results.apply().get() == 1
    old.refresh_from_db()
    recent.refresh_from_db()
    assert old.results == [] and old.counts == {"rows": 1}
    assert recent.results == results
    assert forget_old_import_results.apply().get() == 0


def test_old_sent_mails_go_with_the_audit_log(world):
    from accounts.models import OutgoingMail

    def mail(days_ago: int, status: str) -> OutgoingMail:
        return OutgoingMail.objects.create(
            organisation=world.college,
            kind=OutgoingMail.Kind.EXPIRY_DIGEST,
            to="coord@example.test",
            subject="3 accounts verlopen binnen 30 dagen",
            context={"kandidaten": [{"naam": "Eigen, Anna"}]},
            status=status,
            created=timezone.now() - timedelta(days=days_ago),
        )

    old_sent, old_failed = mail(800, "sent"), mail(800, "failed")
    old_pending, recent = mail(800, "pending"), mail(30, "sent")
    retention.audit_log_purge()
    left = set(OutgoingMail.objects.values_list("pk", flat=True))
    assert left == {old_pending.pk, recent.pk}
    assert old_sent.pk not in left and old_failed.pk not in left
