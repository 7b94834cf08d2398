"""'Importeer kandidaten' in the browser, from the example file to the candidates in
'Kandidaten' and the mails at the SMTP server.

The import of a new group with mail runs on a real Celery worker (tests/helpers/services.py) on
the live server's test database and a real Redis broker: the result page is first seen waiting
in the queue, then the worker starts and the page's own script follows the progress bar to the
end. The file with errors, then fixed, runs with the test settings' default, eager Celery (no
broker): the import runs in the live server's request, which is all that test needs.
"""

from __future__ import annotations

import io
import re
from datetime import date

import pytest
from django.utils import timezone
from openpyxl import load_workbook
from playwright.sync_api import expect

from candidates.models import Candidate, CandidateGroup
from imports.models import ImportBatch
from tests.helpers.imports import HEADERS, xlsx_bytes

pytestmark = pytest.mark.django_db(transaction=True)

NEW_PEOPLE = [
    # number, first name, prefix, last name, e-mail, birth date
    ("0200001", "Sophie", "", "Hendriks", "sophie.hendriks@leerling.example", date(2008, 3, 14)),
    ("0200002", "Ümit", "", "Yılmaz", "umit.yilmaz@leerling.example", date(2007, 11, 2)),
    ("0200003", "Emma", "van den", "Berg", "emma.vandenberg@leerling.example", date(2008, 6, 30)),
]
NEW_NAMES = ["Sophie Hendriks", "Ümit Yılmaz", "Emma van den Berg"]


def fill_example_file(path, rows, *, rename: dict[str, str]) -> None:
    """What the coordinator does in Excel: one row per candidate in the example file, over the
    example row; and (the college's habit) their own heading for a column."""
    wb = load_workbook(path)
    ws = wb["Kandidaten"]
    headers = [c.value for c in ws[1]]
    column = {h.rstrip(" *"): i + 1 for i, h in enumerate(headers)}
    for old, new in rename.items():
        ws.cell(row=1, column=column[old], value=new)
    for r, (number, first, prefix, last, email, birth) in enumerate(rows, start=2):
        for cell in ws[r]:
            cell.value = None  # (ws.cell(value=None) would leave the example's value)
        values = {
            "Kandidaatnummer": number,
            "Voornaam": first,
            "Tussenvoegsel": prefix or None,
            "Achternaam": last,
            "E-mailadres": email,
            "Geboortedatum": birth,
        }
        for name, value in values.items():
            ws.cell(row=r, column=column[name]).value = value
    wb.save(path)


def next_step(page) -> None:
    page.get_by_role("button", name="Volgende stap").click()
    page.wait_for_load_state("load")


def test_coordinator_imports_a_new_group_with_mail(
    e2e, people, smtp_server, celery_worker_factory, second_page, tmp_path
):
    page = e2e.page
    e2e.login(people.coordinator, shot="inloggen")
    expect(page.get_by_role("heading", name="Kandidaten")).to_be_visible()
    e2e.step("kandidaten-toetscoordinator", guide=True)

    # 'Beheer' → 'Importeer kandidaten' → 'Download voorbeeld-bestand'.
    e2e.menu("Importeer kandidaten")
    expect(page.get_by_role("heading", name="Importeer kandidaten")).to_be_visible()
    expect(page.get_by_role("note")).to_contain_text(
        "voeg de kandidaten direct toe aan een kandidaatgroep waaraan je als toetscoördinator"
    )
    e2e.step("import-01-bestand", guide=True)
    with page.expect_download() as download_info:
        page.get_by_role("link", name="Download voorbeeld-bestand").click()
    download = download_info.value
    assert download.suggested_filename == "voorbeeld-kandidaten.xlsx"
    file = tmp_path / "kandidaten.xlsx"
    download.save_as(file)
    fill_example_file(file, NEW_PEOPLE, rename={"E-mailadres": "Privé e-mail"})

    # 'Bladeren' → 'Volgende stap'.
    page.get_by_label("Importbestand").set_input_files(file)
    next_step(page)

    # Kolommen: the own heading is not recognised; the coordinator links it by hand.
    expect(page.get_by_role("heading", name="Kolommen controleren")).to_be_visible()
    expect(page.locator("main")).to_contain_text(
        "Controleer of de gegevens in de linker- en rechterkolom overeenkomen"
    )
    assert page.get_by_label("Veld voor kolom Voornaam *").input_value() == "first_name"
    mail_column = page.get_by_label("Veld voor kolom Privé e-mail")
    assert mail_column.input_value() == ""  # '— niet importeren —'
    expect(page.get_by_role("row", name=re.compile("Privé e-mail"))).to_contain_text(
        "sophie.hendriks@leerling.example"
    )
    mail_column.select_option(label="E-mailadres")
    e2e.step("import-02-kolommen", guide=True)
    next_step(page)

    # Controle: three new candidates, no errors, nothing saved yet.
    expect(page.get_by_role("heading", name="Controle")).to_be_visible()
    expect(page.locator("main")).to_contain_text(
        "Er zijn 3 rijen gecontroleerd. Er is nog niets opgeslagen."
    )
    counts = {k: page.locator(f'[data-count="{k}"]') for k in ("new", "updated", "errors")}
    expect(counts["new"]).to_have_text("3")
    expect(counts["updated"]).to_have_text("0")
    expect(counts["errors"]).to_have_text("0")
    preview = page.get_by_role("table", name="De eerste rijen zoals ze worden geïmporteerd")
    expect(preview.locator("tbody tr")).to_have_count(3)
    for name in ("Sophie", "Yılmaz", "van den Berg", "emma.vandenberg@leerling.example"):
        expect(preview).to_contain_text(name)
    expect(preview.locator("tbody tr").first).to_contain_text("nieuw")
    e2e.step("import-03-controle", guide=True)
    next_step(page)

    # Wachtwoord: 'Genereer een willekeurig wachtwoord', to be changed at the first login.
    expect(page.get_by_role("heading", name="Wachtwoord")).to_be_visible()
    page.get_by_label("Genereer een willekeurig wachtwoord").check()
    page.get_by_label("Kandidaat moet het wachtwoord wijzigen bij de eerste keer inloggen").check()
    e2e.step("import-04-wachtwoord", guide=True)
    next_step(page)

    # Status en kandidaatgroep: 'Maak een nieuwe kandidaatgroep met deze naam'.
    expect(page.get_by_role("heading", name="Status en kandidaatgroep")).to_be_visible()
    expect(page.get_by_role("note")).to_contain_text("Let op: voeg de kandidaten toe")
    page.get_by_label("Actief", exact=True).check()
    groups = page.get_by_label("Selecteer kandidaatgroep")
    # Only the coordinator's own group is offered, not 'Techniek 2025'.
    assert groups.locator("option").all_inner_texts() == ["— geen groep —", "Verpleegkunde 2025"]
    # No group: refused here, not at 'Importeer'; the warning on the field, said once.
    next_step(page)
    e2e.step("import-05-geen-groep", guide=True)
    expect(page.get_by_role("heading", name="Status en kandidaatgroep")).to_be_visible()
    expect(groups).to_have_attribute("aria-invalid", "true")
    expect(groups).to_be_focused()
    expect(groups).to_have_accessible_description(
        "Let op: voeg de kandidaten direct toe aan een kandidaatgroep waaraan je als "
        "toetscoördinator gekoppeld bent. Als je dit niet doet, zijn de kandidatenaccounts na "
        "het importeren niet meer voor jou zichtbaar. Een nieuwe groep die je hier maakt, wordt "
        "aan jou gekoppeld."
    )
    expect(page.get_by_text("niet meer voor jou zichtbaar")).to_have_count(1)
    page.get_by_label("Nieuwe kandidaatgroep").fill("Verpleegkunde 2026")
    e2e.shot("import-05-kandidaatgroep", guide=True)
    page.get_by_role("button", name="Maak een nieuwe kandidaatgroep met deze naam").click()
    page.wait_for_load_state("load")
    # The dropdown shows the new group as chosen; one banner says when it is made.
    expect(groups.locator("option:checked")).to_have_text("Verpleegkunde 2026 (nieuw)")
    expect(page.get_by_role("alert")).to_have_count(0)
    expect(page.get_by_role("status")).to_have_text(
        "Gekozen: nieuwe kandidaatgroep 'Verpleegkunde 2026' (wordt aangemaakt bij het importeren)."
    )
    expect(page.get_by_label("Nieuwe kandidaatgroep")).to_have_value("")
    e2e.step("import-05-kandidaatgroep-gekozen", guide=True)
    next_step(page)

    # Selecteer begeleiders: to the group just chosen.
    expect(page.get_by_role("heading", name="Selecteer begeleiders")).to_be_visible()
    expect(page.locator("main")).to_contain_text(
        "De begeleiders worden aan de kandidaatgroep 'Verpleegkunde 2026' gekoppeld."
    )
    page.get_by_label("Pieter de Vries (p.devries)").check()
    e2e.step("import-06-begeleiders", guide=True)
    next_step(page)

    # Geldigheidsduur.
    expect(page.get_by_role("heading", name="Geldigheidsduur")).to_be_visible()
    today = timezone.localdate()
    assert page.get_by_label("Geldig van").input_value() == today.isoformat()
    until = date(today.year + 1, 7, 31)
    page.get_by_label("Geldig tot en met").fill(until.isoformat())
    e2e.step("import-07-geldigheid", guide=True)
    next_step(page)

    # Inloggegevens: per e-mail.
    expect(page.get_by_role("heading", name="Inloggegevens")).to_be_visible()
    page.get_by_label("Stuur iedere kandidaat de inloggegevens per e-mail").check()
    e2e.step("import-08-inloggegevens", guide=True)
    next_step(page)

    # Bevestigen: every choice on one page.
    expect(page.get_by_role("heading", name="Bevestigen")).to_be_visible()
    summary = page.locator("main dl.row").last
    expect(summary).to_contain_text("kandidaten.xlsx")
    expect(summary).to_contain_text("Privé e-mail → E-mailadres")
    expect(summary).to_contain_text("Genereer een willekeurig wachtwoord")
    expect(summary).to_contain_text("wijzigen bij eerste keer inloggen")
    expect(summary).to_contain_text("Verpleegkunde 2026 (nieuw)")
    expect(summary).to_contain_text("Pieter de Vries")
    expect(summary).to_contain_text(f"31 juli {until.year}")
    expect(summary).to_contain_text("Per e-mail naar iedere kandidaat")
    report_to = page.get_by_label("E-mailadres voor de importresultaten")
    assert report_to.input_value() == "f.elamrani@rocmidden.example"  # the coordinator's own
    report_to.fill("toetsbureau@rocmidden.example")
    e2e.step("import-09-bevestigen", guide=True)
    page.get_by_role("button", name="Importeer").click()
    page.wait_for_load_state("load")

    # Result: waiting in the queue until a worker is there; then the bar runs to the end.
    expect(page.get_by_role("heading", name="Importresultaat")).to_be_visible()
    expect(page.get_by_role("status").first).to_have_text("De import staat in de wachtrij…")
    bar = page.get_by_role("progressbar", name="Voortgang van de import")
    expect(bar).to_have_attribute("aria-valuenow", "0")
    e2e.step("import-10-voortgang", guide=True)
    # The mail server turns the mails away for now (421): they wait for a retry.
    smtp_server.mode = "421"
    celery_worker_factory("worker", env={"KB_MAIL_RETRY_SECONDS": "1"})
    # import-progress.js polls and reloads the page when the worker has finished.
    expect(page.get_by_text("De import is voltooid.")).to_be_visible(timeout=30_000)
    e2e.check("import-resultaat")
    batch = ImportBatch.objects.get()
    assert batch.status == ImportBatch.Status.DONE

    # The open page follows the mails: first waiting, one of them retried after the refusal...
    expect(page.get_by_text("Wacht op verzending: 4")).to_be_visible()
    expect(page.get_by_text("Wacht op een nieuwe poging na een tijdelijke fout: 1")).to_be_visible(
        timeout=30_000
    )
    # ...then, once the server accepts again, to the final counts, without a reload.
    smtp_server.mode = "accept"
    expect(page.get_by_text("Verzonden: 4")).to_be_visible(timeout=60_000)
    expect(page.get_by_text("Wacht op verzending: 0")).to_be_visible()
    expect(page.get_by_text("Mislukt: 0")).to_be_visible()
    expect(page.get_by_text("Wacht op een nieuwe poging")).to_be_hidden()

    # The mails arrive at the SMTP server: one per candidate, one report.
    messages = smtp_server.wait_for(4, timeout=30)
    by_to = {m["To"]: m for m in messages}
    assert set(by_to) == {p[4] for p in NEW_PEOPLE} | {"toetsbureau@rocmidden.example"}
    sophie_mail = by_to["sophie.hendriks@leerling.example"]
    assert sophie_mail["Subject"] == "Je inloggegevens voor ROC Midden"
    body = sophie_mail.get_body(("plain",)).get_content()
    assert "Beste Sophie Hendriks," in body
    assert "Gebruikersnaam: rocm-0200001" in body
    assert f"Je account is geldig tot en met 31 juli {until.year}." in body
    password = re.search(r"^Wachtwoord: (\S+)$", body, re.M).group(1)
    report = by_to["toetsbureau@rocmidden.example"]
    assert report["Subject"] == "Importresultaat: kandidaten.xlsx"
    assert [a.get_filename() for a in report.iter_attachments()] == [
        f"importresultaat-{timezone.localdate():%Y%m%d}.xlsx"
    ]

    # The result page, once the mails are out (the same page: it was never reloaded).
    e2e.check("import-resultaat-verzonden")
    for key, n in (("new", "3"), ("updated", "0"), ("unchanged", "0"), ("errors", "0")):
        expect(page.locator(f'[data-count="{key}"]')).to_have_text(n)
    rows = page.get_by_role("table", name="Resultaat per rij").locator("tbody tr")
    expect(rows).to_have_count(3)
    for i, name in enumerate(NEW_NAMES):
        expect(rows.nth(i)).to_contain_text(name)
        expect(rows.nth(i)).to_contain_text("nieuw")
    e2e.step("import-11-resultaat", guide=True)

    # The candidates appear in 'Kandidaten', in the new group the coordinator is linked to.
    e2e.menu("Kandidaten")
    e2e.check("kandidaten-na-import")
    expect(page.get_by_role("status")).to_have_text("6 kandidaten")
    table = page.get_by_role("table", name="Kandidaten die aan het filter voldoen")
    for number, first, prefix, last, email, _birth in NEW_PEOPLE:
        row = table.get_by_role("row", name=re.compile(number))
        expect(row).to_contain_text(f"{last}, {first}" + (f" {prefix}" if prefix else ""))
        expect(row).to_contain_text("Verpleegkunde 2026")
        expect(row).to_contain_text(email)
        expect(row).to_contain_text(re.compile(rf"31 jul {until.year}", re.I))  # 'Jul' or 'jul'
    group = CandidateGroup.objects.get(name="Verpleegkunde 2026")
    assert list(group.coordinators.all()) == [people.coordinator]
    assert list(group.supervisors.all()) == [people.supervisor]
    assert Candidate.objects.filter(groups=group).count() == 3

    e2e.menu("Kandidaatgroepen")
    e2e.step("kandidaatgroepen", guide=True)
    row = page.get_by_role("row", name=re.compile("Verpleegkunde 2026"))
    expect(row.get_by_role("cell").nth(2)).to_have_text("3")
    expect(page.get_by_role("row", name=re.compile("Techniek 2025"))).to_have_count(0)

    e2e.menu("Importgeschiedenis")
    e2e.step("importgeschiedenis", guide=True)
    row = page.get_by_role("row", name=re.compile("kandidaten.xlsx"))
    expect(row).to_contain_text("Fatima el Amrani")
    expect(row).to_contain_text("Voltooid")
    # Nieuw, Bijgewerkt, Ongewijzigd, Fouten: a 0 is shown as 0.
    expect(row.get_by_role("cell").nth(4)).to_have_text("3")
    expect(row.get_by_role("cell").nth(5)).to_have_text("0")
    expect(row.get_by_role("cell").nth(7)).to_have_text("0")
    expect(row).to_contain_text("per e-mail")

    # Sophie logs in with the password from her mail and must choose her own first.
    other = second_page
    e2e.login(Candidate.objects.get(candidate_number="0200001").user, password=password, page=other)
    expect(other.get_by_role("heading", name="Wachtwoord wijzigen")).to_be_visible()
    e2e.step("kandidaat-wachtwoord-wijzigen", guide=True, page=other)
    other.get_by_label("Oud wachtwoord").fill(password)
    other.get_by_label(re.compile(r"^\s*Nieuw wachtwoord\*?\s*$")).fill("Zomer-Fiets-Lantaarn-42")
    other.get_by_label("Nieuw wachtwoord bevestigen").fill("Zomer-Fiets-Lantaarn-42")
    other.get_by_role("button", name="Wachtwoord wijzigen").click()
    other.wait_for_load_state("load")
    expect(other.get_by_role("heading", name="Mijn gegevens")).to_be_visible()
    e2e.step("kandidaat-mijn-gegevens", guide=True, page=other)
    expect(other.get_by_role("alert")).to_have_text("Je wachtwoord is gewijzigd.")
    expect(other.locator("main dl")).to_contain_text("Verpleegkunde 2026")
    expect(other.locator("main dl")).to_contain_text(f"tot en met 31 juli {until.year}")


def bad_and_good_files() -> tuple[bytes, bytes]:
    """A file from the student administration with two mistakes, and the same file fixed."""
    rows = [
        ["0300001", "Yara", "", "Koster", "yara.koster@leerling.example", date(2008, 1, 5)],
        ["0300002", "Levi", "", "", "levi.bos@leerling.example", date(2008, 2, 6)],
        ["0300003", "Mila", "de", "Graaf", "mila.degraaf@leerling", date(2007, 9, 7)],
        ["0300004", "Finn", "", "Peters", "finn.peters@leerling.example", date(2008, 4, 8)],
    ]
    bad = xlsx_bytes(rows, HEADERS)
    rows[1][3] = "Bos"
    rows[2][4] = "mila.degraaf@leerling.example"
    return bad, xlsx_bytes(rows, HEADERS)


def test_file_with_errors_then_fixed_file(e2e, people, tmp_path):
    page = e2e.page
    bad, good = bad_and_good_files()
    (tmp_path / "bad").mkdir()
    (tmp_path / "good").mkdir()
    bad_file, good_file = tmp_path / "bad" / "export.xlsx", tmp_path / "good" / "export.xlsx"
    bad_file.write_bytes(bad)
    good_file.write_bytes(good)

    e2e.login(people.beheerder)
    e2e.check("kandidaten-beheerder")
    e2e.menu("Importeer kandidaten")
    e2e.check("import-start")

    # A wrong kind of file is refused on the first page, with the error on the field.
    wrong = tmp_path / "kandidaten.pdf"
    wrong.write_bytes(b"%PDF-1.4")
    field = page.get_by_label("Importbestand")
    field.set_input_files(wrong)
    next_step(page)
    e2e.check("import-start-fout")
    expect(field).to_have_attribute("aria-invalid", "true")
    expect(field).to_have_accessible_description(
        re.compile(
            r"'kandidaten\.pdf' is geen ondersteund bestand\. Kies een bestand dat eindigt op"
        )
    )
    expect(field).to_be_focused()  # focus-on-load.js: the first error gets the focus

    field.set_input_files(bad_file)
    next_step(page)
    e2e.check("import-kolommen")
    # One field for two columns is refused; the message is announced and tied to the selects.
    prefix_column = page.get_by_label("Veld voor kolom Tussenvoegsel")
    prefix_column.select_option(label="Voornaam")
    next_step(page)
    e2e.check("import-kolommen-fout")
    alert = page.get_by_role("alert")
    expect(alert).to_have_text(
        "'Voornaam' is aan meer dan één kolom gekoppeld: Voornaam, Tussenvoegsel."
    )
    expect(alert).to_be_focused()
    expect(prefix_column).to_have_accessible_description(
        "'Voornaam' is aan meer dan één kolom gekoppeld: Voornaam, Tussenvoegsel."
    )
    e2e.shot("import-kolommen-fout", guide=True)
    prefix_column.select_option(label="Tussenvoegsel")
    next_step(page)

    # Controle: the error table names row, column and value.
    expect(page.get_by_role("heading", name="Controle")).to_be_visible()
    expect(page.locator('[data-count="new"]')).to_have_text("2")
    expect(page.locator('[data-count="errors"]')).to_have_text("2")
    errors = page.get_by_role("table", name="Fouten per rij").locator("tbody tr")
    expect(errors).to_have_count(2)
    expect(errors.nth(0)).to_contain_text("Rij 3, kolom Achternaam: verplicht veld is leeg")
    expect(errors.nth(1)).to_contain_text("Rij 4, kolom E-mailadres: geen geldig e-mailadres")
    expect(errors.nth(1)).to_contain_text("mila.degraaf@leerling")
    e2e.step("import-fouten-controle", guide=True, full_page=True)

    # 'Download de rijen met fouten (.xlsx)': the rows as they were, plus the error.
    with page.expect_download() as download_info:
        page.get_by_role("link", name="Download de rijen met fouten (.xlsx)").click()
    assert download_info.value.suggested_filename == "fouten.xlsx"
    sheet = load_workbook(io.BytesIO(download_info.value.path().read_bytes())).active
    values = list(sheet.iter_rows(values_only=True))
    assert values[0][-1] == "Fout"
    assert [v[0] for v in values[1:]] == ["0300002", "0300003"]

    # 'Volgende stap' without choosing: the error is announced on its field.
    next_step(page)
    e2e.check("import-controle-fout")
    skip = page.get_by_label(
        "Importeer alleen de rijen zonder fouten; sla de rijen met fouten over"
    )
    expect(skip).to_have_attribute("aria-invalid", "true")
    expect(skip).to_have_accessible_description(re.compile("Het bestand bevat fouten."))
    expect(skip).to_be_focused()
    e2e.shot("import-fouten-melding", guide=True)

    # Going back: 'Vorige stap' twice leads to the first page; upload the fixed file.
    page.get_by_role("link", name="Vorige stap").click()
    e2e.check("import-kolommen")
    expect(page.get_by_role("heading", name="Kolommen controleren")).to_be_visible()
    page.get_by_role("link", name="Vorige stap").click()
    e2e.check("import-start")
    page.get_by_label("Importbestand").set_input_files(good_file)
    next_step(page)
    e2e.check("import-kolommen")
    next_step(page)
    e2e.check("import-controle")
    expect(page.locator('[data-count="new"]')).to_have_text("4")
    expect(page.locator('[data-count="errors"]')).to_have_text("0")
    expect(page.get_by_role("table", name="Fouten per rij")).to_have_count(0)

    # The rest with the defaults, into an existing group, login slips for a teacher.
    next_step(page)
    e2e.check("import-wachtwoord")
    next_step(page)
    e2e.check("import-kandidaatgroep")
    page.get_by_label("Selecteer kandidaatgroep").select_option(label="Techniek 2025")
    next_step(page)
    e2e.check("import-begeleiders")
    next_step(page)
    e2e.check("import-geldigheid")
    # An end before the start is refused on the end field.
    page.get_by_label("Geldig tot en met").fill("2020-01-01")
    next_step(page)
    e2e.check("import-geldigheid-fout")
    end = page.get_by_label("Geldig tot en met")
    expect(end).to_have_attribute("aria-invalid", "true")
    expect(end).to_have_accessible_description("De einddatum ligt vóór de begindatum.")
    expect(end).to_be_focused()
    end.fill(date(timezone.localdate().year + 1, 7, 31).isoformat())
    next_step(page)
    e2e.check("import-inloggegevens")
    teacher = page.get_by_label("Niet per e-mail: een docent verstrekt de gegevens")
    expect(teacher).to_be_checked()  # the default
    next_step(page)
    e2e.check("import-bevestigen")
    expect(page.locator("main dl.row").last).to_contain_text(
        "Verstrekt door een docent (afdrukbare inlogbriefjes)"
    )
    page.get_by_role("button", name="Importeer").click()
    page.wait_for_load_state("load")
    expect(page.get_by_text("De import is voltooid.")).to_be_visible()
    e2e.check("import-resultaat")
    expect(page.locator('[data-count="new"]')).to_have_text("4")
    with page.expect_download() as download_info:
        page.get_by_role("link", name="Download de inlogbriefjes (PDF)").click()
    assert download_info.value.suggested_filename == "inlogbriefjes.pdf"
    assert download_info.value.path().read_bytes().startswith(b"%PDF")
    e2e.shot("import-inlogbriefjes", guide=True)
    assert Candidate.objects.filter(groups=people.technical).count() == 6
