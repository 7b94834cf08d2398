"""Beheer → Auditlog (beheerder only): filters, before/after, and every kind of change."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.models import AuditLog
from accounts.services import audit

from .helpers_candidates import count_queries, logged_in

AUDIT = reverse("candidates:audit")


def listed(response) -> list[AuditLog]:
    return list(response.context["page"].object_list)


def as_beheerder(client, world):
    """Log in, then forget the login's own audit row so the tests see only theirs."""
    logged_in(client, world.beheerder)
    AuditLog.objects.all().delete()
    return client


@pytest.mark.parametrize("role", ["coordinator", "supervisor"])
def test_only_beheerders(client, world, role):
    assert logged_in(client, getattr(world, role)).get(AUDIT).status_code == 403


def test_shows_only_the_own_college(client, world):
    audit(
        action=AuditLog.Action.USER_CHANGED, actor=world.beheerder, target=world.in_own_group.user
    )
    audit(
        action=AuditLog.Action.USER_CHANGED,
        actor=world.outsider,
        target=world.of_other_college.user,
    )
    client = as_beheerder(client, world)
    audit(
        action=AuditLog.Action.USER_CHANGED, actor=world.beheerder, target=world.in_own_group.user
    )
    audit(
        action=AuditLog.Action.USER_CHANGED,
        actor=world.outsider,
        target=world.of_other_college.user,
    )
    response = client.get(AUDIT)
    assert [r.target_user for r in listed(response)] == [world.in_own_group.user]
    assert "kand-foreign" not in response.content.decode()


def test_filters_actor_action_candidate_and_date(client, world):
    client = as_beheerder(client, world)
    old = audit(
        action=AuditLog.Action.STATUS_CHANGED,
        actor=world.coordinator,
        target=world.in_own_group.user,
        before={"is_active": True},
        after={"is_active": False},
    )
    old.created = timezone.now() - timedelta(days=10)
    old.save()
    recent = audit(
        action=AuditLog.Action.PASSWORD_RESET,
        actor=world.beheerder,
        target=world.in_other_group.user,
        after={"method": "generated", "delivery": "mail"},
    )
    assert listed(client.get(AUDIT, {"actor": world.coordinator.pk})) == [old]
    assert listed(client.get(AUDIT, {"action": "password_reset"})) == [recent]
    assert listed(client.get(AUDIT, {"candidate": "KAND-OWN"})) == [old]
    assert listed(client.get(AUDIT, {"candidate": "0000002"})) == [recent]
    today = timezone.localdate()
    assert listed(client.get(AUDIT, {"date_from": today.isoformat()})) == [recent]
    assert listed(client.get(AUDIT, {"date_to": (today - timedelta(days=5)).isoformat()})) == [old]


def test_bad_filters_are_explained_not_a_500(client, world):
    response = logged_in(client, world.beheerder).get(
        AUDIT, {"date_from": "gisteren", "actor": "999999", "action": "hack"}
    )
    assert response.status_code == 200
    page = response.content.decode()
    assert "Voer een geldige datum in." in page
    assert "Selecteer een geldige keuze" in page


def test_shows_before_and_after(client, world):
    audit(
        action=AuditLog.Action.VALIDITY_CHANGED,
        actor=world.beheerder,
        target=world.in_own_group.user,
        before={"valid_until": "2026-07-31"},
        after={"valid_until": "2027-07-31"},
    )
    page = logged_in(client, world.beheerder).get(AUDIT).content.decode()
    assert "Geldigheid gewijzigd" in page
    assert "Geldig tot en met</span>: <del>2026-07-31</del> → 2027-07-31" in page


def test_every_kind_of_change_appears(client, world, django_capture_on_commit_callbacks):
    """Edit, password reset, link change, status change and impersonation, done through the
    pages, all land in the log with before and after."""
    candidate = world.in_own_group
    edit = reverse("candidates:edit", args=[candidate.pk])
    client = logged_in(client, world.beheerder)
    client.post(
        edit,
        {
            "first_name": "Anneke",
            "last_name": "Eigen",
            "email": candidate.user.email,
            "candidate_number": "0000001",
            "is_active": "0",
        },
    )
    client.post(reverse("candidates:password", args=[candidate.pk]), {"mode": "show"})
    client.post(
        reverse("candidates:links", args=[candidate.pk]),
        {"groups": [world.own_group.pk, world.other_group.pk]},
    )
    client.post(reverse("candidates:edit", args=[world.in_other_group.pk]), {})  # invalid: no row
    client.post(reverse("hijack:acquire"), {"user_pk": world.in_other_group.pk, "next": "/"})
    client.post(reverse("hijack:release"), {"next": "/"})

    actions = set(AuditLog.objects.values_list("action", flat=True))
    assert {
        "user_changed",
        "status_changed",
        "password_reset",
        "group_links_changed",
        "impersonation_started",
        "impersonation_ended",
    } <= actions
    page = client.get(AUDIT).content.decode()
    for label in (
        "Gebruiker gewijzigd",
        "Status gewijzigd",
        "Wachtwoord opnieuw ingesteld",
        "Kandidaatgroepen gewijzigd",
        "Ingelogd als andere gebruiker",
        "Terug naar eigen account",
    ):
        assert label in page
    assert "<del>Anna</del> → Anneke" in page
    assert "<del>Zorg 1</del> → Techniek 1, Zorg 1" in page


def test_audit_log_query_count_is_constant(client, world):
    client = logged_in(client, world.beheerder)
    audit(
        action=AuditLog.Action.USER_CHANGED, actor=world.beheerder, target=world.in_own_group.user
    )
    client.get(AUDIT)
    few = count_queries(lambda: client.get(AUDIT))
    for _ in range(30):
        audit(
            action=AuditLog.Action.USER_CHANGED,
            actor=world.coordinator,
            target=world.in_other_group.user,
        )
    assert count_queries(lambda: client.get(AUDIT)) == few
