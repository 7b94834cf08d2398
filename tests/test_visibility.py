"""The visibility rule as a matrix: role × kind of candidate → visible or not."""

import pytest

from candidates.selectors import (
    candidates_visible_to,
    groups_linkable_by,
    groups_visible_to,
    staff_visible_to,
)

CANDIDATES = ["in_own_group", "in_other_group", "directly_linked", "of_other_college"]

MATRIX = {
    "beheerder": {"in_own_group", "in_other_group", "directly_linked"},
    "coordinator": {"in_own_group"},
    "other_coordinator": {"in_other_group", "directly_linked"},
    "supervisor": {"in_own_group", "directly_linked"},
    "outsider": {"of_other_college"},
}


@pytest.mark.parametrize("role", sorted(MATRIX))
@pytest.mark.parametrize("kind", CANDIDATES)
def test_candidate_visibility_matrix(world, role, kind):
    user = getattr(world, role)
    candidate = getattr(world, kind)
    visible = candidates_visible_to(user).filter(pk=candidate.pk).exists()
    assert visible is (kind in MATRIX[role])


@pytest.mark.parametrize("walks_college", [False, True])
@pytest.mark.parametrize("role", sorted(MATRIX))
def test_visible_set_is_exact(world, role, walks_college):
    # walks_college only changes how PostgreSQL plans the rule, never which rows it gives.
    user = getattr(world, role)
    expected = {getattr(world, kind).pk for kind in MATRIX[role]}
    visible = candidates_visible_to(user, walks_college=walks_college)
    assert set(visible.values_list("pk", flat=True)) == expected


MEMBERS = {
    "own_group": {"in_own_group"},
    "other_group": {"in_other_group", "directly_linked"},
    "foreign_group": {"of_other_college"},
}


@pytest.mark.parametrize("group", sorted(MEMBERS))
@pytest.mark.parametrize("role", sorted(MATRIX))
def test_visible_in_group_is_the_visible_members(world, role, group):
    """`in_group` (the list's group filter) checks a coordinator's or supervisor's link to the
    group once instead of per member, and the college on the members: the same rows as the
    rule itself, narrowed to the group. A group of another college gives nothing."""
    from candidates.models import CandidateGroup

    user = getattr(world, role)
    groups = {
        "own_group": world.own_group,
        "other_group": world.other_group,
        "foreign_group": CandidateGroup.objects.get(organisation=world.other_college),
    }
    expected = {getattr(world, kind).pk for kind in MATRIX[role] & MEMBERS[group]}
    visible = candidates_visible_to(user, in_group=groups[group].pk)
    assert set(visible.values_list("pk", flat=True)) == expected


def test_coordinator_rule_kept_as_filter_only_when_walking_the_college(world):
    from django.db import connection

    walking = str(candidates_visible_to(world.coordinator, walks_college=True).query)
    narrowed = str(candidates_visible_to(world.coordinator).query)
    assert "IS TRUE" not in narrowed
    assert ("IS TRUE" in walking) is (connection.vendor == "postgresql")


def test_candidate_sees_only_themselves(world):
    user = world.in_own_group.user
    assert list(candidates_visible_to(user)) == [world.in_own_group]


def test_superuser_without_college_sees_no_candidates(world, django_user_model):
    root = django_user_model.objects.create_superuser("root", "root@example.test", "x")
    assert candidates_visible_to(root).count() == 0


def test_anonymous_sees_nothing(world):
    from django.contrib.auth.models import AnonymousUser

    assert candidates_visible_to(AnonymousUser()).count() == 0


def test_coordinator_in_two_groups_sees_candidate_once(world):
    world.other_group.coordinators.add(world.coordinator)
    world.in_own_group.groups.add(world.other_group)
    pks = list(candidates_visible_to(world.coordinator).values_list("pk", flat=True))
    assert sorted(pks) == sorted(
        [world.in_own_group.pk, world.in_other_group.pk, world.directly_linked.pk]
    )


def test_groups_visible_and_linkable(world):
    assert set(groups_visible_to(world.beheerder)) == {world.own_group, world.other_group}
    assert set(groups_visible_to(world.coordinator)) == {world.own_group}
    assert set(groups_visible_to(world.supervisor)) == {world.own_group}
    assert set(groups_visible_to(world.outsider)) == {world.foreign_group}
    assert set(groups_linkable_by(world.coordinator)) == {world.own_group}
    assert list(groups_linkable_by(world.supervisor)) == []


def test_staff_visible_only_within_college(world):
    names = set(staff_visible_to(world.beheerder).values_list("username", flat=True))
    assert names == {"beheerder", "coord", "coord2", "begel"}
    assert list(staff_visible_to(world.supervisor)) == []
    assert set(staff_visible_to(world.outsider).values_list("username", flat=True)) == {"outsider"}
