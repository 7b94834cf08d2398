"""The whole import wizard with the keyboard alone: Tab, Shift+Tab, Space, Enter and the arrow
keys (page.keyboard), never a mouse click. Every element reached must show its focus.

Celery is eager here (the test settings' default without a broker): the import runs in the
live server's request, so the result page opens finished."""

from __future__ import annotations

import re

import pytest
from openpyxl import load_workbook
from playwright.sync_api import expect

from candidates.models import Candidate
from tests.helpers.browser import focused_element_html, is_focused, tab_to

pytestmark = pytest.mark.django_db(transaction=True)


def press_on(page, locator, key: str = "Enter", *, backwards: bool = False) -> None:
    tab_to(page, locator, backwards=backwards)
    page.keyboard.press(key)


def press_and_load(page, key: str = "Enter") -> None:
    """A key that leads to another page: wait until that page has loaded."""
    with page.expect_navigation(wait_until="load"):
        page.keyboard.press(key)


def next_step(e2e, label: str) -> None:
    """Tab to 'Volgende stap' and press Enter; check the page that follows."""
    tab_to(e2e.page, e2e.page.get_by_role("button", name="Volgende stap"))
    press_and_load(e2e.page)
    e2e.check(label)


def test_wizard_with_keyboard_only(e2e, people, tmp_path):
    page = e2e.page
    e2e.goto("/inloggen/", "inloggen")

    # The login form starts in 'Gebruikersnaam' (autofocus); Enter logs in.
    assert is_focused(page.get_by_label("Gebruikersnaam")), focused_element_html(page)
    page.keyboard.type(people.beheerder.username)
    page.keyboard.press("Tab")
    page.keyboard.type("Correct-Paard-Batterij-7")
    press_and_load(page)
    e2e.check("kandidaten")

    # 'Naar de inhoud' is the first stop on every page and skips the menu.
    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Naar de inhoud")
    assert is_focused(skip), focused_element_html(page)
    expect(skip).to_be_visible()
    e2e.shot("toetsenbord-naar-de-inhoud")
    page.keyboard.press("Enter")
    page.keyboard.press("Tab")
    assert is_focused(page.get_by_role("link", name="Importeer kandidaten").last), (
        focused_element_html(page)
    )

    # 'Beheer' → 'Importeer kandidaten' with Enter and the arrow keys.
    nav = page.get_by_role("navigation", name="Hoofdmenu")
    press_on(page, nav.get_by_role("button", name="Beheer"))
    target = nav.get_by_role("link", name="Importeer kandidaten", exact=True)
    for _ in range(8):
        page.keyboard.press("ArrowDown")
        if is_focused(target):
            break
    assert is_focused(target), focused_element_html(page)
    press_and_load(page)
    e2e.check("import-start")
    expect(page.get_by_role("heading", name="Importeer kandidaten")).to_be_visible()

    # The example file, downloaded with Enter and filled in by the test.
    with page.expect_download() as download_info:
        press_on(page, page.get_by_role("link", name="Download voorbeeld-bestand"))
    file = tmp_path / "toetsenbord.xlsx"
    download_info.value.save_as(file)
    wb = load_workbook(file)
    ws = wb["Kandidaten"]
    people_in_file = [
        ("0400001", "Jesse", "Kramer", "jesse.kramer@leerling.example"),
        ("0400002", "Zoë", "Willems", "zoe.willems@leerling.example"),
    ]
    for row, (number, first, last, email) in enumerate(people_in_file, start=2):
        for cell in ws[row]:
            cell.value = None
        ws.cell(row=row, column=1).value = number
        ws.cell(row=row, column=2).value = first
        ws.cell(row=row, column=4).value = last
        ws.cell(row=row, column=5).value = email
    wb.save(file)

    # 'Bladeren' is the file field: Space opens the file chooser.
    with page.expect_file_chooser() as chooser_info:
        press_on(page, page.get_by_label("Importbestand"), "Space")
    chooser_info.value.set_files(file)
    next_step(e2e, "import-kolommen")

    # Kolommen: the empty 'Wachtwoord' column is set to '— niet importeren —' with Home.
    password_column = page.get_by_label("Veld voor kolom Wachtwoord")
    assert password_column.input_value() == "password"
    tab_to(page, password_column)
    page.keyboard.press("Home")
    assert password_column.input_value() == ""
    next_step(e2e, "import-controle")
    expect(page.locator('[data-count="new"]')).to_have_text("2")
    next_step(e2e, "import-wachtwoord")

    # Wachtwoord: the arrow key chooses 'uit het bestand', which has no column any more: the
    # error comes back on the field, and the focus with it.
    generate = page.get_by_label("Genereer een willekeurig wachtwoord")
    tab_to(page, generate)
    page.keyboard.press("ArrowDown")
    expect(page.get_by_label("Neem het wachtwoord uit het bestand")).to_be_checked()
    next_step(e2e, "import-wachtwoord-fout")
    expect(generate).to_have_attribute("aria-invalid", "true")
    expect(page.get_by_role("group", name="Wachtwoord")).to_have_accessible_description(
        re.compile("Er is geen kolom aan 'Wachtwoord' gekoppeld")
    )
    expect(generate).to_be_focused()
    page.keyboard.press("Space")
    expect(generate).to_be_checked()
    next_step(e2e, "import-kandidaatgroep")

    # Kandidaatgroep: type ahead in the select.
    groups = page.get_by_label("Selecteer kandidaatgroep")
    tab_to(page, groups)
    page.keyboard.type("Verp")
    expect(groups.locator("option:checked")).to_have_text("Verpleegkunde 2025")
    next_step(e2e, "import-begeleiders")

    # Begeleiders: Space ticks a box.
    press_on(page, page.get_by_label("Pieter de Vries (p.devries)"), "Space")
    expect(page.get_by_label("Pieter de Vries (p.devries)")).to_be_checked()
    next_step(e2e, "import-geldigheid")
    next_step(e2e, "import-inloggegevens")

    # Inloggegevens: ArrowUp from 'Niet per e-mail' (the default) to 'per e-mail'.
    tab_to(page, page.get_by_label("Niet per e-mail: een docent verstrekt de gegevens"))
    page.keyboard.press("ArrowUp")
    expect(page.get_by_label("Stuur iedere kandidaat de inloggegevens per e-mail")).to_be_checked()
    next_step(e2e, "import-bevestigen")

    # Bevestigen: to 'Importeer', back with Shift+Tab to the e-mail address, change it.
    importeer = page.get_by_role("button", name="Importeer")
    tab_to(page, importeer)
    report_to = page.get_by_label("E-mailadres voor de importresultaten")
    tab_to(page, report_to, backwards=True)
    page.keyboard.press("Control+A")
    page.keyboard.type("toetsbureau@rocmidden.example")
    tab_to(page, importeer)
    press_and_load(page)
    expect(page.get_by_text("De import is voltooid.")).to_be_visible()
    e2e.check("import-resultaat")
    expect(page.locator('[data-count="new"]')).to_have_text("2")

    # From the result straight to a new candidate's page.
    tab_to(page, page.get_by_role("link", name="Jesse Kramer"))
    press_and_load(page)
    e2e.check("kandidaat-wijzigen")
    expect(page.get_by_role("heading", level=1)).to_have_text("Wijzig deze gebruiker: Jesse Kramer")
    jesse = Candidate.objects.get(candidate_number="0400001")
    assert list(jesse.groups.values_list("name", flat=True)) == ["Verpleegkunde 2025"]
    assert jesse.user.email == "jesse.kramer@leerling.example"
