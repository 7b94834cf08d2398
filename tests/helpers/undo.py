"""Shared steps of the undo tests: run an import, then act on its candidates afterwards."""

from __future__ import annotations

from datetime import date, timedelta

from django.utils import timezone

from accounts.models import AuditLog, User
from accounts.services import audit
from candidates.models import Candidate
from imports.models import ImportBatch

from .imports import run_import, xlsx_bytes


def import_rows(actor, rows: list[list], **options) -> ImportBatch:
    batch = run_import(actor, xlsx_bytes(rows), **options)
    assert batch.status == ImportBatch.Status.DONE, batch.failure_reason
    return batch


def row(number: str, first: str, last: str, email: str = "", born: date | None = None) -> list:
    return [number, first, "", last, email, born]


def user_of(number: str, college) -> User:
    return (
        Candidate.objects.select_related("user")
        .get(organisation=college, candidate_number=number)
        .user
    )


def signed_in(user: User) -> None:
    """What a real sign-in leaves: last_login, and an audit row that is no change."""
    User.objects.filter(pk=user.pk).update(last_login=timezone.now())
    audit(action=AuditLog.Action.LOGIN, actor=user, target=user)


def changed_later(user: User, by: User, **fields) -> None:
    """A change after the import, the way every service records it."""
    before = {k: getattr(user, k) for k in fields}
    User.objects.filter(pk=user.pk).update(**fields)
    audit(action=AuditLog.Action.USER_CHANGED, actor=by, target=user, before=before, after=fields)


def finished_days_ago(batch: ImportBatch, days: float) -> None:
    ImportBatch.objects.filter(pk=batch.pk).update(
        finished_at=timezone.now() - timedelta(days=days)
    )
