"""InValues: an IN list of strings sent as one parameter, on SQLite and on PostgreSQL."""

import pytest
from django.db import connection
from django.db.models import F, Q
from django.test.utils import CaptureQueriesContext

from accounts.models import User
from imports import lookups
from imports.lookups import InValues

from .factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def users():
    return [
        UserFactory(username=name)
        for name in ("anna", "Bert", "carla-01", "dirk.de_vries", "é@x+y", 'it\'s "quoted"')
    ]


def usernames(*condition):
    return sorted(User.objects.filter(*condition).values_list("username", flat=True))


def test_matches_exactly_the_values_given(users):
    wanted = ["anna", "bert", "dirk.de_vries", "é@x+y", 'it\'s "quoted"', "nobody"]
    assert usernames(InValues(F("username"), wanted)) == sorted(
        ["anna", "dirk.de_vries", "é@x+y", 'it\'s "quoted"']
    )
    assert usernames(InValues(F("username"), wanted)) == usernames(Q(username__in=wanted))


def test_no_values_match_nothing(users):
    assert usernames(InValues(F("username"), [])) == []


def test_one_parameter_however_many_values(users):
    wanted = [f"user-{n}" for n in range(5000)] + ["Bert"]
    query = User.objects.filter(InValues(F("username"), wanted)).values_list("username")
    _sql, params = query.query.sql_with_params()
    assert len(params) == 1
    with CaptureQueriesContext(connection) as queries:
        assert list(query) == [("Bert",)]
    assert len(queries) == 1


def test_a_value_holding_the_separator_still_matches_exactly(users, monkeypatch):
    # Only PostgreSQL splits on the separator; JSON carries such values there.
    monkeypatch.setattr(lookups, "SEPARATOR", "-")
    assert usernames(InValues(F("username"), ["carla-01", "carla"])) == ["carla-01"]


def test_follows_relations_and_combines_with_q(users):
    wanted = Q(InValues(F("username"), ["anna"])) | Q(InValues(F("email"), [users[1].email]))
    assert usernames(wanted) == ["Bert", "anna"]
