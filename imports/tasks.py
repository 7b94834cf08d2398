"""Thin tasks: ids in, services do the work.

A task that ends in an exception is acknowledged and gone, so a batch must never be left
'running' by one: the import is one transaction (nothing is half written), so trouble with
the database itself (a lost connection, a deadlock victim, a busy SQLite file) is retried, and
anything else, including running out of time, marks the batch failed with a Dutch reason and
a 'Start de import opnieuw' button.
"""

import logging

from celery import shared_task
from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.db import InterfaceError, OperationalError, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import OutgoingMail

from .models import ImportBatch, ImportFile
from .retention import import_results_forget
from .services import _fail, import_deliver_slips, import_execute, import_hash_chunk
from .undo import undo_give_up, undo_run_queued

logger = logging.getLogger(__name__)

DATABASE_RETRIES = 3


def _run(task, batch_id: str, work) -> None:
    try:
        work()
    except (OperationalError, InterfaceError) as exc:
        connection.close()  # a broken connection must not be reused by the retry
        if task.request.retries < DATABASE_RETRIES:
            logger.warning("import %s: database trouble, retrying: %s", batch_id, exc)
            raise task.retry(exc=exc, countdown=5 * 2**task.request.retries) from exc
        logger.error("import %s: database trouble, giving up: %s", batch_id, exc)
        _give_up(
            batch_id,
            _(
                "De database was tijdens het importeren niet bereikbaar. Er is niets "
                "opgeslagen; start de import opnieuw."
            ),
        )
    except SoftTimeLimitExceeded:
        logger.error("import %s: ran out of time", batch_id)
        _give_up(
            batch_id,
            _(
                "Het importeren duurde te lang en is afgebroken. Er is niets opgeslagen; "
                "splits het bestand en importeer de delen na elkaar."
            ),
        )
    except Exception:
        logger.exception("import %s failed unexpectedly", batch_id)
        _give_up(
            batch_id,
            _(
                "Het importeren is door een onverwachte fout afgebroken. Er is niets "
                "opgeslagen; start de import opnieuw. Lukt het dan weer niet, neem dan "
                "contact op met de beheerder van Kandidaatbeheer."
            ),
        )
        raise


def _give_up(batch_id: str, reason: str) -> None:
    batch = ImportBatch.objects.filter(
        pk=batch_id, status__in=(ImportBatch.Status.QUEUED, ImportBatch.Status.RUNNING)
    ).first()
    if batch is not None:
        _fail(batch, reason)


@shared_task(bind=True, acks_late=True, reject_on_worker_lost=True)
def run_import(self, batch_id: str) -> None:
    _run(self, batch_id, lambda: import_execute(batch_id))


@shared_task(bind=True, acks_late=True, reject_on_worker_lost=True)
def hash_file_passwords(self, batch_id: str, rows: list[int]) -> None:
    _run(self, batch_id, lambda: import_hash_chunk(batch_id, rows))


@shared_task(bind=True, acks_late=True, reject_on_worker_lost=True, max_retries=DATABASE_RETRIES)
def deliver_slips(self, batch_id: str) -> None:
    """The login slips of a committed import. The batch is done whatever happens here: the
    sealed entries wait until this succeeds (a redelivery, a retry, the import task run again
    finding them) or the retention purge removes them."""
    try:
        import_deliver_slips(batch_id)
    except (OperationalError, InterfaceError) as exc:
        connection.close()
        raise self.retry(exc=exc, countdown=5 * 2**self.request.retries) from exc


@shared_task(bind=True, acks_late=True, reject_on_worker_lost=True)
def undo_import(self, batch_id: str, ip: str | None = None) -> None:
    """Undo a large import (imports.undo). One transaction: a retry starts from scratch, and a
    run that finds the batch undone already does nothing."""
    try:
        undo_run_queued(batch_id, ip)
    except (OperationalError, InterfaceError) as exc:
        connection.close()
        if self.request.retries < DATABASE_RETRIES:
            raise self.retry(exc=exc, countdown=5 * 2**self.request.retries) from exc
        logger.error("undo of import %s: database trouble, giving up: %s", batch_id, exc)
        undo_give_up(batch_id)


@shared_task
def purge_expired_uploads() -> int:
    """Uploads, encrypted login slips and the encrypted passwords of mails that were never
    delivered live at most KB_UPLOAD_RETENTION_HOURS (docs/passwords.md). One transaction:
    whoever looks sees a batch either untouched or with all of its secrets gone."""
    with transaction.atomic():
        return _purge_expired(timezone.now())


def _purge_expired(now) -> int:
    expired = ImportBatch.objects.filter(expires_at__lt=now)
    deleted, _count = ImportFile.objects.filter(batch__in=expired).delete()
    expired.exclude(slips=None).update(slips=None)
    expired.exclude(slips_pending=None).update(slips_pending=None)
    # A mail still waiting (or failed) after that long is not sent any more: without its
    # secret it would go out with an empty password. It shows as failed on the result page.
    OutgoingMail.objects.filter(batch_id__in=expired.values("pk")).exclude(secret=None).update(
        secret=None,
        status=OutgoingMail.Status.FAILED,
        last_error=_(
            "Niet verzonden binnen %(hours)s uur; het wachtwoord is niet meer bewaard. Stel "
            "een nieuw wachtwoord in."
        )
        % {"hours": settings.KB_UPLOAD_RETENTION_HOURS},
    )
    return deleted


@shared_task
def forget_old_import_results() -> int:
    """Nightly: per-row import results live as long as the college's audit log."""
    return import_results_forget()
