"""'Nieuw schooljaar': per group extend, archive or leave; a preview with counts changes
nothing; one confirm does it all, audited; beheerder only."""

from __future__ import annotations

from datetime import date

import pytest
from django.urls import reverse

from accounts.models import AuditLog, AuditLogSubject
from candidates.selectors import candidate_history
from candidates.services.school_year import next_school_year_end

from .factories import GroupFactory, OrganisationFactory
from .helpers.candidates import days, logged_in, make_candidates, rows

PAGE = reverse("candidates:school_year")


def _post(world, **extra):
    """The form as the page posts it: Zorg 1 extended, Techniek 1 archived."""
    data = {
        "valid_until": days(300).isoformat(),
        f"group_{world.own_group.pk}": "extend",
        f"group_{world.other_group.pk}": "archive",
        "preview": "1",
    }
    data.update(extra)
    return data


@pytest.mark.parametrize(
    "today, expected",
    [
        (date(2026, 6, 15), date(2027, 7, 31)),  # before the summer: next school year's end
        (date(2026, 7, 31), date(2027, 7, 31)),
        (date(2026, 9, 1), date(2027, 7, 31)),  # a late turn: this school year's end
        (date(2026, 12, 1), date(2027, 7, 31)),
        (date(2027, 3, 1), date(2028, 7, 31)),
    ],
)
def test_next_school_year_end(db, today, expected):
    college = OrganisationFactory(school_year_end_day=31, school_year_end_month=7)
    assert next_school_year_end(college, today) == expected


def test_the_page_lists_active_groups_with_the_proposed_date(client, world):
    archived = GroupFactory(organisation=world.college, name="Oud")
    archived.archived_at = archived.created
    archived.save()
    page = logged_in(client, world.beheerder).get(PAGE)
    form = page.context["form"]
    assert [g.name for g in form.groups] == ["Techniek 1", "Zorg 1"]
    assert form.fields["valid_until"].initial == next_school_year_end(world.college)


def test_the_preview_counts_and_changes_nothing(client, world):
    make_candidates(world.college, world.own_group, 2, user__valid_until=days(10))
    page = logged_in(client, world.beheerder).post(PAGE, _post(world, deactivate="on"))
    plan = page.context["plan"]
    counts = {p.group.name: (p.choice, p.members, p.extended) for p in plan.groups}
    assert counts == {"Zorg 1": ("extend", 3, 3), "Techniek 1": ("archive", 2, 0)}
    assert (plan.extended, len(plan.of_archive), plan.deactivated) == (3, 1, 2)
    text = page.content.decode()
    assert "3 kandidaten krijgen geldigheid tot en met" in text
    assert "1 kandidaatgroep wordt gearchiveerd." in text
    assert "2 kandidaten worden gedeactiveerd." in text
    world.other_group.refresh_from_db()
    assert world.other_group.archived_at is None
    assert not AuditLog.objects.exclude(action=AuditLog.Action.LOGIN).exists()


def test_confirm_extends_archives_and_audits_once(client, world):
    client = logged_in(client, world.beheerder)
    preview = client.post(PAGE, _post(world))
    data = _post(world, confirm="1", plan_key=preview.context["plan_key"])
    response = client.post(PAGE, data)
    assert response.status_code == 302
    until = days(300)
    world.in_own_group.user.refresh_from_db()
    world.in_other_group.user.refresh_from_db()
    assert world.in_own_group.user.valid_until == until
    assert world.in_other_group.user.valid_until != until
    world.other_group.refresh_from_db()
    world.own_group.refresh_from_db()
    assert (world.other_group.is_archived, world.own_group.is_archived) == (True, False)
    [turn] = rows(AuditLog.Action.SCHOOL_YEAR_STARTED)
    assert turn.after == {
        "valid_until": until.isoformat(),
        "extended_groups": ["Zorg 1"],
        "archived_groups": ["Techniek 1"],
        "extended": 1,
    }
    [subject] = AuditLogSubject.objects.filter(audit=turn)
    assert (subject.user, subject.action, subject.after) == (
        world.in_own_group.user,
        AuditLog.Action.VALIDITY_CHANGED,
        {"valid_until": until.isoformat()},
    )
    assert len(rows(AuditLog.Action.GROUP_ARCHIVED)) == 1
    # The candidate's own history shows their new end date.
    history = candidate_history(world.in_own_group)
    assert history[0].action == AuditLog.Action.VALIDITY_CHANGED


def test_confirm_of_changed_choices_shows_the_preview_again(client, world):
    client = logged_in(client, world.beheerder)
    preview = client.post(PAGE, _post(world))
    changed = _post(world, confirm="1", plan_key=preview.context["plan_key"])
    changed[f"group_{world.other_group.pk}"] = "leave"
    response = client.post(PAGE, changed)
    assert response.status_code == 200
    assert response.context["plan"].of_archive == []
    assert rows(AuditLog.Action.SCHOOL_YEAR_STARTED) == []


def test_choosing_nothing_or_a_past_date_is_refused_in_dutch(client, world):
    client = logged_in(client, world.beheerder)
    nothing = client.post(PAGE, {"valid_until": days(30).isoformat(), "preview": "1"})
    assert "Kies voor ten minste één kandidaatgroep" in nothing.content.decode()
    past = client.post(PAGE, _post(world, valid_until=days(-1).isoformat()))
    assert past.context["form"].errors["valid_until"] == [
        "De nieuwe einddatum mag niet in het verleden liggen."
    ]


def test_a_group_of_another_college_is_ignored(client, world):
    data = _post(world, confirm="1")
    data[f"group_{world.foreign_group.pk}"] = "archive"
    client = logged_in(client, world.beheerder)
    preview = client.post(PAGE, data)
    data["plan_key"] = preview.context["plan_key"]
    client.post(PAGE, data)
    world.foreign_group.refresh_from_db()
    assert world.foreign_group.archived_at is None
    world.of_other_college.user.refresh_from_db()
    assert world.of_other_college.user.valid_until != days(300)


@pytest.mark.parametrize("who, status", [("coordinator", 403), ("supervisor", 403)])
def test_only_the_beheerder(client, world, who, status):
    client = logged_in(client, getattr(world, who))
    assert client.get(PAGE).status_code == status
    assert client.post(PAGE, _post(world, confirm="1")).status_code == status
    assert rows(AuditLog.Action.SCHOOL_YEAR_STARTED) == []


def test_a_tampered_choice_is_named_at_its_group(client, world):
    data = _post(world)
    data[f"group_{world.own_group.pk}"] = "delete"
    page = logged_in(client, world.beheerder).post(PAGE, data)
    assert page.status_code == 200
    assert f"group_{world.own_group.pk}" in page.context["form"].errors
    assert 'class="form-select is-invalid"' in page.content.decode()
    assert rows(AuditLog.Action.SCHOOL_YEAR_STARTED) == []
