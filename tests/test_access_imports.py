"""Every import URL x every role x own / other user / other college.

The rule (imports.selectors): a beheerder sees every import of their college, a coordinator
their own; the wizard's steps belong to the uploader alone, and so do the printable login
slips. Supervisors, candidates and platform operators have no import pages (403), anonymous
visitors go to the login page, and an id of someone else's import is a 404, the same answer
as an id that does not exist, so nothing can be learnt by guessing.
"""

from __future__ import annotations

import uuid
from types import SimpleNamespace

import pytest
from django.test import Client
from django.urls import reverse

from accounts.models import OutgoingMail
from imports.models import ImportBatch

from .helpers.candidates import make_superuser, read_xlsx
from .helpers.imports import make_batch, people, run_import, xlsx_bytes
from .helpers.workers import page_text

pytestmark = pytest.mark.django_db

COLLEGE_URLS = ["start", "example", "history"]
WIZARD_URLS = [
    "mapping", "check", "errors", "password", "group",
    "supervisors", "validity", "credentials", "confirm",
]  # fmt: skip
BATCH_GET_URLS = ["result", "progress", "slips"]
BATCH_POST_URLS = ["retry", "resend_mails"]
ACTORS = [
    "beheerder", "coordinator", "other_coordinator", "supervisor",
    "candidate", "outsider", "superuser", "anonymous",
]  # fmt: skip
STAFF = {"beheerder", "coordinator", "other_coordinator", "outsider"}


@pytest.fixture
def imports(world):
    """Imports of every kind, each with a file name that must never show up elsewhere."""
    rows = people(3, start=700)
    rows[2][3] = ""  # one row with an error, so the error file has something in it
    return SimpleNamespace(
        # The coordinator's unfinished upload, and the one they finished (slips for a teacher).
        draft=make_batch(world.coordinator, xlsx_bytes(rows), "concept-coord.xlsx"),
        done=run_import(
            world.coordinator,
            xlsx_bytes(people(2, start=710)),
            "klaar-coord.xlsx",
            group_id=world.own_group.pk,
            report_email="coord@rocm.example",
        ),
        # The other college's finished import.
        foreign=run_import(
            world.outsider,
            xlsx_bytes(people(2, start=720)),
            "vreemd.xlsx",
            group_id=world.foreign_group.pk,
            report_email="outsider@roca.example",
        ),
    )


def actor_user(world, actor):
    if actor == "candidate":
        return world.in_own_group.user
    if actor == "superuser":
        return make_superuser()
    return getattr(world, actor)


OWNER = {"draft": "coordinator", "done": "coordinator", "foreign": "outsider"}
COLLEGE_ADMIN = {"draft": "beheerder", "done": "beheerder", "foreign": "outsider"}


def expected(actor: str, url: str, target: str) -> int:
    """The status `actor` gets for `url` (GET, or POST for retry/resend) on `target`."""
    if actor == "anonymous":
        return 302  # to the login page
    if actor not in STAFF:
        return 403
    if url in COLLEGE_URLS:
        return 200
    if actor not in (OWNER[target], COLLEGE_ADMIN[target]):
        return 404  # another coordinator's import, or another college's
    if url in WIZARD_URLS:  # the uploader's unfinished upload only
        return 200 if target == "draft" and actor == OWNER[target] else 404
    if url == "slips":  # printed passwords: for the uploader only, once they exist
        return 200 if target != "draft" and actor == OWNER[target] else 404
    if url == "result":  # an unfinished import sends you to its first step
        return 302 if target == "draft" else 200
    if url == "progress":
        return 200
    return 302  # retry, resend: back to the result page


def request(client, url: str, pk) -> int:
    path = reverse(f"imports:{url}", args=[pk] if pk else [])
    return (client.post if url in BATCH_POST_URLS else client.get)(path).status_code


@pytest.mark.parametrize("actor", ACTORS)
def test_every_import_url_for_every_role(world, imports, actor):
    client = Client()
    if actor != "anonymous":
        client.force_login(actor_user(world, actor))
    targets = {"draft": imports.draft.pk, "done": imports.done.pk, "foreign": imports.foreign.pk}

    actual, wanted = {}, {}
    for url in COLLEGE_URLS:
        actual[url] = request(client, url, None)
        wanted[url] = expected(actor, url, "")
    for target, pk in targets.items():
        for url in WIZARD_URLS + BATCH_GET_URLS + BATCH_POST_URLS:
            actual[(url, target)] = request(client, url, pk)
            wanted[(url, target)] = expected(actor, url, target)

    assert actual == wanted


@pytest.mark.parametrize("actor", ["beheerder", "coordinator", "outsider"])
def test_guessed_ids_are_404_like_someone_elses(world, imports, actor):
    client = Client()
    client.force_login(actor_user(world, actor))
    guess = uuid.uuid4()

    statuses = {url: request(client, url, guess) for url in WIZARD_URLS + BATCH_GET_URLS}
    statuses |= {url: request(client, url, guess) for url in BATCH_POST_URLS}

    assert set(statuses.values()) == {404}
    # Not even the shape of an id helps: anything but a UUID is no URL at all.
    assert client.get(f"/beheer/import/{imports.done.pk.int}/resultaat/").status_code == 404


def test_get_is_not_enough_to_retry_or_resend(world, imports):
    client = Client()
    client.force_login(world.coordinator)
    for url in BATCH_POST_URLS:
        path = reverse(f"imports:{url}", args=[imports.done.pk])
        assert client.get(path).status_code == 405


def test_wizard_steps_of_a_finished_import_are_closed_even_to_its_uploader(world, imports):
    client = Client()
    client.force_login(world.coordinator)
    for url in WIZARD_URLS:
        assert request(client, url, imports.done.pk) == 404, url


def test_posting_to_someone_elses_wizard_step_changes_nothing(world, imports):
    before = ImportBatch.objects.get(pk=imports.draft.pk)
    for actor in ("beheerder", "other_coordinator", "outsider"):
        client = Client()
        client.force_login(actor_user(world, actor))
        for url, data in [
            ("mapping", {"col_0": "candidate_number"}),
            ("group", {"status": "inactive", "group": world.other_group.pk}),
            ("confirm", {"report_email": "aanvaller@example.test"}),
        ]:
            response = client.post(reverse(f"imports:{url}", args=[imports.draft.pk]), data)
            assert response.status_code == 404, (actor, url)
    after = ImportBatch.objects.get(pk=imports.draft.pk)
    assert (after.status, after.mapping, after.options) == (
        before.status,
        before.mapping,
        before.options,
    )


def text(response) -> str:
    return response.content.decode()


@pytest.mark.parametrize(
    ("actor", "sees", "never_sees"),
    [
        ("beheerder", {"klaar-coord.xlsx"}, {"vreemd.xlsx"}),
        ("coordinator", {"klaar-coord.xlsx"}, {"vreemd.xlsx"}),
        ("other_coordinator", set(), {"klaar-coord.xlsx", "vreemd.xlsx"}),
        ("outsider", {"vreemd.xlsx"}, {"klaar-coord.xlsx"}),
    ],
)
def test_history_lists_nothing_of_others(world, imports, actor, sees, never_sees):
    client = Client()
    client.force_login(actor_user(world, actor))

    page = text(client.get(reverse("imports:history")))

    assert all(name in page for name in sees)
    assert not any(name in page for name in never_sees)
    assert "concept-coord.xlsx" not in page  # drafts are not history


def test_result_page_and_files_hold_only_their_own_import(world, imports):
    client = Client()
    client.force_login(world.beheerder)

    response = client.get(reverse("imports:result", args=[imports.done.pk]))
    page = text(response)

    assert "0000710" in page and "0000711" in page
    for other in ("0000700", "0000720", "Vreemd", "vreemd.xlsx", "outsider@roca.example"):
        assert other not in page
    # The mail counts are this import's own: its report and its slips (not yet sent here).
    assert OutgoingMail.objects.filter(batch_id=imports.done.pk).count() == 2
    assert "Verzonden: 0 Wacht op verzending: 2 Mislukt: 0" in page_text(response)

    # The error file of the coordinator's draft: their rows, for them only.
    client.force_login(world.coordinator)
    errors = client.get(reverse("imports:errors", args=[imports.draft.pk]))
    assert errors.status_code == 200
    _ws, values = read_xlsx(errors.content)
    assert [row[0] for row in values[1:]] == ["0000702"]
