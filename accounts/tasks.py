"""Thin tasks: they take ids, call accounts.mail, and retry with back-off."""

from celery import shared_task
from django.db import transaction

from .mail import TemporaryMailError, mail_give_up, mail_send

MAX_RETRIES = 6


@shared_task(bind=True, acks_late=True, max_retries=MAX_RETRIES)
def send_mail(self, mail_id: int) -> None:
    try:
        mail_send(mail_id)
    except TemporaryMailError as exc:
        if self.request.retries >= MAX_RETRIES:
            mail_give_up(mail_id)
            return
        # 10 s, 20 s, 40 s … capped at 10 minutes.
        raise self.retry(exc=exc, countdown=min(600, 10 * 2**self.request.retries)) from exc


@shared_task(acks_late=True)
def send_mails(mail_ids: list[int]) -> None:
    """Send many over one SMTP connection; a mail that fails temporarily gets its own retrying
    task so one bad address does not hold up the rest."""
    from django.conf import settings
    from django.core.mail import get_connection

    connection = get_connection(timeout=settings.EMAIL_TIMEOUT)
    for mail_id in mail_ids:
        try:
            mail_send(mail_id, connection=connection)
        except TemporaryMailError:
            send_mail.apply_async((mail_id,), countdown=10)


def queue_mails(mail_ids: list[int], *, chunk: int = 200) -> None:
    """Queue sending after the surrounding transaction commits (the rows must exist)."""
    for start in range(0, len(mail_ids), chunk):
        part = mail_ids[start : start + chunk]
        transaction.on_commit(lambda part=part: send_mails.delay(part))
