"""Nightly lifecycle tasks (scheduled in settings.CELERY_BEAT_SCHEDULE). Thin: they call a
service and log the outcome; both services are safe to run twice on the same day."""

import logging

from celery import shared_task
from django.conf import settings
from django.utils import translation

from .services.candidates import candidates_deactivate_expired, expiry_digests_queue

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
