"""No plaintext password in the database (once delivered), in the broker
(Redis, looked at while a worker imports), in a result backend (there is none), or in the
logs at any level (this process at DEBUG with SQL logging, and a worker at DEBUG).

The passwords are what the candidates received: read back from the mails on the real SMTP
server and from the report's spreadsheet, then searched for, in every table, every Redis
key (message bodies decoded) and every log line.
"""

from __future__ import annotations

import base64
import io
import json
import logging
import re
import time

import pytest
import redis
from django.db import connection
from django.urls import reverse
from openpyxl import load_workbook

from accounts.models import OutgoingMail
from imports.models import ImportBatch

from .factories import TEST_PASSWORD
from .helpers.imports import people, run_import, xlsx_bytes
from .helpers.services import wait_until
from .helpers.workers import mails_of, queue_import, wait_for_status

REPORT_TO = "rapport@rocm.example"
FILE_HEADERS = ["Kandidaatnummer", "Voornaam", "Achternaam", "E-mailadres", "Wachtwoord"]


def credentials_passwords(messages) -> set[str]:
    found = set()
    for message in messages:
        body = message.get_body(("plain",)).get_content()
        if "Wachtwoord: " in body:
            found.add(body.split("Wachtwoord: ", 1)[1].split("\n", 1)[0])
    return found


def report_passwords(messages) -> set[str]:
    """The 'Wachtwoord' column of every report spreadsheet among the messages."""
    found = set()
    for message in messages:
        for part in message.iter_attachments():
            if part.get_filename("").endswith(".xlsx"):
                sheet = load_workbook(io.BytesIO(part.get_content())).active
                rows = list(sheet.iter_rows(values_only=True))
                column = rows[0].index("Wachtwoord")
                found |= {row[column] for row in rows[1:] if row[column] != "ongewijzigd"}
    return found


def file_rows(n: int, start: int) -> list[list]:
    return [
        [f"{i:07d}", f"Voornaam{i}", f"Achternaam{i}", f"k{i}@leerling.example", f"Eigen-ww-{i}-x"]
        for i in range(start, start + n)
    ]


def database_text() -> list[tuple[str, bytes]]:
    """Every value of every table, as bytes, with the table it came from."""
    values = []
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names():
            cursor.execute(f"SELECT * FROM {connection.ops.quote_name(table)}")
            for row in cursor.fetchall():
                for value in row:
                    if isinstance(value, memoryview):
                        value = value.tobytes()
                    if not isinstance(value, str | bytes):
                        value = json.dumps(value, default=str)
                    if isinstance(value, str):
                        value = value.encode()
                    values.append((table, value))
    return values


def leaks(passwords: set[str], blobs) -> list:
    encoded = {p: p.encode() for p in passwords}
    return [(where, p) for where, blob in blobs for p, raw in encoded.items() if raw in blob]


# --- the database -------------------------------------------------------------------------------


def test_no_plaintext_password_in_the_database_after_delivery(
    world, smtp_server, celery_worker_process
):
    generated = queue_import(
        world.beheerder,
        xlsx_bytes(people(20, start=2000)),
        group_id=world.own_group.pk,
        send_credentials=True,
        report_email=REPORT_TO,
    )
    from_file = queue_import(
        world.beheerder,
        xlsx_bytes(file_rows(5, start=2100), headers=FILE_HEADERS),
        group_id=world.own_group.pk,
        password_mode="file",
        send_credentials=True,
        report_email=REPORT_TO,
    )
    for batch in (generated, from_file):
        wait_for_status(batch, ImportBatch.Status.DONE)
    messages = smtp_server.wait_for(27, timeout=30)  # 25 credentials mails, 2 reports
    wait_until(
        lambda: not OutgoingMail.objects.exclude(status=OutgoingMail.Status.SENT).exists(),
        what="every mail to be sent",
    )

    passwords = credentials_passwords(messages)
    assert len(passwords) == 25
    assert passwords == report_passwords(messages)  # the report holds the same ones
    assert {f"Eigen-ww-{i}-x" for i in range(2100, 2105)} <= passwords
    assert leaks(passwords, database_text()) == []
    assert not OutgoingMail.objects.exclude(secret=None).exists()  # wiped on delivery
    assert mails_of(generated).count() == 21


# --- the broker ---------------------------------------------------------------------------------


def redis_snapshot(client: redis.Redis) -> list[tuple[str, bytes]]:
    """Every key of the broker database with its value(s); Celery message bodies (base64 in
    the envelope) decoded as well, so a password inside one would be found."""
    blobs = []
    for key in client.scan_iter("*"):
        kind = client.type(key)
        if kind == b"string":
            values = [client.get(key) or b""]
        elif kind == b"list":
            values = client.lrange(key, 0, -1)
        elif kind == b"hash":
            values = [k + b"=" + v for k, v in client.hgetall(key).items()]
        elif kind == b"set":
            values = list(client.smembers(key))
        elif kind == b"zset":
            values = [member for member, _ in client.zrange(key, 0, -1, withscores=True)]
        else:
            values = []
        for value in values:
            blobs.append((key.decode(), value))
            blobs.extend((key.decode(), body) for body in _message_bodies(value))
    return blobs


def _message_bodies(value: bytes) -> list[bytes]:
    try:
        document = json.loads(value.split(b"=", 1)[-1] if value[:1] != b"{" else value)
    except (ValueError, UnicodeDecodeError):
        return []
    found = []

    def walk(node):
        if isinstance(node, dict):
            if node.get("properties", {}).get("body_encoding") == "base64":
                found.append(base64.b64decode(node["body"]))
            for child in node.values():
                walk(child)
        elif isinstance(node, list):
            for child in node:
                walk(child)

    walk(document)
    return found


def test_no_plaintext_password_in_redis_while_a_worker_imports(
    world, smtp_server, celery_broker, celery_worker_process
):
    client = redis.Redis.from_url(celery_broker)
    batch = queue_import(
        world.beheerder,
        xlsx_bytes(people(500, start=3000)),
        group_id=world.own_group.pk,
        send_credentials=True,
        report_email=REPORT_TO,
    )
    snapshots, tasks_seen = [], set()
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        snapshot = redis_snapshot(client)
        snapshots.extend(snapshot)
        for _key, blob in snapshot:
            tasks_seen.update(t.decode() for t in re.findall(rb'"task": "([\w.]+)"', blob))
        if len(smtp_server.messages) >= 501:
            break
        time.sleep(0.02)
    wait_for_status(batch, ImportBatch.Status.DONE)
    messages = smtp_server.wait_for(501)

    passwords = credentials_passwords(messages)
    assert len(passwords) == 500
    # The broker really carried the import and its mails while we looked …
    assert {"imports.tasks.run_import", "accounts.tasks.send_mails"} <= tasks_seen
    bodies = [json.loads(blob) for _key, blob in snapshots if blob.startswith(b"[[")]
    assert bodies, "no message body was seen"
    # … and every message held ids only: a batch id, or a list of mail ids.
    for args, kwargs, _embed in bodies:
        assert kwargs == {}
        assert all(_id_or_ids(a) for a in args), args
    assert leaks(passwords, snapshots) == []
    # No result backend: no task result was ever stored.
    assert not [key for key in client.scan_iter("celery-task-meta-*")]


def _id_or_ids(value) -> bool:
    """A batch id (a UUID as text), a mail id, or a list of mail ids."""
    if isinstance(value, str):
        return re.fullmatch(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", value)
    if isinstance(value, list):
        return all(isinstance(i, int) for i in value)
    return isinstance(value, int)


# --- the logs -----------------------------------------------------------------------------------


def test_no_plaintext_password_in_this_process_logs_at_debug_with_sql(
    client, world, smtp_server, caplog, django_capture_on_commit_callbacks
):
    # Every logger at every level: the root, and those with a level of their own (Django's
    # 'django' logger stops at INFO, axes at WARNING).
    caplog.set_level(logging.DEBUG)
    for name in ["django", "django.db.backends", *logging.root.manager.loggerDict]:
        caplog.set_level(logging.DEBUG, logger=name)
    connection.force_debug_cursor = True  # and every SQL statement with its parameters
    try:
        with django_capture_on_commit_callbacks(execute=True):
            run_import(
                world.beheerder,
                xlsx_bytes(people(5, start=4000)),
                group_id=world.own_group.pk,
                send_credentials=True,
                report_email=REPORT_TO,
            )
            run_import(
                world.beheerder,
                xlsx_bytes(file_rows(3, start=4100), headers=FILE_HEADERS),
                group_id=world.own_group.pk,
                password_mode="file",
                send_credentials=True,
                report_email=REPORT_TO,
            )
        # A wrong and a right password at the login page, as a person would type them.
        login = reverse("accounts:login")
        client.post(login, {"username": "beheerder", "password": "Verkeerd-Geheim-99"})
        client.post(login, {"username": "beheerder", "password": TEST_PASSWORD})
    finally:
        connection.force_debug_cursor = False

    passwords = credentials_passwords(smtp_server.messages)
    assert len(passwords) == 8
    passwords |= {"Verkeerd-Geheim-99", TEST_PASSWORD}
    assert any(r.name == "django.db.backends" for r in caplog.records)  # SQL was logged
    # Everything logged, formatted and raw, except what the test's own SMTP server ('mail.log',
    # aiosmtpd: the receiving side, a stand-in for the college's mail server) logs.
    formatter = logging.Formatter("%(name)s %(levelname)s %(message)s")
    records = [
        (r.name, (formatter.format(r) + repr(r.__dict__)).encode())
        for r in caplog.records
        if not r.name.startswith("mail.log")
    ]
    assert len(records) > 100
    assert leaks(passwords, records) == []


def test_no_plaintext_password_in_a_worker_log_at_debug(world, smtp_server, celery_worker_factory):
    worker = celery_worker_factory(
        "chatty",
        env={"DJANGO_LOG_LEVEL": "DEBUG", "DJANGO_DEBUG": "1"},  # SQL logged too
    )
    worker.stop()
    worker.command = [
        "--loglevel=DEBUG" if part.startswith("--loglevel=") else part for part in worker.command
    ]
    worker.start()
    batch = queue_import(
        world.beheerder,
        xlsx_bytes(people(10, start=5000)),
        group_id=world.own_group.pk,
        send_credentials=True,
        report_email=REPORT_TO,
    )
    wait_for_status(batch, ImportBatch.Status.DONE)
    messages = smtp_server.wait_for(11)
    worker.stop()  # flush and close its log

    passwords = credentials_passwords(messages)
    assert len(passwords) == 10
    log = worker.log()
    # It really logged that much: each task received, with its arguments.
    assert "DEBUG/MainProcess] TaskPool: Apply" in log
    assert "'imports.tasks.run_import', " in log and str(batch.pk) in log
    assert leaks(passwords, [("worker log", log.encode())]) == []


@pytest.fixture(autouse=True)
def _debug_cursor_off():
    yield
    connection.force_debug_cursor = False
