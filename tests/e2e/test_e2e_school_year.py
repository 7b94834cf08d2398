"""The turn of the school year in the browser: a beheerder downloads everything held about a
candidate ('Download alle gegevens'), archives last year's group and restores it, moves a
class to next year's group, and runs 'Nieuw schooljaar' (preview, then confirm). Every page
is checked with axe-core and photographed for the user guide."""

from __future__ import annotations

import io
import json
import zipfile

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from accounts.models import AuditLog
from tests.factories import GroupFactory

pytestmark = pytest.mark.django_db(transaction=True)


def test_download_all_data_of_a_candidate(e2e, people):
    page = e2e.page
    e2e.login(people.beheerder)
    e2e.check("kandidaten")
    e2e.goto(reverse("candidates:edit", args=[people.lotte.pk]), "kandidaat-wijzigen-inzage")
    e2e.shot("kandidaat-download-gegevens", guide=True)
    with page.expect_download() as info:
        page.get_by_role("button", name="Download alle gegevens").click()
    download = info.value
    assert download.suggested_filename == "gegevens-l.visser.zip"
    archive = zipfile.ZipFile(io.BytesIO(open(download.path(), "rb").read()))
    assert sorted(archive.namelist()) == ["gegevens-l.visser.json", "gegevens-l.visser.xlsx"]
    data = json.loads(archive.read("gegevens-l.visser.json"))
    assert data["candidate"] == "l.visser"
    assert [g["name"] for g in data["groups"]] == ["Verpleegkunde 2025"]
    assert (
        AuditLog.objects.filter(
            action=AuditLog.Action.DATA_EXPORTED, target_user=people.lotte.user
        ).count()
        == 1
    )


def test_archive_restore_move_and_new_school_year(e2e, people):
    page = e2e.page
    next_year = GroupFactory(
        organisation=people.college, name="Verpleegkunde 2026", coordinators=[people.coordinator]
    )
    e2e.login(people.beheerder)
    e2e.check("kandidaten")
    nursing = reverse("candidates:group_detail", args=[people.nursing.pk])

    # Move the class to next year's group, from the group's page.
    e2e.goto(nursing, "groep")
    page.get_by_role("link", name="Verplaats naar groep").click()
    e2e.step("groep-verplaatsen", guide=True)
    page.get_by_label("Naar kandidaatgroep").select_option(label="Verpleegkunde 2026")
    page.get_by_label("Ik weet zeker dat ik alle leden naar deze groep wil verplaatsen").check()
    page.get_by_role("button", name="Verplaats naar groep").click()
    page.wait_for_load_state("load")
    e2e.check("groep-verplaatst")
    expect(page.get_by_role("heading", level=1)).to_have_text("Kandidaatgroep Verpleegkunde 2026")
    moved = page.get_by_text("3 kandidaten zijn verplaatst naar Verpleegkunde 2026.")
    expect(moved).to_be_visible()

    # Archive last year's group: a page that counts first, then a read-only group page.
    e2e.goto(nursing, "groep-leeg")
    page.get_by_role("link", name="Archiveer kandidaatgroep").click()
    e2e.step("groep-archiveren", guide=True)
    page.get_by_role("button", name="Archiveer kandidaatgroep").click()
    page.wait_for_load_state("load")
    e2e.step("groep-gearchiveerd", guide=True)
    expect(page.get_by_role("status").filter(has_text="is gearchiveerd op")).to_be_visible()
    expect(page.get_by_role("link", name="Wijzigen")).to_have_count(0)
    expect(page.get_by_role("heading", name="Actie voor alle leden")).to_have_count(0)

    # Gone from the candidate list's filter.
    e2e.goto(reverse("candidates:list"), "kandidaten-na-archiveren")
    options = page.get_by_label("Kandidaatgroep", exact=True).first.locator("option")
    expect(options.filter(has_text="Verpleegkunde 2025")).to_have_count(0)

    # 'Terugzetten'.
    e2e.goto(nursing, "groep-gearchiveerd-opnieuw")
    page.get_by_role("button", name="Terugzetten").click()
    page.wait_for_load_state("load")
    e2e.check("groep-teruggezet")
    expect(page.get_by_text("Kandidaatgroep Verpleegkunde 2025 is teruggezet.")).to_be_visible()

    # 'Nieuw schooljaar': extend next year's group, archive last year's.
    e2e.goto(reverse("candidates:groups"), "groepen")
    page.get_by_role("link", name="Nieuw schooljaar").click()
    e2e.step("nieuw-schooljaar", guide=True)
    page.get_by_label("Verpleegkunde 2026").select_option("extend")
    page.get_by_label("Verpleegkunde 2025").select_option("archive")
    page.get_by_role("button", name="Toon overzicht").click()
    page.wait_for_load_state("load")
    e2e.step("nieuw-schooljaar-overzicht", guide=True, full_page=True)
    preview = page.locator("#school-year-preview")
    expect(preview).to_contain_text("3 kandidaten krijgen geldigheid tot en met")
    expect(preview).to_contain_text("1 kandidaatgroep wordt gearchiveerd.")
    page.get_by_role("button", name="Bevestigen").click()
    page.wait_for_load_state("load")
    e2e.check("nieuw-schooljaar-verwerkt")
    expect(page.get_by_text("Nieuw schooljaar verwerkt: 3 kandidaten verlengd")).to_be_visible()
    next_year.refresh_from_db()
    people.nursing.refresh_from_db()
    assert (people.nursing.is_archived, next_year.is_archived) == (True, False)
    assert AuditLog.objects.filter(action=AuditLog.Action.SCHOOL_YEAR_STARTED).count() == 1
