"""The SMTP server refuses, answers 421 or 550, or hangs, while an import's
mails go out through a real worker to a real SMTP server on localhost.

Mail tasks retry with back-off and a time-out, a permanent 5xx is final, the failure shows on
the import's result page, 'Opnieuw versturen' sends it once the server is back, and every
candidate ends up with exactly one credentials mail. The first back-off is shortened to 1 s
(KB_MAIL_RETRY_SECONDS) so the retries happen within the test; the schedule itself (10 s,
20 s … 320 s) is asserted in process below. "Nothing more happened" is asserted once the
worker has settled (no task running, reserved or waiting for its back-off, nothing queued),
never after a pause: a retry that should not exist is then one more attempt on the row.
"""

from __future__ import annotations

from collections import Counter

import pytest
from celery.signals import task_retry
from cryptography.fernet import Fernet
from django.contrib.auth.hashers import check_password
from django.db import transaction
from django.urls import reverse

from accounts import tasks
from accounts.mail import UNREADABLE_SECRET, mail_queue
from accounts.models import OutgoingMail, User
from imports.models import ImportBatch

from .factories import OrganisationFactory
from .helpers.imports import people, xlsx_bytes
from .helpers.services import wait_until
from .helpers.workers import (
    mails_of,
    page_text,
    queue_import,
    result_page,
    tasks_run,
    wait_for_runs,
    wait_for_status,
    wait_until_settled,
)

FAST_RETRIES = {"KB_MAIL_RETRY_SECONDS": "1"}
REPORT_TO = "rapport@rocm.example"
SEND_MAIL, SEND_MAILS = "accounts.tasks.send_mail", "accounts.tasks.send_mails"
SENT, PENDING, FAILED = (
    OutgoingMail.Status.SENT,
    OutgoingMail.Status.PENDING,
    OutgoingMail.Status.FAILED,
)


def addresses(start: int, n: int) -> list[str]:
    return [f"k{i}@leerling.example" for i in range(start, start + n)]


def statuses(batch) -> Counter:
    return Counter(mails_of(batch).values_list("status", flat=True))


def received_by(smtp_server) -> Counter:
    return Counter(message["To"] for message in smtp_server.messages)


def credentials_password(message) -> str:
    body = message.get_body(("plain",)).get_content()
    return body.split("Wachtwoord: ", 1)[1].split("\n", 1)[0]


def assert_one_working_credentials_mail_each(smtp_server, start: int, n: int) -> None:
    by_address = {m["To"]: m for m in smtp_server.messages if m["To"].endswith("@leerling.example")}
    assert sorted(by_address) == sorted(addresses(start, n))
    for address, message in by_address.items():
        user = User.objects.get(email=address)
        assert check_password(credentials_password(message), user.password), address


# --- through a worker ---------------------------------------------------------------------------


def test_permanent_refusal_is_final_is_shown_and_resend_delivers_once(
    client, world, smtp_server, celery_worker_factory
):
    worker = celery_worker_factory("mailer", env=FAST_RETRIES)
    smtp_server.mode, smtp_server.fail_at = "550", "RCPT"
    batch = queue_import(
        world.beheerder,
        xlsx_bytes(people(5, start=3000)),
        group_id=world.own_group.pk,
        send_credentials=True,
        report_email=REPORT_TO,
    )

    wait_for_status(batch, ImportBatch.Status.DONE, timeout=60)
    wait_until(lambda: statuses(batch) == {FAILED: 6}, timeout=60, what="six mails refused")
    totals = wait_until_settled([worker])  # a retry would have been scheduled and run by now

    assert smtp_server.refused == 6  # each mail tried once, none retried
    assert smtp_server.messages == []
    assert list(mails_of(batch).values_list("attempts", flat=True)) == [1] * 6
    assert tasks_run(totals, SEND_MAIL) == 0  # nobody's mail got a retrying task of its own
    client.force_login(world.beheerder)
    page = result_page(client, batch)
    assert "De import is voltooid." in page
    assert "Verzonden: 0 Wacht op verzending: 0 Mislukt: 6" in page
    for address in [*addresses(3000, 5), REPORT_TO]:
        assert f"{address} SMTPRecipientsRefused: {{'{address}': (550, b'5.1.1 Mailbox" in page
    assert "Opnieuw versturen" in page

    smtp_server.mode = "accept"
    response = client.post(reverse("imports:resend_mails", args=[batch.pk]), follow=True)

    assert "6 e-mails worden opnieuw verstuurd." in page_text(response)
    smtp_server.wait_for(6, timeout=60)
    wait_until(lambda: statuses(batch) == {SENT: 6}, timeout=60, what="six mails sent")
    assert received_by(smtp_server) == Counter([*addresses(3000, 5), REPORT_TO])
    assert_one_working_credentials_mail_each(smtp_server, 3000, 5)
    assert mails_of(batch).exclude(secret=None).count() == 0

    # A second press finds nothing left to send, and nobody gets a second mail.
    response = client.post(reverse("imports:resend_mails", args=[batch.pk]), follow=True)
    assert "0 e-mails worden opnieuw verstuurd." in page_text(response)
    wait_until_settled([worker])
    assert len(smtp_server.messages) == 6
    assert list(mails_of(batch).values_list("attempts", flat=True)) == [2] * 6
    assert "Verzonden: 6 Wacht op verzending: 0 Mislukt: 0" in result_page(client, batch)


def test_temporary_refusal_is_retried_with_back_off_and_delivered_once(
    world, smtp_server, celery_worker_factory
):
    worker = celery_worker_factory("mailer", env=FAST_RETRIES)
    smtp_server.mode, smtp_server.failures_left = "421", 1  # the first transaction only
    batch = queue_import(
        world.beheerder,
        xlsx_bytes(people(5, start=3100)),
        group_id=world.own_group.pk,
        send_credentials=True,
        report_email=REPORT_TO,
    )

    wait_for_status(batch, ImportBatch.Status.DONE, timeout=60)
    smtp_server.wait_for(6, timeout=60)
    wait_until(lambda: statuses(batch) == {SENT: 6}, timeout=60, what="six mails sent")
    wait_until_settled([worker])

    assert smtp_server.refused == 1
    assert received_by(smtp_server) == Counter([*addresses(3100, 5), REPORT_TO])
    assert_one_working_credentials_mail_each(smtp_server, 3100, 5)
    # The refused mail was tried twice (refused, then sent after the back-off); the others,
    # retried with it as one task, once.
    assert list(mails_of(batch).order_by("pk").values_list("attempts", flat=True)) == [
        2, 1, 1, 1, 1, 1,
    ]  # fmt: skip


def test_connection_refused_until_the_server_is_back(world, smtp_server, celery_worker_factory):
    worker = celery_worker_factory("mailer", env=FAST_RETRIES)
    smtp_server.mode = "refuse_connection"
    batch = queue_import(
        world.beheerder,
        xlsx_bytes(people(4, start=3200)),
        group_id=world.own_group.pk,
        send_credentials=True,
        report_email="",
    )
    wait_for_status(batch, ImportBatch.Status.DONE, timeout=60)
    # The first attempt and its first retry have met the closed port (the next back-off: 2 s).
    wait_for_runs(worker, SEND_MAILS, 2)

    assert statuses(batch) == {PENDING: 4}
    assert list(mails_of(batch).values_list("attempts", flat=True)) == [0] * 4
    assert smtp_server.connections == 0
    smtp_server.mode = "accept"

    smtp_server.wait_for(4, timeout=60)
    wait_until(lambda: statuses(batch) == {SENT: 4}, timeout=60, what="four mails sent")
    wait_until_settled([worker])
    assert received_by(smtp_server) == Counter(addresses(3200, 4))
    assert_one_working_credentials_mail_each(smtp_server, 3200, 4)
    # Never handed to the server before it was back: one attempt each.
    assert list(mails_of(batch).values_list("attempts", flat=True)) == [1] * 4


def test_hanging_server_costs_one_time_out_per_attempt_not_one_per_mail(
    world, smtp_server, celery_worker_factory
):
    """20 mails against a server that never greets: the worker waits EMAIL_TIMEOUT (2 s) once,
    then retries the chunk as one task; it does not wait 20 x 2 s, nor start 20 waiting tasks.
    Counted, not timed: one connection per attempt of the one chunk task, none per mail."""
    worker = celery_worker_factory("mailer", env=FAST_RETRIES)
    smtp_server.mode = "hang"
    batch = queue_import(
        world.beheerder,
        xlsx_bytes(people(20, start=3300)),
        group_id=world.own_group.pk,
        send_credentials=True,
        report_email="",
    )
    wait_for_status(batch, ImportBatch.Status.DONE, timeout=60)
    runs, connections = wait_for_runs(
        worker, SEND_MAILS, 2, observe=lambda: smtp_server.connections
    )

    assert connections == runs  # each attempt waited for one greeting, not one per mail
    assert statuses(batch) == {PENDING: 20}
    assert set(mails_of(batch).values_list("attempts", flat=True)) == {0}
    smtp_server.mode = "accept"

    smtp_server.wait_for(20, timeout=60)
    wait_until(lambda: statuses(batch) == {SENT: 20}, timeout=60, what="twenty mails sent")
    totals = wait_until_settled([worker])
    assert received_by(smtp_server) == Counter(addresses(3300, 20))
    assert set(mails_of(batch).values_list("attempts", flat=True)) == {1}
    assert tasks_run(totals, SEND_MAIL) == 0  # no task per mail, ever
    assert smtp_server.connections == tasks_run(totals, SEND_MAILS)


def test_a_mail_delivered_while_the_web_writes_is_recorded_as_sent(
    world, smtp_server, celery_worker_process
):
    """On SQLite a transaction that reads, talks SMTP and then writes failed at once when the
    web began a write meanwhile: delivered, not recorded, and sent again on the next try."""
    smtp_server.delay = 1.0  # the worker is inside mail_send's transaction for a second
    mail = mail_queue(
        kind=OutgoingMail.Kind.CREDENTIALS,
        to="anna@example.test",
        subject="Je inloggegevens",
        organisation=world.college,
        context={"naam": "Anna Eigen", "gebruikersnaam": "kand-own"},
        secret={"password": "Geheim-123456-abc"},
    )
    tasks.send_mail.delay(mail.pk)
    # The worker has read the row and is talking to the server (a private detail of the test
    # server, the only sign of it from outside).
    wait_until(lambda: smtp_server._transports, what="the worker to connect")

    with transaction.atomic():  # a web request saving a session, say, at that moment
        User.objects.filter(pk=world.beheerder.pk).update(first_name="Bea")
        # Held until the worker's run is over, however it ends: the worker must record the
        # delivery while (or before) the web writes, not after it.
        smtp_server.wait_for(1, timeout=60)
        wait_for_runs(celery_worker_process, SEND_MAIL, 1)

    wait_until(
        lambda: OutgoingMail.objects.get(pk=mail.pk).status != PENDING,
        timeout=30,
        what="the mail to be recorded",
    )
    mail.refresh_from_db()
    assert (mail.status, mail.attempts, mail.secret) == (SENT, 1, None)
    assert len(smtp_server.messages) == 1


# --- in this process: the retry schedule ------------------------------------------------------


@pytest.fixture
def chunk_retries():
    countdowns = []

    def record(sender=None, reason=None, **kwargs):
        countdowns.append(reason.when)

    task_retry.connect(record, sender=tasks.send_mails, weak=False)
    yield countdowns
    task_retry.disconnect(record, sender=tasks.send_mails)


def queued_mails(n: int) -> list[int]:
    college = OrganisationFactory(name="ROC Midden")
    return [
        mail_queue(
            kind=OutgoingMail.Kind.CREDENTIALS,
            to=f"kandidaat{i}@example.test",
            subject="Je inloggegevens",
            organisation=college,
            context={"naam": f"Kandidaat {i}", "gebruikersnaam": f"rocm-{i:07d}"},
            secret={"password": f"Geheim-{i}-abcdef"},
        ).pk
        for i in range(n)
    ]


def test_chunk_gives_up_after_the_last_back_off_and_every_mail_shows_why(
    db, smtp_server, chunk_retries
):
    ids = queued_mails(3)
    smtp_server.mode = "421"

    tasks.send_mails.apply(args=(ids,))  # retries run at once here; countdowns are recorded

    assert chunk_retries == [10, 20, 40, 80, 160, 320]
    assert smtp_server.refused == tasks.MAX_RETRIES + 1  # one try per attempt, not per mail
    mails = OutgoingMail.objects.filter(pk__in=ids).order_by("pk")
    assert [(m.status, m.attempts) for m in mails] == [(FAILED, 7), (FAILED, 0), (FAILED, 0)]
    reason = "SMTPSenderRefused: (421, b'4.3.2 Service not available, try again later', "
    assert all(m.last_error.startswith(reason) for m in mails)
    assert all(m.secret is not None for m in mails)  # kept for 'Opnieuw versturen'


def test_recipient_refused_for_now_does_not_hold_up_the_others(db, smtp_server, chunk_retries):
    ids = queued_mails(3)
    # "Mailbox busy" for the first recipient: about that mailbox, not about the server (a 421
    # at RCPT means the server closes the connection, and counts as server trouble).
    smtp_server.REPLIES = {**smtp_server.REPLIES, "421": "450 4.2.1 Mailbox busy, try later"}
    smtp_server.mode, smtp_server.fail_at, smtp_server.failures_left = "421", "RCPT", 1

    tasks.send_mails.apply(args=(ids,))  # eager: the refused mail's own retry runs at once

    assert chunk_retries == []
    assert sorted(received_by(smtp_server)) == [f"kandidaat{i}@example.test" for i in range(3)]
    mails = OutgoingMail.objects.filter(pk__in=ids).order_by("pk")
    assert [(m.status, m.attempts) for m in mails] == [(SENT, 2), (SENT, 1), (SENT, 1)]


def test_a_secret_sealed_with_another_key_fails_that_mail_only(db, smtp_server, chunk_retries):
    """KB_CREDENTIALS_KEY differs between web and worker, or was changed: that mail cannot be
    read by any retry. It fails at once with the reason; the rest of the chunk goes out."""
    ids = queued_mails(3)
    foreign = Fernet(Fernet.generate_key()).encrypt(b'{"password": "Geheim-anders"}')
    OutgoingMail.objects.filter(pk=ids[1]).update(secret=foreign)

    tasks.send_mails.apply(args=(ids,))

    assert chunk_retries == []
    assert sorted(received_by(smtp_server)) == [
        "kandidaat0@example.test",
        "kandidaat2@example.test",
    ]
    failed = OutgoingMail.objects.get(pk=ids[1])
    assert (failed.status, failed.attempts, failed.last_error) == (FAILED, 1, UNREADABLE_SECRET)
