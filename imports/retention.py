"""What an import keeps about people, kept no longer than the college keeps its audit log.

The per-row results of an import (name, username and candidate number of every row, shown in
the import history) are personal data of the candidates it touched. They serve a teacher
checking what an import did, which is the audit log's purpose too, so they follow the
college's 'Bewaartermijn auditlog': after it, the batch keeps its counts and loses its rows.
"""

from __future__ import annotations

from datetime import datetime

from django.utils import timezone

from accounts.models import Organisation
from candidates.services.retention import shift_months

from .models import ImportBatch


def import_results_forget(*, now: datetime | None = None) -> int:
    """Empty the per-row results of imports older than each college's audit retention
    period; a fixed number of queries per college, and safe to run twice."""
    now = now or timezone.now()
    total = 0
    for org in Organisation.objects.order_by("pk"):
        day = shift_months(now.date(), -org.audit_retention_months)
        cutoff = now.replace(year=day.year, month=day.month, day=day.day)
        old = ImportBatch.objects.filter(organisation=org, created__lt=cutoff).exclude(results=[])
        total += old.update(results=[])
    return total
