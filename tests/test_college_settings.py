"""Instellingen (beheerder only): the college's own choices, previewed and audited."""

import pytest
from django.urls import reverse

from accounts.models import AuditLog, EducationArea, Organisation

from .helpers.candidates import logged_in, rows

SETTINGS = reverse("candidates:settings")


def settings_data(college, areas=(), **changes):
    data = {
        "school_year_end_day": college.school_year_end_day,
        "school_year_end_month": college.school_year_end_month,
        "password_length": college.password_length,
        "password_format": college.password_format,
        "username_pattern": college.username_pattern,
        "coordinators_may_create_groups": "on" if college.coordinators_may_create_groups else "",
        "mail_sender_name": college.mail_sender_name,
        "mail_reply_to": college.mail_reply_to,
        "credentials_mail_text": college.credentials_mail_text,
        "areas-TOTAL_FORMS": str(len(areas)),
        "areas-INITIAL_FORMS": "0",
        "areas-MIN_NUM_FORMS": "0",
        "areas-MAX_NUM_FORMS": "1000",
        "save": "1",
    }
    for i, area in enumerate(areas):
        for key, value in area.items():
            data[f"areas-{i}-{key}"] = value
    data.update(changes)
    return data


@pytest.mark.parametrize("role", ["coordinator", "supervisor"])
def test_only_beheerders(client, world, role):
    assert logged_in(client, getattr(world, role)).get(SETTINGS).status_code == 403


def test_page_shows_the_college_settings(client, world):
    response = logged_in(client, world.beheerder).get(SETTINGS)
    assert response.status_code == 200
    assert "Ieder roc is anders georganiseerd" in response.content.decode()


def test_save_changes_and_audit_them(client, world):
    text = "Hoi {naam},\nJe gebruikersnaam is {gebruikersnaam} en je wachtwoord {wachtwoord}."
    response = logged_in(client, world.beheerder).post(
        SETTINGS,
        settings_data(
            world.college,
            school_year_end_day=15,
            school_year_end_month=8,
            password_length=16,
            coordinators_may_create_groups="",
            mail_sender_name="ROC Midden Examenbureau",
            mail_reply_to="examens@rocmidden.example",
            credentials_mail_text=text,
        ),
        REMOTE_ADDR="10.3.3.3",
    )
    assert response.status_code == 302
    college = Organisation.objects.get(pk=world.college.pk)
    assert (college.school_year_end_day, college.school_year_end_month) == (15, 8)
    assert college.password_length == 16
    assert college.coordinators_may_create_groups is False
    assert college.credentials_mail_text == text
    (row,) = rows(AuditLog.Action.SETTINGS_CHANGED)
    assert row.organisation == world.college and row.actor == world.beheerder
    assert row.before["password_length"] == 14 and row.after["password_length"] == 16
    assert row.before["coordinators_may_create_groups"] is True
    assert row.after["mail_reply_to"] == "examens@rocmidden.example"
    assert "username_pattern" not in row.after  # unchanged settings are not listed
    assert row.ip_address == "10.3.3.3"


def test_saving_nothing_new_writes_no_audit_row(client, world):
    response = logged_in(client, world.beheerder).post(SETTINGS, settings_data(world.college))
    assert response.status_code == 302
    assert rows(AuditLog.Action.SETTINGS_CHANGED) == []


def test_preview_renders_the_mail_without_saving(client, world):
    text = "Beste {naam}, je inlognaam is {gebruikersnaam}; wachtwoord {wachtwoord}. {onbekend"
    client = logged_in(client, world.beheerder)
    response = client.post(
        SETTINGS,
        settings_data(
            world.college,
            credentials_mail_text="Beste {naam}, inlognaam {gebruikersnaam}, "
            "wachtwoord {wachtwoord}, tot {geldig_tot} bij {school}.",
            preview="1",
            save="",
        ),
    )
    assert response.status_code == 200
    preview = response.context["preview"]
    assert preview.startswith("Beste Anna de Vries, inlognaam rocm-0012345, wachtwoord ")
    assert "bij ROC Midden." in preview
    assert "Voorbeeld (niet opgeslagen)" in response.content.decode()
    world.college.refresh_from_db()
    assert world.college.credentials_mail_text == ""
    assert rows(AuditLog.Action.SETTINGS_CHANGED) == []
    # A broken text is refused before a preview is shown.
    response = client.post(
        SETTINGS, settings_data(world.college, credentials_mail_text=text, preview="1")
    )
    assert response.context["preview"] is None
    assert "losse accolade" in response.content.decode()


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        (
            {"credentials_mail_text": "Hoi {voornaam} {wachtwoord} {gebruikersnaam}"},
            "Onbekende plaatshouder {voornaam}.",
        ),
        (
            {"credentials_mail_text": "Hoi {naam}, welkom!"},
            "De tekst moet {wachtwoord} en {gebruikersnaam} bevatten.",
        ),
        ({"school_year_end_day": 31, "school_year_end_month": 2}, "Die datum bestaat niet"),
        ({"school_year_end_day": 29, "school_year_end_month": 2}, "Die datum bestaat niet"),
        ({"school_year_end_month": 13}, "Kies een maand van 1 tot en met 12."),
        ({"password_length": 8}, "Kies een lengte van 12 tot en met 64 tekens."),
        ({"password_length": "veel"}, "Voer een geheel getal in."),
        ({"username_pattern": "{code}-{naam}"}, "Onbekende plaatshouder {naam}."),
        ({"username_pattern": "{code}"}, "Het patroon moet {candidate_number} bevatten."),
        ({"mail_reply_to": "geen adres"}, "Voer een geldig e-mailadres in."),
        ({"mail_sender_name": "Bureau <x@evil>"}, "Gebruik geen regeleinden"),
    ],
)
def test_bad_settings_give_a_dutch_message(client, world, changes, message):
    response = logged_in(client, world.beheerder).post(
        SETTINGS, settings_data(world.college, **changes)
    )
    assert response.status_code == 200
    assert message in response.content.decode()
    assert rows(AuditLog.Action.SETTINGS_CHANGED) == []


def test_education_areas_add_rename_delete(client, world):
    zorg = EducationArea.objects.create(organisation=world.college, name="Zorg")
    techniek = EducationArea.objects.create(organisation=world.college, name="Techniek")
    world.own_group.education_area = zorg
    world.own_group.save()
    client = logged_in(client, world.beheerder)
    response = client.post(
        SETTINGS,
        settings_data(
            world.college,
            areas=[
                {"id": techniek.pk, "name": "Techniek", "delete": "on"},
                {"id": zorg.pk, "name": "Zorg en welzijn"},
                {"id": "", "name": "Economie"},
                {"id": "", "name": ""},
            ],
        ),
    )
    assert response.status_code == 302
    names = set(world.college.education_areas.values_list("name", flat=True))
    assert names == {"Economie", "Zorg en welzijn"}
    world.own_group.refresh_from_db()
    assert world.own_group.education_area.name == "Zorg en welzijn"
    (row,) = rows(AuditLog.Action.SETTINGS_CHANGED)
    assert row.before == {"education_areas": ["Techniek", "Zorg"]}
    assert row.after == {"education_areas": ["Economie", "Zorg en welzijn"]}


def test_swapping_two_area_names_works(client, world):
    a = EducationArea.objects.create(organisation=world.college, name="A")
    b = EducationArea.objects.create(organisation=world.college, name="B")
    logged_in(client, world.beheerder).post(
        SETTINGS,
        settings_data(world.college, areas=[{"id": a.pk, "name": "B"}, {"id": b.pk, "name": "A"}]),
    )
    a.refresh_from_db()
    b.refresh_from_db()
    assert (a.name, b.name) == ("B", "A")


def test_duplicate_area_names_are_refused(client, world):
    response = logged_in(client, world.beheerder).post(
        SETTINGS,
        settings_data(world.college, areas=[{"name": "Zorg"}, {"name": "zorg"}]),
    )
    assert response.status_code == 200
    assert "Het opleidingsgebied zorg staat er twee keer in." in response.content.decode()
    assert not world.college.education_areas.exists()


def test_other_college_areas_cannot_be_touched(client, world):
    foreign = EducationArea.objects.create(organisation=world.other_college, name="Vreemd")
    logged_in(client, world.beheerder).post(
        SETTINGS,
        settings_data(world.college, areas=[{"id": foreign.pk, "name": "Gekaapt", "delete": "on"}]),
    )
    foreign.refresh_from_db()
    assert foreign.name == "Vreemd"


def test_the_setting_decides_whether_coordinators_create_groups(client, world):
    logged_in(client, world.beheerder).post(
        SETTINGS, settings_data(world.college, coordinators_may_create_groups="")
    )
    client.force_login(world.coordinator)
    assert client.get(reverse("candidates:group_create")).status_code == 403


def test_lower_case_format_needs_fourteen_characters(client, world):
    logged_in(client, world.beheerder)
    data = settings_data(world.college, password_format="lower", password_length=12)
    response = client.post(SETTINGS, data)
    assert "Kies een lengte van 14 tot en met 64 tekens." in response.content.decode()
    response = client.post(
        SETTINGS, settings_data(world.college, password_format="lower", password_length=14)
    )
    assert response.status_code == 302
    world.college.refresh_from_db()
    assert (world.college.password_format, world.college.password_length) == ("lower", 14)
    assert len(world.college.new_password()) == 14
