"""Real `celery worker` processes on Redis, for the end-to-end import (section 3).

Each worker runs in its own process group (started here, so stopped here by its own id);
its log goes to bench/results/, at INFO level so that a task's retry (logged by Celery at
INFO: "retry: Retry in 10s") is seen as well as errors. While `broker()` is active, `.delay()`
in this process publishes to Redis instead of running the task in-process.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator

from .env import BROKER_URL, RESULTS_DIR, ROOT, BenchError


def _reset_connections(app) -> None:
    # Celery and kombu cache connection and producer pools per broker: drop them so the
    # next publish or ping uses the broker configured now (as tests/helpers/services.py does).
    from kombu import pools

    pools.reset()
    app._pool = None
    if (amqp := app.__dict__.get("amqp")) is not None:
        amqp._producer_pool = None
    if (control := app.__dict__.get("control")) is not None:
        control.mailbox.__dict__.pop("producer_pool", None)


@contextlib.contextmanager
def broker() -> Iterator[str]:
    """An emptied Redis database, used by this process for publishing while active."""
    import redis

    from config.celery import app

    client = redis.Redis.from_url(BROKER_URL, socket_connect_timeout=1, socket_timeout=5)
    try:
        client.ping()
    except redis.RedisError as exc:
        raise BenchError(f"Redis is not reachable at {BROKER_URL}: {exc}") from exc
    client.flushdb()
    saved = {key: app.conf.get(key) for key in ("broker_url", "task_always_eager")}
    os.environ["CELERY_BROKER_URL"] = BROKER_URL
    app.conf.broker_url = BROKER_URL
    app.conf.task_always_eager = False
    _reset_connections(app)
    try:
        yield BROKER_URL
    finally:
        app.conf.update(saved)
        os.environ.pop("CELERY_BROKER_URL", None)
        _reset_connections(app)
        client.flushdb()
        client.close()


class Worker:
    def __init__(self, name: str, *, concurrency: int | None) -> None:
        self.name = name
        self.concurrency = concurrency  # None: Celery's default (one process per CPU)
        self.nodename = f"{name}-{uuid.uuid4().hex[:6]}@bench"
        self.log_path = RESULTS_DIR / f"worker-{name}.log"
        self.process: subprocess.Popen | None = None

    def start(self, timeout: float = 60) -> Worker:
        command = [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "config",
            "worker",
            "--pool=prefork",
            "--loglevel=INFO",
            f"--hostname={self.nodename}",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
        ]
        if self.concurrency is not None:
            command.append(f"--concurrency={self.concurrency}")
        env = {**os.environ, "CELERY_BROKER_URL": BROKER_URL, "PYTHONUNBUFFERED": "1"}
        RESULTS_DIR.mkdir(exist_ok=True)
        with open(self.log_path, "ab") as log:
            log.write(f"=== {' '.join(command)}\n".encode())
            log.flush()
            self.process = subprocess.Popen(
                command,
                cwd=ROOT,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group: stopped by that id below
            )
        self._wait_ready(timeout)
        return self

    def _wait_ready(self, timeout: float) -> None:
        from config.celery import app

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise BenchError(f"worker {self.name} exited at start; see {self.log_path}")
            if app.control.ping(destination=[self.nodename], timeout=0.5):
                return
        self.stop()
        raise BenchError(f"worker {self.name} not ready within {timeout} s; see {self.log_path}")

    def cpu_seconds(self) -> float:
        """CPU used so far by the worker and its pool processes (user + system)."""
        import psutil

        if self.process is None or self.process.poll() is not None:
            return 0.0
        total = 0.0
        try:
            main = psutil.Process(self.process.pid)
            for process in [main, *main.children(recursive=True)]:
                with contextlib.suppress(psutil.NoSuchProcess):
                    times = process.cpu_times()
                    total += times.user + times.system
        except psutil.NoSuchProcess:
            pass
        return total

    def terminate(self) -> None:
        """Warm shutdown of the worker and its pool (the process group we started)."""
        if self.process is not None and self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGTERM)

    def wait_stopped(self, timeout: float = 20) -> None:
        if self.process is None:
            return
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(5)
        # Pool children left behind in the group (they share its id).
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process = None

    def stop(self) -> None:
        self.terminate()
        self.wait_stopped()

    def log_size(self) -> int:
        return self.log_path.stat().st_size if self.log_path.exists() else 0

    def problems_since(self, offset: int) -> LogProblems:
        """What the worker logged after `offset`: errors (with the traceback that follows),
        tasks that were retried (Celery logs those at INFO), and warnings."""
        with open(self.log_path, "rb") as log:
            log.seek(offset)
            text = log.read().decode("utf-8", "replace")
        problems = LogProblems()
        current: list[str] | None = None
        for line in text.splitlines():
            match = _LOG_LINE.match(line)
            if match is None:
                if current is not None:  # a traceback's lines belong to the error above
                    current.append(line)
                continue
            level, message = match.groups()
            current = None
            if level in ("ERROR", "CRITICAL"):
                current = [line]
                problems.errors.append(current)
            elif level == "INFO" and _RETRY.search(message):
                problems.retries.append(line)
            elif level == "WARNING":
                problems.warnings.append(line)
        return problems

    def exit_code(self) -> int | None:
        """None while the worker's main process runs, else how it ended."""
        return None if self.process is None else self.process.poll()


# "[2026-11-28 19:20:10,475: WARNING/ForkPoolWorker-1] message" (Celery's log format)
_LOG_LINE = re.compile(r"^\[[^\]]*: (DEBUG|INFO|WARNING|ERROR|CRITICAL)/[^\]]*\] ?(.*)$")
_RETRY = re.compile(r"^Task \S+ retry: ")


class LogProblems:
    def __init__(self) -> None:
        self.errors: list[list[str]] = []
        self.retries: list[str] = []
        self.warnings: list[str] = []

    def fatal(self) -> str:
        """Errors and retries, as text ('' when none): either makes a timing meaningless."""
        parts = ["\n".join(lines) for lines in self.errors] + self.retries
        return "\n".join(parts)[:4000]


def wait_idle(workers, timeout: float = 120) -> None:
    """Until no worker has a task running, reserved or scheduled (retries included)."""
    from config.celery import app

    names = [w.nodename for w in workers]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        inspect = app.control.inspect(destination=names, timeout=0.5)
        busy = False
        for reply in (inspect.active(), inspect.reserved(), inspect.scheduled()):
            reply = reply or {}
            if len(reply) < len(names) or any(reply.values()):
                busy = True
                break
        if not busy:
            return
        time.sleep(0.1)
    raise BenchError(f"workers still busy after {timeout} s")


@contextlib.contextmanager
def running(*workers: Worker) -> Iterator[tuple[Worker, ...]]:
    failed = False
    try:
        for worker in workers:
            worker.start()
        yield workers
    except BaseException:
        failed = True
        raise
    finally:
        for worker in workers:
            worker.terminate()
        for worker in workers:
            # After a failure, do not wait long for a task that may be stuck: kill sooner.
            worker.wait_stopped(5 if failed else 20)
