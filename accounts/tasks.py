"""Thin tasks: they take ids, call accounts.mail, and retry with back-off."""

import smtplib
from functools import partial

from celery import shared_task
from django.conf import settings
from django.core.mail import get_connection
from django.db import InterfaceError, OperationalError, transaction
from django.db import connection as db_connection

from .mail import TemporaryMailError, mail_give_up, mail_send

MAX_RETRIES = 6


def retry_countdown(retries: int) -> int:
    """10 s, 20 s, 40 s … capped at 10 minutes (the first wait is KB_MAIL_RETRY_SECONDS)."""
    return min(600, settings.KB_MAIL_RETRY_SECONDS * 2**retries)


@shared_task(bind=True, acks_late=True, max_retries=MAX_RETRIES)
def send_mail(self, mail_id: int) -> None:
    try:
        mail_send(mail_id)
    except (TemporaryMailError, OperationalError, InterfaceError) as exc:
        if not isinstance(exc, TemporaryMailError):
            db_connection.close()  # a broken connection must not be reused by the retry
        if self.request.retries >= MAX_RETRIES:
            mail_give_up(mail_id)
            return
        raise self.retry(exc=exc, countdown=retry_countdown(self.request.retries)) from exc


def _server_trouble(exc: TemporaryMailError) -> bool:
    """True when the server itself is away (refused, timed out, 421: closing), False when only
    this recipient was refused for now (450/451/452 to RCPT): then the next mail may pass."""
    cause = exc.__cause__
    if isinstance(cause, smtplib.SMTPRecipientsRefused):
        return any(code == 421 for code, _message in cause.recipients.values())
    return True


@shared_task(bind=True, acks_late=True, max_retries=MAX_RETRIES)
def send_mails(self, mail_ids: list[int]) -> None:
    """Send many over one SMTP connection; a mail refused temporarily for its recipient gets
    its own retrying task, so one bad address does not hold up the rest.

    When the server itself is in trouble (refused, hanging, 421), the rest of the chunk is not
    tried on it but retried as one task with back-off. Against a server that hangs, 200 mails
    would each wait EMAIL_TIMEOUT, and 200 separate retrying tasks would each wait it again on
    every retry, keeping every worker busy; one task costs one time-out per attempt."""
    connection = get_connection(timeout=settings.EMAIL_TIMEOUT)
    try:
        connection.open()
    except (OSError, smtplib.SMTPException) as exc:
        return _send_later(self, mail_ids, exc)
    try:
        for index, mail_id in enumerate(mail_ids):
            try:
                mail_send(mail_id, connection=connection)
            except TemporaryMailError as exc:
                if _server_trouble(exc):
                    return _send_later(self, mail_ids[index:], exc)
                send_mail.apply_async((mail_id,), countdown=retry_countdown(0))
            except (OperationalError, InterfaceError) as exc:
                # The database, not the mail server: without a retry the rest of the chunk
                # would stay 'pending' for ever, with no 'Opnieuw versturen' to rescue it.
                db_connection.close()
                return _send_later(self, mail_ids[index:], exc)
    finally:
        try:
            connection.close()
        except (OSError, smtplib.SMTPException):
            pass  # every mail's outcome is already stored; a failing QUIT changes nothing


def _send_later(task, mail_ids: list[int], exc: Exception) -> None:
    if task.request.retries >= MAX_RETRIES:
        reason = str(exc) if isinstance(exc, TemporaryMailError) else f"{type(exc).__name__}: {exc}"
        for mail_id in mail_ids:
            mail_give_up(mail_id, reason=reason)
        return
    raise task.retry(
        args=(mail_ids,), exc=exc, countdown=retry_countdown(task.request.retries)
    ) from exc


def queue_mails(mail_ids: list[int], *, chunk: int = 200) -> None:
    """Queue sending after the surrounding transaction commits (the rows must exist)."""
    for start in range(0, len(mail_ids), chunk):
        part = mail_ids[start : start + chunk]
        transaction.on_commit(partial(send_mails.delay, part))
