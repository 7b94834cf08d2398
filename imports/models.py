from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import Organisation


def default_expiry():
    return timezone.now() + timedelta(hours=settings.KB_UPLOAD_RETENTION_HOURS)


# A worker kills a task CELERY_TASK_TIME_LIMIT seconds after it started. The margin covers a
# database retry's countdown (at most 20 s) and the clocks of web and worker machines that
# differ a little; past both, a 'running' batch has no live task any more.
STUCK_MARGIN = timedelta(minutes=5)


class ImportBatch(models.Model):
    """One run of the wizard, from upload to result. The UUID is its public id: wizard URLs
    carry it, so two browser tabs hold two batches and never mix, and ids cannot be guessed."""

    class Status(models.TextChoices):
        DRAFT = "draft", _("Concept")
        QUEUED = "queued", _("In de wachtrij")
        RUNNING = "running", _("Bezig")
        DONE = "done", _("Voltooid")
        FAILED = "failed", _("Mislukt")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="+")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="import_batches"
    )
    created = models.DateTimeField(default=timezone.now, db_index=True)
    status = models.CharField(
        max_length=10, choices=Status.choices, default=Status.DRAFT, db_index=True
    )
    file_name = models.CharField(_("bestandsnaam"), max_length=255)
    file_format = models.CharField(max_length=8)
    # The worksheet the rows come from ("" for CSV, or: the one sheet with a header).
    sheet_name = models.CharField(max_length=255, blank=True, default="")
    header_row = models.PositiveIntegerField(default=1)  # 1-based, as the spreadsheet shows it
    headers = models.JSONField(default=list)
    # {"column index as str": "field name"}; unmapped columns are absent.
    mapping = models.JSONField(default=dict)
    # Everything chosen in the wizard after the mapping (see imports.options.ImportOptions).
    options = models.JSONField(default=dict)
    counts = models.JSONField(default=dict)
    progress_done = models.PositiveIntegerField(default=0)
    progress_total = models.PositiveIntegerField(default=0)
    # Per-row outcome after the import: [{"row", "status", "candidate_id", ...}], no secrets.
    results = models.JSONField(default=list, blank=True)
    failure_reason = models.TextField(blank=True)
    queued_at = models.DateTimeField(null=True, blank=True)
    # When the latest task working on this batch began: the run itself, or one of its hashing
    # chunks. No task lives longer than the hard time limit, so this tells a batch that is
    # still being worked on from one whose worker died and whose tasks were lost (`is_stuck`).
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    # Passwords from a file get the full-strength hasher (0.18 s each), spread over the
    # workers as chunk tasks; the last chunk to finish queues the write again.
    hash_chunks_total = models.PositiveIntegerField(default=0)
    hash_chunks_done = models.PositiveIntegerField(default=0)
    # Printable login slips (PDF) when a teacher hands out the credentials: Fernet-encrypted,
    # removed with the upload after KB_UPLOAD_RETENTION_HOURS.
    slips = models.BinaryField(null=True, blank=True, editable=False)
    # The slips' content (names, usernames, passwords), sealed in the transaction that writes
    # the import and turned into `slips` right after it; a worker that dies in between leaves
    # it here for the redelivered task. Never plaintext; cleared once the PDF exists.
    slips_pending = models.BinaryField(null=True, blank=True, editable=False)
    expires_at = models.DateTimeField(default=default_expiry, db_index=True)
    # Undoing the import (imports.undo): claimed by setting undo_queued_at (a conditional
    # UPDATE, so it happens once), done when undone_at is set, in the transaction that undid
    # it. A failed run clears the claim and leaves its Dutch reason in undo_failure.
    undo_queued_at = models.DateTimeField(null=True, blank=True)
    undone_at = models.DateTimeField(null=True, blank=True)
    undone_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    undo_counts = models.JSONField(default=dict, blank=True)
    undo_failure = models.TextField(blank=True)

    class Meta:
        verbose_name = _("import")
        verbose_name_plural = _("imports")
        ordering = ["-created"]

    def __str__(self) -> str:
        return f"{self.file_name} ({self.get_status_display()})"

    @property
    def stuck_after(self) -> datetime | None:
        """When a running batch can no longer have a live task (None when not running)."""
        if self.status != self.Status.RUNNING:
            return None
        # The run always sets started_at; a row without one counts from when it was queued.
        since = self.started_at or self.queued_at or self.created
        return since + timedelta(seconds=settings.CELERY_TASK_TIME_LIMIT) + STUCK_MARGIN

    @property
    def is_stuck(self) -> bool:
        """Running, but started longer ago than any task may live: its worker died and the
        task was lost (a flushed broker, say). It may be started again (`import_requeue`)."""
        stuck_after = self.stuck_after
        return stuck_after is not None and timezone.now() >= stuck_after

    @property
    def progress_percent(self) -> int:
        if self.status == self.Status.DONE:
            return 100
        if not self.progress_total:
            return 0
        return min(100, int(100 * self.progress_done / self.progress_total))


class ImportFile(models.Model):
    """The uploaded file, kept in the database so a worker on another machine can read it (no
    shared disk needed). Deleted after the import or after KB_UPLOAD_RETENTION_HOURS.

    `data` is sealed (`accounts.secrets.seal`, Fernet, with a key that is not in the database):
    a file may hold a password column, names and birth dates, and a database dump or backup
    made within those hours must not show them. `size` and `sha256` are those of the plain
    file. Write and read it only through `imports.services` (`batch_create_from_upload`,
    `batch_table`)."""

    batch = models.OneToOneField(
        ImportBatch, on_delete=models.CASCADE, primary_key=True, related_name="upload"
    )
    data = models.BinaryField()
    size = models.PositiveIntegerField()
    sha256 = models.CharField(max_length=64)

    def __str__(self) -> str:
        return f"{self.batch_id} ({self.size} bytes)"


class RememberedMapping(models.Model):
    """The last mapping a college used for a given set of headers."""

    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="+")
    headers_key = models.CharField(max_length=64)
    mapping = models.JSONField(default=dict)
    updated = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["organisation", "headers_key"], name="unique_mapping_per_headers"
            )
        ]

    def __str__(self) -> str:
        return f"{self.organisation_id}: {self.headers_key[:12]}"


class ImportPasswordHash(models.Model):
    """A hash made by a chunk task for one row of a batch (never the password itself).
    Deleted in the transaction that writes the import."""

    batch = models.ForeignKey(ImportBatch, on_delete=models.CASCADE, related_name="+")
    row = models.PositiveIntegerField()
    hash = models.CharField(max_length=128)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["batch", "row"], name="unique_hash_per_row")]

    def __str__(self) -> str:
        return f"{self.batch_id}:{self.row}"
