"""The outbox. A mail is a row first; `mail_send` delivers one row at most once.

Temporary SMTP trouble (connection refused, time-out, 4xx) raises TemporaryMailError so the
task retries with back-off; a permanent refusal (5xx) marks the row failed without retrying.
A failed row is visible on the import page and can be sent again ('opnieuw versturen').
"""

from __future__ import annotations

import base64
import smtplib
from email.utils import formataddr, parseaddr
from typing import Any

from cryptography.fernet import InvalidToken
from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection
from django.db import transaction
from django.db.models import F
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.html import escape, linebreaks

from .models import Organisation, OutgoingMail, User
from .placeholders import MAX_MAIL_LENGTH, render_placeholders
from .secrets import seal_json, unseal_json

UNREADABLE_SECRET = (
    "De versleutelde inhoud kan niet worden gelezen (de sleutel KB_CREDENTIALS_KEY of "
    "DJANGO_SECRET_KEY is veranderd). Stel een nieuw wachtwoord in."
)


class TemporaryMailError(Exception):
    """The SMTP server may accept this mail later."""


DEFAULT_CREDENTIALS_TEXT = (
    "Beste {naam},\n\n"
    "Er is een account voor je aangemaakt bij {school}.\n\n"
    "Gebruikersnaam: {gebruikersnaam}\n"
    "Wachtwoord: {wachtwoord}\n"
    "Inloggen: {inlog_url}\n\n"
    "Je account is geldig tot en met {geldig_tot}.\n"
    "Bewaar deze gegevens goed en deel ze met niemand.\n"
)
PLACEHOLDERS = ("naam", "gebruikersnaam", "wachtwoord", "school", "geldig_tot", "inlog_url")


def render_credentials_text(template: str, values: dict[str, str]) -> str:
    """Fill the college's own text; unknown placeholders stay visible instead of crashing."""
    return render_placeholders(
        template or DEFAULT_CREDENTIALS_TEXT, values, max_length=MAX_MAIL_LENGTH
    )


def mail_queue(
    *,
    kind: str,
    to: str,
    subject: str,
    organisation: Organisation | None,
    context: dict[str, Any] | None = None,
    recipient_user: User | None = None,
    batch_id=None,
    secret: dict[str, Any] | None = None,
) -> OutgoingMail:
    """Store a mail. `secret` (password, attachment bytes as base64) is sealed, never plain."""
    return OutgoingMail.objects.create(
        kind=kind,
        to=to,
        subject=subject,
        organisation=organisation,
        context=context or {},
        recipient_user=recipient_user,
        batch_id=batch_id,
        secret=seal_json(secret) if secret else None,
    )


def attachment_secret(name: str, data: bytes, mimetype: str) -> dict[str, str]:
    return {"name": name, "mimetype": mimetype, "data": base64.b64encode(data).decode()}


def sender_with_name(from_email: str, name: str) -> str:
    """The platform's sender address under the college's own name. formataddr quotes the name
    where needed: a comma in 'Examenbureau ROC Midden, locatie Zuid' would otherwise make the
    From header two addresses, and a quote or '<' would change which address it names."""
    _old_name, address = parseaddr(from_email)
    return formataddr((name, address))


def _build_message(mail: OutgoingMail, connection) -> EmailMultiAlternatives:
    secret = unseal_json(mail.secret) if mail.secret else {}
    org = mail.organisation
    headers = {}
    if org and org.mail_reply_to:
        headers["Reply-To"] = org.mail_reply_to
    from_email = settings.DEFAULT_FROM_EMAIL
    if org and org.mail_sender_name:
        from_email = sender_with_name(from_email, org.mail_sender_name)

    if mail.kind == OutgoingMail.Kind.CREDENTIALS:
        text = render_credentials_text(
            org.credentials_mail_text if org else "",
            {**mail.context, "wachtwoord": secret.get("password", "")},
        )
        html = linebreaks(escape(text))
    else:
        context = {**mail.context, "mail": mail}
        text = render_to_string(f"mail/{mail.kind}.txt", context)
        html = render_to_string(f"mail/{mail.kind}.html", context)
    message = EmailMultiAlternatives(
        subject=mail.subject,
        body=text,
        from_email=from_email,
        to=[mail.to],
        headers=headers,
        connection=connection,
    )
    message.attach_alternative(html, "text/html")
    for attachment in secret.get("attachments", []):
        message.attach(
            attachment["name"], base64.b64decode(attachment["data"]), attachment["mimetype"]
        )
    return message


def _is_permanent(exc: Exception) -> bool:
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        codes = [code for code, _ in exc.recipients.values()]
        return bool(codes) and all(500 <= code < 600 for code in codes)
    if isinstance(exc, smtplib.SMTPResponseException):
        return 500 <= exc.smtp_code < 600
    return False


def mail_send(mail_id: int, *, connection=None) -> bool:
    """Send one outbox row. Returns True when it was sent now, False when there was nothing to
    do (already sent, or permanently failed). Raises TemporaryMailError to be retried."""
    failure = None
    with transaction.atomic():
        # Claim the row with a write before anything else: on PostgreSQL the UPDATE locks the
        # row like SELECT FOR UPDATE; on SQLite (which ignores FOR UPDATE) it takes the write
        # lock at once, waiting for its turn. Reading first and writing after the SMTP
        # conversation would fail there ('database is locked') whenever another process began
        # writing meanwhile: the mail would be delivered but not recorded, and sent again.
        claimed = (
            OutgoingMail.objects.filter(pk=mail_id)
            .exclude(status=OutgoingMail.Status.SENT)
            .update(attempts=F("attempts") + 1)
        )
        if not claimed:
            return False
        mail = OutgoingMail.objects.get(pk=mail_id)
        connection = connection or get_connection(timeout=settings.EMAIL_TIMEOUT)
        try:
            message = _build_message(mail, connection)
        except InvalidToken:
            # Sealed with another key (KB_CREDENTIALS_KEY or SECRET_KEY changed, or a machine
            # configured differently): no retry can read it. Failing it keeps the rest of a
            # chunk going and shows on the result page; a new password is the way out.
            mail.status = OutgoingMail.Status.FAILED
            mail.last_error = UNREADABLE_SECRET
            mail.save(update_fields=["attempts", "last_error", "status"])
            return False
        try:
            message.send()
        except (TimeoutError, smtplib.SMTPException, OSError) as exc:
            mail.last_error = f"{type(exc).__name__}: {exc}"[:500]
            permanent = _is_permanent(exc)
            if permanent:
                mail.status = OutgoingMail.Status.FAILED
            mail.save(update_fields=["attempts", "last_error", "status"])
            if permanent:
                return False
            # Raised after the block: raising inside it would roll back the attempt count.
            failure = exc
        else:
            mail.status = OutgoingMail.Status.SENT
            mail.sent_at = timezone.now()
            mail.secret = None  # delivered: nothing decryptable remains
            mail.last_error = ""
            mail.save(update_fields=["attempts", "status", "sent_at", "secret", "last_error"])
            return True
    raise TemporaryMailError(mail.last_error) from failure


def mail_give_up(mail_id: int, *, reason: str = "") -> None:
    """After the last retry: mark failed so the page shows it and offers to resend. `reason`
    is stored for a mail that was never tried (the server could not be reached at all)."""
    unsent = OutgoingMail.objects.filter(pk=mail_id).exclude(status=OutgoingMail.Status.SENT)
    unsent.update(status=OutgoingMail.Status.FAILED)
    if reason:
        unsent.filter(last_error="").update(last_error=reason[:500])


def mail_resend(*, mail_ids: list[int]) -> list[int]:
    """'Opnieuw versturen': failed rows whose secret is still there go back to pending."""
    ids = list(
        OutgoingMail.objects.filter(pk__in=mail_ids, status=OutgoingMail.Status.FAILED)
        .exclude(secret=None, kind=OutgoingMail.Kind.CREDENTIALS)
        .values_list("pk", flat=True)
    )
    OutgoingMail.objects.filter(pk__in=ids).update(status=OutgoingMail.Status.PENDING)
    return ids
