"""Section 9: platform scale. One PostgreSQL database with 60 colleges of 20,000 candidates
(1,200,000), filled with COPY (bench.seed.candidates_copy), against the same measurements
taken while the database held only the first of those colleges:

- Beheer → Kandidaten of that college (20,000 candidates): first page, search, group filter,
  as the beheerder and as a coordinator of half of its groups; within 10 % and the same query
  count;
- a 10,000-row dry run and real import into an empty college: within 10 %, same queries;
- the nightly tasks (deactivate expired accounts, expiry digests) with 6 colleges (120,000
  candidates) expired yesterday and 6 expiring within 30 days: ≤ 60 s, in batches;
- two colleges importing at once, each in a process of its own: the wall time of both against
  one alone, and an import that runs while another college's import lock is held (it must not
  wait for it).

The one-college figures are measured on a copy of the database taken before the other
colleges are added (CREATE DATABASE … TEMPLATE), alternately with the full-size database,
run by run: measured one phase after the other, minutes apart, a slowdown of the machine
that lasted minutes moved the ratios by 30-50 % in either direction (docs/performance.md).

PostgreSQL only (COPY, and the platform is a PostgreSQL installation); on SQLite it says so
and adds nothing. `--quick` uses 4 colleges of 2,000 candidates.
"""

from __future__ import annotations

import contextlib
import gc
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from datetime import date, timedelta
from pathlib import Path

from .. import seed
from ..datafiles import GROUP_NAMES, input_file, people
from ..env import ROOT, admin_connection, quoted
from ..importing import check_done, clear_outbox, new_batch, queued_batch
from ..measure import check, count_queries
from .listpage import _cases

SECTION = "9. platform scale (60 colleges, PostgreSQL)"
COLLEGES = 60
PER_COLLEGE = 20_000
EXPIRED_COLLEGES = 6  # validity ended yesterday: tonight's deactivation
EXPIRING_COLLEGES = 6  # validity ends within 30 days: in tonight's digests
WITHIN = 1.10  # at platform size, at most 10 % slower than with one college
NIGHTLY_LIMIT_S = 60
IMPORT_RUNS = 3  # each imports 10,000 candidates
CHILD_TIMEOUT_S = 300


def run(ctx) -> None:
    if ctx.engine != "postgresql":
        print("  (platform scale runs on PostgreSQL only: set DATABASE_URL; skipped)")
        return
    colleges, per = (4, 2_000) if ctx.quick else (COLLEGES, PER_COLLEGE)
    size = ctx.main_size
    file = input_file(size, "xlsx")
    half = len(GROUP_NAMES) // 2
    big = seed.college(coordinator_groups=half)
    seed.candidates_copy(big, per, rows=people(per, seed=11))
    seed.analyze()
    importer = seed.college()
    one_college = _DatabaseCopy()  # the database as it is now, beside the one that grows
    try:
        _grow_and_compare(ctx, colleges, per, big, importer, file, size, one_college)
    finally:
        one_college.drop()
    _concurrent(ctx, file, size)
    _nightly(ctx)


def _grow_and_compare(ctx, colleges, per, big, importer, file, size, one_college) -> None:
    half = len(GROUP_NAMES) // 2
    started = time.perf_counter()
    today = date.today()
    for index in range(colleges - 1):
        if index < EXPIRED_COLLEGES:
            valid_until = today - timedelta(days=1)
        elif index < EXPIRED_COLLEGES + EXPIRING_COLLEGES:
            valid_until = today + timedelta(days=14)
        else:
            valid_until = None  # next school year
        other = seed.college(coordinator_groups=half)
        rows = people(per, seed=1000 + index)
        seed.candidates_copy(other, per, rows=rows, valid_until=valid_until)
    seed.analyze()
    from candidates.models import Candidate

    total = Candidate.objects.count()
    ctx.add(
        SECTION,
        "platform.seed",
        f"fill {colleges - 1} more colleges × {per:,} candidates (COPY, ANALYZE)",
        "s",
        value=time.perf_counter() - started,
        candidates_in_database=total,
    )
    print(f"  (database now holds {total:,} candidates)")
    one, many = _interleaved(ctx, big, importer, file, size, one_college)
    _compare(ctx, colleges, one, many)


class _DatabaseCopy:
    """A copy of the bench database as it is at construction (CREATE DATABASE … TEMPLATE),
    and `active()`: this process's default connection pointed at the copy for a while. Every
    query, transaction and on-commit task of Django goes through that connection, so a list
    request, a dry run or an import runs against the copy unchanged."""

    def __init__(self) -> None:
        from django.db import connections
        from django.db.utils import load_backend

        main = connections["default"].settings_dict
        self.name = f"{main['NAME']}_one"
        connections.close_all()  # the template may have no other sessions
        with admin_connection(main) as admin:
            admin.execute(f"DROP DATABASE IF EXISTS {quoted(self.name)} WITH (FORCE)")
            admin.execute(f"CREATE DATABASE {quoted(self.name)} TEMPLATE {quoted(main['NAME'])}")
        backend = load_backend(main["ENGINE"])
        self.copy = backend.DatabaseWrapper({**main, "NAME": self.name}, "default")

    @contextlib.contextmanager
    def active(self):
        from django.db import connections

        original = self.original = connections["default"]
        connections._connections.default = self.copy
        try:
            yield
        finally:
            connections._connections.default = original

    def drop(self) -> None:
        from django.db import connections

        if connections["default"] is self.copy:  # a measurement failed inside active()
            connections._connections.default = self.original
        self.copy.close()
        with admin_connection(self.copy.settings_dict) as admin:
            admin.execute(f"DROP DATABASE IF EXISTS {quoted(self.name)} WITH (FORCE)")


class _Alternating:
    """Each run of a measurement on the one-college copy and on the full database in turn
    (which one goes first alternates too), collected as {database: {key: (label, unit, wall
    samples, queries, CPU samples)}}."""

    def __init__(self, one_college: _DatabaseCopy) -> None:
        self.databases = {"one": one_college.active, "many": contextlib.nullcontext}
        self.figures: dict = {name: {} for name in self.databases}

    def each(self):
        """Untimed work (set-up, warm-up, counting) in each database."""
        for name, active in self.databases.items():
            with active():
                yield name

    def rounds(self, n: int):
        from django.db import connection

        for index in range(n):
            order = ("one", "many") if index % 2 == 0 else ("many", "one")
            for name in order:
                with self.databases[name]():
                    # The backend's CPU is read by its pid around each run: keep that backend
                    # (CONN_MAX_AGE would replace it at a request's start once a minute).
                    connection.ensure_connection()
                    connection.close_at = None
                    gc.collect()
                    yield name

    def measure(self, key: str, label: str, unit: str, runs: int, timed, queries: dict) -> None:
        """`timed(database)` returns (wall, CPU) of one run."""
        samples: dict = {name: ([], []) for name in self.databases}
        for name in self.rounds(runs):
            wall, cpu = timed(name)
            samples[name][0].append(wall)
            samples[name][1].append(cpu)
        for name, (walls, cpus) in samples.items():
            self.figures[name][key] = (label, unit, walls, queries[name], cpus)


def _interleaved(ctx, big, importer, file, size, one_college) -> tuple[dict, dict]:
    """The list of `big`, a dry run and a real import into `importer`, on both databases.
    CPU is this process's, its file-reader child's and its database backend's; the
    comparison is judged on it."""
    alternating = _Alternating(one_college)
    _list_figures(alternating, big, max(ctx.runs, 10))
    _dry_run_figures(alternating, importer, file, size, ctx.runs)
    _import_figures(alternating, importer, file, size, min(ctx.runs, IMPORT_RUNS))
    return alternating.figures["one"], alternating.figures["many"]


def _list_figures(alternating: _Alternating, big, runs: int) -> None:
    from django.test import Client
    from django.urls import reverse

    url = reverse("candidates:list")
    cases, group_name, _word = _cases(big)
    group = next(g for g in big.groups if g.name == group_name)
    for role in ("beheerder", "coordinator"):
        clients = {}
        for name in alternating.each():
            clients[name] = Client()
            clients[name].force_login(getattr(big, role))
        for label, query in cases:
            full = url + query.replace("{group}", str(group.pk))
            queries = {name: _warm_and_count(clients[name], full) for name in alternating.each()}
            alternating.measure(
                f"list.{role}.{label.split()[0]}",
                f"list of one college, {role}, {label}",
                "ms",
                runs,
                lambda name, full=full, clients=clients: _request(clients[name], full),
                queries,
            )


def _dry_run_figures(alternating: _Alternating, importer, file, size: int, runs: int) -> None:
    from imports.services import import_dry_run

    batches, queries = {}, {}
    for name in alternating.each():
        batches[name] = new_batch(importer.beheerder, file)
        with count_queries() as counter:  # untimed warm-up
            import_dry_run(batches[name])
        queries[name] = counter.count

    def timed(name):
        wall, cpu, _ = _timed(import_dry_run, batches[name])
        return wall, cpu

    alternating.measure("dry_run", f"dry run {size:,} rows", "s", runs, timed, queries)


def _import_figures(alternating: _Alternating, importer, file, size: int, runs: int) -> None:
    from imports.services import import_execute

    def imported(count: bool = False):
        queued = queued_batch(importer.beheerder, file)
        if count:
            with count_queries() as counter:
                import_execute(queued.pk)
            result = counter.count
        else:
            wall, cpu, _ = _timed(import_execute, queued.pk)
            result = (wall, cpu)
        check_done(queued, new=size)
        clear_outbox()
        seed.purge_candidates(importer.organisation)
        return result

    queries = {name: imported(count=True) for name in alternating.each()}  # untimed warm-up
    label = f"real import {size:,} rows (import_execute, slips included)"
    alternating.measure("execute", label, "s", runs, lambda _name: imported(), queries)


def _warm_and_count(client, url: str) -> int:
    for _ in range(2):  # warm-up: template cache, session, the backend's catalog cache
        response = client.get(url)
        if response.status_code != 200:
            raise RuntimeError(f"{url}: HTTP {response.status_code}")
    with count_queries() as counter:
        client.get(url)
    return counter.count


def _request(client, url: str) -> tuple[float, float]:
    """Wall and CPU milliseconds of one request (CONN_MAX_AGE keeps the backend)."""
    backend = _backend_pid()
    start, cpu_start = time.perf_counter(), _cpu(backend)
    response = client.get(url)
    wall = (time.perf_counter() - start) * 1000
    cpu = (_cpu(backend) - cpu_start) * 1000
    if response.status_code != 200:
        raise RuntimeError(f"{url}: HTTP {response.status_code}")
    return wall, cpu


def _timed(function, *args) -> tuple[float, float, object]:
    """Wall and CPU seconds of one call, and what it returned."""
    backend = _backend_pid()
    start, cpu_start = time.perf_counter(), _cpu(backend)
    result = function(*args)
    return time.perf_counter() - start, _cpu(backend) - cpu_start, result


def _backend_pid() -> int:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        return cursor.fetchone()[0]


def _cpu(backend: int) -> float:
    """CPU seconds so far of this process, its finished children and the database backend
    (PostgreSQL on this machine: its /proc/<pid>/schedstat, in nanoseconds). Not os.times():
    it counts in clock ticks of 10 ms, coarser than a list request, and made the list's CPU
    medians jump by whole ticks (a 1.30× 'ratio' where the wall times differed by 8 %)."""
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    own = time.process_time() + children.ru_utime + children.ru_stime
    try:
        server = int(Path(f"/proc/{backend}/schedstat").read_text().split()[0]) / 1e9
    except (OSError, ValueError, IndexError):
        server = 0.0  # a database on another machine: this process's CPU only
    return own + server


def _compare(ctx, colleges: int, one: dict, many: dict) -> None:
    for key, (label, unit, samples, queries, cpu) in one.items():
        _label, _unit, m_samples, m_queries, m_cpu = many[key]
        ctx.add(SECTION, f"platform.one.{key}", f"1 college: {label}", unit, samples=samples,
                queries=queries, cpu=_median(cpu))  # fmt: skip
        ctx.add(SECTION, f"platform.many.{key}", f"{colleges} colleges: {label}", unit,
                samples=m_samples, queries=m_queries, cpu=_median(m_cpu))  # fmt: skip
        wall = statistics.median(m_samples) / statistics.median(samples)
        ratio = _median(m_cpu) / _median(cpu)
        same = queries == m_queries
        ctx.add(
            SECTION,
            f"platform.ratio.{key}",
            f"  CPU ratio {colleges} colleges / 1 (wall {wall:.2f}×)",
            "×",
            value=ratio,
            target=f"≤ {WITHIN:.2f}, queries equal ({queries})",
            status="PASS" if check(ratio, at_most=WITHIN) == "PASS" and same else "FAIL",
            wall_ratio=round(wall, 3),
            cpu_one=round(_median(cpu), 4),
            cpu_many=round(_median(m_cpu), 4),
            queries_one=queries,
            queries_many=m_queries,
        )


def _median(values) -> float:
    return statistics.median(values)


# --- two colleges at once --------------------------------------------------------------------


def _child(batch_id, start_at: float) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "bench.platform_import", str(batch_id), repr(start_at)],
        cwd=ROOT,
        env=os.environ,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _result(process: subprocess.Popen) -> dict:
    out, err = process.communicate(timeout=CHILD_TIMEOUT_S)
    if process.returncode != 0:
        raise RuntimeError(f"import process failed:\n{err[-3000:]}")
    result = json.loads(out.strip().splitlines()[-1])
    if result["status"] != "done":
        raise RuntimeError(f"import process ended {result}")
    return result


LEAD_S = 8.0  # seconds for a child process to start Django before the common start


def _concurrent(ctx, file, size) -> None:
    """Each import in a process of its own (as on two worker processes), both started at the
    same moment; Django's start-up is outside the figure."""
    first, second = seed.college(), seed.college()

    def both_purged():
        clear_outbox()
        seed.purge_candidates(first.organisation)
        seed.purge_candidates(second.organisation)

    alone = []
    for _ in range(2):  # the first warms the file cache and the database
        result = _result(_child(queued_batch(first.beheerder, file).pk, time.time() + LEAD_S))
        alone.append(result["finished"] - result["started"])
        both_purged()
    alone_s = alone[-1]
    ctx.add(SECTION, "platform.concurrent.alone", f"one college importing {size:,} rows, alone",
            "s", value=alone_s)  # fmt: skip
    _both_at_once(ctx, first, second, file, size, alone_s)
    both_purged()
    seconds = _while_lock_held(first, second, file)
    both_purged()
    ctx.add(
        SECTION,
        "platform.concurrent.other_lock_held",
        "import while another college's import lock is held",
        "s",
        value=seconds,
        target=f"done, ≤ 1.5 × alone ({1.5 * alone_s:.1f} s)",
        status="FAIL" if seconds is None else check(seconds, at_most=1.5 * alone_s),
    )


def _both_at_once(ctx, first, second, file, size, alone_s: float) -> None:
    a, b = queued_batch(first.beheerder, file), queued_batch(second.beheerder, file)
    start_at = time.time() + LEAD_S
    results = [_result(c) for c in (_child(a.pk, start_at), _child(b.pk, start_at))]
    wall = max(r["finished"] for r in results) - start_at
    ctx.add(
        SECTION,
        "platform.concurrent.both",
        f"two colleges importing {size:,} rows each at once: until both are done",
        "s",
        value=wall,
        each_s=[round(r["finished"] - r["started"], 3) for r in results],
        cpu_s=[round(r["cpu_s"], 3) for r in results],
        cores=os.cpu_count(),
    )
    ratio = wall / alone_s
    ctx.add(
        SECTION,
        "platform.concurrent.ratio",
        "  both at once / one alone (2 = one after the other)",
        "×",
        value=ratio,
        target="< 2 (they overlap)",
        status=check(ratio, below=2),
    )


def _while_lock_held(first, second, file) -> float | None:
    """The decisive check: the first college's import lock held in this process the whole
    time, an import of the second college must run to its end all the same. Its seconds, or
    None when it did not finish."""
    from django.db import transaction

    from accounts.models import Organisation

    batch = queued_batch(second.beheerder, file)
    with transaction.atomic():
        Organisation.objects.select_for_update(no_key=True).filter(pk=first.organisation.pk).first()
        process = _child(batch.pk, time.time() + LEAD_S)
        try:
            held = _result(process)
        except subprocess.TimeoutExpired:
            process.kill()
            return None
    return held["finished"] - held["started"]


# --- nightly tasks ----------------------------------------------------------------------------


def _nightly(ctx) -> None:
    from accounts.models import OutgoingMail, User
    from candidates.selectors import candidates_to_expire
    from candidates.tasks import deactivate_expired_candidates, send_expiry_digests

    today = date.today()
    expired = candidates_to_expire(today).count()
    started = time.perf_counter()
    deactivated = deactivate_expired_candidates()
    deactivate_s = time.perf_counter() - started
    if deactivated != expired:
        raise RuntimeError(f"deactivated {deactivated} of {expired} expired candidates")
    started = time.perf_counter()
    digests = send_expiry_digests()
    digest_s = time.perf_counter() - started
    clear_outbox()
    sent = OutgoingMail.objects.filter(kind=OutgoingMail.Kind.EXPIRY_DIGEST).count()
    ctx.add(
        SECTION,
        "platform.nightly.deactivate",
        f"nightly: deactivate {deactivated:,} expired accounts (+ audit rows)",
        "s",
        value=deactivate_s,
        target=f"≤ {NIGHTLY_LIMIT_S} s",
        status=check(deactivate_s, at_most=NIGHTLY_LIMIT_S),
        deactivated=deactivated,
        candidates_in_database=User.objects.filter(role="kandidaat").count(),
    )
    ctx.add(
        SECTION,
        "platform.nightly.digests",
        f"nightly: expiry digests ({digests} coordinators, ≤ 500 rows each)",
        "s",
        value=digest_s,
        target=f"≤ {NIGHTLY_LIMIT_S} s",
        status=check(digest_s, at_most=NIGHTLY_LIMIT_S),
        mails=sent,
    )
