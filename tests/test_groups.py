"""Kandidaatgroepen: list, create, edit, members, and actions on all members."""

import pytest
from django.contrib.auth.hashers import check_password
from django.core import mail
from django.urls import reverse

from accounts.models import AuditLog, EducationArea, Role

from .factories import TEST_PASSWORD, GroupFactory, UserFactory
from .helpers.candidates import count_queries, days, logged_in, make_candidates, pdf_pages, rows

GROUPS = reverse("candidates:groups")
CREATE = reverse("candidates:group_create")


def detail(group):
    return reverse("candidates:group_detail", args=[group.pk])


def edit(group):
    return reverse("candidates:group_edit", args=[group.pk])


def bulk(group):
    return reverse("candidates:group_bulk", args=[group.pk])


# --- List -------------------------------------------------------------------------------------


def test_beheerder_lists_all_groups_of_the_college_with_counts(client, world):
    make_candidates(world.college, world.other_group, 3)
    response = logged_in(client, world.beheerder).get(GROUPS)
    groups = {g.name: g.member_count for g in response.context["page"]}
    assert groups == {"Zorg 1": 1, "Techniek 1": 5}


def test_coordinator_lists_only_own_groups(client, world):
    response = logged_in(client, world.coordinator).get(GROUPS)
    assert [g.name for g in response.context["page"]] == ["Zorg 1"]
    assert "Techniek 1" not in response.content.decode()


def test_group_list_search(client, world):
    response = logged_in(client, world.beheerder).get(GROUPS, {"q": "techn"})
    assert [g.name for g in response.context["page"]] == ["Techniek 1"]


def test_group_list_query_count_is_constant(client, world):
    client = logged_in(client, world.beheerder)
    client.get(GROUPS)
    few = count_queries(lambda: client.get(GROUPS))
    for i in range(20):
        group = GroupFactory(organisation=world.college, name=f"Extra {i}")
        make_candidates(world.college, group, 2)
    assert count_queries(lambda: client.get(GROUPS)) == few


# --- Create -----------------------------------------------------------------------------------


def test_beheerder_creates_a_group_with_coordinators_and_supervisors(client, world):
    area = EducationArea.objects.create(organisation=world.college, name="Zorg en welzijn")
    response = logged_in(client, world.beheerder).post(
        CREATE,
        {
            "name": "  Verpleegkunde   2027 ",
            "education_area": area.pk,
            "coordinators": [world.other_coordinator.pk],
            "supervisors": [world.supervisor.pk],
        },
    )
    group = world.college.candidate_groups.get(name="Verpleegkunde 2027")
    assert response.status_code == 302
    assert response["Location"] == detail(group)
    assert group.education_area == area
    assert list(group.coordinators.all()) == [world.other_coordinator]
    assert list(group.supervisors.all()) == [world.supervisor]
    (row,) = rows(AuditLog.Action.GROUP_CREATED)
    assert row.actor == world.beheerder and row.target_repr == "Verpleegkunde 2027"
    assert row.after["coordinators"] == ["coord2"]


def test_coordinator_creates_a_group_and_is_linked_to_it(client, world):
    client = logged_in(client, world.coordinator)
    response = client.post(CREATE, {"name": "Zorg 2", "coordinators": [world.other_coordinator.pk]})
    group = world.college.candidate_groups.get(name="Zorg 2")
    assert response.status_code == 302
    # The coordinator cannot appoint others; they are linked themselves, so they see it.
    assert list(group.coordinators.all()) == [world.coordinator]
    assert client.get(detail(group)).status_code == 200


def test_coordinator_may_not_create_groups_when_the_college_says_so(client, world):
    world.college.coordinators_may_create_groups = False
    world.college.save()
    client = logged_in(client, world.coordinator)
    assert client.get(CREATE).status_code == 403
    assert client.post(CREATE, {"name": "Stiekem"}).status_code == 403
    assert "Nieuwe kandidaatgroep" not in client.get(GROUPS).content.decode()
    assert not world.college.candidate_groups.filter(name="Stiekem").exists()


def test_group_name_must_be_unique_in_the_college(client, world):
    response = logged_in(client, world.beheerder).post(CREATE, {"name": "zorg 1"})
    assert response.status_code == 200
    assert "Er bestaat al een kandidaatgroep met de naam zorg 1." in response.content.decode()
    # The same name in another college is fine.
    response = logged_in(client, world.outsider).post(CREATE, {"name": "Techniek 1"})
    assert response.status_code == 302


def test_group_choices_never_offer_another_college(client, world):
    foreign_supervisor = UserFactory(organisation=world.other_college, role=Role.BEGELEIDER)
    response = logged_in(client, world.beheerder).post(
        CREATE, {"name": "Nieuw", "supervisors": [foreign_supervisor.pk]}
    )
    assert response.status_code == 200
    assert "Selecteer een geldige keuze" in response.content.decode()


# --- Edit -------------------------------------------------------------------------------------


def test_beheerder_edits_name_area_and_links(client, world):
    response = logged_in(client, world.beheerder).post(
        edit(world.other_group),
        {
            "name": "Techniek 1A",
            "coordinators": [world.coordinator.pk, world.other_coordinator.pk],
            "supervisors": [world.supervisor.pk],
        },
    )
    assert response.status_code == 302
    world.other_group.refresh_from_db()
    assert world.other_group.name == "Techniek 1A"
    assert set(world.other_group.coordinators.all()) == {world.coordinator, world.other_coordinator}
    (row,) = rows(AuditLog.Action.GROUP_CHANGED)
    assert row.before == {"name": "Techniek 1", "coordinators": ["coord2"], "supervisors": []}
    assert row.after == {
        "name": "Techniek 1A",
        "coordinators": ["coord", "coord2"],
        "supervisors": ["begel"],
    }


def test_coordinator_edits_supervisors_but_not_coordinators(client, world):
    client = logged_in(client, world.coordinator)
    form = client.get(edit(world.own_group)).context["form"]
    assert "coordinators" not in form.fields
    client.post(
        edit(world.own_group),
        {"name": "Zorg 1", "supervisors": [], "coordinators": [world.other_coordinator.pk]},
    )
    assert list(world.own_group.coordinators.all()) == [world.coordinator]
    assert list(world.own_group.supervisors.all()) == []
    (row,) = rows(AuditLog.Action.GROUP_CHANGED)
    assert row.before == {"supervisors": ["begel"]} and row.after == {"supervisors": []}


def test_coordinator_cannot_open_other_groups(client, world):
    client = logged_in(client, world.coordinator)
    for url in (detail(world.other_group), edit(world.other_group), detail(world.foreign_group)):
        assert client.get(url).status_code == 404


# --- Members and actions on all of them --------------------------------------------------------


def test_detail_lists_members_with_search(client, world):
    make_candidates(world.college, world.own_group, 2)
    client = logged_in(client, world.coordinator)
    response = client.get(detail(world.own_group))
    assert len(response.context["page"].object_list) == 3
    response = client.get(detail(world.own_group), {"q": "anna"})
    assert [c.user.username for c in response.context["page"]] == ["kand-own"]


def test_group_detail_query_count_is_constant(client, world):
    client = logged_in(client, world.beheerder)
    client.get(detail(world.own_group))
    few = count_queries(lambda: client.get(detail(world.own_group)))
    make_candidates(world.college, world.own_group, 30)
    assert count_queries(lambda: client.get(detail(world.own_group))) == few


def group_action(client, group, action, **extra):
    return client.post(bulk(group), {"action": action, "confirm": "on", **extra})


def test_extend_validity_of_all_members(client, world):
    members = [world.in_other_group, world.directly_linked]
    response = group_action(
        logged_in(client, world.beheerder),
        world.other_group,
        "extend",
        valid_until=days(365).isoformat(),
    )
    assert response.status_code == 302
    for member in members:
        member.user.refresh_from_db()
        assert member.user.valid_until == days(365)
    assert len(rows(AuditLog.Action.VALIDITY_CHANGED)) == 2
    world.in_own_group.user.refresh_from_db()
    assert world.in_own_group.user.valid_until is None


def test_deactivate_all_members(client, world):
    group_action(logged_in(client, world.coordinator), world.own_group, "deactivate")
    world.in_own_group.user.refresh_from_db()
    assert world.in_own_group.user.is_active is False
    (row,) = rows(AuditLog.Action.STATUS_CHANGED)
    assert row.target_user == world.in_own_group.user and row.actor == world.coordinator


def test_resend_credentials_by_mail(client, world, django_capture_on_commit_callbacks):
    make_candidates(world.college, world.own_group, 2)
    with django_capture_on_commit_callbacks(execute=True):
        group_action(logged_in(client, world.coordinator), world.own_group, "mail_credentials")
    assert len(mail.outbox) == 3
    assert all("Wachtwoord: " in m.body for m in mail.outbox)


def test_resend_credentials_as_slips(client, world):
    make_candidates(world.college, world.own_group, 11)
    response = group_action(
        logged_in(client, world.beheerder), world.own_group, "print_credentials"
    )
    assert response["Content-Type"] == "application/pdf"
    assert pdf_pages(response.content) == 2  # 12 slips, ten a page
    world.in_own_group.user.refresh_from_db()
    assert not check_password(TEST_PASSWORD, world.in_own_group.user.password)


def test_group_action_needs_confirmation_and_a_valid_date(client, world):
    client = logged_in(client, world.beheerder)
    response = client.post(bulk(world.own_group), {"action": "deactivate"})
    assert response.status_code == 200
    assert "Vink aan dat je dit voor alle leden wilt doen." in response.content.decode()
    response = group_action(client, world.own_group, "extend", valid_until="gisteren")
    assert "Voer een geldige datum in." in response.content.decode()
    world.in_own_group.user.refresh_from_db()
    assert world.in_own_group.user.is_active is True


@pytest.mark.parametrize("group", ["other_group", "foreign_group"])
def test_coordinator_cannot_act_on_groups_not_theirs(client, world, group):
    response = group_action(
        logged_in(client, world.coordinator), getattr(world, group), "deactivate"
    )
    assert response.status_code == 404
    world.in_other_group.user.refresh_from_db()
    assert world.in_other_group.user.is_active
