"""The real services the other tests lean on (tests/helpers/services.py): if these fail, trust
nothing else about mail, workers or pages."""

import json
import smtplib
import time

import pytest
import redis
from django.core.mail import send_mail
from django.urls import reverse

from accounts import tasks
from accounts.mail import mail_queue
from accounts.models import OutgoingMail, Role
from config.celery import app

from .factories import TEST_PASSWORD, OrganisationFactory, UserFactory
from .helpers.services import process_running, require_service, wait_until

SENDER = "Kandidaatbeheer <noreply@example.test>"


def django_send(to="ontvanger@example.test"):
    return send_mail("Onderwerp", "Beste ontvanger,\n\nDit is een test.", SENDER, [to])


# --- SMTP server -------------------------------------------------------------------------------


def test_smtp_server_receives_mail_from_django(smtp_server):
    assert django_send() == 1

    [message] = smtp_server.messages
    assert message["Subject"] == "Onderwerp"
    assert message["From"] == SENDER
    assert message["To"] == "ontvanger@example.test"
    assert message.get_content() == "Beste ontvanger,\n\nDit is een test.\n"
    assert smtp_server.envelopes == [("noreply@example.test", ["ontvanger@example.test"])]


@pytest.mark.parametrize("stage", ["MAIL", "DATA"])
@pytest.mark.parametrize("code", [421, 550])
def test_smtp_server_refuses_with_code(smtp_server, code, stage):
    smtp_server.mode = str(code)
    smtp_server.fail_at = stage

    with pytest.raises(smtplib.SMTPResponseException) as refused:
        django_send()

    assert refused.value.smtp_code == code
    assert smtp_server.messages == []
    assert smtp_server.refused == 1


def test_smtp_server_refuses_recipient(smtp_server):
    smtp_server.mode = "421"
    smtp_server.fail_at = "RCPT"

    with pytest.raises(smtplib.SMTPRecipientsRefused) as refused:
        django_send("a@example.test")

    assert refused.value.recipients == {
        "a@example.test": (421, b"4.3.2 Service not available, try again later")
    }


def test_smtp_server_fails_only_the_next_n_transactions(smtp_server):
    smtp_server.mode = "421"
    smtp_server.failures_left = 1

    with pytest.raises(smtplib.SMTPSenderRefused):
        django_send()
    assert django_send() == 1

    assert len(smtp_server.messages) == 1
    assert smtp_server.refused == 1


def test_hanging_smtp_server_times_out_within_email_timeout(smtp_server):
    smtp_server.mode = "hang"

    started = time.monotonic()
    with pytest.raises(smtplib.SMTPServerDisconnected, match="timed out"):
        django_send()

    assert 1.5 < time.monotonic() - started < 3.5  # EMAIL_TIMEOUT is 2 s
    assert smtp_server.messages == []


def test_stopped_smtp_server_refuses_connection_then_comes_back(smtp_server):
    smtp_server.mode = "refuse_connection"
    with pytest.raises(ConnectionRefusedError):
        django_send()

    smtp_server.mode = "accept"  # same port again
    assert django_send() == 1
    assert len(smtp_server.messages) == 1


def test_wait_for_fails_when_messages_do_not_arrive(smtp_server):
    with pytest.raises(AssertionError, match=r"expected 1 message\(s\) within 0.1 s, got 0"):
        smtp_server.wait_for(1, timeout=0.1)


# --- require_service ---------------------------------------------------------------------------


def test_require_service_skips_outside_ci(monkeypatch):
    monkeypatch.delenv("KB_REQUIRE_SERVICES", raising=False)
    with pytest.raises(pytest.skip.Exception, match=r"^Redis unavailable: connection refused$"):
        require_service("Redis", False, "connection refused")


def test_require_service_fails_in_ci(monkeypatch):
    monkeypatch.setenv("KB_REQUIRE_SERVICES", "1")
    with pytest.raises(pytest.fail.Exception, match=r"^Redis is required \(KB_REQUIRE"):
        require_service("Redis", False, "connection refused")


def test_require_service_passes_when_available(monkeypatch):
    monkeypatch.setenv("KB_REQUIRE_SERVICES", "1")
    assert require_service("Redis", True, "") is None


# --- Celery ------------------------------------------------------------------------------------


def credentials_mail(to="anna@example.test"):
    return mail_queue(
        kind=OutgoingMail.Kind.CREDENTIALS,
        to=to,
        subject="Je inloggegevens",
        organisation=OrganisationFactory(name="ROC Midden"),
        context={
            "naam": "Anna Eigen",
            "gebruikersnaam": "rocm-0000001",
            "school": "ROC Midden",
            "geldig_tot": "31 juli 2026",
            "inlog_url": "http://127.0.0.1:8000/inloggen/",
        },
        secret={"password": "Geheim-123456"},
    )


def test_delay_publishes_to_redis_instead_of_running_eagerly(celery_broker, db):
    mail = credentials_mail()

    tasks.send_mail.delay(mail.pk)

    queued = redis.Redis.from_url(celery_broker).lrange("celery", 0, -1)
    assert [json.loads(m)["headers"]["task"] for m in queued] == ["accounts.tasks.send_mail"]
    assert json.loads(queued[0])["headers"]["argsrepr"] == f"({mail.pk},)"
    mail.refresh_from_db()
    assert mail.status == OutgoingMail.Status.PENDING
    assert app.conf.task_always_eager is False


def test_worker_sends_a_queued_credentials_mail(celery_worker_process, smtp_server):
    mail = credentials_mail()

    tasks.send_mail.delay(mail.pk)

    wait_until(
        lambda: OutgoingMail.objects.get(pk=mail.pk).status == OutgoingMail.Status.SENT,
        what="the worker to send the mail",
    )
    [message] = smtp_server.messages
    assert message["To"] == "anna@example.test"
    assert message["Subject"] == "Je inloggegevens"
    assert "Wachtwoord: Geheim-123456\n" in message.get_body(("plain",)).get_content()
    mail.refresh_from_db()
    assert mail.secret is None
    assert mail.attempts == 1


def test_killed_worker_is_gone_and_a_restarted_one_takes_the_queue(
    celery_worker_process, smtp_server
):
    worker = celery_worker_process
    old_pid, pool_pids = worker.pid, worker.pool_pids
    assert len(pool_pids) == 1  # prefork, concurrency 1

    worker.kill()

    assert not worker.alive
    assert not any(process_running(pid) for pid in [old_pid, *pool_pids])
    mail = credentials_mail()
    tasks.send_mail.delay(mail.pk)  # waits in Redis while no worker runs
    worker.start()
    assert worker.pid != old_pid
    assert smtp_server.wait_for(1)[0]["To"] == "anna@example.test"


def test_two_workers_share_the_load(celery_worker_factory, smtp_server):
    first, second = celery_worker_factory("first"), celery_worker_factory("second")
    assert first.media_root != second.media_root
    # A slow server keeps a worker busy; with prefetch 1 the other must take the second mail.
    smtp_server.delay = 0.5
    mails = [credentials_mail(f"kandidaat{i}@example.test") for i in range(2)]

    for mail in mails:
        tasks.send_mail.delay(mail.pk)

    smtp_server.wait_for(2)
    stats = app.control.inspect(destination=[first.nodename, second.nodename], timeout=2).stats()
    assert {node: s["total"] for node, s in stats.items()} == {
        first.nodename: {"accounts.tasks.send_mail": 1},
        second.nodename: {"accounts.tasks.send_mail": 1},
    }


# --- Browser -----------------------------------------------------------------------------------


def test_browser_logs_in_on_the_live_server_in_dutch(live_server, page):
    # Creating a user here proves the database is usable while Playwright's loop runs.
    user = UserFactory(username="beheerder", role=Role.BEHEERDER)

    page.goto(live_server.url + reverse("accounts:login"))
    assert page.locator("html").get_attribute("lang") == "nl"
    assert page.locator("h1").inner_text() == "Inloggen"
    assert page.evaluate("[navigator.language, innerWidth, innerHeight]") == ["nl-NL", 1280, 800]

    page.get_by_label("Gebruikersnaam").fill(user.username)
    page.get_by_label("Wachtwoord").fill("fout")
    page.get_by_role("button", name="Inloggen").click()
    assert page.locator(".alert-danger").inner_text() == (
        "Gebruikersnaam of wachtwoord is onjuist. Let op: het wachtwoord is hoofdlettergevoelig."
    )

    page.get_by_label("Wachtwoord").fill(TEST_PASSWORD)
    page.get_by_role("button", name="Inloggen").click()
    page.wait_for_url(live_server.url + reverse("candidates:list"))
    assert page.locator("h1").inner_text() == "Kandidaten"
