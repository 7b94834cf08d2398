"""Seal the uploads that are still in the database (they were stored plain until now).

Uploads live at most KB_UPLOAD_RETENTION_HOURS, so there are few. Each row is one of:
- the plain file (its SHA-256 matches): sealed;
- already sealed with the current key (the migration ran before): left alone;
- of a batch that is done or has expired: deleted, as the hourly purge would;
- anything else (neither the uploaded file nor a token this key opens): it cannot be imported
  sensibly, so it is deleted and its batch marked failed with the reason the wizard and the
  worker give for an upload they cannot read.
"""

import hashlib

from cryptography.fernet import InvalidToken
from django.db import migrations
from django.utils import timezone

from accounts.secrets import seal, unseal

# Stored as the batch's reason, in the default language, as the worker stores its reasons
# (imports.services.batch_table gives the same sentence).
UNREADABLE = "Het geüploade bestand kan niet meer worden gelezen; upload het opnieuw."
UNFINISHED = ("draft", "queued", "running", "failed")


def _is_sealed(data: bytes) -> bool:
    try:
        unseal(data)
    except InvalidToken:
        return False
    return True


def seal_uploads(apps, schema_editor):
    ImportBatch = apps.get_model("imports", "ImportBatch")
    ImportFile = apps.get_model("imports", "ImportFile")
    now = timezone.now()
    # One row at a time: an upload can be 10 MB.
    for pk in list(ImportFile.objects.values_list("pk", flat=True)):
        upload = ImportFile.objects.select_related("batch").get(pk=pk)
        batch, data = upload.batch, bytes(upload.data)
        if batch.status == "done" or batch.expires_at < now:
            upload.delete()
        elif hashlib.sha256(data).hexdigest() == upload.sha256:
            ImportFile.objects.filter(pk=pk).update(data=seal(data))
        elif not _is_sealed(data):
            upload.delete()
            if batch.status in UNFINISHED:
                ImportBatch.objects.filter(pk=batch.pk).update(
                    status="failed", failure_reason=UNREADABLE, finished_at=now
                )


def unseal_uploads(apps, schema_editor):
    """Back to plain bytes for the code before this migration; what this key cannot open is
    left as it is (that code will report it as an unreadable file)."""
    ImportFile = apps.get_model("imports", "ImportFile")
    for pk in list(ImportFile.objects.values_list("pk", flat=True)):
        upload = ImportFile.objects.get(pk=pk)
        try:
            data = unseal(upload.data)
        except InvalidToken:
            continue
        ImportFile.objects.filter(pk=pk).update(data=data)


class Migration(migrations.Migration):
    dependencies = [
        ("imports", "0003_slips_pending"),
    ]

    operations = [
        migrations.RunPython(seal_uploads, unseal_uploads),
    ]
