"""Driving our import the way the wizard does: upload → (options) → dry run → queue → execute."""

from __future__ import annotations

from .datafiles import InputFile


def new_batch(actor, file: InputFile, **options):
    """'Upload' the file as `actor` (read once, header found, mapping suggested, stored)."""
    from imports import services

    batch = services.batch_create_from_upload(
        actor=actor, file_name=file.name, data=file.read_bytes()
    )
    expected = {"candidate_number", "first_name", "surname_prefix", "last_name", "email"}
    missing = expected - set(batch.mapping.values())
    if missing:
        raise RuntimeError(f"header recognition missed {sorted(missing)}: {batch.mapping}")
    if options:
        services.batch_set_options(batch=batch, **options)
    return batch


def queued_batch(actor, file: InputFile, **options):
    """A batch as 'Importeer' leaves it for the worker (status queued), without the task."""
    from imports.models import ImportBatch

    batch = new_batch(actor, file, **options)
    ImportBatch.objects.filter(pk=batch.pk).update(status=ImportBatch.Status.QUEUED)
    return batch


def clear_outbox() -> None:
    """The locmem mail backend keeps every sent message (with its attachments) in memory."""
    from django.core import mail

    if hasattr(mail, "outbox"):
        mail.outbox.clear()


def check_done(batch, *, new: int) -> None:
    from imports.models import ImportBatch

    batch.refresh_from_db()
    if batch.status != ImportBatch.Status.DONE or batch.counts.get("new") != new:
        raise RuntimeError(
            f"import {batch.pk} ended {batch.status} with {batch.counts}: {batch.failure_reason}"
        )
