"""Thin tasks: ids in, services do the work."""

from celery import shared_task
from django.utils import timezone

from .models import ImportBatch, ImportFile
from .services import import_execute, import_hash_chunk


@shared_task(acks_late=True, reject_on_worker_lost=True)
def run_import(batch_id: str) -> None:
    import_execute(batch_id)


@shared_task(acks_late=True, reject_on_worker_lost=True)
def hash_file_passwords(batch_id: str, rows: list[int]) -> None:
    import_hash_chunk(batch_id, rows)


@shared_task
def purge_expired_uploads() -> int:
    """Uploads and encrypted login slips live at most KB_UPLOAD_RETENTION_HOURS."""
    now = timezone.now()
    expired = ImportBatch.objects.filter(expires_at__lt=now)
    deleted, _ = ImportFile.objects.filter(batch__in=expired).delete()
    expired.exclude(slips=None).update(slips=None)
    return deleted
