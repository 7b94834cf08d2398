"""Writes of the import: create a batch from an upload, remember choices, queue, execute.

The web request stores and checks; the worker hashes, writes and mails. `import_execute` is
the only place candidates are created in bulk, in one transaction: all rows or none.
"""

from __future__ import annotations

import hashlib
import logging
import os
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import date, timedelta
from functools import partial
from typing import Any

from celery import current_app
from cryptography.fernet import InvalidToken
from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.hashers import GeneratedPasswordHasher
from accounts.mail import attachment_secret, mail_queue
from accounts.models import AuditLog, AuditLogSubject, Organisation, OutgoingMail, Role, User
from accounts.secrets import seal, seal_json, unseal, unseal_json
from accounts.services import audit
from accounts.tasks import queue_mails
from candidates.credentials import Credentials, import_result_url
from candidates.models import Candidate, CandidateGroup
from candidates.selectors import groups_linkable_by
from candidates.services.groups import group_create
from candidates.slips import render_login_slips

from .fields import FIELD_BY_NAME, find_header_row, headers_key, suggest_mapping
from .gcpause import cyclic_gc_paused
from .inserts import insert, insert_rows, reserve_ids
from .lookups import InValues
from .models import (
    STUCK_MARGIN,
    ImportBatch,
    ImportFile,
    ImportPasswordHash,
    RememberedMapping,
)
from .options import ImportOptions, PasswordMode
from .pipeline import RowError, check_passwords, clean_password, clean_rows
from .planning import NEW, UPDATED, Plan, PlannedRow, build_plan
from .reading import ReadError, Table, read_table
from .reports import import_report_xlsx, protect_xlsx, row_name

logger = logging.getLogger(__name__)

SAMPLE_VALUES = 3
# The tasks of imports.tasks, queued by name: that module imports this one, never the reverse.
RUN_IMPORT_TASK = "imports.tasks.run_import"
HASH_CHUNK_TASK = "imports.tasks.hash_file_passwords"
SLIPS_TASK = "imports.tasks.deliver_slips"


class ImportFailed(Exception):
    """A Dutch reason the batch could not be imported; nothing was written."""


# --- upload and mapping -----------------------------------------------------------------------


@transaction.atomic
def batch_create_from_upload(*, actor: User, file_name: str, data: bytes) -> ImportBatch:
    """Read the upload once (raising ReadError with a Dutch message), store it privately."""
    table = read_table(data, file_name)
    layout = _layout(table, actor.college_id)
    org = actor.college
    today = timezone.localdate()
    options = ImportOptions(
        valid_from=today, valid_until=org.default_valid_until(today), report_email=actor.email
    )
    batch = ImportBatch.objects.create(
        organisation=org,
        created_by=actor,
        file_name=file_name[:255],
        file_format=table.file_format,
        **layout,
        options=options.to_json(),
    )
    # Sealed at rest: the file may hold passwords (docs/passwords.md). Size and hash are the
    # plain file's, so they still describe what was uploaded.
    ImportFile.objects.create(
        batch=batch, data=seal(data), size=len(data), sha256=hashlib.sha256(data).hexdigest()
    )
    return batch


def _layout(table: Table, organisation_id: int) -> dict[str, Any]:
    """The sheet read, where its header is, its columns and their mapping (remembered for
    these headers, else suggested)."""
    if not table.rows:
        raise ReadError(_("Het bestand bevat geen gegevens."), "empty")
    header_index = find_header_row(table.rows)
    headers = [("" if h is None else str(h)) for h in table.rows[header_index]]
    remembered = RememberedMapping.objects.filter(
        organisation_id=organisation_id, headers_key=headers_key(headers)
    ).first()
    return {
        # Only a sheet with a header can be asked for by name (read_table refuses others).
        "sheet_name": table.sheet if table.sheet in table.sheets else "",
        "header_row": header_index + 1,
        "headers": headers,
        "mapping": remembered.mapping if remembered else suggest_mapping(headers),
    }


def batch_set_sheet(*, batch: ImportBatch, sheet: str) -> ImportBatch:
    """Read another sheet of the upload: its header, columns and mapping replace the old.
    Raises ReadError (Dutch) when the file has no such sheet or no header on it."""
    batch.sheet_name = sheet
    layout = _layout(batch_table(batch), batch.organisation_id)
    for key, value in layout.items():
        setattr(batch, key, value)
    batch.save(update_fields=list(layout))
    return batch


def batch_table(batch: ImportBatch) -> Table:
    """The upload as rows. Raises ImportFailed when the upload has been removed or can no
    longer be unsealed (the key was rotated since the upload)."""
    upload = ImportFile.objects.filter(batch=batch).first()
    if upload is None:
        raise ImportFailed(
            _(
                "Het geüploade bestand is niet meer beschikbaar (bestanden worden na %(hours)s uur "
                "verwijderd). Upload het bestand opnieuw."
            )
            % {"hours": settings.KB_UPLOAD_RETENTION_HOURS}
        )
    try:
        data = unseal(upload.data)
    except InvalidToken:
        logger.warning("upload of import %s cannot be unsealed (key rotated?)", batch.pk)
        raise ImportFailed(
            _("Het geüploade bestand kan niet meer worden gelezen; upload het opnieuw.")
        ) from None
    return read_table(data, batch.file_name, sheet=batch.sheet_name or None)


def column_samples(batch: ImportBatch, table: Table) -> list[dict]:
    """Left column of 'Kolommen controleren': each file column with three sample values."""
    data_rows = table.rows[batch.header_row :]
    columns = []
    for index, header in enumerate(batch.headers):
        samples = []
        for row in data_rows:
            if index < len(row) and row[index] not in (None, ""):
                samples.append(row[index])
                if len(samples) == SAMPLE_VALUES:
                    break
        columns.append(
            {
                "index": index,
                "header": header,
                "samples": samples,
                "field": batch.mapping.get(str(index), ""),
            }
        )
    return columns


@transaction.atomic
def batch_set_mapping(*, batch: ImportBatch, mapping: dict[str, str]) -> ImportBatch:
    batch.mapping = mapping
    batch.save(update_fields=["mapping"])
    RememberedMapping.objects.update_or_create(
        organisation_id=batch.organisation_id,
        headers_key=headers_key(batch.headers),
        defaults={"mapping": mapping},
    )
    return batch


def batch_set_options(*, batch: ImportBatch, **changes) -> ImportBatch:
    options = ImportOptions.from_json(batch.options)
    for key, value in changes.items():
        if not hasattr(options, key):
            raise ValueError(key)
        setattr(options, key, value)
    batch.options = options.to_json()
    batch.save(update_fields=["options"])
    return batch


# --- dry run ----------------------------------------------------------------------------------


@dataclass
class DryRun:
    plan: Plan
    table: Table


def batch_labels(batch: ImportBatch) -> dict[str, str]:
    labels = {}
    for index, field in batch.mapping.items():
        header = batch.headers[int(index)] if int(index) < len(batch.headers) else ""
        labels[field] = header or str(FIELD_BY_NAME[field].label)
    return labels


@cyclic_gc_paused()  # see imports.gcpause: once for the whole dry run, not per step
def import_dry_run(
    batch: ImportBatch,
    *,
    table: Table | None = None,
    actor: User | None = None,
    today: date | None = None,
) -> DryRun:
    """Read, map, clean, validate and diff against the database. Writes nothing."""
    table = table or batch_table(batch)
    options = ImportOptions.from_json(batch.options)
    rows = clean_rows(
        table.rows,
        header_index=batch.header_row - 1,
        headers=batch.headers,
        mapping=batch.mapping,
        today=today,
    )
    labels = batch_labels(batch)
    if options.password_mode == PasswordMode.FILE:
        check_passwords(rows, label=labels.get("password", str(FIELD_BY_NAME["password"].label)))
    if options.send_credentials:
        for row in rows:
            if not row.values.get("email"):
                row.errors.append(
                    RowError(
                        row.row,
                        labels.get("email", str(FIELD_BY_NAME["email"].label)),
                        _("verplicht als de inloggegevens per e-mail worden verstuurd"),
                    )
                )
    if len(rows) > settings.KB_IMPORT_MAX_ROWS:
        raise ReadError(
            _("Het bestand bevat %(count)s rijen; het maximum is %(max)s.")
            % {"count": len(rows), "max": settings.KB_IMPORT_MAX_ROWS},
            "too_many_rows",
        )
    plan = build_plan(
        organisation=batch.organisation,
        actor=actor or batch.created_by,
        rows=rows,
        options=options,
        mapped_fields=set(batch.mapping.values()),
        labels=labels,
    )
    return DryRun(plan=plan, table=table)


# --- queue ------------------------------------------------------------------------------------


def import_queue(*, batch: ImportBatch, actor: User, ip: str | None = None) -> bool:
    """'Importeer': mark the batch queued and start the task after commit. A double click
    finds the batch no longer a draft and queues nothing. Returns whether it was queued."""

    with transaction.atomic():
        updated = ImportBatch.objects.filter(pk=batch.pk, status=ImportBatch.Status.DRAFT).update(
            status=ImportBatch.Status.QUEUED, queued_at=timezone.now()
        )
        if not updated:
            return False
        _started(batch, actor, ip, **batch.options)
    return True


def _enqueue(name: str, *args) -> None:
    """Queue a task of imports.tasks by name. A worker registers the tasks when it starts; in
    any other process (the web, an eager run) the app finds them on first use."""
    if name not in current_app.tasks:
        current_app.loader.import_default_modules()  # Celery's autodiscovery
    current_app.tasks[name].delay(*args)


def _send_task(batch_id) -> None:
    try:
        _enqueue(RUN_IMPORT_TASK, str(batch_id))
    except Exception as exc:  # broker down: keep the batch, let the user start it again
        logger.warning("could not queue import %s: %s", batch_id, exc)
        ImportBatch.objects.filter(pk=batch_id, status=ImportBatch.Status.QUEUED).update(
            failure_reason=_(
                "De achtergrondverwerking is nu niet bereikbaar. De import is "
                "bewaard en kan opnieuw worden gestart."
            )
        )


def import_requeue(*, batch: ImportBatch, actor: User, ip: str | None = None) -> bool:
    """'Start de import opnieuw': queue a failed batch, one whose task never reached the
    broker, or a running one that is stuck (see ImportBatch.is_stuck). Returns whether it was
    queued; a batch that is done, or still running within the time limit, is left alone.

    Safe against a late duplicate (the old task still alive after all, or its message
    redelivered): every run writes in one transaction that first locks the batch and writes
    only while it is 'running', and sets it 'done' in that same transaction, so whichever run
    comes second finds it done and writes nothing."""

    now = timezone.now()
    stuck = Q(status=ImportBatch.Status.RUNNING) & (
        Q(started_at__lte=now - _stuck_age()) | Q(started_at=None)
    )
    with transaction.atomic():
        previous = (
            ImportBatch.objects.select_for_update()
            .filter(pk=batch.pk)
            .values_list("status", flat=True)
            .first()
        )
        updated = (
            ImportBatch.objects.filter(pk=batch.pk)
            .filter(Q(status__in=(ImportBatch.Status.FAILED, ImportBatch.Status.QUEUED)) | stuck)
            .update(
                status=ImportBatch.Status.QUEUED,
                failure_reason="",
                queued_at=now,
                progress_done=0,
                # Hashing chunks of the earlier run may have been lost with it: the new run
                # dispatches the rows that have no hash yet (those made are kept).
                hash_chunks_total=0,
                hash_chunks_done=0,
            )
        )
        if not updated:
            return False
        _started(batch, actor, ip, restarted_from=previous)
    return True


def _started(batch: ImportBatch, actor: User, ip: str | None, **details) -> None:
    """Audit the start (or restart) and send the task once the transaction has committed."""
    audit(
        action=AuditLog.Action.IMPORT_STARTED,
        actor=actor,
        organisation=batch.organisation,
        target_repr=batch.file_name,
        after={"batch": str(batch.pk), **details},
        ip=ip,
    )
    transaction.on_commit(partial(_send_task, batch.pk))


def _stuck_age() -> timedelta:
    """How long after its start a running batch cannot have a live task any more (the same
    rule as ImportBatch.stuck_after, as a filter)."""
    return timedelta(seconds=settings.CELERY_TASK_TIME_LIMIT) + STUCK_MARGIN


# --- execute (in the worker) ------------------------------------------------------------------
#
# Two steps. `_prepare` plans and hashes the new passwords, the slow part, without any lock;
# passwords from a file may be handed to chunk tasks instead, and the run ends until the last
# chunk queues it again. `_write` then writes everything in one transaction under the
# college's lock: all rows or none.

HASH_THREAD_MIN = 64
HASH_THREAD_MIN_ITERATIONS = 64
# Rows per hashing task for passwords from a file: at 0.18 s a hash, about 9 s of work.
FILE_HASH_CHUNK_ROWS = 50
# A person chose a password from a file: it gets the full-strength hasher.
FILE_HASHER = "default"
# Progress updates while generating passwords: a fixed number, so a larger import shows the same
# bar with as many statements as a small one (bench: queries constant at every size).
GENERATED_PROGRESS_STEPS = 5


@dataclass
class Prepared:
    """What the write needs, made before it takes any lock. `passwords` holds plaintext for
    this run only: it is stored nowhere except sealed (mails, slips)."""

    plan: Plan
    table: Table
    passwords: dict[int, str]
    hashes: dict[int, str]


def import_execute(batch_id, *, report_sink=None) -> ImportBatch:
    """Run a queued batch. Idempotent: a batch that is done is left alone, and a batch whose
    previous run died is run again from scratch (its earlier transaction was rolled back)."""
    batch = _start_run(batch_id)
    if batch.status == ImportBatch.Status.DONE and batch.slips_pending:
        _deliver_slips(batch)  # the previous run died after its commit: only the slips are left
        batch.refresh_from_db()
    if batch.status != ImportBatch.Status.RUNNING:
        return batch
    try:
        prepared = _prepare(batch)
        if prepared is None:
            return batch  # chunk tasks are hashing; the last one queues this task again
        return _write(batch, prepared, report_sink=report_sink)
    except (ImportFailed, ReadError) as exc:
        return _fail(batch, str(getattr(exc, "message", exc)))
    except IntegrityError as exc:
        logger.warning("import %s hit an integrity error: %s", batch.pk, exc)
        return _fail(
            batch,
            _(
                "Tijdens het opslaan veranderde de database (bijvoorbeeld door een "
                "andere import tegelijk). Er is niets opgeslagen; start de import "
                "opnieuw."
            ),
        )


def _start_run(batch_id) -> ImportBatch:
    """Mark a queued (or stuck, restarted) batch running: one more attempt. Any other batch
    is returned as it is."""
    with transaction.atomic():
        batch = ImportBatch.objects.select_for_update().get(pk=batch_id)
        if batch.status in (ImportBatch.Status.QUEUED, ImportBatch.Status.RUNNING):
            batch.status = ImportBatch.Status.RUNNING
            batch.started_at = timezone.now()
            batch.attempts += 1
            batch.progress_done = 0
            batch.save(update_fields=["status", "started_at", "attempts", "progress_done"])
    return batch


def _fail(batch: ImportBatch, reason: str) -> ImportBatch:
    # Only a batch still queued or running: a late duplicate of a run (a restarted batch's
    # old task, a redelivered message) must not turn a batch that is done into a failed one.
    failed = ImportBatch.objects.filter(
        pk=batch.pk, status__in=(ImportBatch.Status.QUEUED, ImportBatch.Status.RUNNING)
    ).update(status=ImportBatch.Status.FAILED, failure_reason=reason, finished_at=timezone.now())
    if not failed:
        batch.refresh_from_db()
        return batch
    audit(
        action=AuditLog.Action.IMPORT_FAILED,
        actor=batch.created_by,
        organisation=batch.organisation,
        target_repr=batch.file_name,
        after={"batch": str(batch.pk), "reason": reason},
    )
    batch.refresh_from_db()
    return batch


def _progress(batch: ImportBatch, done: int, total: int) -> None:
    ImportBatch.objects.filter(pk=batch.pk).update(progress_done=done, progress_total=total)


# --- prepare: plan and passwords, no lock -----------------------------------------------------


def _prepare(batch: ImportBatch) -> Prepared | None:
    """Plan the rows and make their passwords. None while chunk tasks hash them."""
    options = ImportOptions.from_json(batch.options)
    dry = import_dry_run(batch, actor=batch.created_by)
    if dry.plan.problems:
        raise ImportFailed(" ".join(dry.plan.problems))
    if dry.plan.counts["errors"] and not options.skip_invalid:
        raise ImportFailed(
            _("Het bestand bevat %(count)s fouten. Er is niets geïmporteerd.")
            % {"count": dry.plan.counts["errors"]}
        )
    made = _passwords(batch, options, _password_rows(dry.plan), may_dispatch=True)
    if made is None:
        return None
    return Prepared(dry.plan, dry.table, *made)


def _todo(plan: Plan) -> list[PlannedRow]:
    return [p for p in plan.rows if p.status in (NEW, UPDATED)]


def _password_rows(plan: Plan, known: dict[int, str] | None = None) -> list[PlannedRow]:
    """The rows that get a new password (and have none in `known` yet)."""
    known = known or {}
    return [
        p
        for p in _todo(plan)
        if (p.status == NEW or "password" in p.changes) and p.row not in known
    ]


def _passwords(
    batch: ImportBatch, options: ImportOptions, rows: list[PlannedRow], *, may_dispatch: bool
) -> tuple[dict[int, str], dict[int, str]] | None:
    """Plaintext and hash of each row's new password, by row. The one place passwords are
    made, for the first plan and for a re-plan under the lock (which may not dispatch)."""
    if options.password_mode != PasswordMode.FILE:
        return _generated_passwords(batch, batch.organisation, rows)
    hashes = _file_password_hashes(batch, rows, may_dispatch=may_dispatch)
    if hashes is None:
        return None
    return {p.row: p.values["password"] for p in rows}, hashes


def _hash_all(passwords: list[str], hasher: str) -> list[str]:
    """Hash on every core: hashlib's PBKDF2 releases the GIL, so threads run in parallel."""
    return _in_threads(partial(_make_password, hasher=hasher), passwords)


def _make_password(password: str, *, hasher: str) -> str:
    return make_password(password, hasher=hasher)


def _in_threads(hash_one, passwords: list[str]) -> list[str]:
    if len(passwords) < HASH_THREAD_MIN:
        return [hash_one(pw) for pw in passwords]
    with ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
        return list(pool.map(hash_one, passwords, chunksize=256))


def _hash_generated(passwords: list[str], org: Organisation) -> list[str]:
    """The college's generated passwords, each with the iterations its entropy needs (one
    at the default 14 mixed characters; see accounts.hashers). Threads only pay off when
    PBKDF2 itself (which releases the GIL) is the work, not the Python around it."""
    hasher = GeneratedPasswordHasher()  # this class's own methods, not the settings' lookup
    iterations = hasher.iterations_for(length=org.password_length, fmt=org.password_format)
    hash_one = partial(hasher.encode_generated, iterations=iterations)
    if iterations < HASH_THREAD_MIN_ITERATIONS:
        return [hash_one(pw) for pw in passwords]
    return _in_threads(hash_one, passwords)


def _generated_passwords(batch, org, rows) -> tuple[dict[int, str], dict[int, str]]:
    total = len(rows)
    _progress(batch, 0, total)
    passwords: dict[int, str] = {}
    hashes: dict[int, str] = {}
    step = max(1, -(-total // GENERATED_PROGRESS_STEPS))  # ceil
    for start in range(0, total, step):
        part = rows[start : start + step]
        plain = [org.new_password() for _ in part]
        for p, pw, hashed in zip(part, plain, _hash_generated(plain, org), strict=True):
            passwords[p.row] = pw
            hashes[p.row] = hashed
        _progress(batch, min(start + step, total), total)
    return passwords, hashes


def _file_password_hashes(
    batch: ImportBatch, rows: list[PlannedRow], *, may_dispatch: bool
) -> dict[int, str] | None:
    """Full-strength hashes for passwords from the file. Small imports hash here; larger ones
    are split into chunk tasks so every worker (and core) takes a share. Returns None while
    chunks are still running. Only row numbers travel over the broker, never a password."""
    wanted = {p.row for p in rows}
    stored = dict(
        ImportPasswordHash.objects.filter(batch=batch, row__in=wanted).values_list("row", "hash")
    )
    todo = [p for p in rows if p.row not in stored]
    if not todo:
        return stored
    chunked = may_dispatch and not settings.CELERY_TASK_ALWAYS_EAGER
    if not chunked or len(todo) < FILE_HASH_CHUNK_ROWS:
        _progress(batch, len(stored), len(wanted))
        hashed = _hash_all([p.values["password"] for p in todo], FILE_HASHER)
        return stored | {p.row: h for p, h in zip(todo, hashed, strict=True)}
    if batch.hash_chunks_total:
        return None  # already dispatched (this is a redelivery): the chunks will call back
    missing = sorted(p.row for p in todo)
    chunks = [
        missing[i : i + FILE_HASH_CHUNK_ROWS] for i in range(0, len(missing), FILE_HASH_CHUNK_ROWS)
    ]
    ImportBatch.objects.filter(pk=batch.pk).update(
        hash_chunks_total=len(chunks),
        hash_chunks_done=0,
        progress_done=len(stored),
        progress_total=len(wanted),
    )
    for chunk in chunks:
        transaction.on_commit(partial(_enqueue, HASH_CHUNK_TASK, str(batch.pk), chunk))
    return None


def import_hash_chunk(batch_id, rows: list[int]) -> None:
    """One chunk of full-strength hashing (a task body). Idempotent per row."""
    batch = ImportBatch.objects.get(pk=batch_id)
    if batch.status != ImportBatch.Status.RUNNING:
        return
    # A chunk is a task of its own with its own time limit: its start keeps the batch from
    # looking stuck while the chunks take their turns.
    ImportBatch.objects.filter(pk=batch.pk, status=ImportBatch.Status.RUNNING).update(
        started_at=timezone.now()
    )
    try:
        table = batch_table(batch)
    except ImportFailed as exc:  # the upload was purged or can no longer be unsealed
        _fail(batch, str(exc))
        return
    column = next(int(i) for i, f in batch.mapping.items() if f == "password")
    done = set(
        ImportPasswordHash.objects.filter(batch=batch, row__in=rows).values_list("row", flat=True)
    )
    todo = [row for row in rows if row not in done]
    plain = [_cell_password(table.rows[row - 1], column) for row in todo]
    ImportPasswordHash.objects.bulk_create(
        [
            ImportPasswordHash(batch=batch, row=row, hash=hashed)
            for row, hashed in zip(todo, _hash_all(plain, FILE_HASHER), strict=True)
        ],
        ignore_conflicts=True,
    )
    _chunk_done(batch)


def _cell_password(cells: list, column: int) -> str:
    return clean_password(cells[column] if column < len(cells) else None)


def _chunk_done(batch: ImportBatch) -> None:
    with transaction.atomic():
        locked = ImportBatch.objects.select_for_update().get(pk=batch.pk)
        locked.hash_chunks_done += 1
        locked.progress_done = ImportPasswordHash.objects.filter(batch=batch).count()
        locked.save(update_fields=["hash_chunks_done", "progress_done"])
        if locked.hash_chunks_done >= locked.hash_chunks_total:
            transaction.on_commit(partial(_enqueue, RUN_IMPORT_TASK, str(batch.pk)))


# --- write: one transaction under the college's lock ------------------------------------------


def _write(batch: ImportBatch, prepared: Prepared, *, report_sink=None) -> ImportBatch:
    options = ImportOptions.from_json(batch.options)
    with transaction.atomic():
        # One import per college at a time: a second one waits here, then re-reads the
        # database, so overlapping files never create a candidate twice.
        # NO KEY UPDATE: foreign-key checks (an audit row, another 'Importeer') still pass.
        Organisation.objects.select_for_update(no_key=True).filter(pk=batch.organisation_id).first()
        locked = ImportBatch.objects.select_for_update().get(pk=batch.pk)
        if locked.status != ImportBatch.Status.RUNNING:
            return locked
        prepared = _replan_if_taken(batch, options, prepared)
        users, groups = _write_rows(batch, options, prepared)
        slips = _finish(batch, options, prepared, users, groups, report_sink)
    if slips:
        # A task of its own, queued after the commit and after the report mail: the slips (a
        # few seconds of PDF for 10,000 candidates) follow in their own mail and on the page,
        # while another worker process sends the report. Only the batch id travels.
        _queue_slips(batch)
    batch.refresh_from_db()
    return batch


def _replan_if_taken(batch: ImportBatch, options: ImportOptions, prepared: Prepared) -> Prepared:
    """Another import may have created some of our new candidates while we were hashing:
    plan again under the lock so they become updates, not duplicates."""
    org = batch.organisation
    if not _new_rows_taken_meanwhile(org, [p for p in prepared.plan.rows if p.status == NEW]):
        return prepared
    plan = import_dry_run(batch, table=prepared.table, actor=batch.created_by).plan
    if plan.problems or (plan.counts["errors"] and not options.skip_invalid):
        raise ImportFailed(
            _(
                "De gegevens zijn tijdens het importeren gewijzigd. Er is niets opgeslagen; "
                "controleer het bestand opnieuw."
            )
        )
    rows = _password_rows(plan, known=prepared.hashes)
    made = _passwords(batch, options, rows, may_dispatch=False)
    if made is None:  # only a first plan may hand hashing to chunk tasks
        raise RuntimeError("a re-plan under the college lock dispatched hashing")
    passwords, hashes = made
    return Prepared(plan, prepared.table, prepared.passwords | passwords, prepared.hashes | hashes)


def _write_rows(
    batch: ImportBatch, options: ImportOptions, prepared: Prepared
) -> tuple[dict[int, User], list[str]]:
    """Groups, candidates and links. Returns each written row's user, by row, and
    the names of the groups the import created."""
    actor, org = batch.created_by, batch.organisation
    todo = _todo(prepared.plan)
    groups = _Groups(batch, actor)
    target = groups.target(options)
    if target is not None:
        for p in todo:
            if p.status == NEW or target.pk not in p.group_ids:
                p.group_ids.add(target.pk)
                p.new_group_links.add(target.pk)
    for p in todo:
        if p.new_group_name:
            group = groups.named(p.new_group_name)
            p.group_ids.add(group.pk)
            p.new_group_links.add(group.pk)
    users = _create_candidates(
        batch, org, options, [p for p in todo if p.status == NEW], prepared.hashes
    )
    users |= _update_candidates(
        org, options, [p for p in todo if p.status == UPDATED], prepared.hashes
    )
    _link(todo, options)
    if target is not None and options.supervisor_ids:
        target.supervisors.add(
            *User.objects.filter(
                pk__in=options.supervisor_ids, organisation=org, role=Role.BEGELEIDER
            )
        )
    return users, groups.created


class _Groups:
    """The groups an import links to by name: the new group chosen in the wizard and those
    named in the class column that do not exist yet. Names that differ only in case are one
    group. A new group is made by candidates.services.groups.group_create (audited), and
    linked to the importer when a coordinator imports, so they keep seeing their candidates."""

    def __init__(self, batch: ImportBatch, actor: User) -> None:
        self.batch, self.actor = batch, actor
        self.created: list[str] = []
        self._resolved: dict[str, CandidateGroup] = {}
        self._existing: dict[str, CandidateGroup] | None = None

    def target(self, options: ImportOptions) -> CandidateGroup | None:
        if options.new_group_name:
            return self.named(options.new_group_name)
        if options.group_id:
            return groups_linkable_by(self.actor).filter(pk=options.group_id).first()
        return None

    def named(self, name: str) -> CandidateGroup:
        key = name.casefold()
        if key not in self._resolved:
            self._resolved[key] = self._resolve(name)
        return self._resolved[key]

    def _resolve(self, name: str) -> CandidateGroup:
        if self._existing is None:
            groups = CandidateGroup.objects.filter(organisation_id=self.batch.organisation_id)
            self._existing = {g.name.casefold(): g for g in groups}
        group = self._existing.get(name.casefold())
        if group is None:
            return self._create(name)
        if not groups_linkable_by(self.actor).filter(pk=group.pk).exists():
            raise ImportFailed(
                _(
                    "Er bestaat al een kandidaatgroep met de naam '%(name)s' waaraan "
                    "je niet gekoppeld bent."
                )
                % {"name": group.name}
            )
        if self.actor.role == Role.TOETSCOORDINATOR:
            group.coordinators.add(self.actor)  # the orphan guard: the coordinator's group
        return group

    def _create(self, name: str) -> CandidateGroup:
        coordinator = self.actor.role == Role.TOETSCOORDINATOR
        self.created.append(name)
        return group_create(
            actor=self.actor,
            organisation=self.batch.organisation,
            name=name,
            coordinators=[self.actor] if coordinator else [],
        )


# Bulk inserts take Django's batch size: one statement per table on PostgreSQL, whatever the
# size of the file; SQLite splits them by its own limit on query parameters.
def _create_candidates(batch, org, options, rows, hashes) -> dict[int, User]:
    if not rows:
        return {}
    now = timezone.now()
    users = [
        User(
            organisation=org,
            role=Role.KANDIDAAT,
            username=p.username,
            first_name=p.values.get("first_name") or "",
            surname_prefix=p.values.get("surname_prefix") or "",
            last_name=p.values.get("last_name") or "",
            email=p.values.get("email") or "",
            is_active=options.active,
            valid_from=options.valid_from,
            valid_until=options.valid_until,
            must_change_password=options.must_change_password,
            password=hashes[p.row],
            date_joined=now,
        )
        for p in rows
    ]
    ids = reserve_ids(User, len(users))
    for user, pk in zip(users, ids or (), strict=False):
        user.pk = user.id = pk
    insert(users)
    if ids is None:  # executemany returns no ids: read them back by the unique username
        by_name = dict(
            User.objects.filter(username__in=[u.username for u in users]).values_list(
                "username", "pk"
            )
        )
        for u in users:
            u.pk = u.id = by_name[u.username]
    candidates = []
    for p, user in zip(rows, users, strict=True):
        p.candidate_id = user.pk
        candidate = Candidate(
            user=user,
            organisation=org,
            candidate_number=p.values["candidate_number"],
            birth_date=p.values.get("birth_date"),
        )
        candidate.refresh_derived()
        candidates.append(candidate)
    insert(candidates)
    return {p.row: user for p, user in zip(rows, users, strict=True)}


USER_CHANGES = ("first_name", "surname_prefix", "last_name", "email", "username", "is_active")


def _update_candidates(org, options, rows, hashes) -> dict[int, User]:
    if not rows:
        return {}
    users = {u.pk: u for u in User.objects.filter(pk__in=[p.candidate_id for p in rows])}
    candidates = {c.pk: c for c in Candidate.objects.filter(pk__in=users)}
    user_fields: set[str] = set()
    cand_fields: set[str] = set(Candidate.DERIVED_FIELDS)
    for p in rows:
        user, cand = users[p.candidate_id], candidates[p.candidate_id]
        for name, (_old, new) in p.changes.items():
            if name in USER_CHANGES:
                setattr(user, name, new)
                user_fields.add(name)
            elif name in ("candidate_number", "birth_date"):
                setattr(cand, name, p.values[name])
                cand_fields.add(name)
            elif name == "valid_until":
                user_fields.update(_extend_validity(user, options))
            elif name == "password":
                user.password = hashes[p.row]
                user.must_change_password = options.must_change_password
                user_fields.update({"password", "must_change_password"})
        cand.user = user  # the instance changed above, so the keys see the new names
        cand.refresh_derived()
    if user_fields:
        User.objects.bulk_update(list(users.values()), sorted(user_fields), batch_size=1000)
    Candidate.objects.bulk_update(list(candidates.values()), sorted(cand_fields), batch_size=1000)
    return {p.row: users[p.candidate_id] for p in rows}


def _extend_validity(user: User, options: ImportOptions) -> set[str]:
    user.valid_until = options.valid_until
    if options.valid_from and (user.valid_from is None or user.valid_from > options.valid_from):
        user.valid_from = options.valid_from
        return {"valid_until", "valid_from"}
    return {"valid_until"}


def _link(rows, options) -> None:
    through = Candidate.groups.through
    # Candidates created in this transaction: none of their links can exist yet.
    insert_rows(
        through,
        ("candidate_id", "candidategroup_id"),
        [[p.candidate_id, g] for p in rows if p.status == NEW for g in p.new_group_links],
    )
    through.objects.bulk_create(
        [
            through(candidate_id=p.candidate_id, candidategroup_id=g)
            for p in rows
            if p.status == UPDATED
            for g in p.new_group_links
        ],
        ignore_conflicts=True,
    )
    sup = Candidate.supervisors.through
    sup.objects.bulk_create(
        [sup(candidate_id=p.candidate_id, user_id=s) for p in rows for s in p.new_supervisor_links],
        ignore_conflicts=True,
    )


def _audit_subjects(finished: AuditLog, rows: list[PlannedRow]) -> None:
    """The import is one audit row (its counts); each candidate it created or changed is a
    subject of that row, with what a row of its own would have said (AuditLogSubject)."""
    created, changed = AuditLog.Action.USER_CREATED.value, AuditLog.Action.USER_CHANGED.value
    insert_rows(
        AuditLogSubject,
        ("audit_id", "user_id", "action", "target_repr", "before", "after"),
        [
            [finished.pk, p.candidate_id, changed, p.username, *_subject_change(p)]
            if p.status == UPDATED
            else [finished.pk, p.candidate_id, created, p.username, {}, _created(p)]
            for p in rows
        ],
    )


def _subject_change(p: PlannedRow) -> tuple[dict, dict]:
    return {k: v[0] for k, v in p.changes.items()}, {k: v[1] for k, v in p.changes.items()}


def _created(p: PlannedRow) -> dict:
    return {"candidate_number": p.values["candidate_number"], "role": Role.KANDIDAAT.value}


# --- finish: what the import leaves behind (results, mails, report, slips) --------------------


def _finish(batch, options, prepared, users, created_groups, report_sink) -> bool:
    """Store the outcome, queue the mails and mark the batch done (inside the transaction).
    Returns whether login slips wait to be rendered after the commit."""
    plan, passwords = prepared.plan, prepared.passwords
    names = _group_names(plan.rows)
    counts = {
        **plan.counts,
        "skipped": plan.counts["errors"] if options.skip_invalid else 0,
        "groups": _group_counts(_todo(plan), names),
    }
    credentials = Credentials(batch.organisation)
    report = None
    if options.report_email or report_sink is not None:
        report = import_report_xlsx(
            plan=plan,
            passwords=passwords,
            group_names=names,
            active=options.active,
            users=users,
            groups=counts["groups"],
        )
    if report_sink is not None:
        report_sink(report)
    mail_ids = _credentials_mails(batch, options, plan, passwords, users, credentials)
    if options.report_email and report is not None:
        mail_ids.append(_report_mail(batch, options, counts, report))
    slips = bool(passwords) and not options.send_credentials
    ImportBatch.objects.filter(pk=batch.pk).update(
        status=ImportBatch.Status.DONE,
        finished_at=timezone.now(),
        counts=counts,
        results=_results(plan, users),
        progress_done=len(prepared.hashes),
        progress_total=len(prepared.hashes),
        failure_reason="",
        slips_pending=(
            seal_json(_slip_entries(plan, passwords, names, users, credentials)) if slips else None
        ),
    )
    ImportFile.objects.filter(batch=batch).delete()  # the upload is no longer needed
    ImportPasswordHash.objects.filter(batch=batch).delete()
    finished = audit(
        action=AuditLog.Action.IMPORT_FINISHED,
        actor=batch.created_by,
        organisation=batch.organisation,
        target_repr=batch.file_name,
        after={
            "batch": str(batch.pk),
            **{k: v for k, v in counts.items() if k != "groups"},
            "created_ids": plan.counts["new"],
            "groups_created": created_groups,
        },
    )
    _audit_subjects(finished, _todo(plan))
    queue_mails(mail_ids)
    return slips


def _group_names(rows) -> dict[int, str]:
    ids = {g for p in rows for g in p.group_ids}
    return dict(CandidateGroup.objects.filter(pk__in=ids).values_list("pk", "name"))


def _group_counts(rows: list[PlannedRow], names: dict[int, str]) -> list[dict]:
    """Per group: how many of the candidates this import wrote are in it."""
    counter = Counter(g for p in rows for g in p.group_ids if g in names)
    groups = [{"name": names[g], "count": n} for g, n in counter.items()]
    return sorted(groups, key=lambda g: (g["name"].casefold(), g["name"]))


def _results(plan: Plan, users: dict[int, User]) -> list[dict]:
    return [
        {
            "row": p.row,
            "status": p.status,
            "candidate_id": p.candidate_id,
            "username": p.username,
            "candidate_number": p.values.get("candidate_number") or "",
            "name": row_name(p, users),
            "errors": [str(e) for e in p.errors],
        }
        for p in plan.rows
    ]


def _credentials_mails(batch, options, plan, passwords, users, credentials) -> list[int]:
    if not options.send_credentials:
        return []
    mails = [
        credentials.mail(users[p.row], passwords[p.row], batch_id=batch.pk)
        for p in _todo(plan)
        if p.row in passwords and users[p.row].email
    ]
    OutgoingMail.objects.bulk_create(mails)
    ids = [m.pk for m in mails]
    if any(i is None for i in ids):  # databases that cannot return ids
        ids = list(
            OutgoingMail.objects.filter(
                batch_id=batch.pk, kind=OutgoingMail.Kind.CREDENTIALS
            ).values_list("pk", flat=True)
        )
    return ids


def _report_mail(batch: ImportBatch, options: ImportOptions, counts: dict, report: bytes) -> int:
    org = batch.organisation
    password = org.report_password()
    if password:
        report = protect_xlsx(report, password)
    attachment = attachment_secret(
        f"importresultaat-{timezone.localdate():%Y%m%d}.xlsx",
        report,
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
    mail = mail_queue(
        kind=OutgoingMail.Kind.IMPORT_REPORT,
        to=options.report_email,
        subject=_("Importresultaat: %(file)s") % {"file": batch.file_name},
        organisation=org,
        batch_id=batch.pk,
        context={
            "file_name": batch.file_name,
            "counts": counts,
            "school": org.name,
            "credentials_by_mail": options.send_credentials,
            "report_protected": bool(password),
            "batch_url": import_result_url(batch.pk),
        },
        secret={"attachments": [attachment]},
    )
    return mail.pk


def _slip_entries(plan, passwords, group_names, users, credentials) -> list[dict]:
    return [
        credentials.slip_entry(
            users[p.row],
            candidate_number=p.values["candidate_number"],
            password=passwords[p.row],
            group=", ".join(sorted(group_names[g] for g in p.group_ids if g in group_names)),
        )
        for p in _todo(plan)
        if p.row in passwords
    ]


def _queue_slips(batch: ImportBatch) -> None:
    try:
        _enqueue(SLIPS_TASK, str(batch.pk))
    except Exception as exc:  # broker down: the entries wait sealed; a later run delivers
        logger.warning("could not queue the login slips of import %s: %s", batch.pk, exc)


def import_deliver_slips(batch_id) -> None:
    """The slips task's body: render and mail the login slips of a committed import, once."""
    batch = ImportBatch.objects.select_related("organisation").filter(pk=batch_id).first()
    if batch is not None and batch.status == ImportBatch.Status.DONE:
        _deliver_slips(batch)


def _deliver_slips(batch: ImportBatch) -> None:
    """Render the sealed slip entries to the PDF, keep it sealed, mail it, forget the entries."""
    pending = ImportBatch.objects.filter(pk=batch.pk).values_list("slips_pending", flat=True)
    sealed = pending.first()
    if not sealed:
        return
    entries = unseal_json(sealed)
    pdf = render_login_slips(entries)
    org, options = batch.organisation, ImportOptions.from_json(batch.options)
    with transaction.atomic():
        claimed = (
            ImportBatch.objects.filter(pk=batch.pk)
            .exclude(slips_pending=None)
            .update(slips=seal(pdf), slips_pending=None)
        )
        if claimed and options.report_email:
            mail = mail_queue(
                kind=OutgoingMail.Kind.LOGIN_SLIPS,
                to=options.report_email,
                subject=_("Inlogbriefjes: %(file)s") % {"file": batch.file_name},
                organisation=org,
                batch_id=batch.pk,
                context={"file_name": batch.file_name, "school": org.name, "count": len(entries)},
                secret={
                    "attachments": [attachment_secret("inlogbriefjes.pdf", pdf, "application/pdf")]
                },
            )
            queue_mails([mail.pk])


def _new_rows_taken_meanwhile(org, new_rows) -> bool:
    """One query: does any candidate number or username planned as new exist by now? The
    values travel as one parameter each (imports.lookups), as in the dry run: as 20,000
    parameters, quoting them cost 0.27 s of CPU on PostgreSQL."""
    if not new_rows:
        return False
    numbers = [p.values["candidate_number"] for p in new_rows]
    usernames = [p.username for p in new_rows]
    in_college = Candidate.objects.filter(organisation=org)
    return (
        in_college.filter(InValues(F("candidate_number"), numbers)).exists()
        or User.objects.filter(InValues(F("username"), usernames)).exists()
    )
