"""'Maak deze import ongedaan' in the import history: the preview, one confirmation, refusals."""

import pytest
from django.urls import reverse

from accounts.models import AuditLog
from candidates.models import Candidate
from imports import undo
from imports.models import ImportBatch

from .helpers.candidates import logged_in
from .helpers.undo import changed_later, finished_days_ago, import_rows, row, signed_in, user_of
from .helpers.workers import page_text

pytestmark = pytest.mark.django_db

NEW = [row("0000101", "Fenna", "Nieuw"), row("0000102", "Gijs", "Nieuw")]
BUTTON = "Maak deze import ongedaan"


def undo_url(batch) -> str:
    return reverse("imports:undo", args=[batch.pk])


def test_history_offers_the_undo_for_recent_imports_only(client, world):
    recent = import_rows(world.beheerder, NEW)
    old = import_rows(world.beheerder, [row("0000103", "Hans", "Oud")])
    finished_days_ago(old, 15)

    response = logged_in(client, world.beheerder).get(reverse("imports:history"))

    html = response.content.decode()
    assert html.count(BUTTON) == 1
    assert undo_url(recent) in html and undo_url(old) not in html


def test_preview_shows_what_will_happen_and_changes_nothing(client, world):
    batch = import_rows(world.beheerder, [row("0000001", "Annie", "Eigen"), *NEW])
    signed_in(user_of("0000101", world.college))
    changed_later(world.in_own_group.user, world.beheerder, last_name="Eigenaar")

    response = logged_in(client, world.beheerder).get(undo_url(batch))

    text = page_text(response)
    assert response.status_code == 200
    assert (
        "Accounts die de import aanmaakte en die worden verwijderd 1 "
        "Accounts die de import aanmaakte en waarmee sindsdien is ingelogd: die worden "
        "gedeactiveerd in plaats van verwijderd 1 "
        "Kandidaten die hun gegevens van vóór de import terugkrijgen 0"
    ) in text
    assert (
        "Conflicten: kandidaten die na de import opnieuw zijn gewijzigd en ongewijzigd blijven 1"
        in text
    )
    assert "Annie Eigenaar kand-own na de import opnieuw gewijzigd" in text
    assert BUTTON in text
    assert Candidate.objects.filter(candidate_number__in=["0000101", "0000102"]).count() == 2


def test_confirm_undoes_and_the_page_then_says_so(client, world):
    batch = import_rows(world.beheerder, NEW, new_group_name="Nieuw 2027")
    client = logged_in(client, world.beheerder)

    response = client.post(undo_url(batch), follow=True)

    assert response.redirect_chain == [(undo_url(batch), 302)]
    text = page_text(response)
    assert "De import is ongedaan gemaakt." in text
    assert "Deze import is op " in text and "ongedaan gemaakt door" in text
    assert "Wat er is teruggedraaid" in text
    assert BUTTON not in text
    assert not Candidate.objects.filter(candidate_number__in=["0000101", "0000102"]).exists()
    assert AuditLog.objects.filter(action=AuditLog.Action.IMPORT_UNDONE).count() == 1
    history = page_text(client.get(reverse("imports:history")))
    assert "ongedaan gemaakt" in history and BUTTON not in history


def test_a_second_confirmation_is_refused(client, world):
    batch = import_rows(world.beheerder, NEW)
    client = logged_in(client, world.beheerder)
    client.post(undo_url(batch))

    response = client.post(undo_url(batch), follow=True)

    assert "Deze import is al ongedaan gemaakt op " in page_text(response)
    assert AuditLog.objects.filter(action=AuditLog.Action.IMPORT_UNDONE).count() == 1


def test_too_old_is_explained_and_refused(client, world):
    batch = import_rows(world.beheerder, NEW)
    finished_days_ago(batch, 20)
    client = logged_in(client, world.beheerder)

    page = page_text(client.get(undo_url(batch)))
    assert "Deze import is ouder dan 14 dagen en kan niet meer ongedaan worden gemaakt." in page
    assert BUTTON not in page
    response = client.post(undo_url(batch), follow=True)
    assert "ouder dan 14 dagen" in page_text(response)
    assert Candidate.objects.filter(candidate_number="0000101").exists()


@pytest.mark.parametrize(
    ("who", "status"), [("other_coordinator", 404), ("outsider", 404), ("supervisor", 403)]
)
def test_others_cannot_see_or_undo_it(client, world, who, status):
    batch = import_rows(world.coordinator, NEW, group_id=world.own_group.pk)
    client = logged_in(client, getattr(world, who))

    assert client.get(undo_url(batch)).status_code == status
    assert client.post(undo_url(batch)).status_code == status
    assert Candidate.objects.filter(candidate_number="0000101").exists()
    assert not ImportBatch.objects.get(pk=batch.pk).undone_at


def test_the_beheerder_may_undo_a_coordinators_import(client, world):
    batch = import_rows(world.coordinator, NEW, group_id=world.own_group.pk)
    logged_in(client, world.beheerder).post(undo_url(batch))
    assert not Candidate.objects.filter(candidate_number="0000101").exists()


def test_a_large_import_is_undone_in_the_background(
    client, world, monkeypatch, django_capture_on_commit_callbacks
):
    monkeypatch.setattr(undo, "TASK_THRESHOLD", 1)
    queued = []
    monkeypatch.setattr(undo, "_enqueue", lambda *args: queued.append(args))
    batch = import_rows(world.beheerder, NEW)
    client = logged_in(client, world.beheerder)

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(undo_url(batch), follow=True)

    text = page_text(response)
    assert "De import wordt op de achtergrond ongedaan gemaakt." in text
    assert "Vernieuw deze pagina om te zien of dat klaar is." in text
    assert len(queued) == 1
    assert Candidate.objects.filter(candidate_number="0000101").exists()


def test_preview_counts_what_it_leaves_alone_without_names(client, world):
    batch = import_rows(
        world.coordinator,
        [row("0000001", "Anna", "Eigen", "kand-own@example.test"), *NEW],
        group_id=world.own_group.pk,
        existing_passwords="replace",
    )
    gijs = user_of("0000102", world.college)
    Candidate.groups.through.objects.filter(candidate_id=gijs.pk).delete()  # out of sight

    text = page_text(logged_in(client, world.coordinator).get(undo_url(batch)))

    assert "1 kandidaat uit deze import is niet voor jou zichtbaar en blijft ongewijzigd." in text
    assert (
        "De import gaf 1 bestaande kandidaat een nieuw wachtwoord; een wachtwoord wordt niet "
        "teruggezet."
    ) in text
    assert "Gijs" not in text and gijs.username not in text


NO_DELETE_RIGHT = (
    "Je mag in deze school geen kandidaten verwijderen (instelling van de school). Daarom worden "
    "de accounts die de import aanmaakte gedeactiveerd in plaats van verwijderd; een beheerder "
    "kan ze daarna verwijderen."
)


def test_preview_says_a_coordinator_without_the_delete_right_deactivates(client, world):
    world.college.coordinators_may_delete = False
    world.college.save(update_fields=["coordinators_may_delete"])
    batch = import_rows(world.coordinator, NEW, group_id=world.own_group.pk)
    coordinator = logged_in(client, world.coordinator)

    text = page_text(coordinator.get(undo_url(batch)))

    assert (
        "Accounts die de import aanmaakte en die worden verwijderd 0 "
        "Accounts die de import aanmaakte en waarmee sindsdien is ingelogd: die worden "
        "gedeactiveerd in plaats van verwijderd 2"
    ) in text
    assert NO_DELETE_RIGHT in text

    text = page_text(coordinator.post(undo_url(batch), follow=True))

    assert (
        "Je mocht in deze school geen kandidaten verwijderen (instelling van de school). Daarom "
        "zijn de accounts die de import aanmaakte gedeactiveerd in plaats van verwijderd; een "
        "beheerder kan ze verwijderen."
    ) in text
    assert Candidate.objects.filter(candidate_number__in=["0000101", "0000102"]).count() == 2


def test_preview_for_the_beheerder_has_no_such_line(client, world):
    batch = import_rows(world.coordinator, NEW, group_id=world.own_group.pk)
    text = page_text(logged_in(client, world.beheerder).get(undo_url(batch)))
    assert "Accounts die de import aanmaakte en die worden verwijderd 2" in text
    assert "geen kandidaten verwijderen" not in text
