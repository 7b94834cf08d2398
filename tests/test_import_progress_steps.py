"""Generating passwords reports its progress in a fixed number of steps, whatever the size of
the import: the bar moves the same way, and a larger import costs no extra statements."""

import pytest

from imports import services
from imports.models import ImportBatch
from imports.options import ImportOptions

from .helpers.imports import make_batch, people, xlsx_bytes

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("rows", "expected"),
    [
        (3, [(0, 3), (1, 3), (2, 3), (3, 3)]),
        (12, [(0, 12), (3, 12), (6, 12), (9, 12), (12, 12)]),
        (23, [(0, 23), (5, 23), (10, 23), (15, 23), (20, 23), (23, 23)]),
    ],
)
def test_generated_passwords_report_progress_in_five_steps(world, monkeypatch, rows, expected):
    batch = make_batch(world.beheerder, xlsx_bytes(people(rows, start=700)))
    ImportBatch.objects.filter(pk=batch.pk).update(status=ImportBatch.Status.RUNNING)
    dry = services.import_dry_run(batch)
    seen: list[tuple[int, int]] = []
    real = services._progress

    def recording(batch, done, total):
        seen.append((done, total))
        real(batch, done, total)

    monkeypatch.setattr(services, "_progress", recording)
    opts = ImportOptions.from_json(batch.options)
    passwords, hashes = services._passwords(
        batch, opts, services._password_rows(dry.plan), may_dispatch=False
    )

    assert seen == expected
    assert len(passwords) == len(hashes) == rows
    batch.refresh_from_db()
    assert (batch.progress_done, batch.progress_total) == (rows, rows)
