"""Real services for tests: an SMTP server, Celery worker processes on Redis, headless Chromium.

STYLE.md §12: a test that needs a real service talks to the real one. A test whose service is
missing skips itself, except in CI (KB_REQUIRE_SERVICES=1), where a missing service fails the
run: a green CI must mean the service was really there.

Fixtures
- smtp_server: aiosmtpd on 127.0.0.1 in a thread; Django's SMTP backend is pointed at it.
  `mode` simulates faults: "accept", "refuse_connection", "421", "550", "hang".
- celery_broker: the in-process Celery app sends to a real Redis (KB_TEST_BROKER_URL).
- celery_worker_process / celery_worker_factory: real `celery worker` processes on that broker
  and on the test database, each with its own empty media directory (another machine).
- browser (session) / page: Debian's Chromium through Playwright; never a downloaded browser.
"""

from __future__ import annotations

import asyncio
import email
import email.policy
import functools
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from email.message import EmailMessage
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest

BASE_DIR = Path(__file__).resolve().parents[2]
DEFAULT_BROKER_URL = "redis://127.0.0.1:6379/15"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-quic",
    "--no-first-run",
    "--disable-sync",
]
WORKER_FIXTURES = {"celery_broker", "celery_worker_factory", "celery_worker_process"}
BROWSER_FIXTURES = {"browser", "page"}


def require_service(name: str, ok: bool, why: str) -> None:
    """Skip the test when a service is missing, or fail it when CI demands every service."""
    if ok:
        return
    if os.environ.get("KB_REQUIRE_SERVICES") == "1":
        pytest.fail(f"{name} is required (KB_REQUIRE_SERVICES=1) but unavailable: {why}")
    pytest.skip(f"{name} unavailable: {why}")


def wait_until(
    predicate: Callable[[], Any], *, timeout: float = 10.0, interval: float = 0.05, what: str = ""
) -> Any:
    """Poll until `predicate()` is truthy and return its value; fail after `timeout` seconds.
    For work done by another process (a worker), where there is nothing to wait on."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what or predicate}")
        time.sleep(interval)


# --- Pytest hooks ------------------------------------------------------------------------------

_reports = pytest.StashKey[dict]()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    # Kept so fixtures can tell at teardown whether the test failed (to print a worker's log).
    report = yield
    item.stash.setdefault(_reports, {})[report.when] = report
    return report


@pytest.hookimpl(tryfirst=True)  # before `-m` deselects by these marks
def pytest_collection_modifyitems(items) -> None:
    # Mark by fixture, so `-m "not celery_worker"` and `-m browser` select reliably.
    for item in items:
        names = set(getattr(item, "fixturenames", ()))
        if names & WORKER_FIXTURES:
            item.add_marker(pytest.mark.celery_worker)
        if names & BROWSER_FIXTURES:
            item.add_marker(pytest.mark.browser)


def _test_failed(request) -> bool:
    return any(report.failed for report in request.node.stash.get(_reports, {}).values())


# --- SMTP --------------------------------------------------------------------------------------


class SMTPServer:
    """A real SMTP server on 127.0.0.1 with switchable faults.

    mode: "accept" delivers into `messages`; "refuse_connection" closes the port;
    "421"/"550" answer that code at the `fail_at` stage ("MAIL", "RCPT" or "DATA");
    "hang" accepts new TCP connections but never says a word (client time-outs).
    failures_left: None fails every transaction; n fails the next n, then accepts.
    delay: seconds to wait before answering DATA (a slow server keeps a worker busy).
    connections: TCP connections accepted so far, in every mode but "refuse_connection".
    """

    MODES = ("accept", "refuse_connection", "421", "550", "hang")
    REPLIES = {
        "421": "421 4.3.2 Service not available, try again later",
        "550": "550 5.1.1 Mailbox unavailable",
    }

    def __init__(self, host: str = "127.0.0.1") -> None:
        self.host = host
        self.port = 0
        self.messages: list[EmailMessage] = []
        self.envelopes: list[tuple[str, list[str]]] = []  # (MAIL FROM, RCPT TOs) per message
        self.refused = 0  # commands answered with 421/550
        self.connections = 0
        self.fail_at = "MAIL"
        self.failures_left: int | None = None
        self.delay = 0.0
        self._mode = "accept"
        self._changed = threading.Condition()
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="smtp", daemon=True)
        self._server: asyncio.AbstractServer | None = None
        self._transports: set[asyncio.BaseTransport] = set()

    # Life cycle (called from the test thread; the server lives in its own loop thread).

    def start(self) -> SMTPServer:
        self._thread.start()
        self._call(self._listen())
        return self

    def stop(self) -> None:
        self._call(self._shutdown())
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(5)
        self._loop.close()

    @property
    def mode(self) -> str:
        return self._mode

    @mode.setter
    def mode(self, value: str) -> None:
        if value not in self.MODES:
            raise ValueError(f"mode must be one of {self.MODES}, not {value!r}")
        self._mode = value
        self._call(self._close() if value == "refuse_connection" else self._listen())

    def wait_for(self, n: int, timeout: float = 10) -> list[EmailMessage]:
        """Wait until at least `n` messages arrived (a worker sends them asynchronously)."""
        with self._changed:
            if not self._changed.wait_for(lambda: len(self.messages) >= n, timeout):
                raise AssertionError(
                    f"expected {n} message(s) within {timeout} s, got {len(self.messages)}"
                )
            return list(self.messages)

    # Inside the loop thread.

    def _call(self, coroutine) -> Any:
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop).result(5)

    async def _listen(self) -> None:
        if self._server is not None:
            return
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        # Re-opening the same port after "refuse_connection" must work despite TIME_WAIT.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((self.host, self.port))
        self.port = sock.getsockname()[1]
        self._server = await self._loop.create_server(self._protocol, sock=sock)

    async def _close(self) -> None:
        # A stopped server: the port is closed and open sessions are cut off.
        if self._server is not None:
            self._server.close()
            self._server = None
        for transport in list(self._transports):
            transport.close()

    async def _shutdown(self) -> None:
        await self._close()
        tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    def _protocol(self) -> asyncio.Protocol:
        self.connections += 1  # called once per accepted connection, in the loop thread
        if self._mode == "hang":
            return _SilentProtocol(self._transports)
        # An explicit hostname: aiosmtpd would otherwise ask DNS for the FQDN on each session.
        return _tracked_smtp_class()(
            _Handler(self),
            transports=self._transports,
            hostname="kb-test-smtp",
            loop=self._loop,
            timeout=30,
        )

    def _refusal(self, stage: str) -> str | None:
        if self._mode not in self.REPLIES or stage != self.fail_at:
            return None
        if self.failures_left is not None:
            if self.failures_left <= 0:
                return None
            self.failures_left -= 1
        self.refused += 1
        return self.REPLIES[self._mode]

    def _received(self, envelope) -> None:
        # SMTP carries CRLF; with LF line ends, tests compare bodies to ordinary strings.
        content = envelope.original_content.replace(b"\r\n", b"\n")
        message = email.message_from_bytes(content, policy=email.policy.default)
        with self._changed:
            self.messages.append(message)
            self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
            self._changed.notify_all()


@functools.cache
def _tracked_smtp_class() -> type:
    # Imported late: a missing aiosmtpd skips the SMTP tests instead of breaking collection.
    from aiosmtpd.smtp import SMTP

    class TrackedSMTP(SMTP):
        """Remembers its connection, so a stopped server can cut open sessions."""

        def __init__(self, handler, *, transports: set, **kwargs) -> None:
            super().__init__(handler, **kwargs)
            self.kb_transports = transports

        def connection_made(self, transport) -> None:
            self.kb_transports.add(transport)
            super().connection_made(transport)

        def connection_lost(self, error) -> None:
            self.kb_transports.discard(self.transport)
            super().connection_lost(error)

    return TrackedSMTP


class _SilentProtocol(asyncio.Protocol):
    def __init__(self, transports: set) -> None:
        self.transports = transports

    def connection_made(self, transport) -> None:
        self.transport = transport
        self.transports.add(transport)

    def connection_lost(self, exc) -> None:
        self.transports.discard(self.transport)


class _Handler:
    """aiosmtpd hooks; a hook that answers must also do what the default would have done."""

    def __init__(self, server: SMTPServer) -> None:
        self.server = server

    async def handle_MAIL(self, smtp, session, envelope, address, mail_options):
        if refusal := self.server._refusal("MAIL"):
            return refusal
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 OK"

    async def handle_RCPT(self, smtp, session, envelope, address, rcpt_options):
        if refusal := self.server._refusal("RCPT"):
            return refusal
        envelope.rcpt_tos.append(address)
        envelope.rcpt_options.extend(rcpt_options)
        return "250 OK"

    async def handle_DATA(self, smtp, session, envelope):
        if self.server.delay:
            await asyncio.sleep(self.server.delay)
        if refusal := self.server._refusal("DATA"):
            return refusal
        self.server._received(envelope)
        return "250 OK: queued"


@pytest.fixture
def smtp_server(settings) -> Iterator[SMTPServer]:
    try:
        import aiosmtpd  # noqa: F401
    except ImportError as exc:
        require_service("SMTP server", False, f"aiosmtpd is not installed ({exc})")
    server = SMTPServer().start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = server.host
    settings.EMAIL_PORT = server.port
    settings.EMAIL_TIMEOUT = 2
    settings.EMAIL_USE_TLS = False
    settings.EMAIL_USE_SSL = False
    settings.EMAIL_HOST_USER = ""
    settings.EMAIL_HOST_PASSWORD = ""
    yield server
    server.stop()


# --- Celery ------------------------------------------------------------------------------------


def _reset_celery_connections(app) -> None:
    """Celery caches a connection pool and a producer pool on the app, the control mailbox
    caches the producer pool, and kombu keeps a process-wide registry of pools keyed by broker.
    Drop them all, so the next `.delay()` or ping connects to the broker configured now."""
    from kombu import pools

    pools.reset()
    app._pool = None
    if (amqp := app.__dict__.get("amqp")) is not None:
        amqp._producer_pool = None
    if (control := app.__dict__.get("control")) is not None:
        control.mailbox.__dict__.pop("producer_pool", None)


@pytest.fixture
def celery_broker(monkeypatch) -> Iterator[str]:
    """A real, emptied Redis database as broker, used by this process too: while active,
    `.delay()` here publishes to Redis instead of running the task eagerly."""
    import redis

    from config.celery import app

    url = os.environ.get("KB_TEST_BROKER_URL", DEFAULT_BROKER_URL)
    client = redis.Redis.from_url(url, socket_connect_timeout=1, socket_timeout=5)
    try:
        client.ping()
    except redis.RedisError as exc:
        require_service("Redis", False, f"{url}: {exc}")
    client.flushdb()

    # Celery reads CELERY_BROKER_URL from the environment before its own configuration.
    monkeypatch.setenv("CELERY_BROKER_URL", url)
    saved = {key: app.conf.get(key) for key in ("broker_url", "task_always_eager")}
    app.conf.broker_url = url
    app.conf.task_always_eager = False
    _reset_celery_connections(app)
    try:
        yield url
    finally:
        app.conf.update(saved)
        _reset_celery_connections(app)
        client.flushdb()
        client.close()


def _worker_database_url() -> str:
    """The test database pytest-django created, as a URL for another process."""
    from django.db import connection

    db = connection.settings_dict
    if db["ENGINE"] == "django.db.backends.sqlite3":
        name = str(db["NAME"])
        if name == ":memory:" or "mode=memory" in name:
            pytest.fail("A Celery worker cannot share an in-memory SQLite database.")
        return f"sqlite:///{Path(name).resolve()}"
    if db["ENGINE"] == "django.db.backends.postgresql":
        credentials = quote(db["USER"] or "", safe="")
        if db["PASSWORD"]:
            credentials += ":" + quote(db["PASSWORD"], safe="")
        host = quote(db["HOST"] or "", safe="")  # a socket directory is percent-encoded
        port = f":{db['PORT']}" if db["PORT"] else ""
        return f"postgres://{credentials}@{host}{port}/{quote(db['NAME'], safe='')}"
    pytest.fail(f"No worker database URL for engine {db['ENGINE']}.")


class CeleryWorker:
    """One `celery worker` process. `kill()` simulates a machine dying, `start()` reboots it
    with the same disk (media directory) and log file."""

    def __init__(self, nodename: str, *, command: list[str], env: dict, log_path: Path) -> None:
        self.nodename = nodename
        self.command = command
        self.env = env
        self.log_path = log_path
        self.media_root = Path(env["KB_MEDIA_ROOT"])
        self._process: subprocess.Popen | None = None
        self._starts = 0
        self._stopping: list[int] = []

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process else None

    @property
    def alive(self) -> bool:
        return self._process is not None and self._process.poll() is None

    @property
    def pool_pids(self) -> list[int]:
        """The pool children (prefork) and anything they started."""
        return _descendants(self.pid) if self.alive else []

    def start(self, timeout: float = 30) -> CeleryWorker:
        if self.alive:
            raise RuntimeError(f"{self.nodename} is already running (pid {self.pid})")
        self._starts += 1
        with open(self.log_path, "ab") as log:
            log.write(f"=== start {self._starts}: {' '.join(self.command)}\n".encode())
            log.flush()
            self._process = subprocess.Popen(
                self.command,
                cwd=BASE_DIR,
                env=self.env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # a Ctrl+C in the terminal is for pytest, not for it
            )
        self._wait_ready(timeout)
        return self

    def _wait_ready(self, timeout: float) -> None:
        from config.celery import app

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not self.alive:
                pytest.fail(f"Celery worker {self.nodename} exited at start:\n{self.log()}")
            if app.control.ping(destination=[self.nodename], timeout=0.5):
                return
        self.kill()
        pytest.fail(f"Celery worker {self.nodename} not ready within {timeout} s:\n{self.log()}")

    def kill(self) -> None:
        """SIGKILL main process and pool children at once: nothing is acknowledged, nothing is
        given back to the broker, as when the machine loses power mid-task."""
        if not self.alive:
            return
        children = _descendants(self.pid)
        # The main process first, so it cannot react to a dead child by requeueing its task.
        for pid in [self.pid, *children]:
            _signal(pid, signal.SIGKILL)
        self._process.wait(5)
        wait_until(
            lambda: not any(process_running(pid) for pid in children),
            timeout=5,
            what=f"the pool processes {children} of {self.nodename} to die",
        )

    def stop(self, timeout: float = 10) -> None:
        """Warm shutdown (SIGTERM: finish the current task), SIGKILL when it takes too long."""
        self._terminate()
        self._wait_stopped(timeout)

    def _terminate(self) -> None:
        # Split from waiting so that several workers stop in parallel: a prefork worker
        # takes about 2.5 s to shut down warmly.
        if self.alive:
            self._stopping = _descendants(self.pid)
            self._process.send_signal(signal.SIGTERM)

    def _wait_stopped(self, timeout: float) -> None:
        if self._process is None:
            return
        try:
            self._process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill()
        for pid in self._stopping:
            if process_running(pid):
                _signal(pid, signal.SIGKILL)
        self._stopping = []

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def __repr__(self) -> str:
        return f"<CeleryWorker {self.nodename} pid={self.pid} alive={self.alive}>"


def _descendants(pid: int | None) -> list[int]:
    if pid is None:
        return []
    parents: dict[int, list[int]] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            stat = Path(entry.path, "stat").read_text()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        parents.setdefault(ppid, []).append(int(entry.name))
    found, todo = [], [pid]
    while todo:
        for child in parents.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def process_running(pid: int) -> bool:
    """False once the process has exited, also while it is a zombie nobody has reaped yet."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state not in ("Z", "X")  # a zombie is dead, only not yet reaped


def _signal(pid: int, signum: int) -> None:
    try:
        os.kill(pid, signum)
    except ProcessLookupError:
        pass


@pytest.fixture
def celery_worker_factory(
    request, transactional_db, celery_broker, tmp_path_factory
) -> Iterator[Callable[..., CeleryWorker]]:
    """Returns start(name="worker", *, pool="prefork", env=None) -> CeleryWorker, ready.

    The worker shares the test database (committed data only: hence transactional_db), has
    its own empty KB_MEDIA_ROOT, and mails to `smtp_server` when the test uses that fixture
    (otherwise to a locmem outbox nobody sees). `env` adds variables, e.g.
    {"CELERY_VISIBILITY_TIMEOUT": "2"} for a test in which a killed worker's task must come back.
    """
    smtp = request.getfixturevalue("smtp_server") if "smtp_server" in request.fixturenames else None
    base_env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings_test",
        "DATABASE_URL": _worker_database_url(),
        "CELERY_BROKER_URL": celery_broker,
        "PYTHONUNBUFFERED": "1",
    }
    base_env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)  # set by the browser fixtures, not for it
    if smtp is not None:
        base_env["EMAIL_URL"] = f"smtp://{smtp.host}:{smtp.port}?timeout=2"
        base_env["TEST_EMAIL_BACKEND"] = "django.core.mail.backends.smtp.EmailBackend"
    else:
        base_env["TEST_EMAIL_BACKEND"] = "django.core.mail.backends.locmem.EmailBackend"
    workers: list[CeleryWorker] = []

    def start(name: str = "worker", *, pool: str = "prefork", env: dict | None = None):
        directory = tmp_path_factory.mktemp(f"celery-{name}")
        (directory / "media").mkdir()
        # Unique per test run, so a ping is never answered by a worker of an earlier test.
        nodename = f"{name}-{uuid.uuid4().hex[:8]}@kb-test"
        command = [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "config",
            "worker",
            f"--pool={pool}",
            "--concurrency=1",
            "--loglevel=WARNING",
            f"--hostname={nodename}",
            # No cluster chatter: it only slows the start and mixes workers of other tests.
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
        ]
        worker_env = {**base_env, "KB_MEDIA_ROOT": str(directory / "media"), **(env or {})}
        worker = CeleryWorker(
            nodename, command=command, env=worker_env, log_path=directory / "worker.log"
        )
        workers.append(worker)
        return worker.start()

    yield start

    for worker in workers:
        worker._terminate()
    for worker in workers:
        worker._wait_stopped(timeout=10)
    if _test_failed(request):
        for worker in workers:
            print(f"\n----- log of Celery worker {worker.nodename} -----\n{worker.log()}")


@pytest.fixture
def celery_worker_process(celery_worker_factory) -> CeleryWorker:
    return celery_worker_factory("worker")


# --- Browser -----------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def browser():
    """Debian's Chromium, headless, for the whole session.

    Playwright's sync API keeps an asyncio loop running in this thread while it is started,
    and Django refuses database access "from an async context". DJANGO_ALLOW_ASYNC_UNSAFE
    lifts that check; it must stay set until the browser stops (the end of the session),
    because every later test runs in the same thread as that loop.
    """
    require_service("Chromium", os.access(CHROMIUM, os.X_OK), f"{CHROMIUM} is not installed")
    try:
        from playwright.sync_api import Error, sync_playwright
    except ImportError as exc:
        require_service("Chromium", False, f"playwright is not installed ({exc})")
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    playwright = sync_playwright().start()
    try:
        try:
            chromium = playwright.chromium.launch(
                executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
            )
        except Error as exc:
            require_service("Chromium", False, f"{CHROMIUM} does not start: {exc.message}")
        yield chromium
        chromium.close()
    finally:
        playwright.stop()
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture
def page(browser):
    """A fresh context per test (no cookies carried over), Dutch, desktop-sized. Actions fail
    after 5 s instead of Playwright's 30 s: every page here is local."""
    context = browser.new_context(viewport={"width": 1280, "height": 800}, locale="nl-NL")
    page = context.new_page()
    page.set_default_timeout(5000)
    yield page
    context.close()
