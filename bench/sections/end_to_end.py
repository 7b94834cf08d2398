"""Section 3: the whole import with real Celery workers on Redis, as in production.

Measured from 'Importeer' (`import_queue`, which sends the task after its transaction
commits) until the batch is done, until the report mail (the result spreadsheet with the
passwords) is sent, and until all of the import's mail is sent. With the default options
(credentials not mailed, report to the importer) that is two mails: the report, queued in
the import's transaction, and the login slips (PDF, kind LOGIN_SLIPS), which the worker
renders after the commit from `ImportBatch.slips_pending` and queues in their own mail
(`imports.services._deliver_slips`). Mail goes to Django's in-memory backend, so "sent" is
the worker's own work, not an SMTP server's.

This process waits idly: it sleeps between polls of the database (every 50 ms, one small
query, two once a batch is done), so it takes next to no CPU from the workers it measures;
the CPU it did use is kept with each figure (`waiter_cpu_s`). A time is taken when the poll
that saw the state returns, so it is at most one poll interval late; the database's own
timestamps are kept too (`db_clock`: `finished_at` and `sent_at`, written just before each
commit).

A failure ends the section at once, never at the time-out: a batch that ends FAILED, a task
that could not be queued, a mail that ends FAILED or waits to be retried after an error, a
mail missing when its transaction has committed, a worker that logs an error or retries a
task, a worker that exits.

Worker set-ups: one worker with one process, one worker with Celery's default concurrency
(one process per CPU), two workers with one process each. Before the timed runs every worker
process does a small import, so imports of modules and fonts are not measured. After each
run the workers are left to go idle before the next one is queued.

Two jobs:
- generated passwords (the default), the main size (10,000 rows);
- passwords taken from the file, hashed at full strength (PBKDF2, 1,000,000 iterations,
  about 0.18 s each on one core): a small file, since hashing dominates anyway. One import,
  and two imports of two colleges queued together, to show what a second worker speeds up.
"""

from __future__ import annotations

import os
import time
from datetime import datetime

from .. import seed
from ..datafiles import input_file
from ..env import changed_sources
from ..importing import new_batch
from ..measure import check, sample
from ..workers import Worker, broker, running, wait_idle

POLL_SECONDS = 0.05
CHECK_WORKERS_SECONDS = 0.5  # worker logs and processes
TIMEOUT_SECONDS = 900
WARM_UP_ROWS = 20
STAGES = ("done", "report", "all_mail")
STAGE_LABELS = {
    "done": "done",
    "report": "report mail sent",
    "all_mail": "all mail sent (incl. login slips)",
}


# The whole 10,000-row import with generated passwords: one worker with one process sends the
# report within 4 s of 'Importeer' and the login slips (rendered after the commit, then mailed)
# within 6 s; a worker with a process per CPU within 10 s for everything.
TARGETS = {
    ("1x1", "report"): 4,
    ("1x1", "all_mail"): 6,
    ("1xdefault", "report"): 10,
    ("1xdefault", "all_mail"): 10,
}


class ImportTrouble(RuntimeError):
    """A failed import, mail or worker during section 3."""


def expected_mail_kinds() -> set[str]:
    """The mails every import of this section sends its importer (default options, so the
    credentials are not mailed): the report, and the login slips in a mail of their own."""
    from accounts.models import OutgoingMail

    return {OutgoingMail.Kind.IMPORT_REPORT, OutgoingMail.Kind.LOGIN_SLIPS}


def check_workers(workers, offsets: dict) -> list[str]:
    """Raise when a worker has exited, logged an error or retried a task since `offsets`;
    return the warnings it logged."""
    warnings = []
    for worker in workers:
        code = worker.exit_code()
        if code is not None:
            raise ImportTrouble(f"worker {worker.name} exited (code {code}); see {worker.log_path}")
        problems = worker.problems_since(offsets[worker])
        if fatal := problems.fatal():
            raise ImportTrouble(
                f"worker {worker.name} logged an error or retried a task "
                f"(a retry waits out a back-off, so the time would be wrong):\n{fatal}"
            )
        warnings += problems.warnings
    return warnings


def wait_for(batches, workers, offsets: dict, t0: float, wall0: datetime) -> dict:
    """Seconds from t0 until every batch is done, its report mail is sent, and all of its
    mail (report and login slips) is sent. Raises ImportTrouble as soon as something failed
    (see the module's docstring), and at TIMEOUT_SECONDS."""
    from django.db.models import BooleanField, ExpressionWrapper, Q

    from accounts.models import OutgoingMail
    from imports.models import ImportBatch

    def flag(condition: Q) -> ExpressionWrapper:
        return ExpressionWrapper(condition, output_field=BooleanField())

    ids = [b.pk for b in batches]
    kinds = expected_mail_kinds()
    seen: dict[str, dict] = {stage: {} for stage in STAGES}
    db_clock: dict[str, dict] = {stage: {} for stage in STAGES}
    cpu0 = time.process_time()
    polls = 0
    next_check = time.perf_counter() + CHECK_WORKERS_SECONDS
    while True:
        polls += 1
        states = list(
            ImportBatch.objects.filter(pk__in=ids)
            .annotate(
                slips_waiting=flag(Q(slips_pending__isnull=False)),
                slips_made=flag(Q(slips__isnull=False)),
            )
            .values_list(
                "pk", "status", "failure_reason", "finished_at", "slips_waiting", "slips_made"
            )
        )
        now = time.perf_counter() - t0
        done = {}
        for pk, status, reason, finished_at, slips_waiting, slips_made in states:
            if status == ImportBatch.Status.FAILED:
                raise ImportTrouble(f"import {pk} failed: {reason}")
            if status == ImportBatch.Status.QUEUED and reason:
                raise ImportTrouble(f"import {pk} could not be queued: {reason}")
            if status == ImportBatch.Status.DONE:
                done[pk] = (slips_waiting, slips_made)
                if pk not in seen["done"]:
                    seen["done"][pk] = now
                    db_clock["done"][pk] = (finished_at - wall0).total_seconds()
        if done:
            # Read after the batches: every mail committed with a state seen above is here.
            mails = list(
                OutgoingMail.objects.filter(batch_id__in=list(done)).values_list(
                    "batch_id", "kind", "status", "sent_at", "last_error"
                )
            )
            now = time.perf_counter() - t0
            by_batch: dict = {pk: {} for pk in done}
            for batch_id, kind, status, sent_at, error in mails:
                if status == OutgoingMail.Status.FAILED:
                    raise ImportTrouble(f"{kind} mail of import {batch_id} failed: {error}")
                if error:
                    raise ImportTrouble(
                        f"{kind} mail of import {batch_id} waits for a retry after: {error}"
                    )
                by_batch[batch_id].setdefault(kind, []).append((status, sent_at))
            for pk, (slips_waiting, slips_made) in done.items():
                sent = by_batch[pk]
                if OutgoingMail.Kind.IMPORT_REPORT not in sent:
                    raise ImportTrouble(f"import {pk} is done but queued no report mail")
                if not slips_waiting:  # rendered: the slips mail was queued in that commit
                    if not slips_made:
                        raise ImportTrouble(f"import {pk} is done but made no login slips")
                    if missing := kinds - sent.keys():
                        raise ImportTrouble(
                            f"import {pk} rendered its login slips but queued no "
                            f"{', '.join(sorted(missing))} mail"
                        )
                report = sent[OutgoingMail.Kind.IMPORT_REPORT]
                if pk not in seen["report"] and all(
                    status == OutgoingMail.Status.SENT for status, _ in report
                ):
                    seen["report"][pk] = now
                    db_clock["report"][pk] = max((at - wall0).total_seconds() for _, at in report)
                every = [mail for group in sent.values() for mail in group]
                if (
                    pk not in seen["all_mail"]
                    and not slips_waiting
                    and all(status == OutgoingMail.Status.SENT for status, _ in every)
                ):
                    seen["all_mail"][pk] = now
                    db_clock["all_mail"][pk] = max((at - wall0).total_seconds() for _, at in every)
        if time.perf_counter() >= next_check:
            check_workers(workers, offsets)
            next_check = time.perf_counter() + CHECK_WORKERS_SECONDS
        if all(len(seen[stage]) == len(ids) for stage in STAGES):
            check_workers(workers, offsets)  # an error logged since the last check
            result = {stage: max(seen[stage].values()) for stage in STAGES}
            result.update({f"{s}_db_clock": max(db_clock[s].values()) for s in STAGES})
            result["waiter_cpu_s"] = time.process_time() - cpu0
            result["polls"] = polls
            return result
        if now > TIMEOUT_SECONDS:
            raise ImportTrouble(f"imports not finished after {TIMEOUT_SECONDS} s: {states}")
        time.sleep(POLL_SECONDS)


def import_together(colleges, workers, file, **options) -> dict:
    """Queue one import per college (as 'Importeer' does) and wait for all of them."""
    from django.utils import timezone

    from imports.services import import_queue

    batches = [new_batch(c.beheerder, file, **options) for c in colleges]  # untimed: upload
    offsets = {w: w.log_size() for w in workers}
    wall0 = timezone.now()
    cpu0 = sum(w.cpu_seconds() for w in workers)
    t0 = time.perf_counter()
    for college, batch in zip(colleges, batches, strict=True):
        if not import_queue(batch=batch, actor=college.beheerder):
            raise RuntimeError("import_queue refused a draft batch")
    result = wait_for(batches, workers, offsets, t0, wall0)
    # The workers' CPU until all mail was sent: on SQLite the database work is theirs too, so
    # on a quiet machine this is about the wall time; on a busy one it is what stays put.
    result["worker_cpu_s"] = sum(w.cpu_seconds() for w in workers) - cpu0
    wait_idle(workers)  # the task may still be tidying up after the last mail was sent
    if warnings := check_workers(workers, offsets):
        print("  (workers logged warnings:\n    " + "\n    ".join(warnings[:5]) + ")")
        result["worker_warnings"] = warnings[:20]
    for batch in batches:
        batch.refresh_from_db()
        result.setdefault("counts", []).append(batch.counts)
        if batch.counts.get("new") != file.rows:
            raise RuntimeError(f"import {batch.pk}: {batch.counts}")
    for college in colleges:
        seed.purge_candidates(college.organisation)
    return result


def run(ctx) -> None:
    section = "3. whole import on Redis (queue → done → mail sent)"
    size = ctx.main_size
    jobs_of = {
        "generated": input_file(size, "xlsx"),
        "file": input_file(ctx.password_rows, "xlsx", with_passwords=True),
        "warm": input_file(WARM_UP_ROWS, "xlsx"),
    }
    college = seed.college()
    pair = [seed.college(), seed.college()]
    warm_colleges = [seed.college() for _ in range(max(2, os.cpu_count() or 1))]
    cpus = os.cpu_count() or 1
    setups = [
        ("1 worker × 1 process", "1x1", [Worker("w1", concurrency=1)], True),
        (
            f"1 worker, default concurrency ({cpus} processes)",
            "1xdefault",
            [Worker("wdefault", concurrency=None)],
            False,
        ),
        (
            "2 workers × 1 process",
            "2x1",
            [Worker("w2a", concurrency=1), Worker("w2b", concurrency=1)],
            True,
        ),
    ]
    if ctx.worker_setups:
        setups = [setup for setup in setups if setup[1] in ctx.worker_setups]
    results: dict = {}
    try:
        with broker():
            _run_setups(ctx, section, setups, results, college, pair, warm_colleges, jobs_of)
    except Exception as exc:
        if changed := changed_sources(ctx.sources):
            raise ImportTrouble(
                f"{exc}\n(Product code changed while this run ran: {', '.join(changed[:8])}. "
                "The workers load the new code, this process still runs the old: run from an "
                "exported tree to measure one commit, see bench/README.md.)"
            ) from exc
        raise
    _speedups(ctx, section, results)


def _run_setups(ctx, section, setups, results, college, pair, warm_colleges, jobs_of) -> None:
    cpus = os.cpu_count() or 1
    for name, key, workers, with_file_jobs in setups:
        print(f"  ({name}: starting)", flush=True)
        changed = changed_sources(ctx.sources)
        if changed:
            print(
                f"  (warning: {len(changed)} product file(s) changed since this run started; "
                "the workers run the new code)",
                flush=True,
            )
        with running(*workers):
            processes = sum(w.concurrency or cpus for w in workers)
            import_together(warm_colleges[:processes], workers, jobs_of["warm"])
            jobs = [("generated", [college], jobs_of["generated"], {}, ctx.e2e_runs)]
            if with_file_jobs:
                options = {"password_mode": "file"}
                jobs += [
                    ("file, one import", [pair[0]], jobs_of["file"], options, ctx.runs),
                    ("file, two imports", pair, jobs_of["file"], options, ctx.runs),
                ]
            for job, colleges, file, options, runs in jobs:
                runs_ = [import_together(colleges, workers, file, **options) for _ in range(runs)]
                results[(key, job)] = runs_
                _add(ctx, section, name, key, job, file.rows, runs_, changed)
                _add_cpu(ctx, section, name, key, job, file.rows, runs_)


def _add(ctx, section, name, key, job, rows, runs_, changed) -> None:
    what = {
        "generated": f"{rows:,} rows, generated passwords",
        "file, one import": f"{rows:,} rows, passwords from file",
        "file, two imports": f"2 × {rows:,} rows in 2 colleges, passwords from file",
    }[job]
    for stage in STAGES:
        samples = [r[stage] for r in runs_]
        target, status = "", ""
        limit = TARGETS.get((key, stage)) if job == "generated" and rows == 10_000 else None
        if limit is not None:
            target = f"≤ {limit} s"
            status = check(sample(samples)["median"], at_most=limit)
        ctx.add(
            section,
            f"e2e.{key}.{job.replace(' ', '_').replace(',', '')}.{stage}",
            f"{name}: {what} → {STAGE_LABELS[stage]}",
            "s",
            samples=samples,
            target=target,
            status=status,
            db_clock=[r[f"{stage}_db_clock"] for r in runs_],
            waiter_cpu_s=[round(r["waiter_cpu_s"], 4) for r in runs_],
            polls=[r["polls"] for r in runs_],
            worker_warnings=[w for r in runs_ for w in r.get("worker_warnings", [])],
            counts=runs_[-1]["counts"],
            worker_cpu_s=[round(r["worker_cpu_s"], 3) for r in runs_],
            sources_changed=changed,
            note=_note(job, rows, stage, changed),
        )


def _add_cpu(ctx, section, name, key, job, rows, runs_) -> None:
    if job != "generated":
        return
    samples = [r["worker_cpu_s"] for r in runs_]
    limit = TARGETS.get((key, "all_mail")) if rows == 10_000 else None
    ctx.add(
        section,
        f"e2e.{key}.generated.worker_cpu",
        f"{name}: {rows:,} rows, generated passwords → worker CPU until all mail sent",
        "s",
        samples=samples,
        target=f"≤ {limit} s (CPU)" if limit else "",
        status=check(sample(samples)["median"], at_most=limit) if limit else "",
    )


def _note(job, rows, stage, changed) -> str:
    notes = []
    if job == "generated" and rows == 10_000 and stage == "report":
        notes.append("3 runs (each imports 10,000 candidates).")
    if changed and stage == "done":
        notes.append(
            f"Product code had changed when these workers started ({len(changed)} files): "
            "they ran other code than the rest of this run."
        )
    return " ".join(notes)


def _speedups(ctx, section, results) -> None:
    import statistics

    def median(key, job):
        return statistics.median(r["report"] for r in results[(key, job)])

    if ("1x1", "file, one import") not in results or ("2x1", "file, one import") not in results:
        return
    one = median("1x1", "file, one import") / median("2x1", "file, one import")
    ctx.add(
        section,
        "e2e.speedup.file.one_import",
        "second worker, one import with passwords from file: speed-up",
        "×",
        value=one,
        target="≥ 1.6×",
        status=check(one, at_least=1.6),
        note="Speed-ups compare the times until the report mail is sent.",
    )
    two = median("1x1", "file, two imports") / median("2x1", "file, two imports")
    ctx.add(
        section,
        "e2e.speedup.file.two_imports",
        "second worker, two imports with passwords from file: speed-up",
        "×",
        value=two,
        target="≥ 1.6× (throughput)",
        status=check(two, at_least=1.6),
    )
    generated = median("1x1", "generated") / median("2x1", "generated")
    ctx.add(
        section,
        "e2e.speedup.generated.one_import",
        "second worker, one import with generated passwords: speed-up",
        "×",
        value=generated,
    )
