"""Section 3: the whole import with real Celery workers on Redis, as in production.

Measured from 'Importeer' (`import_queue`, which sends the task after its transaction
commits) until the batch is done, until the report mail (the result spreadsheet with the
passwords) is sent, and until all of the import's mail is sent: with the default options the
login slips (PDF) follow in a mail of their own, made after the commit. Mail goes to Django's
in-memory backend, so "sent" is the worker's own work, not an SMTP server's. This process
polls the database every 20 ms; a time is taken after the poll that saw it.

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
from ..importing import new_batch
from ..measure import check, sample
from ..workers import Worker, broker, running, wait_idle

POLL_SECONDS = 0.02
TIMEOUT_SECONDS = 900
WARM_UP_ROWS = 20
STAGES = ("done", "report", "all_mail")
STAGE_LABELS = {
    "done": "done",
    "report": "report mail sent",
    "all_mail": "all mail sent (incl. login slips)",
}


def expected_mail_kinds() -> set[str]:
    """The mails an import with the default options sends its importer. The login slips
    have their own mail since the slips are made after the commit (kind LOGIN_SLIPS)."""
    from accounts.models import OutgoingMail

    kinds = {OutgoingMail.Kind.IMPORT_REPORT}
    if hasattr(OutgoingMail.Kind, "LOGIN_SLIPS"):
        kinds.add(OutgoingMail.Kind.LOGIN_SLIPS)
    return kinds


def wait_for(batches, workers, t0: float, wall0: datetime) -> dict:
    """Seconds from t0 until every batch is done, its report mail is sent, and all of its
    mails are sent; raises when a batch or a mail fails or a worker logs an error."""
    from accounts.models import OutgoingMail
    from imports.models import ImportBatch

    ids = [b.pk for b in batches]
    kinds = expected_mail_kinds()
    offsets = {w: w.log_size() for w in workers}
    seen: dict[str, dict] = {stage: {} for stage in STAGES}
    db_clock: dict[str, dict] = {stage: {} for stage in STAGES}
    last_log_check = time.perf_counter()
    while True:
        states = list(
            ImportBatch.objects.filter(pk__in=ids).values_list(
                "pk", "status", "failure_reason", "finished_at"
            )
        )
        mails = list(
            OutgoingMail.objects.filter(batch_id__in=ids).values_list(
                "batch_id", "kind", "status", "sent_at", "last_error"
            )
        )
        now = time.perf_counter() - t0
        for pk, status, reason, finished_at in states:
            if status == ImportBatch.Status.FAILED:
                raise RuntimeError(f"import {pk} failed: {reason}")
            if status == ImportBatch.Status.DONE and pk not in seen["done"]:
                seen["done"][pk] = now
                db_clock["done"][pk] = (finished_at - wall0).total_seconds()
        by_batch: dict = {pk: {} for pk in ids}
        for batch_id, kind, status, sent_at, error in mails:
            if status == OutgoingMail.Status.FAILED:
                raise RuntimeError(f"{kind} mail of {batch_id} failed: {error}")
            by_batch[batch_id][kind] = (status, sent_at)
        for pk, sent in by_batch.items():
            report = sent.get(OutgoingMail.Kind.IMPORT_REPORT)
            if report and report[0] == OutgoingMail.Status.SENT and pk not in seen["report"]:
                seen["report"][pk] = now
                db_clock["report"][pk] = (report[1] - wall0).total_seconds()
            complete = kinds <= sent.keys() and all(
                status == OutgoingMail.Status.SENT for status, _ in sent.values()
            )
            if complete and pk in seen["done"] and pk not in seen["all_mail"]:
                seen["all_mail"][pk] = now
                db_clock["all_mail"][pk] = max(
                    (at - wall0).total_seconds() for _, at in sent.values()
                )
        if all(len(seen[stage]) == len(ids) for stage in STAGES):
            result = {stage: max(seen[stage].values()) for stage in STAGES}
            result.update({f"{s}_db_clock": max(db_clock[s].values()) for s in STAGES})
            return result
        if time.perf_counter() - last_log_check > 1:
            last_log_check = time.perf_counter()
            for worker, offset in offsets.items():
                if errors := worker.errors_since(offset):
                    raise RuntimeError(f"worker {worker.name} logged an error:\n{errors}")
        if now > TIMEOUT_SECONDS:
            raise RuntimeError(f"imports not finished after {TIMEOUT_SECONDS} s: {states}")
        time.sleep(POLL_SECONDS)


def import_together(colleges, workers, file, **options) -> dict:
    """Queue one import per college (as 'Importeer' does) and wait for all of them."""
    from django.utils import timezone

    from imports.services import import_queue

    batches = [new_batch(c.beheerder, file, **options) for c in colleges]  # untimed: upload
    wall0 = timezone.now()
    t0 = time.perf_counter()
    for college, batch in zip(colleges, batches, strict=True):
        if not import_queue(batch=batch, actor=college.beheerder):
            raise RuntimeError("import_queue refused a draft batch")
    result = wait_for(batches, workers, t0, wall0)
    wait_idle(workers)  # the task may still be tidying up after the last mail was sent
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
    generated = input_file(size, "xlsx")
    from_file = input_file(ctx.password_rows, "xlsx", with_passwords=True)
    warm = input_file(WARM_UP_ROWS, "xlsx")
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
    results: dict = {}
    with broker():
        for name, key, workers, with_file_jobs in setups:
            print(f"  ({name}: starting)", flush=True)
            with running(*workers):
                processes = sum(w.concurrency or cpus for w in workers)
                import_together(warm_colleges[:processes], workers, warm)
                jobs = [("generated", [college], generated, {}, ctx.e2e_runs)]
                if with_file_jobs:
                    options = {"password_mode": "file"}
                    jobs += [
                        ("file, one import", [pair[0]], from_file, options, ctx.runs),
                        ("file, two imports", pair, from_file, options, ctx.runs),
                    ]
                for job, colleges, file, options, runs in jobs:
                    runs_ = [
                        import_together(colleges, workers, file, **options) for _ in range(runs)
                    ]
                    results[(key, job)] = runs_
                    _add(ctx, section, name, key, job, file.rows, runs_)
    _speedups(ctx, section, results)


def _add(ctx, section, name, key, job, rows, runs_) -> None:
    what = {
        "generated": f"{rows:,} rows, generated passwords",
        "file, one import": f"{rows:,} rows, passwords from file",
        "file, two imports": f"2 × {rows:,} rows in 2 colleges, passwords from file",
    }[job]
    for stage in STAGES:
        samples = [r[stage] for r in runs_]
        target, status = "", ""
        if job == "generated" and stage != "done" and key == "1xdefault" and rows == 10_000:
            target = "≤ 10 s"
            status = check(sample(samples)["median"], at_most=10)
        ctx.add(
            section,
            f"e2e.{key}.{job.replace(' ', '_').replace(',', '')}.{stage}",
            f"{name}: {what} → {STAGE_LABELS[stage]}",
            "s",
            samples=samples,
            target=target,
            status=status,
            db_clock=[r[f"{stage}_db_clock"] for r in runs_],
            counts=runs_[-1]["counts"],
            note="3 runs (each imports 10,000 candidates)"
            if job == "generated" and rows == 10_000 and stage == "report"
            else "",
        )


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
