"""'Maak deze import ongedaan': from the import history to the preview and one confirmation,
in Chromium, every page checked with axe-core."""

from __future__ import annotations

from datetime import date

import pytest
from playwright.sync_api import expect

from candidates.models import Candidate, CandidateGroup
from imports.models import ImportBatch
from tests.helpers.undo import changed_later, import_rows, row, signed_in, user_of

pytestmark = pytest.mark.django_db(transaction=True)


def test_undo_an_import_from_the_history(e2e, people):
    college = people.college
    # The guide shows the usual case: this college lets its coordinators delete candidates.
    college.coordinators_may_delete = True
    college.save(update_fields=["coordinators_may_delete"])
    import_rows(
        people.coordinator,
        [
            row("2027001", "Sanne", "Bakker", "sanne@leerling.example", date(2008, 3, 1)),
            row("2027002", "Milan", "Jansen", "milan@leerling.example", date(2008, 4, 2)),
            row("2027003", "Yara", "El Amrani", "yara@leerling.example", date(2008, 5, 3)),
        ],
        new_group_name="Verpleegkunde 2027",
    )
    signed_in(user_of("2027002", college))
    changed_later(user_of("2027003", college), people.beheerder, email="yara@elders.example")

    page = e2e.page
    e2e.login(people.coordinator)
    e2e.check("kandidaten")
    e2e.goto("/beheer/import/geschiedenis/", "import-geschiedenis")
    page.get_by_role("link", name="Maak deze import ongedaan").click()

    expect(page.get_by_role("heading", name="Import ongedaan maken")).to_be_visible()
    e2e.step("import-ongedaan-maken-voorbeeld", guide=True, full_page=True)
    counts = page.get_by_role("table", name="Wat er wordt teruggedraaid")
    expect(counts.locator("[data-count=deleted]")).to_have_text("1")
    expect(counts.locator("[data-count=deactivated]")).to_have_text("1")
    expect(counts.locator("[data-count=groups_removed]")).to_have_text("0")
    expect(counts.locator("[data-count=conflicts]")).to_have_text("1")
    conflicts = page.get_by_role(
        "table", name="Conflicten: deze kandidaten blijven zoals ze nu zijn"
    )
    yara = user_of("2027003", college).username
    expect(conflicts.locator("tbody td")).to_have_text(
        ["Yara El Amrani", yara, "na de import opnieuw gewijzigd"]
    )
    assert Candidate.objects.filter(candidate_number="2027001").exists()  # nothing happened yet

    page.get_by_role("button", name="Maak deze import ongedaan").click()

    expect(
        page.get_by_role("alert").filter(has_text="De import is ongedaan gemaakt.")
    ).to_be_visible()
    e2e.step("import-ongedaan-gemaakt", guide=True, full_page=True)
    expect(page.get_by_role("table", name="Wat er is teruggedraaid")).to_be_visible()
    expect(page.get_by_role("button", name="Maak deze import ongedaan")).to_have_count(0)
    assert not Candidate.objects.filter(candidate_number="2027001").exists()
    assert user_of("2027002", college).is_active is False
    assert CandidateGroup.objects.filter(name="Verpleegkunde 2027").exists()  # Yara is in it
    assert ImportBatch.objects.get().undone_at is not None

    e2e.goto("/beheer/import/geschiedenis/", "import-geschiedenis-ongedaan")
    expect(page.get_by_role("link", name="ongedaan gemaakt")).to_be_visible()
    expect(page.get_by_role("link", name="Maak deze import ongedaan")).to_have_count(0)
