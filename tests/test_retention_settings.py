"""Instellingen → Privacy: the retention periods, what happens after, and whether coordinators
may delete. Beheerder only; every change is an audit row."""

from __future__ import annotations

import pytest
from django.urls import reverse

from accounts.models import AuditLog, Organisation

from .helpers.candidates import logged_in

pytestmark = pytest.mark.django_db

URL = reverse("candidates:settings_privacy")
VALID = {
    "retention_months": "18",
    "retention_action": "delete",
    "audit_retention_months": "36",
    "coordinators_may_delete": "on",
}


def test_defaults(world):
    org = Organisation.objects.get(pk=world.college.pk)
    assert (org.retention_months, org.retention_action) == (12, "anonymise")
    assert (org.audit_retention_months, org.coordinators_may_delete) == (24, False)


def test_beheerder_saves_and_it_is_audited(world, client):
    page = logged_in(client, world.beheerder).get(URL)
    assert page.status_code == 200
    assert "Bewaartermijn na einde geldigheid" in page.content.decode()
    assert client.post(URL, VALID).status_code == 302
    org = Organisation.objects.get(pk=world.college.pk)
    assert (org.retention_months, org.retention_action) == (18, "delete")
    assert (org.audit_retention_months, org.coordinators_may_delete) == (36, True)
    (row,) = AuditLog.objects.filter(action=AuditLog.Action.SETTINGS_CHANGED)
    assert row.before == {
        "retention_months": 12,
        "retention_action": "anonymise",
        "audit_retention_months": 24,
        "coordinators_may_delete": False,
    }
    assert row.after["retention_action"] == "delete" and row.actor == world.beheerder
    # Saving the same again changes nothing and writes no row.
    client.post(URL, VALID)
    assert AuditLog.objects.filter(action=AuditLog.Action.SETTINGS_CHANGED).count() == 1


@pytest.mark.parametrize("months", ["0", "121", "-3"])
def test_out_of_range_is_a_dutch_message(world, client, months):
    response = logged_in(client, world.beheerder).post(URL, {**VALID, "retention_months": months})
    assert response.status_code == 200
    html = response.content.decode()
    assert "Kies een aantal maanden van 1 tot en met 120." in html
    assert Organisation.objects.get(pk=world.college.pk).retention_months == 12


@pytest.mark.parametrize("who", ["coordinator", "supervisor"])
def test_only_the_beheerder(world, client, who):
    assert logged_in(client, getattr(world, who)).post(URL, VALID).status_code == 403
    assert Organisation.objects.get(pk=world.college.pk).retention_months == 12


def test_the_settings_nav_links_the_privacy_page(world, client):
    html = logged_in(client, world.beheerder).get(reverse("candidates:settings")).content.decode()
    assert URL in html
