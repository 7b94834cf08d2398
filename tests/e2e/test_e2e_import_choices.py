"""Choices the wizard offers about the file itself, in the browser: which worksheet to read
(a workbook with last year's candidates and this year's), and what to do with the class
column's groups that do not exist yet. Eager Celery (the test settings' default): the import
runs in the live server's request."""

from __future__ import annotations

import re
from datetime import date

import pytest
from openpyxl import Workbook
from playwright.sync_api import expect

from candidates.models import Candidate, CandidateGroup
from tests.helpers.imports import HEADERS

pytestmark = pytest.mark.django_db(transaction=True)

THIS_YEAR = [
    ("0400001", "Sara", "", "Visser", "VP2A"),
    ("0400002", "Noah", "de", "Jong", "VP2A"),
    ("0400003", "Julia", "", "Bakker", "VP2B"),
    ("0400004", "Liam", "van", "Dijk", "Verpleegkunde 2025"),
]
LAST_YEAR = [("0390001", "Oud", "", "Lid", "VP1A")]


def workbook(path) -> None:
    """An explanation sheet, then last year's list, then this year's: two sheets with a
    header, and a class column naming two groups that do not exist yet."""
    wb = Workbook()
    wb.active.title = "Uitleg"
    wb.active.append(["Zet de kandidaten van dit jaar op het tabblad 'Kandidaten'."])
    for title, rows in (("Vorig jaar", LAST_YEAR), ("Kandidaten", THIS_YEAR)):
        ws = wb.create_sheet(title)
        ws.append([*HEADERS, "Klas"])
        for number, first, prefix, last, klas in rows:
            email = f"{first.lower()}.{last.lower()}@leerling.example"
            ws.append([number, first, prefix, last, email, date(2008, 5, 1), klas])
    wb.save(path)


def next_step(page) -> None:
    page.get_by_role("button", name="Volgende stap").click()
    page.wait_for_load_state("load")


def test_coordinator_chooses_the_sheet_and_creates_the_class_groups(e2e, people, tmp_path):
    page = e2e.page
    file = tmp_path / "klassen.xlsx"
    workbook(file)
    e2e.login(people.coordinator)
    e2e.check("kandidaten-toetscoordinator")
    e2e.menu("Importeer kandidaten")
    e2e.check("import-start")
    page.get_by_label("Importbestand").set_input_files(file)
    next_step(page)

    # Kolommen: the first sheet with a header was read; the other one can be chosen.
    expect(page.get_by_role("heading", name="Kolommen controleren")).to_be_visible()
    expect(page.locator("#sheet-read")).to_have_text("Gelezen werkblad: Vorig jaar")
    sheet = page.get_by_role("combobox", name=re.compile("^Werkblad"))
    assert sheet.locator("option").all_inner_texts() == ["Vorig jaar", "Kandidaten"]
    expect(page.get_by_role("row", name=re.compile("Klas"))).to_contain_text("VP1A")
    sheet.select_option("Kandidaten")
    e2e.step("import-werkblad-kiezen", guide=True)
    page.get_by_role("button", name="Lees dit werkblad").click()
    page.wait_for_load_state("load")
    e2e.check("import-kolommen-werkblad")
    expect(page.locator("#sheet-read")).to_have_text("Gelezen werkblad: Kandidaten")
    expect(
        page.get_by_role("combobox", name=re.compile("^Werkblad")).locator("option:checked")
    ).to_have_text("Kandidaten")
    expect(page.get_by_role("row", name=re.compile("Klas"))).to_contain_text("VP2A")
    assert page.get_by_label("Veld voor kolom Klas").input_value() == "group"
    next_step(page)

    # Controle: three rows name a group that does not exist; the choice is offered.
    expect(page.get_by_role("heading", name="Controle")).to_be_visible()
    expect(page.locator('[data-count="errors"]')).to_have_text("3")
    choice = page.get_by_role("region", name="Kandidaatgroepen uit het bestand")
    expect(choice).to_contain_text(
        "In de kolom 'Klas' staan kandidaatgroepen die niet bestaan of waaraan je niet "
        "gekoppeld bent:"
    )
    expect(choice.get_by_role("listitem")).to_have_text(["VP2A: 2 kandidaten", "VP2B: 1 kandidaat"])
    create = choice.get_by_role(
        "button",
        name="Maak de ontbrekende kandidaatgroepen aan: VP2A, VP2B (2 groepen, 3 kandidaten)",
    )
    expect(create).to_have_accessible_description(
        "Als je de groepen aanmaakt, worden ze aan jou gekoppeld: zo blijven de kandidaten voor "
        "jou zichtbaar."
    )
    expect(choice.get_by_role("button", name="Negeer deze kolom")).to_be_visible()
    e2e.step("import-03-groepen-uit-bestand", guide=True, full_page=True)
    create.click()
    page.wait_for_load_state("load")

    # The check again, with the new counts.
    e2e.step("import-03-groepen-aanmaken", guide=True)
    expect(page.locator('[data-count="errors"]')).to_have_text("0")
    expect(page.locator('[data-count="new"]')).to_have_text("4")
    expect(page.get_by_role("status")).to_have_text(
        "De ontbrekende kandidaatgroepen worden bij het importeren aangemaakt: VP2A, VP2B. "
        "Ze worden aan jou gekoppeld."
    )
    next_step(page)
    e2e.check("import-wachtwoord")
    next_step(page)

    # Every row lands in a group of hers: no group needs choosing here.
    e2e.check("import-kandidaatgroep")
    next_step(page)
    expect(page.get_by_role("heading", name="Selecteer begeleiders")).to_be_visible()
    e2e.check("import-begeleiders")
    for label in ("import-geldigheid", "import-inloggegevens"):
        next_step(page)
        e2e.check(label)
    next_step(page)
    e2e.check("import-bevestigen")
    page.get_by_role("button", name="Importeer").click()
    page.wait_for_load_state("load")
    expect(page.get_by_text("De import is voltooid.")).to_be_visible()
    e2e.check("import-resultaat")
    per_group = page.get_by_role("table", name="Kandidaten per kandidaatgroep")
    expect(per_group.locator("tbody tr")).to_have_text(
        [re.compile(r"Verpleegkunde 2025\s*1"), re.compile(r"VP2A\s*2"), re.compile(r"VP2B\s*1")]
    )  # by name, as the list of groups sorts them
    e2e.shot("import-resultaat-per-groep", guide=True)

    for name, numbers in (("VP2A", {"0400001", "0400002"}), ("VP2B", {"0400003"})):
        group = CandidateGroup.objects.get(organisation=people.college, name=name)
        assert list(group.coordinators.all()) == [people.coordinator]
        assert (
            set(Candidate.objects.filter(groups=group).values_list("candidate_number", flat=True))
            == numbers
        )
    assert not Candidate.objects.filter(candidate_number="0390001").exists()  # last year's


def test_beheerder_ignores_the_class_column(e2e, people, tmp_path):
    page = e2e.page
    file = tmp_path / "klassen.xlsx"
    workbook(file)
    e2e.login(people.beheerder)
    e2e.check("kandidaten-beheerder")
    e2e.menu("Importeer kandidaten")
    e2e.check("import-start")
    page.get_by_label("Importbestand").set_input_files(file)
    next_step(page)
    e2e.check("import-kolommen")
    page.get_by_role("combobox", name=re.compile("^Werkblad")).select_option("Kandidaten")
    page.get_by_role("button", name="Lees dit werkblad").click()
    page.wait_for_load_state("load")
    e2e.check("import-kolommen-werkblad")
    next_step(page)
    e2e.check("import-controle")
    choice = page.get_by_role("region", name="Kandidaatgroepen uit het bestand")
    expect(choice).not_to_contain_text("aan jou gekoppeld")
    choice.get_by_role("button", name="Negeer deze kolom").click()
    page.wait_for_load_state("load")
    e2e.check("import-controle-kolom-genegeerd")
    expect(page.locator('[data-count="errors"]')).to_have_text("0")
    expect(page.get_by_role("status")).to_have_text(
        "De kolom 'Klas' wordt genegeerd: de kandidaten worden niet aan de groepen uit die "
        "kolom gekoppeld."
    )
    # Taken back: the choice is offered again.
    page.get_by_role("button", name="Maak deze keuze ongedaan").click()
    page.wait_for_load_state("load")
    e2e.check("import-controle")
    expect(page.locator('[data-count="errors"]')).to_have_text("3")
    expect(page.get_by_role("button", name="Negeer deze kolom")).to_be_visible()
