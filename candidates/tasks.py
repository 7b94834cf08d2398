"""Nightly lifecycle tasks (scheduled in settings.CELERY_BEAT_SCHEDULE). Thin: they call a
service and log the outcome; both services are safe to run twice on the same day."""

import logging

from celery import shared_task
from django.conf import settings
from django.utils import translation

from .services.candidates import candidates_deactivate_expired, expiry_digests_queue
from .services.retention import accounts_apply_retention, audit_log_purge

logger = logging.getLogger(__name__)


@shared_task(acks_late=True)
def deactivate_expired_candidates() -> int:
    count = candidates_deactivate_expired()
    logger.info("Deactivated %d expired candidate accounts", count)
    return count


@shared_task(acks_late=True)
def send_expiry_digests() -> int:
    # A worker has no request: the digest is written in the site's default language (Dutch).
    with translation.override(settings.LANGUAGE_CODE):
        mail_ids = expiry_digests_queue()
    logger.info("Queued %d expiry digests", len(mail_ids))
    return len(mail_ids)


@shared_task(acks_late=True)
def apply_retention() -> int:
    """Anonymise or delete accounts past their college's retention period, then remove audit
    rows past theirs. Both work in bounded batches and are safe to run twice."""
    count = accounts_apply_retention()
    purged = audit_log_purge()
    logger.info(
        "Retention: %d accounts anonymised or deleted, %d audit rows removed", count, purged
    )
    return count
