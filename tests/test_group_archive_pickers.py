"""'Archiveer kandidaatgroep': audited, refused to those who cannot see the group, reversible
with 'Terugzetten', read-only while archived, and gone from every picker and filter."""

from __future__ import annotations

import pytest
from django.urls import reverse

from accounts.models import AuditLog, AuditLogSubject, Role
from candidates.forms.candidates import BulkActionForm, CandidateFilterForm, LinksForm
from candidates.forms.staff import StaffForm
from candidates.selectors import candidate_history
from candidates.services.school_year import group_archive, group_restore
from imports.forms import GroupForm as GroupStepForm

from .factories import GroupFactory, UserFactory
from .helpers.candidates import logged_in, make_candidates, rows


def archive_url(group):
    return reverse("candidates:group_archive", args=[group.pk])


def restore_url(group):
    return reverse("candidates:group_restore", args=[group.pk])


def detail(group):
    return reverse("candidates:group_detail", args=[group.pk])


# --- Archive and restore ----------------------------------------------------------------------


def test_the_archive_page_counts_before_anything_happens(client, world):
    make_candidates(world.college, world.own_group, 2)
    page = logged_in(client, world.beheerder).get(archive_url(world.own_group))
    assert page.status_code == 200
    assert (page.context["members"], page.context["would_deactivate"]) == (3, 3)
    world.own_group.refresh_from_db()
    assert world.own_group.archived_at is None
    assert rows(AuditLog.Action.GROUP_ARCHIVED) == []


def test_archive_is_audited_and_keeps_the_members(client, world):
    response = logged_in(client, world.beheerder).post(archive_url(world.own_group))
    assert response.status_code == 302
    world.own_group.refresh_from_db()
    assert world.own_group.is_archived
    assert list(world.own_group.members.all()) == [world.in_own_group]
    world.in_own_group.user.refresh_from_db()
    assert world.in_own_group.user.is_active  # not asked to deactivate
    [row] = rows(AuditLog.Action.GROUP_ARCHIVED)
    assert (row.actor, row.target_repr, row.after) == (
        world.beheerder,
        "Zorg 1",
        {"group_id": world.own_group.pk, "members": 1, "members_deactivated": 0},
    )


def test_archive_may_deactivate_members_in_no_other_active_group(client, world):
    staying = make_candidates(world.college, world.own_group, 1)[0]
    staying.groups.add(world.other_group)  # still in an active group: stays active
    logged_in(client, world.beheerder).post(archive_url(world.own_group), {"deactivate": "on"})
    world.in_own_group.user.refresh_from_db()
    staying.user.refresh_from_db()
    assert (world.in_own_group.user.is_active, staying.user.is_active) == (False, True)
    [archived] = rows(AuditLog.Action.GROUP_ARCHIVED)
    assert archived.after["members_deactivated"] == 1
    # Each deactivated account is a subject of the archive's row, shown in their history.
    [subject] = AuditLogSubject.objects.filter(audit=archived)
    assert (subject.user, subject.action, subject.before, subject.after) == (
        world.in_own_group.user,
        AuditLog.Action.STATUS_CHANGED,
        {"is_active": True},
        {"is_active": False},
    )
    assert candidate_history(world.in_own_group)[0].action == AuditLog.Action.STATUS_CHANGED
    assert candidate_history(staying) == []


def test_archiving_twice_writes_one_row(world):
    group_archive(actor=world.beheerder, group=world.own_group)
    group_archive(actor=world.beheerder, group=world.own_group)
    assert len(rows(AuditLog.Action.GROUP_ARCHIVED)) == 1


def test_restore_brings_it_back_and_is_audited(client, world):
    group_archive(actor=world.beheerder, group=world.own_group)
    response = logged_in(client, world.coordinator).post(restore_url(world.own_group))
    assert response.status_code == 302
    world.own_group.refresh_from_db()
    assert world.own_group.archived_at is None
    [row] = rows(AuditLog.Action.GROUP_RESTORED)
    assert (row.actor, row.after) == (world.coordinator, {"group_id": world.own_group.pk})


@pytest.mark.parametrize(
    "who, status",
    [("coordinator", 404), ("outsider", 404), ("supervisor", 403)],
)
def test_nobody_archives_a_group_they_cannot_see(client, world, who, status):
    client = logged_in(client, getattr(world, who))
    assert client.post(archive_url(world.other_group)).status_code == status
    assert client.post(restore_url(world.other_group)).status_code == status
    world.other_group.refresh_from_db()
    assert world.other_group.archived_at is None
    assert rows(AuditLog.Action.GROUP_ARCHIVED) == []


def test_an_archived_group_page_is_read_only_with_terugzetten(client, world):
    group_archive(actor=world.beheerder, group=world.own_group)
    client = logged_in(client, world.beheerder)
    page = client.get(detail(world.own_group)).content.decode()
    assert "Terugzetten" in page
    assert reverse("candidates:group_edit", args=[world.own_group.pk]) not in page
    assert reverse("candidates:group_bulk", args=[world.own_group.pk]) not in page
    edit = client.post(
        reverse("candidates:group_edit", args=[world.own_group.pk]), {"name": "Nieuw"}
    )
    assert edit.status_code == 302
    bulk = client.post(
        reverse("candidates:group_bulk", args=[world.own_group.pk]),
        {"action": "deactivate", "confirm": "on"},
    )
    assert bulk.status_code == 302
    world.own_group.refresh_from_db()
    world.in_own_group.user.refresh_from_db()
    assert (world.own_group.name, world.in_own_group.user.is_active) == ("Zorg 1", True)
    followed = client.get(edit.url).content.decode()
    assert "Deze kandidaatgroep is gearchiveerd. Zet haar eerst terug." in followed


# --- Gone from every picker and filter ---------------------------------------------------------


@pytest.fixture
def archived(world):
    group = GroupFactory(organisation=world.college, name="Zorg 0 (vorig jaar)")
    group.coordinators.add(world.coordinator)
    group_archive(actor=world.beheerder, group=group)
    return group


def test_the_candidate_list_filter_and_bulk_groups_leave_it_out(world, archived):
    for user in (world.beheerder, world.coordinator):
        names = [name for _pk, name in CandidateFilterForm({}, user=user).groups]
        assert archived.name not in names
        bulk = BulkActionForm(user=user)
        assert archived not in bulk.fields["group"].queryset
        # Moving *out of* last year's group is what the turn of the year is for.
        assert archived in bulk.fields["from_group"].queryset


def test_linking_to_an_archived_group_is_refused(world, archived):
    form = BulkActionForm(
        {"ids": [world.in_own_group.pk], "action": "link", "group": archived.pk},
        user=world.coordinator,
    )
    assert not form.is_valid()
    assert "group" in form.errors


def test_the_links_form_offers_it_only_to_a_member_so_it_can_be_unlinked(world, archived):
    form = LinksForm(candidate=world.in_own_group, editor=world.beheerder)
    assert archived not in form.fields["groups"].queryset
    world.in_own_group.groups.add(archived)
    form = LinksForm(candidate=world.in_own_group, editor=world.beheerder)
    assert archived in form.fields["groups"].queryset


def test_the_import_wizard_group_step_leaves_it_out(world, archived):
    form = GroupStepForm(user=world.coordinator)
    assert str(archived.pk) not in dict(form.fields["group"].choices)
    typed = GroupStepForm(
        {"new_group_name": archived.name, "create_group": "1", "active": "active"},
        user=world.coordinator,
    )
    assert not typed.is_valid()
    assert typed.errors["new_group_name"] == [
        "Kandidaatgroep 'Zorg 0 (vorig jaar)' is gearchiveerd. Zet de groep eerst terug of "
        "kies een andere naam."
    ]


def test_the_staff_form_keeps_an_existing_link_but_offers_no_new_one(world, archived):
    fresh = UserFactory(organisation=world.college, role=Role.TOETSCOORDINATOR)
    assert archived not in StaffForm(user=world.beheerder, staff=fresh).fields["groups"].queryset
    linked = StaffForm(user=world.beheerder, staff=world.coordinator)
    assert archived in linked.fields["groups"].queryset


def test_the_group_list_hides_it_unless_asked(client, world, archived):
    client = logged_in(client, world.beheerder)
    listed = [g.name for g in client.get(reverse("candidates:groups")).context["page"]]
    assert archived.name not in listed
    shown = client.get(reverse("candidates:groups") + "?archived=1").context["page"]
    assert [g.name for g in shown] == [archived.name]


def test_restored_it_is_back_in_the_pickers(world, archived):
    group_restore(actor=world.beheerder, group=archived)
    assert archived in BulkActionForm(user=world.coordinator).fields["group"].queryset
