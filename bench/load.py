"""Load test: 50 staff users browse and search the candidate list of a college with
50,000 candidates while a Celery worker imports 10,000 more, for 60 seconds, against gunicorn
on PostgreSQL. Run by hand; never part of the test suite.

    .venv/bin/python -m bench.load                      # the full run: 50 users, 60 s
    .venv/bin/python -m bench.load --seconds 20 --candidates 5000 --import-rows 2000  # a smoke run

Reports throughput, p50/p95/p99 latency and errors, overall and while the import ran
(target: 0 errors, p95 under 300 ms).

What it starts, all on 127.0.0.1, all stopped again at the end (also on Ctrl+C):
- a PostgreSQL database `kb_load` (DATABASE_URL's server; the name must contain `load`,
  because it is dropped and created again) filled with one college: 50,000 candidates in 100
  groups, 25 beheerders and 25 coordinators (each linked to 5 groups);
- gunicorn on the production profile (DJANGO_DEBUG=0, collected static files, whitenoise);
- one `celery worker` on Redis database 13 (KB_LOAD_BROKER_URL), emptied before and after;
- a second process that plays the 50 users: each logged in with its own session, in a loop
  that pauses `--think` seconds between clicks: a page of the list, a search, a filter.

Every loop is bounded by time and by count; every wait has a time-out.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import secrets
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlencode, urlsplit

BASE_DIR = Path(__file__).resolve().parent.parent
DEFAULT_DATABASE = "postgres://postgres@127.0.0.1:5432/kb_load"
DEFAULT_BROKER = "redis://127.0.0.1:6379/13"
LOCAL_HOSTS = {"127.0.0.1", "localhost"}
FIRST_NAMES = ["Jan", "Sanne", "Mohammed", "Fatima", "Lars", "Émile", "Zoë", "Ayşe", "Daan", "Noor"]
LAST_NAMES = [("", "Jansen"), ("de", "Vries"), ("van der", "Berg"), ("", "Öztürk"), ("", "Bakker")]
SEARCHES = ["jansen", "vries", "emile", "zoe berg", "ayse", "0012", "noor bakker", "lars 17"]
REQUEST_TIMEOUT = 15.0
SETTINGS_MODULE = """
from config.settings import *  # noqa: F403

STATIC_ROOT = {static_root!r}
"""


# --- set-up -------------------------------------------------------------------------------------


def environment(args, tmp: Path) -> dict[str, str]:
    (tmp / "load_settings.py").write_text(SETTINGS_MODULE.format(static_root=str(tmp / "static")))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("KB_TESTING", "DJANGO_"))}
    env.update(
        DJANGO_SETTINGS_MODULE="load_settings",
        PYTHONPATH=f"{tmp}{os.pathsep}{BASE_DIR}",
        DJANGO_DEBUG="0",
        DJANGO_SECRET_KEY=secrets.token_urlsafe(50),
        DJANGO_ALLOWED_HOSTS="127.0.0.1",
        DJANGO_SECURE_SSL_REDIRECT="0",  # plain HTTP on the loopback; TLS is the proxy's job
        DJANGO_LOG_LEVEL="WARNING",
        DATABASE_URL=args.database_url,
        CELERY_BROKER_URL=args.broker_url,
        EMAIL_URL="locmem://",  # the report mail goes nowhere
        AXES_ENABLED="0",
        PYTHONUNBUFFERED="1",
    )
    return env


def check_local(url: str, what: str) -> None:
    host = urlsplit(url).hostname
    if host not in LOCAL_HOSTS:
        sys.exit(f"{what} must be on 127.0.0.1, not {host!r}.")


def recreate_database(url: str) -> None:
    import psycopg

    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    if "load" not in name:
        sys.exit(f"The database name must contain 'load' (it is dropped): {name!r}.")
    admin = parts._replace(path="/postgres").geturl()
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def drop_database(url: str) -> None:
    import psycopg

    parts = urlsplit(url)
    admin = parts._replace(path="/postgres").geturl()
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{parts.path.lstrip("/")}" WITH (FORCE)')


def manage(env, *args) -> None:
    subprocess.run(
        [sys.executable, "manage.py", *args], cwd=BASE_DIR, env=env, check=True, timeout=600
    )


def seed(n: int, staff: int) -> dict:
    """One college, `n` candidates in 100 groups, `staff` users (half beheerder, half
    coordinator of 5 groups); returns their session cookies and what the users search for."""
    from datetime import date, timedelta

    from django.contrib.auth.hashers import make_password
    from django.db import connection, transaction
    from django.test import Client

    from accounts.models import Organisation, Role, User
    from candidates.models import Candidate, CandidateGroup

    password = make_password("load-test-only", hasher="pbkdf2_sha256_generated")
    today = date.today()
    with transaction.atomic():
        # The bench measures pages, not the sign-in: no second factor for its staff.
        college = Organisation.objects.create(
            name="ROC Belasting", code="load", two_factor_roles=[]
        )
        groups = CandidateGroup.objects.bulk_create(
            CandidateGroup(organisation=college, name=f"Groep {i:03d}") for i in range(100)
        )
        users = []
        for i in range(staff):
            role = Role.BEHEERDER if i % 2 == 0 else Role.TOETSCOORDINATOR
            users.append(
                User.objects.create(
                    username=f"staff-{i:02d}", organisation=college, role=role, password=password
                )
            )
            if role == Role.TOETSCOORDINATOR:
                for group in random.Random(i).sample(groups, 5):
                    group.coordinators.add(users[-1])
        for start in range(0, n, 5000):
            chunk = range(start, min(start + 5000, n))
            created = User.objects.bulk_create(
                User(
                    username=f"load-{i:07d}",
                    organisation=college,
                    role=Role.KANDIDAAT,
                    first_name=FIRST_NAMES[i % len(FIRST_NAMES)],
                    surname_prefix=LAST_NAMES[(i * 7) % len(LAST_NAMES)][0],
                    last_name=f"{LAST_NAMES[(i * 7) % len(LAST_NAMES)][1]}{i % 997}",
                    email=f"k{i}@leerling.example",
                    password=password,
                    valid_until=today + timedelta(days=i % 400 - 40),
                )
                for i in chunk
            )
            candidates = []
            for i, user in zip(chunk, created, strict=True):
                candidate = Candidate(user=user, organisation=college, candidate_number=f"{i:07d}")
                candidate.refresh_derived()
                candidates.append(candidate)
            Candidate.objects.bulk_create(candidates)
            Candidate.groups.through.objects.bulk_create(
                Candidate.groups.through(candidate_id=u.pk, candidategroup_id=groups[i % 100].pk)
                for i, u in zip(chunk, created, strict=True)
            )
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")  # what autovacuum does after a big load
    sessions = []
    for user in users:
        client = Client()
        client.force_login(user)
        sessions.append(client.cookies["sessionid"].value)
    return {
        "college": college.pk,
        "importer": users[0].pk,
        "group": groups[0].pk,
        "sessions": sessions,
        "groups": [g.pk for g in groups],
    }


def import_file(rows: int) -> bytes:
    from datetime import date

    from openpyxl import Workbook

    wb = Workbook(write_only=True)
    ws = wb.create_sheet("Kandidaten")
    ws.append(["Kandidaatnummer", "Voornaam", "Tussenvoegsel", "Achternaam", "E-mailadres",
               "Geboortedatum"])  # fmt: skip
    for i in range(1_000_000, 1_000_000 + rows):
        ws.append([f"{i:07d}", f"Voornaam{i}", "", f"Nieuw{i}", f"n{i}@leerling.example",
                   date(2008, 1, 1 + i % 28)])  # fmt: skip
    import io

    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


class Processes:
    """What we started, to be stopped again whatever happens."""

    def __init__(self) -> None:
        self.running: list[subprocess.Popen] = []

    def start(self, command, env, log: Path) -> subprocess.Popen:
        with open(log, "wb") as out:
            process = subprocess.Popen(
                command, cwd=BASE_DIR, env=env, stdout=out, stderr=subprocess.STDOUT,
                start_new_session=True,
            )  # fmt: skip
        self.running.append(process)
        return process

    def stop_all(self) -> None:
        for process in self.running:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        deadline = time.monotonic() + 15
        for process in self.running:
            try:
                process.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(5)


def wait_for(predicate, *, timeout: float, what: str, interval: float = 0.25):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise SystemExit(f"Timed out after {timeout:.0f} s waiting for {what}.")


def http_ok(port: int, path: str) -> bool:
    import http.client

    try:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
        conn.request("GET", path)
        return conn.getresponse().status == 200
    except OSError:
        return False


def warm_up(port: int, sessions: list[str], workers: int) -> None:
    """Django compiles URL patterns and templates on a process's first requests: give every
    gunicorn worker a few of each kind before the clock starts (not counted)."""
    import http.client
    from concurrent.futures import ThreadPoolExecutor

    queries = ["", "?q=jansen", "?page=3", "?sort=number", "?validity=expiring"]
    paths = [f"/beheer/kandidaten/{query}" for query in queries]

    def get(i: int) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=REQUEST_TIMEOUT)
        conn.request("GET", paths[i % len(paths)], headers={
            "Cookie": f"sessionid={sessions[i % len(sessions)]}"})  # fmt: skip
        conn.getresponse().read()
        conn.close()

    with ThreadPoolExecutor(max_workers=workers * 2) as pool:
        list(pool.map(get, range(workers * len(paths) * 4)))


# --- the users (second process) -----------------------------------------------------------------


def user_requests(plan: dict, rng: random.Random, beheerder: bool):
    """What a staff member does on the candidate list: leaf through pages, search, filter."""
    pages = plan["candidates"] // 50 if beheerder else plan["candidates"] // 1000
    while True:
        roll = rng.random()
        if roll < 0.35:
            params = {"page": rng.randint(1, max(1, pages))}
        elif roll < 0.75:
            params = {"q": rng.choice(SEARCHES)}
        elif roll < 0.85:
            params = {"sort": rng.choice(["-name", "number", "-number"])}
        elif roll < 0.95:
            params = {"validity": "expiring", "status": "active"}
        else:
            params = {"group": rng.choice(plan["groups"])} if beheerder else {}
        kind = next(iter(params), "first")
        yield kind, "/beheer/kandidaten/" + ("?" + urlencode(params) if params else "")


async def fetch(port: int, path: str, cookie: str) -> tuple[int, int]:
    """One GET over its own connection (gunicorn's sync workers close it anyway): the status
    and the size of the body."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(
            f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nCookie: sessionid={cookie}\r\n"
            "Accept-Language: nl\r\nConnection: close\r\n\r\n".encode()
        )
        await writer.drain()
        data = await reader.read()
    finally:
        writer.close()
    head, _, body = data.partition(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1]) if head.startswith(b"HTTP/") else 0
    return status, len(body)


async def play_user(index: int, plan: dict, deadline: float, results: list) -> None:
    rng = random.Random(index)
    beheerder = index % 2 == 0
    cookie = plan["sessions"][index]
    await asyncio.sleep(rng.random() * plan["think"])  # not all at the same instant
    for count, (kind, path) in enumerate(user_requests(plan, rng, beheerder)):
        if time.time() >= deadline or count >= plan["max_requests_per_user"]:
            return
        started = time.time()
        try:
            status, size = await asyncio.wait_for(
                fetch(plan["port"], path, cookie), REQUEST_TIMEOUT
            )
            error = None if status == 200 and size > 1000 else f"HTTP {status}"
        except (TimeoutError, OSError, ValueError, IndexError) as exc:
            status, error = 0, type(exc).__name__
        results.append((started, time.time() - started, kind, error))
        if plan["think"]:
            await asyncio.sleep(rng.uniform(0.5, 1.5) * plan["think"])


def drive(plan_path: str) -> None:
    plan = json.loads(Path(plan_path).read_text())
    results: list = []

    async def main():
        deadline = time.time() + plan["seconds"]
        await asyncio.gather(*(play_user(i, plan, deadline, results) for i in range(plan["users"])))

    asyncio.run(main())
    Path(plan["results"]).write_text(json.dumps(results))


# --- the report ---------------------------------------------------------------------------------


class CpuMeter:
    """CPU seconds used by the web server, the worker, the database backends of the load
    database and the simulated users. Contention with anything else on the machine changes
    latency, not these, so CPU per request is the figure to size servers with."""

    def __init__(self, gunicorn_pid: int, worker_pid: int, driver_pid: int, database: str):
        import psutil

        self.psutil = psutil
        self.roots = {"web": gunicorn_pid, "worker": worker_pid, "users": driver_pid}
        self.database = database
        self.seen: dict[tuple[str, int], float] = {}
        self.first: dict[tuple[str, int], float] = {}

    def _tree(self, pid: int) -> list:
        try:
            root = self.psutil.Process(pid)
            return [root, *root.children(recursive=True)]
        except self.psutil.NoSuchProcess:
            return []

    def _database_pids(self) -> list[int]:
        from django.db import connection

        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT pid FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
                [self.database],
            )
            return [pid for (pid,) in cursor.fetchall()]

    def sample(self) -> None:
        processes = [(name, p) for name, pid in self.roots.items() for p in self._tree(pid)]
        for pid in self._database_pids():
            try:
                processes.append(("database", self.psutil.Process(pid)))
            except self.psutil.NoSuchProcess:
                pass
        for name, process in processes:
            try:
                times = process.cpu_times()
            except self.psutil.Error:
                continue
            key = (name, process.pid)
            used = times.user + times.system
            self.first.setdefault(key, used)
            self.seen[key] = used

    def seconds(self) -> dict[str, float]:
        totals: dict[str, float] = {}
        for (name, pid), used in self.seen.items():
            totals[name] = totals.get(name, 0.0) + used - self.first[(name, pid)]
        return {name: round(value, 2) for name, value in sorted(totals.items())}


def percentile(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    k = (len(ordered) - 1) * p / 100
    low, high = int(k), min(int(k) + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (k - low)


def summary(rows: list, seconds: float) -> dict:
    latencies = [r[1] * 1000 for r in rows]
    errors: dict[str, int] = {}
    for row in rows:
        if row[3]:
            errors[row[3]] = errors.get(row[3], 0) + 1
    return {
        "requests": len(rows),
        "seconds": round(seconds, 1),
        "throughput": round(len(rows) / seconds, 1) if seconds else 0,
        "p50_ms": round(percentile(latencies, 50), 1),
        "p95_ms": round(percentile(latencies, 95), 1),
        "p99_ms": round(percentile(latencies, 99), 1),
        "max_ms": round(max(latencies, default=float("nan")), 1),
        "mean_ms": round(statistics.fmean(latencies), 1) if latencies else float("nan"),
        "errors": errors,
    }


def print_report(report: dict) -> None:
    print()
    print(f"{'':<22} {'requests':>9} {'req/s':>7} {'p50':>8} {'p95':>8} {'p99':>8} {'max':>8}"
          f"  errors")  # fmt: skip
    for label, s in report["phases"].items():
        print(
            f"{label:<22} {s['requests']:>9} {s['throughput']:>7} {s['p50_ms']:>6}ms "
            f"{s['p95_ms']:>6}ms {s['p99_ms']:>6}ms {s['max_ms']:>6}ms  "
            f"{sum(s['errors'].values())} {s['errors'] or ''}"
        )
    for kind, s in report["by_kind"].items():
        print(f"  {kind:<20} {s['requests']:>9} {'':>7} {s['p50_ms']:>6}ms {s['p95_ms']:>6}ms "
              f"{s['p99_ms']:>6}ms {s['max_ms']:>6}ms")  # fmt: skip
    print(
        f"\nimport of {report['import']['rows']} rows: {report['import']['status']} "
        f"in {report['import']['seconds']} s (queued at {report['import']['queued_at']} s)"
    )
    print(
        "CPU seconds over the run: "
        + ", ".join(f"{k} {v}" for k, v in report["cpu_seconds"].items())
        + "; per request: "
        + ", ".join(f"{k} {v} ms" for k, v in report["cpu_ms_per_request"].items())
    )
    whole = report["phases"]["whole run"]
    ok = not whole["errors"] and whole["p95_ms"] < 300
    print("target (0 errors, p95 < 300 ms):", "MET" if ok else "NOT MET")


# --- main ---------------------------------------------------------------------------------------


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--seconds", type=int, default=60)
    parser.add_argument("--candidates", type=int, default=50_000)
    parser.add_argument("--import-rows", type=int, default=10_000)
    parser.add_argument("--import-after", type=float, default=5.0, help="seconds into the run")
    parser.add_argument("--think", type=float, default=1.0, help="mean pause between clicks")
    parser.add_argument("--worker-nice", type=int, default=0, metavar="N",
                        help="run the worker under `nice -n N` (0: same priority)")  # fmt: skip
    parser.add_argument("--gunicorn-workers", type=int, default=2 * (os.cpu_count() or 1) + 1)
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--database-url", default=os.environ.get("KB_LOAD_DATABASE_URL",
                                                                 DEFAULT_DATABASE))  # fmt: skip
    parser.add_argument("--broker-url", default=os.environ.get("KB_LOAD_BROKER_URL",
                                                               DEFAULT_BROKER))  # fmt: skip
    parser.add_argument("--keep-database", action="store_true")
    parser.add_argument("--json", metavar="PATH", help="also write the report as JSON")
    parser.add_argument("--drive", metavar="PLAN", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.drive:
        drive(args.drive)
        return 0
    check_local(args.database_url, "The database")
    check_local(args.broker_url, "Redis")
    args.seconds = max(5, min(args.seconds, 600))
    args.users = max(1, min(args.users, 500))

    processes = Processes()
    with tempfile.TemporaryDirectory(prefix="kb-load-") as tmp_name:
        tmp = Path(tmp_name)
        env = environment(args, tmp)
        try:
            return run(args, env, tmp, processes)
        finally:
            processes.stop_all()
            import redis

            redis.Redis.from_url(args.broker_url).flushdb()
            if not args.keep_database:
                drop_database(args.database_url)


def run(args, env, tmp: Path, processes: Processes) -> int:
    import redis

    started = time.perf_counter()
    redis.Redis.from_url(args.broker_url).flushdb()
    recreate_database(args.database_url)
    manage(env, "migrate", "--noinput", "-v", "0")
    manage(env, "collectstatic", "--noinput", "-v", "0")
    os.environ.update(env)
    sys.path.insert(0, str(tmp))
    import django

    django.setup()
    from config.celery import app
    from imports import services
    from imports.models import ImportBatch

    data = seed(args.candidates, args.users)
    print(f"seeded {args.candidates} candidates and {args.users} staff users "
          f"in {time.perf_counter() - started:.0f} s")  # fmt: skip
    importer_id = data["importer"]
    from accounts.models import User

    importer = User.objects.get(pk=importer_id)
    batch = services.batch_create_from_upload(
        actor=importer, file_name="nieuw.xlsx", data=import_file(args.import_rows)
    )
    services.batch_set_options(
        batch=batch, group_id=data["group"], send_credentials=False, report_email=""
    )

    # On a machine shared with the web server an operator can give the worker a lower CPU
    # priority (docs/deployment.md): requests first, the import uses what is left.
    niceness = ["nice", "-n", str(args.worker_nice)] if args.worker_nice else []
    worker = processes.start(
        [*niceness, sys.executable, "-m", "celery", "-A", "config", "worker", "--concurrency=1",
         "--loglevel=WARNING", "--hostname=load@kb", "--without-gossip", "--without-mingle",
         "--without-heartbeat"],
        env, tmp / "worker.log",
    )  # fmt: skip
    wait_for(lambda: worker.poll() is not None or app.control.ping(["load@kb"], timeout=0.5),
             timeout=60, what="the Celery worker")  # fmt: skip
    gunicorn = processes.start(
        [sys.executable, "-m", "gunicorn", "config.wsgi", "--workers",
         str(args.gunicorn_workers), "--bind", f"127.0.0.1:{args.port}", "--timeout", "30"],
        env, tmp / "gunicorn.log",
    )  # fmt: skip
    wait_for(lambda: gunicorn.poll() is not None or http_ok(args.port, "/inloggen/"),
             timeout=60, what="gunicorn")  # fmt: skip
    for process, name in ((worker, "worker"), (gunicorn, "gunicorn")):
        if process.poll() is not None:
            print((tmp / f"{name}.log").read_text()[-3000:])
            return 1

    warm_up(args.port, data["sessions"], args.gunicorn_workers)
    plan_path, results_path = tmp / "plan.json", tmp / "results.json"
    plan_path.write_text(
        json.dumps(
            {
                "port": args.port,
                "users": args.users,
                "seconds": args.seconds,
                "think": args.think,
                "candidates": args.candidates,
                "sessions": data["sessions"],
                "groups": data["groups"],
                "results": str(results_path),
                "max_requests_per_user": args.seconds * 200,
            }
        )
    )
    print(
        f"{args.users} users for {args.seconds} s against gunicorn ({args.gunicorn_workers} "
        f"workers); the import starts after {args.import_after} s"
    )
    t0 = time.time()
    driver = subprocess.Popen(
        [sys.executable, "-m", "bench.load", "--drive", str(plan_path)], cwd=BASE_DIR
    )
    cpu = CpuMeter(gunicorn.pid, worker.pid, driver.pid, urlsplit(args.database_url).path[1:])
    cpu.sample()
    last_sample = time.time()
    queued_at = None
    import_started = import_finished = None
    while driver.poll() is None and time.time() - t0 < args.seconds + 60:
        if time.time() - last_sample >= 1.0:
            cpu.sample()
            last_sample = time.time()
        now = time.time() - t0
        if queued_at is None and now >= args.import_after:
            services.import_queue(batch=batch, actor=importer)
            queued_at = now
        if queued_at is not None and import_finished is None:
            state = ImportBatch.objects.values_list("status", flat=True).get(pk=batch.pk)
            if state == ImportBatch.Status.RUNNING and import_started is None:
                import_started = time.time()
            if state in (ImportBatch.Status.DONE, ImportBatch.Status.FAILED):
                import_finished = time.time()
        time.sleep(0.2)
    if driver.poll() is None:
        driver.kill()
        print("the users did not stop in time")
        return 1
    cpu.sample()
    batch.refresh_from_db()
    rows = json.loads(results_path.read_text())
    end = max((r[0] + r[1] for r in rows), default=t0 + args.seconds)
    started_at = import_started or (t0 + (queued_at or 0))
    during = [r for r in rows if import_finished and started_at <= r[0] <= import_finished]
    report = {
        "settings": {
            "users": args.users,
            "seconds": args.seconds,
            "think": args.think,
            "candidates": args.candidates,
            "gunicorn_workers": args.gunicorn_workers,
            "worker_nice": args.worker_nice,
            "cpus": os.cpu_count(),
            "database": "postgresql",
        },
        "phases": {
            "whole run": summary(rows, end - t0),
            "while importing": summary(
                during, (import_finished - started_at) if import_finished else 0
            ),
        },
        "by_kind": {
            kind: summary([r for r in rows if r[2] == kind], end - t0)
            for kind in sorted({r[2] for r in rows})
        },
        "cpu_seconds": cpu.seconds(),
        "cpu_ms_per_request": {
            name: round(1000 * value / max(1, len(rows)), 1)
            for name, value in cpu.seconds().items()
            if name in ("web", "database", "users")
        },
        "import": {
            "rows": args.import_rows,
            "status": batch.status,
            "counts": batch.counts,
            "queued_at": round(queued_at or 0, 1),
            "seconds": round(import_finished - (t0 + queued_at), 1) if import_finished else None,
        },
    }
    print_report(report)
    if args.json:
        Path(args.json).write_text(json.dumps(report, indent=2))
    whole = report["phases"]["whole run"]
    return 0 if batch.status == ImportBatch.Status.DONE and not whole["errors"] else 1


if __name__ == "__main__":
    sys.exit(main())
