"""Medewerkers (beheerder only): create and edit coordinators and supervisors."""

import pytest
from django.contrib.auth.hashers import check_password
from django.core import mail
from django.urls import reverse

from accounts.models import AuditLog, EducationArea, Role, User

from .factories import GroupFactory
from .helpers.candidates import logged_in, rows

STAFF = reverse("candidates:staff")
CREATE = reverse("candidates:staff_create")


def edit(user):
    return reverse("candidates:staff_edit", args=[user.pk])


def staff_data(**changes):
    data = {
        "username": "nieuwe.coord",
        "first_name": "Nina",
        "surname_prefix": "de",
        "last_name": "Wit",
        "email": "nina@roc.example",
        "role": Role.TOETSCOORDINATOR,
        "is_active": "1",
    }
    data.update(changes)
    return data


def test_list_shows_the_colleagues_of_the_college(client, world):
    response = logged_in(client, world.beheerder).get(STAFF)
    usernames = {u.username for u in response.context["staff"]}
    assert usernames == {"beheerder", "coord", "coord2", "begel"}
    assert "outsider" not in response.content.decode()


@pytest.mark.parametrize("role", ["coordinator", "supervisor"])
def test_only_beheerders_manage_staff(client, world, role):
    client = logged_in(client, getattr(world, role))
    assert client.get(STAFF).status_code == 403
    assert client.get(CREATE).status_code == 403
    assert client.get(edit(world.supervisor)).status_code == 403


def test_create_a_coordinator_for_an_education_area(client, world):
    area = EducationArea.objects.create(organisation=world.college, name="Zorg en welzijn")
    world.own_group.education_area = area
    world.own_group.save()
    second = GroupFactory(organisation=world.college, name="Zorg 2", education_area=area)
    response = logged_in(client, world.beheerder).post(
        CREATE, staff_data(areas=[area.pk], groups=[world.other_group.pk]), REMOTE_ADDR="10.0.0.9"
    )
    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store, private"
    password = response.context["password"]
    assert password in response.content.decode()
    user = User.objects.get(username="nieuwe.coord")
    assert (user.organisation, user.role) == (world.college, Role.TOETSCOORDINATOR)
    assert check_password(password, user.password)
    assert user.must_change_password is True
    assert set(user.coordinated_groups.all()) == {world.own_group, second, world.other_group}
    (created,) = rows(AuditLog.Action.USER_CREATED, user)
    assert created.actor == world.beheerder and created.ip_address == "10.0.0.9"
    (links,) = rows(AuditLog.Action.GROUP_LINKS_CHANGED, user)
    assert links.after == {"coordinated_groups": ["Techniek 1", "Zorg 1", "Zorg 2"]}


def test_create_and_mail_credentials(client, world, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = logged_in(client, world.beheerder).post(
            CREATE, staff_data(role=Role.BEGELEIDER, send_mail="on")
        )
    (message,) = mail.outbox
    assert message.to == ["nina@roc.example"]
    assert f"Wachtwoord: {response.context['password']}" in message.body


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"username": "COORD"}, "De gebruikersnaam COORD is al in gebruik."),
        ({"username": "met spatie"}, "Gebruik in de gebruikersnaam alleen letters"),
        ({"role": Role.BEHEERDER}, "Selecteer een geldige keuze"),
        ({"email": "", "send_mail": "on"}, "Vul een e-mailadres in om de inloggegevens te mailen."),
        ({"last_name": ""}, "Dit veld is verplicht."),
    ],
)
def test_bad_staff_input_gives_a_dutch_message(client, world, changes, message):
    response = logged_in(client, world.beheerder).post(CREATE, staff_data(**changes))
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not User.objects.filter(first_name="Nina").exists()


def test_groups_of_another_college_cannot_be_linked(client, world):
    response = logged_in(client, world.beheerder).post(
        CREATE, staff_data(groups=[world.foreign_group.pk])
    )
    assert "Selecteer een geldige keuze" in response.content.decode()


def test_change_role_moves_the_links_and_is_audited(client, world):
    coordinator = world.coordinator
    response = logged_in(client, world.beheerder).post(
        edit(coordinator),
        staff_data(
            username="ignored",
            first_name=coordinator.first_name,
            surname_prefix="",
            last_name=coordinator.last_name,
            email=coordinator.email,
            role=Role.BEGELEIDER,
            groups=[world.other_group.pk],
        ),
    )
    assert response.status_code == 302
    coordinator.refresh_from_db()
    assert coordinator.username == "coord"  # the username does not change here
    assert coordinator.role == Role.BEGELEIDER
    assert list(coordinator.coordinated_groups.all()) == []
    assert list(coordinator.supervised_groups.all()) == [world.other_group]
    (role,) = rows(AuditLog.Action.ROLE_CHANGED, coordinator)
    assert role.before == {"role": "toetscoordinator"} and role.after == {"role": "begeleider"}
    links = rows(AuditLog.Action.GROUP_LINKS_CHANGED, coordinator)
    assert [(r.before, r.after) for r in links] == [
        ({"coordinated_groups": ["Zorg 1"]}, {"coordinated_groups": []}),
        ({"supervised_groups": []}, {"supervised_groups": ["Techniek 1"]}),
    ]


def test_supervisor_who_becomes_coordinator_loses_direct_candidates(client, world):
    supervisor = world.supervisor
    logged_in(client, world.beheerder).post(
        edit(supervisor),
        staff_data(
            first_name=supervisor.first_name,
            last_name=supervisor.last_name,
            email=supervisor.email,
            role=Role.TOETSCOORDINATOR,
        ),
    )
    assert list(world.directly_linked.supervisors.all()) == []
    (row,) = rows(AuditLog.Action.SUPERVISOR_LINKS_CHANGED, world.directly_linked)
    assert row.before == {"supervisors": ["begel"]} and row.after == {"supervisors": []}


def test_deactivate_a_colleague(client, world):
    supervisor = world.supervisor
    logged_in(client, world.beheerder).post(
        edit(supervisor),
        staff_data(
            first_name=supervisor.first_name,
            surname_prefix="",
            last_name=supervisor.last_name,
            email=supervisor.email,
            role=Role.BEGELEIDER,
            is_active="0",
            groups=[world.own_group.pk],
        ),
    )
    supervisor.refresh_from_db()
    assert supervisor.is_active is False
    (row,) = rows(AuditLog.Action.STATUS_CHANGED, supervisor)
    assert (row.before, row.after) == ({"is_active": True}, {"is_active": False})
    # Nothing else changed, so nothing else was audited.
    assert rows(AuditLog.Action.GROUP_LINKS_CHANGED, supervisor) == []
    assert rows(AuditLog.Action.USER_CHANGED, supervisor) == []


@pytest.mark.parametrize("target", ["beheerder", "outsider"])
def test_beheerders_and_other_colleges_are_not_editable_here(client, world, target):
    client = logged_in(client, world.beheerder)
    assert client.get(edit(getattr(world, target))).status_code == 404


def test_candidates_are_not_staff(client, world):
    response = logged_in(client, world.beheerder).get(edit(world.in_own_group.user))
    assert response.status_code == 404


def test_reset_a_colleague_password(client, world):
    client = logged_in(client, world.beheerder)
    url = reverse("candidates:staff_password", args=[world.supervisor.pk])
    assert client.get(url).status_code == 405
    response = client.post(url)
    assert response.status_code == 200
    world.supervisor.refresh_from_db()
    assert check_password(response.context["password"], world.supervisor.password)
    (row,) = rows(AuditLog.Action.PASSWORD_RESET, world.supervisor)
    assert row.after["method"] == "generated"


def test_new_colleague_can_log_in(client, world):
    response = logged_in(client, world.beheerder).post(CREATE, staff_data(role=Role.BEGELEIDER))
    password = response.context["password"]
    client.logout()
    login = client.post(
        reverse("accounts:login"), {"username": "nieuwe.coord", "password": password}
    )
    assert login.status_code == 302
