"""'Wijzig deze gebruiker': details, password, links with the orphan guard, and history."""

import pytest
from django.contrib.auth.hashers import check_password, identify_hasher
from django.core import mail
from django.urls import reverse

from accounts.models import AuditLog, Role
from candidates.models import Candidate

from .factories import TEST_PASSWORD, GroupFactory, UserFactory
from .helpers.candidates import days, logged_in, make_candidate, pdf_pages, rows


def edit_url(candidate):
    return reverse("candidates:edit", args=[candidate.pk])


def details(candidate, **changes):
    user = candidate.user
    data = {
        "first_name": user.first_name,
        "surname_prefix": user.surname_prefix,
        "last_name": user.last_name,
        "email": user.email,
        "candidate_number": candidate.candidate_number,
        "birth_date": "",
        "is_active": "1",
        "valid_from": "",
        "valid_until": "",
    }
    data.update(changes)
    return data


# --- Details ----------------------------------------------------------------------------------


def test_profile_shows_the_candidate(client, world):
    response = logged_in(client, world.coordinator).get(edit_url(world.in_own_group))
    page = response.content.decode()
    assert response.status_code == 200
    assert "Wijzig deze gebruiker" in page
    assert 'value="0000001"' in page
    assert "Geschiedenis" in page


def test_edit_details_saves_and_audits_each_kind(client, world):
    candidate = world.in_own_group
    client = logged_in(client, world.beheerder)
    response = client.post(
        edit_url(candidate),
        details(
            candidate,
            first_name="Zoë",
            surname_prefix="van der",
            email="zoe@school.example",
            candidate_number="0099999",
            birth_date="2007-03-04",
            is_active="0",
            valid_from=days(-10).isoformat(),
            valid_until=days(100).isoformat(),
        ),
        REMOTE_ADDR="10.1.2.3",
    )
    assert response.status_code == 302
    candidate = Candidate.objects.select_related("user").get(pk=candidate.pk)
    user = candidate.user
    assert (user.first_name, user.surname_prefix, user.email) == (
        "Zoë",
        "van der",
        "zoe@school.example",
    )
    assert candidate.candidate_number == "0099999"
    assert user.is_active is False
    assert user.valid_until == days(100)
    # The search text follows the new name and number.
    assert "zoe" in candidate.search_text and "0099999" in candidate.search_text

    (changed,) = rows(AuditLog.Action.USER_CHANGED, candidate)
    assert changed.before["first_name"] == "Anna" and changed.after["first_name"] == "Zoë"
    assert changed.before["candidate_number"] == "0000001"
    assert changed.after["birth_date"] == "2007-03-04"
    assert changed.ip_address == "10.1.2.3"
    (status,) = rows(AuditLog.Action.STATUS_CHANGED, candidate)
    assert (status.before, status.after) == ({"is_active": True}, {"is_active": False})
    (validity,) = rows(AuditLog.Action.VALIDITY_CHANGED, candidate)
    assert validity.after == {
        "valid_from": days(-10).isoformat(),
        "valid_until": days(100).isoformat(),
    }


def test_saving_unchanged_details_writes_no_audit_row(client, world):
    logged_in(client, world.beheerder).post(
        edit_url(world.in_own_group), details(world.in_own_group)
    )
    assert AuditLog.objects.filter(target_user=world.in_own_group.user).count() == 0


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        (
            {"candidate_number": "0000002"},
            "Kandidaatnummer 0000002 is al in gebruik binnen je school.",
        ),
        ({"last_name": ""}, "Dit veld is verplicht."),
        ({"email": "geen-adres"}, "Voer een geldig e-mailadres in."),
        ({"birth_date": "31-02-2007"}, "Voer een geldige datum in."),
        ({"birth_date": "2999-01-01"}, "De geboortedatum ligt in de toekomst."),
        (
            {"valid_from": "2027-08-01", "valid_until": "2027-07-31"},
            "De einddatum ligt vóór de begindatum.",
        ),
    ],
)
def test_bad_details_give_a_dutch_message(client, world, changes, message):
    response = logged_in(client, world.beheerder).post(
        edit_url(world.in_own_group), details(world.in_own_group, **changes)
    )
    assert response.status_code == 200
    assert message in response.content.decode()
    world.in_own_group.refresh_from_db()
    assert world.in_own_group.candidate_number == "0000001"


def test_candidate_number_may_repeat_across_colleges(client, world):
    # kand-foreign has 0000001 in the other college; 0000001 is ours already, so use another.
    logged_in(client, world.outsider).post(
        edit_url(world.of_other_college),
        details(world.of_other_college, candidate_number="0000002"),
    )
    world.of_other_college.refresh_from_db()
    assert world.of_other_college.candidate_number == "0000002"


# --- Password ---------------------------------------------------------------------------------


def password_url(candidate):
    return reverse("candidates:password", args=[candidate.pk])


def test_typed_password_uses_the_full_strength_hasher(client, world):
    response = logged_in(client, world.beheerder).post(
        password_url(world.in_own_group),
        {
            "mode": "typed",
            "password1": "Lange-Zin-Met-7-Woorden",
            "password2": "Lange-Zin-Met-7-Woorden",
            "must_change_password": "on",
        },
    )
    assert response.status_code == 302
    user = world.in_own_group.user
    user.refresh_from_db()
    assert check_password("Lange-Zin-Met-7-Woorden", user.password)
    assert identify_hasher(user.password).algorithm != "pbkdf2_sha256_generated"
    assert user.must_change_password is True
    (row,) = rows(AuditLog.Action.PASSWORD_RESET, user)
    assert row.after == {"method": "typed", "must_change_password": True}
    assert "Lange-Zin" not in str(row.before) + str(row.after)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"password1": "", "password2": ""}, "Vul het nieuwe wachtwoord in."),
        (
            {"password1": "kort", "password2": "kort"},
            "Dit wachtwoord is te kort: gebruik minimaal 8 tekens.",
        ),
        (
            {"password1": "12345678901", "password2": "12345678901"},
            "Dit wachtwoord bevat alleen cijfers.",
        ),
        ({"password1": "Lange-Zin-Met-7", "password2": "Anders-7-Woord"}, "niet gelijk"),
    ],
)
def test_typed_password_is_validated(client, world, data, message):
    response = logged_in(client, world.beheerder).post(
        password_url(world.in_own_group), {"mode": "typed", **data}
    )
    assert response.status_code == 200
    assert message in response.content.decode()
    world.in_own_group.user.refresh_from_db()
    assert check_password(TEST_PASSWORD, world.in_own_group.user.password)


def test_generated_password_is_shown_once(client, world):
    client = logged_in(client, world.coordinator)
    response = client.post(
        password_url(world.in_own_group), {"mode": "show", "must_change_password": "on"}
    )
    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store, private"
    password = response.context["new_password"]
    assert len(password) == world.college.password_length
    assert password in response.content.decode()
    assert "wordt maar één keer getoond" in response.content.decode()
    user = world.in_own_group.user
    user.refresh_from_db()
    assert check_password(password, user.password)
    assert identify_hasher(user.password).algorithm == "pbkdf2_sha256_generated"
    assert user.must_change_password is True
    # Coming back to the profile shows no password.
    assert password not in client.get(edit_url(world.in_own_group)).content.decode()
    (row,) = rows(AuditLog.Action.PASSWORD_RESET, user)
    assert row.after == {"method": "generated", "delivery": "shown", "must_change_password": True}


def test_generated_password_by_mail(client, world, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = logged_in(client, world.beheerder).post(
            password_url(world.in_own_group), {"mode": "mail"}
        )
    assert response.status_code == 302
    (message,) = mail.outbox
    assert message.to == [world.in_own_group.user.email]
    assert message.subject == "Je inloggegevens voor ROC Midden"
    password = message.body.split("Wachtwoord: ")[1].split("\n")[0]
    world.in_own_group.user.refresh_from_db()
    assert check_password(password, world.in_own_group.user.password)


def test_mail_needs_an_address(client, world):
    candidate = make_candidate(world, user__email="")
    response = logged_in(client, world.beheerder).post(password_url(candidate), {"mode": "mail"})
    assert response.status_code == 200
    assert "Deze kandidaat heeft geen e-mailadres." in response.content.decode()


def test_generated_password_as_slip(client, world):
    response = logged_in(client, world.beheerder).post(
        password_url(world.in_own_group), {"mode": "slip"}
    )
    assert response["Content-Type"] == "application/pdf"
    assert pdf_pages(response.content) == 1


def test_password_form_is_post_only(client, world):
    response = logged_in(client, world.beheerder).get(password_url(world.in_own_group))
    assert response.status_code == 405


# --- Links ------------------------------------------------------------------------------------


def links_url(candidate):
    return reverse("candidates:links", args=[candidate.pk])


def test_beheerder_sets_groups_and_supervisors(client, world):
    second_supervisor = UserFactory(organisation=world.college, role=Role.BEGELEIDER)
    response = logged_in(client, world.beheerder).post(
        links_url(world.in_own_group),
        {
            "groups": [world.own_group.pk, world.other_group.pk],
            "supervisors": [world.supervisor.pk, second_supervisor.pk],
        },
    )
    assert response.status_code == 302
    candidate = world.in_own_group
    assert set(candidate.groups.all()) == {world.own_group, world.other_group}
    assert set(candidate.supervisors.all()) == {world.supervisor, second_supervisor}
    (groups,) = rows(AuditLog.Action.GROUP_LINKS_CHANGED, candidate)
    assert groups.before == {"groups": ["Zorg 1"]}
    assert groups.after == {"groups": ["Techniek 1", "Zorg 1"]}
    (supervisors,) = rows(AuditLog.Action.SUPERVISOR_LINKS_CHANGED, candidate)
    assert supervisors.before == {"supervisors": []}
    assert supervisors.after == {
        "supervisors": sorted([world.supervisor.username, second_supervisor.username])
    }


def test_coordinator_is_offered_only_own_groups_and_keeps_the_others(client, world):
    candidate = world.in_own_group
    candidate.groups.add(world.other_group)
    client = logged_in(client, world.coordinator)
    form = client.get(edit_url(candidate)).context["links_form"]
    assert list(form.fields["groups"].queryset) == [world.own_group]
    client.post(links_url(candidate), {"groups": [world.own_group.pk], "supervisors": []})
    assert set(candidate.groups.all()) == {world.own_group, world.other_group}


def test_coordinator_adding_a_group_keeps_groups_they_cannot_see(client, world):
    second = GroupFactory(
        organisation=world.college, name="Zorg 2", coordinators=[world.coordinator]
    )
    candidate = world.in_own_group
    candidate.groups.add(world.other_group)
    client = logged_in(client, world.coordinator)
    page = client.get(edit_url(candidate)).content.decode()
    assert "ook in 1 groep die jij niet beheert" in page
    assert "Techniek 1" not in page  # another coordinator's group is not named
    response = client.post(links_url(candidate), {"groups": [world.own_group.pk, second.pk]})
    assert response.status_code == 302
    assert set(candidate.groups.all()) == {world.own_group, world.other_group, second}
    (row,) = rows(AuditLog.Action.GROUP_LINKS_CHANGED, candidate)
    assert row.before == {"groups": ["Techniek 1", "Zorg 1"]}
    assert row.after == {"groups": ["Techniek 1", "Zorg 1", "Zorg 2"]}


def test_coordinator_cannot_link_a_group_not_theirs(client, world):
    response = logged_in(client, world.coordinator).post(
        links_url(world.in_own_group), {"groups": [world.own_group.pk, world.other_group.pk]}
    )
    assert response.status_code == 200
    assert "Selecteer een geldige keuze" in response.content.decode()
    assert list(world.in_own_group.groups.all()) == [world.own_group]


def test_orphan_guard_warns_the_coordinator(client, world):
    client = logged_in(client, world.coordinator)
    response = client.post(links_url(world.in_own_group), {"groups": []})
    assert response.status_code == 200
    assert "niet meer voor jou zichtbaar" in response.content.decode()
    assert list(world.in_own_group.groups.all()) == [world.own_group]

    response = client.post(links_url(world.in_own_group), {"groups": [], "confirm_orphan": "on"})
    assert response.status_code == 302
    assert response["Location"] == reverse("candidates:list")
    assert list(world.in_own_group.groups.all()) == []
    # Gone from the coordinator's sight: the profile is now a 404.
    assert client.get(edit_url(world.in_own_group)).status_code == 404


def test_moving_to_another_own_group_needs_no_confirmation(client, world):
    second = GroupFactory(organisation=world.college, coordinators=[world.coordinator])
    response = logged_in(client, world.coordinator).post(
        links_url(world.in_own_group), {"groups": [second.pk]}
    )
    assert response.status_code == 302
    assert list(world.in_own_group.groups.all()) == [second]


def test_beheerder_may_remove_every_group_without_warning(client, world):
    response = logged_in(client, world.beheerder).post(links_url(world.in_own_group), {})
    assert response.status_code == 302
    assert list(world.in_own_group.groups.all()) == []


def test_supervisor_choices_are_active_supervisors_of_the_college(client, world):
    inactive = UserFactory(organisation=world.college, role=Role.BEGELEIDER, is_active=False)
    foreign = UserFactory(organisation=world.other_college, role=Role.BEGELEIDER)
    form = (
        logged_in(client, world.beheerder).get(edit_url(world.in_own_group)).context["links_form"]
    )
    choices = set(form.fields["supervisors"].queryset)
    assert world.supervisor in choices
    assert inactive not in choices and foreign not in choices
    assert world.coordinator not in choices


def test_history_lists_audit_rows_about_the_candidate(client, world):
    client = logged_in(client, world.beheerder)
    client.post(edit_url(world.in_own_group), details(world.in_own_group, first_name="Anneke"))
    page = client.get(edit_url(world.in_own_group)).content.decode()
    assert "Gebruiker gewijzigd" in page
    assert "<del>Anna</del> → Anneke" in page
