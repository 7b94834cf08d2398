"""Usernames of deleted and anonymised accounts stay reserved for the retention period: the
staff form, the import (given and generated names) refuse them; afterwards they are free."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.models import RetiredUsername, usernames_reserved
from candidates.selectors import username_taken
from candidates.services import retention
from imports.planning import load_taken_usernames

from .helpers.candidates import logged_in

pytestmark = pytest.mark.django_db


def retire(world, username: str, *, days: int = 30) -> None:
    RetiredUsername.objects.create(
        organisation=world.college,
        username=username.lower(),
        free_after=timezone.now() + timedelta(days=days),
    )


def test_deleting_reserves_the_name_for_the_retention_period(world):
    world.college.retention_months = 6
    world.college.save()
    retention.candidates_delete(actor=world.beheerder, candidates=[world.in_own_group])
    reserved = RetiredUsername.objects.get(username="kand-own")
    expected = timezone.now() + timedelta(days=6 * 30)
    assert abs((reserved.free_after - expected).total_seconds()) < 4 * 24 * 3600
    assert usernames_reserved(["KAND-OWN"]) == {"kand-own"}


def test_reserved_until_free_after(world):
    retire(world, "oud-1", days=-1)
    retire(world, "oud-2")
    assert usernames_reserved(["oud-1", "oud-2"]) == {"oud-2"}
    assert username_taken("Oud-2") and not username_taken("oud-1")


def test_import_counts_reserved_names_as_taken(world):
    retire(world, "rocm-0001234")
    assert load_taken_usernames({"rocm-0001234", "rocm-0009999"}) == frozenset({"rocm-0001234"})


def test_staff_form_refuses_a_reserved_name(world, client):
    retire(world, "docent-oud")
    response = logged_in(client, world.beheerder).post(
        reverse("candidates:staff_create"),
        {
            "username": "Docent-Oud",
            "first_name": "Nieuwe",
            "last_name": "Docent",
            "email": "nieuw@example.test",
            "role": "begeleider",
        },
    )
    assert response.status_code == 200
    assert "De gebruikersnaam Docent-Oud is al in gebruik." in response.content.decode()


def test_retiring_again_moves_the_date(world):
    retire(world, "dubbel", days=-5)
    retention.retire_usernames(world.college, ["Dubbel"])
    assert RetiredUsername.objects.get(username="dubbel").free_after > timezone.now()


def test_an_import_does_not_recycle_a_deleted_pupils_name(world):
    from accounts.models import User

    from .factories import CandidateFactory
    from .helpers.imports import people, run_import, xlsx_bytes

    rows = people(2, start=1234)  # numbers 0001234 and 0001235
    gone = CandidateFactory(
        organisation=world.college, candidate_number=rows[0][0], user__username="rocm-0001234"
    )
    retention.candidates_delete(actor=world.beheerder, candidates=[gone])

    batch = run_import(world.beheerder, xlsx_bytes(rows), skip_invalid=True)

    assert not User.objects.filter(username__iexact="rocm-0001234").exists()
    assert User.objects.filter(username="rocm-0001235").exists()
    (refused,) = [r for r in batch.results if r["status"] == "error"]
    assert refused["errors"] == [
        "Rij 2, kolom Kandidaatnummer: de gebruikersnaam rocm-0001234 is al in gebruik"
    ]


def test_after_the_period_an_import_may_use_the_name_again(world):
    from accounts.models import User

    from .helpers.imports import people, run_import, xlsx_bytes

    rows = people(1, start=1234)
    retire(world, "rocm-0001234", days=-1)
    run_import(world.beheerder, xlsx_bytes(rows))
    assert User.objects.filter(username="rocm-0001234").exists()
