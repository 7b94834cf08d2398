"""'Verplaats naar groep': unlink from one group, link to another, one audit row per
candidate; refused where the mover would lose sight of a candidate (the orphan rule), and
nobody moves what they cannot see or into a group they may not link."""

from __future__ import annotations

import pytest
from django.urls import reverse

from accounts.models import AuditLog
from candidates.services.school_year import MoveRefused, candidates_move_group, group_archive

from .factories import GroupFactory
from .helpers.candidates import logged_in, make_candidates, rows

LIST = reverse("candidates:list")


def group_move(group):
    return reverse("candidates:group_move", args=[group.pk])


@pytest.fixture
def second_year(world):
    """A group for next year, which the coordinator also coordinates."""
    return GroupFactory(organisation=world.college, name="Zorg 2", coordinators=[world.coordinator])


def _groups(candidate):
    return sorted(candidate.groups.values_list("name", flat=True))


def test_bulk_move_unlinks_links_and_audits_each_candidate(client, world, second_year):
    extra = make_candidates(world.college, world.own_group, 1)[0]
    extra.groups.add(world.other_group)  # a group of someone else stays as it is
    client = logged_in(client, world.coordinator)
    response = client.post(
        LIST,
        {
            "ids": [world.in_own_group.pk, extra.pk],
            "action": "move",
            "group": second_year.pk,
            "from_group": world.own_group.pk,
        },
    )
    assert response.status_code == 302
    assert _groups(world.in_own_group) == ["Zorg 2"]
    assert _groups(extra) == ["Techniek 1", "Zorg 2"]
    moved = rows(AuditLog.Action.GROUP_LINKS_CHANGED)
    assert sorted(
        (r.target_user.username, r.before["groups"], r.after["groups"]) for r in moved
    ) == [
        ("kand-own", ["Zorg 1"], ["Zorg 2"]),
        (extra.user.username, ["Techniek 1", "Zorg 1"], ["Techniek 1", "Zorg 2"]),
    ]
    assert all(r.actor == world.coordinator for r in moved)
    page = client.get(LIST).content.decode()
    assert "2 kandidaten zijn verplaatst naar Zorg 2." in page


def test_group_action_moves_every_member(client, world, second_year):
    make_candidates(world.college, world.own_group, 2)
    client = logged_in(client, world.beheerder)
    assert client.get(group_move(world.own_group)).context["members"] == 3
    response = client.post(group_move(world.own_group), {"group": second_year.pk, "confirm": "on"})
    assert response.url == reverse("candidates:group_detail", args=[second_year.pk])
    assert world.own_group.members.count() == 0
    assert second_year.members.count() == 3
    assert len(rows(AuditLog.Action.GROUP_LINKS_CHANGED)) == 3


def test_group_action_needs_the_confirmation(client, world, second_year):
    response = logged_in(client, world.beheerder).post(
        group_move(world.own_group), {"group": second_year.pk}
    )
    assert response.status_code == 200
    assert response.context["form"].errors["confirm"] == [
        "Vink aan dat je alle leden wilt verplaatsen."
    ]
    assert _groups(world.in_own_group) == ["Zorg 1"]


def test_the_orphan_rule_refuses_the_service(world):
    """A coordinator moving a candidate into a group they are not linked to would lose sight
    of them: refused as a whole, nothing changed, nothing audited."""
    with pytest.raises(MoveRefused):
        candidates_move_group(
            actor=world.coordinator,
            candidates=[world.in_own_group],
            source=world.own_group,
            target=world.other_group,
        )
    assert _groups(world.in_own_group) == ["Zorg 1"]
    assert rows(AuditLog.Action.GROUP_LINKS_CHANGED) == []


def test_a_target_the_coordinator_may_not_link_is_not_offered(client, world):
    response = logged_in(client, world.coordinator).post(
        LIST,
        {
            "ids": [world.in_own_group.pk],
            "action": "move",
            "group": world.other_group.pk,
            "from_group": world.own_group.pk,
        },
    )
    assert response.status_code == 200
    assert "group" in response.context["bulk_form"].errors
    assert _groups(world.in_own_group) == ["Zorg 1"]


def test_an_archived_target_is_refused(world, second_year):
    group_archive(actor=world.beheerder, group=second_year)
    with pytest.raises(MoveRefused):
        candidates_move_group(
            actor=world.beheerder,
            candidates=[world.in_own_group],
            source=world.own_group,
            target=second_year,
        )


def test_candidates_out_of_sight_are_not_moved(world, second_year):
    """Ids the coordinator cannot see (another group, another college) drop out."""
    with pytest.raises(MoveRefused):  # the source group is not theirs to see
        candidates_move_group(
            actor=world.coordinator,
            candidates=[world.in_other_group],
            source=world.other_group,
            target=second_year,
        )
    moved = candidates_move_group(
        actor=world.coordinator,
        candidates=[world.in_own_group, world.in_other_group, world.of_other_college],
        source=world.own_group,
        target=second_year,
    )
    assert moved == 1
    assert _groups(world.in_other_group) == ["Techniek 1"]
    assert _groups(world.of_other_college) == ["Zorg 1"]


def test_moving_into_the_same_group_is_refused_by_the_form(client, world):
    response = logged_in(client, world.beheerder).post(
        LIST,
        {
            "ids": [world.in_own_group.pk],
            "action": "move",
            "group": world.own_group.pk,
            "from_group": world.own_group.pk,
        },
    )
    assert response.context["bulk_form"].errors["group"] == [
        "Kies een andere kandidaatgroep dan de groep waaruit je verplaatst."
    ]


def test_a_move_without_a_source_group_says_so(client, world, second_year):
    response = logged_in(client, world.beheerder).post(
        LIST, {"ids": [world.in_own_group.pk], "action": "move", "group": second_year.pk}
    )
    assert response.context["bulk_form"].errors["from_group"] == [
        "Kies de kandidaatgroep waaruit je de kandidaten verplaatst."
    ]


@pytest.mark.parametrize("who, status", [("outsider", 404), ("supervisor", 403)])
def test_nobody_moves_a_group_they_cannot_see(client, world, second_year, who, status):
    response = logged_in(client, getattr(world, who)).post(
        group_move(world.own_group), {"group": second_year.pk, "confirm": "on"}
    )
    assert response.status_code == status
    assert _groups(world.in_own_group) == ["Zorg 1"]


def test_other_coordinator_cannot_move_our_group(client, world):
    response = logged_in(client, world.other_coordinator).post(
        group_move(world.own_group), {"group": world.other_group.pk, "confirm": "on"}
    )
    assert response.status_code == 404
