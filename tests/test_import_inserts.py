"""The import's bulk inserts (imports.inserts): COPY on PostgreSQL, one executemany on SQLite.
What goes in must read back exactly as bulk_create would have stored it: dates, a stamped
creation time, JSON, a choice given as its enum member, and the keys of the new users."""

from datetime import date

import pytest
from django.utils import timezone

from accounts.models import AuditLog, AuditLogSubject, Role, User
from candidates.models import Candidate
from imports.inserts import insert, insert_rows, reserve_ids

pytestmark = pytest.mark.django_db


def new_users(world, n):
    users = [
        User(
            organisation=world.college,
            role=Role.KANDIDAAT,
            username=f"rocm-ins{i}",
            first_name="Zoë",
            last_name=f"Çelik{i}",
            valid_from=date(2026, 8, 1),
            valid_until=date(2027, 7, 31),
            password="!",
            date_joined=timezone.now(),
        )
        for i in range(n)
    ]
    ids = reserve_ids(User, n)
    for user, pk in zip(users, ids or (), strict=False):
        user.pk = user.id = pk
    insert(users)
    if ids is None:
        by_name = dict(
            User.objects.filter(username__startswith="rocm-ins").values_list("username", "pk")
        )
        for user in users:
            user.pk = user.id = by_name[user.username]
    return users


def test_users_candidates_links_and_subjects_read_back_as_written(world):
    before = timezone.now()
    users = new_users(world, 3)
    assert all(u.pk and not u._state.adding for u in users)
    stored = User.objects.get(username="rocm-ins1")
    assert (stored.pk, stored.role, stored.first_name, stored.last_name) == (
        users[1].pk,
        "kandidaat",
        "Zoë",
        "Çelik1",
    )
    assert (stored.valid_from, stored.valid_until) == (date(2026, 8, 1), date(2027, 7, 31))

    insert(
        [
            Candidate(
                user=u,
                organisation=world.college,
                candidate_number=f"00{i}",
                birth_date=date(2008, 2, 29),
                search_text="s",
                name_key="k",
            )
            for i, u in enumerate(users)
        ]
    )
    candidate = Candidate.objects.get(user=users[2])
    assert (candidate.candidate_number, candidate.birth_date) == ("002", date(2008, 2, 29))
    assert before <= candidate.created <= timezone.now()  # auto_now_add, as bulk_create sets it

    through = Candidate.groups.through
    insert_rows(
        through, ("candidate_id", "candidategroup_id"), [[u.pk, world.own_group.pk] for u in users]
    )
    linked = Candidate.objects.filter(groups=world.own_group, user__username__startswith="rocm-ins")
    assert set(linked.values_list("pk", flat=True)) == {u.pk for u in users}

    audit = AuditLog.objects.create(
        action=AuditLog.Action.IMPORT_FINISHED, organisation=world.college, target_repr="f.xlsx"
    )
    insert_rows(
        AuditLogSubject,
        ("audit_id", "user_id", "action", "target_repr", "before", "after"),
        [
            [audit.pk, users[0].pk, AuditLog.Action.USER_CREATED, "rocm-ins0", {}, {"a": "ë"}],
            [audit.pk, users[1].pk, AuditLog.Action.USER_CHANGED, "rocm-ins1", {"x": 1}, {"x": 2}],
        ],
    )
    subjects = AuditLogSubject.objects.filter(audit=audit).order_by("user_id")
    assert [(s.action, s.before, s.after) for s in subjects] == [
        ("user_created", {}, {"a": "ë"}),
        ("user_changed", {"x": 1}, {"x": 2}),
    ]


def test_nothing_to_insert_is_no_statement(world, django_assert_num_queries):
    with django_assert_num_queries(0):
        insert([])
        insert_rows(Candidate.groups.through, ("candidate_id", "candidategroup_id"), [])
        assert reserve_ids(User, 0) is None
