"""Deleting candidates by hand: one, a selection, a whole group. A confirmation page says how
many accounts go; beheerders may, coordinators only within their groups and only when the
college allows it; nobody deletes what they cannot see; the audit row names nobody."""

from __future__ import annotations

import pytest
from django.urls import reverse

from accounts.models import AuditLog, User
from candidates.models import Candidate, CandidateGroup

from .helpers.candidates import logged_in, make_candidates

pytestmark = pytest.mark.django_db


def allow_coordinators(world) -> None:
    world.college.coordinators_may_delete = True
    world.college.save()


def deleted_rows():
    return list(AuditLog.objects.filter(action=AuditLog.Action.ACCOUNTS_DELETED))


def assert_names_nobody(row: AuditLog, *candidates: Candidate) -> None:
    text = f"{row.target_repr}{row.before}{row.after}"
    assert row.target_user is None
    for c in candidates:
        for value in (c.user.username, c.user.first_name, c.user.last_name, c.candidate_number):
            assert value not in text


# --- one candidate -----------------------------------------------------------------------------


def test_beheerder_confirms_then_deletes_one(world, client):
    candidate = world.in_own_group
    url = reverse("candidates:delete", args=[candidate.pk])
    page = logged_in(client, world.beheerder).get(url)
    assert page.status_code == 200
    assert "1 account wordt verwijderd." in page.content.decode()
    assert User.objects.filter(pk=candidate.pk).exists()  # the GET changed nothing

    response = client.post(url)
    assert response.status_code == 302 and response.url == reverse("candidates:list")
    assert not User.objects.filter(pk=candidate.pk).exists()
    (row,) = deleted_rows()
    assert row.after == {"accounts": 1} and row.actor == world.beheerder
    assert_names_nobody(row, candidate)


def test_edit_page_offers_delete_only_to_who_may(world, client):
    edit = reverse("candidates:edit", args=[world.in_own_group.pk])
    delete = reverse("candidates:delete", args=[world.in_own_group.pk])
    assert delete in logged_in(client, world.beheerder).get(edit).content.decode()
    assert delete not in logged_in(client, world.coordinator).get(edit).content.decode()
    allow_coordinators(world)
    assert delete in client.get(edit).content.decode()


def test_coordinator_refused_unless_the_college_allows(world, client):
    url = reverse("candidates:delete", args=[world.in_own_group.pk])
    assert logged_in(client, world.coordinator).post(url).status_code == 403
    assert User.objects.filter(pk=world.in_own_group.pk).exists()
    allow_coordinators(world)
    assert client.post(url).status_code == 302
    assert not User.objects.filter(pk=world.in_own_group.pk).exists()


@pytest.mark.parametrize("who", ["coordinator", "outsider"])
def test_nobody_deletes_what_they_cannot_see(world, client, who):
    allow_coordinators(world)
    target = world.in_other_group
    url = reverse("candidates:delete", args=[target.pk])
    assert logged_in(client, getattr(world, who)).get(url).status_code == 404
    assert client.post(url).status_code == 404
    assert User.objects.filter(pk=target.pk).exists()


@pytest.mark.parametrize("who", ["supervisor"])
def test_supervisors_and_candidates_never_delete(world, client, who):
    allow_coordinators(world)
    url = reverse("candidates:delete", args=[world.directly_linked.pk])
    assert logged_in(client, getattr(world, who)).post(url).status_code == 403
    client.force_login(world.in_own_group.user)
    assert (
        client.post(reverse("candidates:delete", args=[world.in_own_group.pk])).status_code == 403
    )
    assert User.objects.filter(pk=world.in_own_group.pk).exists()


# --- a selection (bulk action) -----------------------------------------------------------------


def test_bulk_delete_confirms_the_visible_count_then_deletes(world, client):
    allow_coordinators(world)
    extra = make_candidates(world.college, world.own_group, 2)
    ids = [c.pk for c in (world.in_own_group, *extra, world.in_other_group, world.of_other_college)]
    page = logged_in(client, world.coordinator).post(
        reverse("candidates:list"), {"action": "delete", "ids": ids}
    )
    html = page.content.decode()
    assert page.status_code == 200 and "3 accounts worden verwijderd." in html
    assert User.objects.filter(pk__in=ids).count() == 5  # nothing yet

    response = client.post(reverse("candidates:delete_selection"), {"ids": ids})
    assert response.status_code == 302
    # Only the three the coordinator sees: the ids of others drop out.
    assert set(User.objects.filter(pk__in=ids).values_list("pk", flat=True)) == {
        world.in_other_group.pk,
        world.of_other_college.pk,
    }
    (row,) = deleted_rows()
    assert row.after == {"accounts": 3}
    assert_names_nobody(row, world.in_own_group, *extra)


def test_bulk_delete_not_offered_when_not_allowed(world, client):
    response = logged_in(client, world.coordinator).post(
        reverse("candidates:list"), {"action": "delete", "ids": [world.in_own_group.pk]}
    )
    assert response.status_code == 200
    assert 'value="delete"' not in response.content.decode()
    assert User.objects.filter(pk=world.in_own_group.pk).exists()
    assert (
        client.post(
            reverse("candidates:delete_selection"), {"ids": [world.in_own_group.pk]}
        ).status_code
        == 403
    )


def test_delete_selection_with_junk_ids_deletes_nothing(world, client):
    response = logged_in(client, world.beheerder).post(
        reverse("candidates:delete_selection"), {"ids": ["x", "99999999999999999999"]}
    )
    assert response.status_code == 302
    assert deleted_rows() == []


# --- a whole group -----------------------------------------------------------------------------


def test_group_delete_with_its_members(world, client):
    members = make_candidates(world.college, world.other_group, 2)
    url = reverse("candidates:group_delete", args=[world.other_group.pk])
    page = logged_in(client, world.beheerder).get(url)
    assert "4 accounts worden verwijderd." in page.content.decode()  # 2 + in_other + direct
    response = client.post(url)
    assert response.status_code == 302
    assert not CandidateGroup.objects.filter(pk=world.other_group.pk).exists()
    assert not User.objects.filter(pk__in=[m.pk for m in members]).exists()
    assert not User.objects.filter(pk=world.directly_linked.pk).exists()
    assert User.objects.filter(pk=world.in_own_group.pk).exists()
    (row,) = deleted_rows()
    assert row.after == {"accounts": 4, "group": "Techniek 1"}
    assert_names_nobody(row, *members)


def test_coordinator_deletes_only_their_own_groups(world, client):
    allow_coordinators(world)
    logged_in(client, world.coordinator)
    other = reverse("candidates:group_delete", args=[world.other_group.pk])
    assert client.post(other).status_code == 404
    assert CandidateGroup.objects.filter(pk=world.other_group.pk).exists()
    own = reverse("candidates:group_delete", args=[world.own_group.pk])
    assert client.post(own).status_code == 302
    assert not CandidateGroup.objects.filter(pk=world.own_group.pk).exists()
    assert not User.objects.filter(pk=world.in_own_group.pk).exists()


def test_outsider_cannot_delete_a_group(world, client):
    url = reverse("candidates:group_delete", args=[world.own_group.pk])
    assert logged_in(client, world.outsider).post(url).status_code == 404
    assert CandidateGroup.objects.filter(pk=world.own_group.pk).exists()


def test_the_audit_log_shows_the_count(world, client):
    logged_in(client, world.beheerder).post(
        reverse("candidates:delete", args=[world.in_own_group.pk])
    )
    html = client.get(reverse("candidates:audit")).content.decode()
    assert "Accounts verwijderd" in html and "Aantal accounts" in html
    assert "kand-own" not in html and "Eigen" not in html
