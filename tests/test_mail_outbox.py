"""The outbox (accounts.mail) and its thin task against a real SMTP server, in this process:
a mail is delivered at most once, temporary trouble is retried, permanent refusal is final."""

import time
from email.utils import getaddresses

import pytest
from celery.signals import task_retry

from accounts import tasks
from accounts.mail import TemporaryMailError, mail_give_up, mail_queue, mail_resend, mail_send
from accounts.models import OutgoingMail

from .factories import OrganisationFactory

CONTEXT = {
    "naam": "Anna Eigen",
    "gebruikersnaam": "rocm-0000001",
    "school": "ROC Midden",
    "geldig_tot": "31 juli 2026",
    "inlog_url": "http://127.0.0.1:8000/inloggen/",
}


@pytest.fixture
def mail(db):
    return mail_queue(
        kind=OutgoingMail.Kind.CREDENTIALS,
        to="anna@example.test",
        subject="Je inloggegevens",
        organisation=OrganisationFactory(name="ROC Midden"),
        context=CONTEXT,
        secret={"password": "Geheim-123456"},
    )


@pytest.fixture
def retries():
    """The countdown of every retry the send task asks for."""
    countdowns = []

    def record(sender=None, reason=None, **kwargs):
        countdowns.append(reason.when)

    task_retry.connect(record, sender=tasks.send_mail, weak=False)
    yield countdowns
    task_retry.disconnect(record, sender=tasks.send_mail)


def reload(mail):
    mail.refresh_from_db()
    return mail


def plain_body(message):
    return message.get_body(("plain",)).get_content()


def test_mail_is_sent_once_even_when_sent_twice(smtp_server, mail):
    assert mail_send(mail.pk) is True
    assert mail_send(mail.pk) is False

    [message] = smtp_server.messages
    assert message["To"] == "anna@example.test"
    mail = reload(mail)
    assert (mail.status, mail.attempts, mail.secret, mail.last_error) == (
        OutgoingMail.Status.SENT,
        1,
        None,
        "",
    )
    assert mail.sent_at is not None


def test_temporary_refusal_raises_and_keeps_the_mail_pending(smtp_server, mail):
    smtp_server.mode = "421"

    with pytest.raises(TemporaryMailError, match="421"):
        mail_send(mail.pk)

    mail = reload(mail)
    assert (mail.status, mail.attempts) == (OutgoingMail.Status.PENDING, 1)
    assert mail.last_error.startswith("SMTPSenderRefused: (421,")
    assert mail.secret is not None  # still needed for the next attempt
    assert smtp_server.messages == []


def test_permanent_refusal_marks_the_mail_failed(smtp_server, mail):
    smtp_server.mode = "550"

    assert mail_send(mail.pk) is False

    mail = reload(mail)
    assert (mail.status, mail.attempts) == (OutgoingMail.Status.FAILED, 1)
    assert mail.last_error.startswith("SMTPSenderRefused: (550,")
    assert smtp_server.messages == []


def test_permanent_refusal_is_not_retried_by_the_task(smtp_server, mail, retries):
    smtp_server.mode = "550"

    tasks.send_mail.apply(args=(mail.pk,))

    assert retries == []
    assert smtp_server.refused == 1
    assert (reload(mail).status, reload(mail).attempts) == (OutgoingMail.Status.FAILED, 1)


def test_hanging_server_is_a_temporary_error_after_the_timeout(smtp_server, mail):
    smtp_server.mode = "hang"

    started = time.monotonic()
    with pytest.raises(TemporaryMailError):
        mail_send(mail.pk)

    assert time.monotonic() - started < 3.5  # EMAIL_TIMEOUT is 2 s
    mail = reload(mail)
    assert (mail.status, mail.attempts) == (OutgoingMail.Status.PENDING, 1)
    assert mail.last_error == "SMTPServerDisconnected: Connection unexpectedly closed: timed out"


def test_failed_mail_is_delivered_once_after_resend_when_the_server_is_back(smtp_server, mail):
    smtp_server.mode = "refuse_connection"
    with pytest.raises(TemporaryMailError, match="ConnectionRefusedError"):
        mail_send(mail.pk)
    mail_give_up(mail.pk)  # what the task does after its last retry
    assert reload(mail).status == OutgoingMail.Status.FAILED

    smtp_server.mode = "accept"
    assert mail_resend(mail_ids=[mail.pk]) == [mail.pk]
    assert reload(mail).status == OutgoingMail.Status.PENDING
    assert mail_send(mail.pk) is True
    assert mail_send(mail.pk) is False

    assert len(smtp_server.messages) == 1
    mail = reload(mail)
    assert (mail.status, mail.attempts, mail.secret) == (OutgoingMail.Status.SENT, 2, None)


def test_credentials_mail_uses_the_colleges_own_text(smtp_server, db):
    college = OrganisationFactory(
        name="ROC Midden",
        mail_sender_name="ROC Midden Examenbureau",
        mail_reply_to="examens@rocmidden.example.test",
        credentials_mail_text=(
            "Hoi {naam},\n"
            "Je gebruikersnaam is {gebruikersnaam} en je wachtwoord {wachtwoord}.\n"
            "Geldig tot {geldig_tot} bij {school}: {inlog_url}\n"
            "{onbekend} blijft staan."
        ),
    )
    mail = mail_queue(
        kind=OutgoingMail.Kind.CREDENTIALS,
        to="anna@example.test",
        subject="Je inloggegevens",
        organisation=college,
        context=CONTEXT,
        secret={"password": "Geheim-123456"},
    )

    mail_send(mail.pk)

    [message] = smtp_server.messages
    assert message["From"] == "ROC Midden Examenbureau <noreply@localhost>"
    assert message["Reply-To"] == "examens@rocmidden.example.test"
    assert plain_body(message) == (
        "Hoi Anna Eigen,\n"
        "Je gebruikersnaam is rocm-0000001 en je wachtwoord Geheim-123456.\n"
        "Geldig tot 31 juli 2026 bij ROC Midden: http://127.0.0.1:8000/inloggen/\n"
        "{onbekend} blijft staan."
    )


@pytest.mark.parametrize(
    "sender_name, header",
    [
        (
            "Examenbureau ROC Midden, locatie Zuid",
            '"Examenbureau ROC Midden, locatie Zuid" <noreply@localhost>',
        ),
        (
            'Bureau "Zuid", ROC <x@evil.example>',
            '"Bureau \\"Zuid\\", ROC <x@evil.example>" <noreply@localhost>',
        ),
    ],
)
def test_a_sender_name_with_a_comma_or_quotes_stays_one_sender(
    smtp_server, db, sender_name, header
):
    """A comma unquoted would make the From header two addresses; quotes and '<' could name
    another address. The form refuses quotes, but a name from before that rule (or from the
    platform admin) must still give one sender: the platform's own address."""
    college = OrganisationFactory(name="ROC Midden", mail_sender_name=sender_name)
    mail = mail_queue(
        kind=OutgoingMail.Kind.CREDENTIALS,
        to="anna@example.test",
        subject="Je inloggegevens",
        organisation=college,
        context=CONTEXT,
        secret={"password": "Geheim-123456"},
    )

    assert mail_send(mail.pk) is True

    [message] = smtp_server.messages
    assert message["From"] == header
    assert getaddresses([message["From"]]) == [(sender_name, "noreply@localhost")]
    assert smtp_server.envelopes == [("noreply@localhost", ["anna@example.test"])]


def test_task_retries_a_temporary_refusal_with_back_off_then_sends(smtp_server, mail, retries):
    smtp_server.mode = "421"
    smtp_server.failures_left = 2

    # apply() runs the task here; a retry is run at once, the countdown only recorded.
    tasks.send_mail.apply(args=(mail.pk,))

    assert retries == [10, 20]
    assert len(smtp_server.messages) == 1
    mail = reload(mail)
    assert (mail.status, mail.attempts) == (OutgoingMail.Status.SENT, 3)


def test_task_gives_up_after_max_retries_and_marks_the_mail_failed(smtp_server, mail, retries):
    smtp_server.mode = "421"

    tasks.send_mail.apply(args=(mail.pk,))

    assert retries == [10, 20, 40, 80, 160, 320]
    assert len(retries) == tasks.MAX_RETRIES
    assert smtp_server.refused == tasks.MAX_RETRIES + 1
    assert smtp_server.messages == []
    mail = reload(mail)
    assert (mail.status, mail.attempts) == (OutgoingMail.Status.FAILED, tasks.MAX_RETRIES + 1)
    assert "421" in mail.last_error


def test_task_delivered_twice_sends_one_mail(smtp_server, mail):
    # acks_late: a task whose worker died after sending is delivered again.
    tasks.send_mail(mail.pk)
    tasks.send_mail(mail.pk)

    assert len(smtp_server.messages) == 1
    assert (reload(mail).status, reload(mail).attempts) == (OutgoingMail.Status.SENT, 1)
