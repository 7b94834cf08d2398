"""The wizard through the Django test client: every step, going back, two tabs, double click."""

import io
from datetime import datetime

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from openpyxl import Workbook, load_workbook

from accounts.models import OutgoingMail
from candidates.models import Candidate, CandidateGroup
from imports.example import COLUMNS, EXAMPLE
from imports.models import ImportBatch
from imports.options import ImportOptions

from .helpers.imports import HEADERS, people, run_import, xlsx_bytes
from .helpers.workers import page_text

pytestmark = pytest.mark.django_db


def upload(client, data: bytes, name="kandidaten.xlsx"):
    return client.post(reverse("imports:start"), {"file": SimpleUploadedFile(name, data)})


def login(client, user):
    client.force_login(user)


def walk_to_confirm(client, batch, *, group=None, new_group="", supervisors=(), email=False):
    pk = batch.pk
    assert client.post(reverse("imports:check", args=[pk]), {}).status_code == 302
    assert (
        client.post(
            reverse("imports:password", args=[pk]),
            {"password_mode": "generate", "existing_passwords": "keep"},
        ).status_code
        == 302
    )
    data = {"status": "active", "group": group.pk if group else "", "new_group_name": new_group}
    assert client.post(reverse("imports:group", args=[pk]), data).status_code == 302
    assert (
        client.post(
            reverse("imports:supervisors", args=[pk]), {"supervisors": [s.pk for s in supervisors]}
        ).status_code
        == 302
    )
    assert (
        client.post(
            reverse("imports:validity", args=[pk]),
            {"valid_from": "2026-11-28", "valid_until": "2027-07-31"},
        ).status_code
        == 302
    )
    assert (
        client.post(
            reverse("imports:credentials", args=[pk]),
            {"send_credentials": "email" if email else "teacher"},
        ).status_code
        == 302
    )


def test_example_file(client, world):
    login(client, world.beheerder)
    response = client.get(reverse("imports:example"))
    assert response.status_code == 200
    wb = load_workbook(io.BytesIO(response.content))
    assert wb.sheetnames == ["Kandidaten", "Toelichting"]
    ws = wb["Kandidaten"]
    headers = [c.value for c in ws[1]]
    assert headers[:4] == ["Kandidaatnummer *", "Voornaam *", "Tussenvoegsel", "Achternaam *"]
    example_row = [c.value for c in ws[2]]
    assert example_row[0] == EXAMPLE["candidate_number"]  # text, leading zeros kept
    assert [v.date() if isinstance(v, datetime) else v for v in example_row] == [
        EXAMPLE[name] or None for name in COLUMNS
    ]
    assert ws["A2"].number_format == "@"
    assert ws["F2"].is_date
    # The template's own headers map without any change.
    from imports.fields import suggest_mapping

    assert set(suggest_mapping(headers).values()) == set(COLUMNS)


def test_full_wizard_as_beheerder(client, world, django_capture_on_commit_callbacks):
    login(client, world.beheerder)
    response = upload(client, xlsx_bytes(people(3, start=50), title="Export 2026"))
    assert response.status_code == 302
    batch = ImportBatch.objects.get()
    assert response["Location"] == reverse("imports:mapping", args=[batch.pk])
    assert batch.header_row == 2
    page = client.get(response["Location"]).content.decode()
    assert "Controleer of de gegevens in de linker- en rechterkolom overeenkomen" in page
    assert "Voornaam50" in page  # sample values
    mapping = {f"col_{i}": f for i, f in batch.mapping.items()}
    assert client.post(reverse("imports:mapping", args=[batch.pk]), mapping).status_code == 302
    check = client.get(reverse("imports:check", args=[batch.pk])).content.decode()
    assert 'data-count="new">3<' in check
    walk_to_confirm(client, batch, group=world.own_group, supervisors=[world.supervisor])
    confirm = client.get(reverse("imports:confirm", args=[batch.pk])).content.decode()
    assert "Zorg 1" in confirm
    assert "Importeer" in confirm
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("imports:confirm", args=[batch.pk]), {"report_email": "rapport@rocm.example"}
        )
    assert response["Location"] == reverse("imports:result", args=[batch.pk])
    batch.refresh_from_db()
    assert batch.status == ImportBatch.Status.DONE
    result = client.get(response["Location"]).content.decode()
    assert "De import is voltooid." in result
    assert Candidate.objects.filter(groups=world.own_group).count() == 4
    slips = client.get(reverse("imports:slips", args=[batch.pk]))
    assert slips.status_code == 200
    assert b"".join(slips.streaming_content).startswith(b"%PDF")


def test_mapping_requires_required_fields(client, world):
    login(client, world.beheerder)
    upload(client, xlsx_bytes(people(1)))
    batch = ImportBatch.objects.get()
    response = client.post(
        reverse("imports:mapping", args=[batch.pk]),
        {"col_0": "candidate_number", "col_1": "first_name"},
    )
    assert response.status_code == 200
    assert (
        "Koppel een kolom aan het verplichte veld &#x27;Achternaam&#x27;."
        in response.content.decode()
    )
    response = client.post(
        reverse("imports:mapping", args=[batch.pk]),
        {
            "col_0": "candidate_number",
            "col_1": "first_name",
            "col_2": "first_name",
            "col_3": "last_name",
        },
    )
    assert (
        "&#x27;Voornaam&#x27; is aan meer dan één kolom gekoppeld: Voornaam, Tussenvoegsel."
        in response.content.decode()
    )


def test_changed_mapping_is_remembered_for_same_headers(client, world):
    login(client, world.beheerder)
    headers = ["Nr", "Naam", "Familienaam"]
    upload(client, xlsx_bytes([["1", "Jan", "Berg"]], headers=headers))
    first = ImportBatch.objects.get()
    assert first.mapping == {}
    client.post(
        reverse("imports:mapping", args=[first.pk]),
        {"col_0": "candidate_number", "col_1": "first_name", "col_2": "last_name"},
    )
    upload(client, xlsx_bytes([["2", "Piet", "Bos"]], headers=headers))
    second = ImportBatch.objects.exclude(pk=first.pk).get()
    assert second.mapping == {"0": "candidate_number", "1": "first_name", "2": "last_name"}


def test_errors_shown_with_row_and_column_and_downloadable(client, world):
    login(client, world.beheerder)
    rows = people(3, start=60)
    rows[1][3] = ""
    rows[2][4] = "+cmd|' /C calc'!A0"  # DDE payload: must come back as text
    upload(client, xlsx_bytes(rows))
    batch = ImportBatch.objects.get()
    page = client.get(reverse("imports:check", args=[batch.pk])).content.decode()
    assert "Rij 3, kolom Achternaam: verplicht veld is leeg" in page
    assert "Rij 4, kolom E-mailadres: geen geldig e-mailadres" in page
    assert 'data-count="errors">2<' in page
    response = client.post(reverse("imports:check", args=[batch.pk]), {})
    assert "Het bestand bevat fouten." in response.content.decode()
    errors = client.get(reverse("imports:errors", args=[batch.pk]))
    ws = load_workbook(io.BytesIO(errors.content)).active
    values = list(ws.iter_rows(values_only=True))
    assert values[0][-1] == "Fout"
    assert [v[0] for v in values[1:]] == ["0000061", "0000062"]
    assert values[2][4] == "+cmd|' /C calc'!A0"
    assert all(c.data_type != "f" for row in ws.iter_rows() for c in row)
    # Choose to import only the valid rows.
    assert (
        client.post(reverse("imports:check", args=[batch.pk]), {"skip_invalid": "on"}).status_code
        == 302
    )
    assert ImportOptions.from_json(ImportBatch.objects.get().options).skip_invalid is True


def test_going_back_keeps_choices(client, world):
    login(client, world.beheerder)
    upload(client, xlsx_bytes(people(1, start=70)))
    batch = ImportBatch.objects.get()
    walk_to_confirm(client, batch, group=world.other_group)
    page = client.get(reverse("imports:group", args=[batch.pk])).content.decode()
    assert f'<option value="{world.other_group.pk}" selected>' in page
    page = client.get(reverse("imports:validity", args=[batch.pk])).content.decode()
    assert 'value="2027-07-31"' in page


def test_two_tabs_never_mix(client, world):
    login(client, world.beheerder)
    upload(client, xlsx_bytes(people(1, start=80)), name="a.xlsx")
    upload(client, xlsx_bytes(people(2, start=90)), name="b.xlsx")
    a, b = ImportBatch.objects.get(file_name="a.xlsx"), ImportBatch.objects.get(file_name="b.xlsx")
    client.post(
        reverse("imports:group", args=[a.pk]), {"status": "active", "group": world.own_group.pk}
    )
    client.post(
        reverse("imports:group", args=[b.pk]), {"status": "inactive", "group": world.other_group.pk}
    )
    a.refresh_from_db()
    b.refresh_from_db()
    assert (a.options["group_id"], a.options["active"]) == (world.own_group.pk, True)
    assert (b.options["group_id"], b.options["active"]) == (world.other_group.pk, False)


def test_double_click_imports_once(client, world, django_capture_on_commit_callbacks):
    login(client, world.beheerder)
    upload(client, xlsx_bytes(people(2, start=95)))
    batch = ImportBatch.objects.get()
    walk_to_confirm(client, batch, group=world.own_group)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        client.post(reverse("imports:confirm", args=[batch.pk]), {"report_email": "a@b.nl"})
        second = client.post(
            reverse("imports:confirm", args=[batch.pk]), {"report_email": "a@b.nl"}
        )
    assert second.status_code == 404  # no longer a draft
    assert len([c for c in callbacks if "_send_task" in repr(c)]) <= 1
    assert Candidate.objects.filter(candidate_number__in=["0000095", "0000096"]).count() == 2


def test_new_group_button_selects_the_new_group_in_the_dropdown(client, world):
    login(client, world.coordinator)
    upload(client, xlsx_bytes(people(1, start=97)))
    batch = ImportBatch.objects.get()
    url = reverse("imports:group", args=[batch.pk])
    response = client.post(
        url,
        {
            "status": "active",
            "group": "",
            "new_group_name": "  Verpleegkunde   2027 ",
            "create_group": "1",
        },
    )
    assert response["Location"] == url
    page = client.get(url).content.decode()
    # The dropdown says what was chosen; the name field is empty again for another name.
    assert '<option value="nieuw" selected>Verpleegkunde 2027 (nieuw)</option>' in page
    assert '<option value="" selected>' not in page
    assert 'name="new_group_name" value=' not in page
    # One banner says it, not two.
    assert page.count("Verpleegkunde 2027") == 2  # the option and the banner
    assert page.count('role="status"') == 1
    assert "Gekozen: nieuwe kandidaatgroep 'Verpleegkunde 2027'" in page
    assert not CandidateGroup.objects.filter(name="Verpleegkunde 2027").exists()
    batch.refresh_from_db()
    assert (batch.options["new_group_name"], batch.options["group_id"]) == (
        "Verpleegkunde 2027",
        None,
    )
    # 'Volgende stap' with the dropdown as shown keeps the new group.
    response = client.post(url, {"status": "active", "group": "nieuw", "new_group_name": ""})
    assert response["Location"] == reverse("imports:supervisors", args=[batch.pk])
    batch.refresh_from_db()
    assert batch.options["new_group_name"] == "Verpleegkunde 2027"
    supervisors = client.get(response["Location"]).content.decode()
    assert (
        "De begeleiders worden aan de kandidaatgroep &#x27;Verpleegkunde 2027&#x27; gekoppeld."
        in supervisors
    )
    # Choosing an existing group instead drops the new one.
    client.post(url, {"status": "active", "group": world.own_group.pk, "new_group_name": ""})
    batch.refresh_from_db()
    assert (batch.options["new_group_name"], batch.options["group_id"]) == (
        "",
        world.own_group.pk,
    )
    page = client.get(url).content.decode()
    assert f'<option value="{world.own_group.pk}" selected>Zorg 1</option>' in page
    assert "(nieuw)" not in page


def test_new_group_button_with_the_name_of_an_own_group_selects_it(client, world):
    login(client, world.coordinator)
    upload(client, xlsx_bytes(people(1, start=96)))
    batch = ImportBatch.objects.get()
    url = reverse("imports:group", args=[batch.pk])
    client.post(
        url, {"status": "active", "group": "", "new_group_name": "zorg 1", "create_group": "1"}
    )
    page = client.get(url).content.decode()
    assert f'<option value="{world.own_group.pk}" selected>Zorg 1</option>' in page
    assert page.count("De bestaande kandidaatgroep &#x27;Zorg 1&#x27; is gekozen.") == 1
    assert "(nieuw)" not in page
    assert (
        CandidateGroup.objects.filter(name__iexact="zorg 1", organisation=world.college).count()
        == 1
    )


COORDINATOR_WARNING = (
    "Let op: voeg de kandidaten direct toe aan een kandidaatgroep waaraan je als "
    "toetscoördinator gekoppeld bent. Als je dit niet doet, zijn de kandidatenaccounts na het "
    "importeren niet meer voor jou zichtbaar."
)


def test_coordinator_without_a_group_is_refused_at_the_group_step(client, world):
    login(client, world.coordinator)
    upload(client, xlsx_bytes(people(2, start=98)))
    batch = ImportBatch.objects.get()
    url = reverse("imports:group", args=[batch.pk])
    response = client.post(url, {"status": "active", "group": "", "new_group_name": ""})
    assert response.status_code == 200
    page = response.content.decode()
    # The wizard's warning for coordinators, once: as the error of the group field, in place of
    # the usual note.
    assert page.count("niet meer voor jou zichtbaar") == 1
    assert (
        COORDINATOR_WARNING + " Een nieuwe groep die je hier maakt, wordt aan jou gekoppeld."
    ).replace("'", "&#x27;") in page
    assert 'aria-invalid="true"' in page and 'name="group"' in page
    # With a group of their own the step passes.
    response = client.post(url, {"status": "active", "group": world.own_group.pk})
    assert response["Location"] == reverse("imports:supervisors", args=[batch.pk])


def test_coordinator_who_may_not_create_groups_is_told_to_choose_one(client, world):
    world.college.coordinators_may_create_groups = False
    world.college.save()
    login(client, world.coordinator)
    upload(client, xlsx_bytes(people(1, start=101)))
    batch = ImportBatch.objects.get()
    response = client.post(reverse("imports:group", args=[batch.pk]), {"status": "active"})
    page = response.content.decode()
    assert page.count("niet meer voor jou zichtbaar") == 1
    assert "Een nieuwe groep die je hier maakt" not in page


def test_coordinator_whose_file_names_their_group_needs_no_group_here(client, world):
    login(client, world.coordinator)
    rows = [[*row, "Zorg 1"] for row in people(2, start=102)]
    upload(client, xlsx_bytes(rows, headers=[*HEADERS, "Kandidaatgroep"]))
    batch = ImportBatch.objects.get()
    assert "group" in batch.mapping.values()
    response = client.post(reverse("imports:group", args=[batch.pk]), {"status": "active"})
    assert response["Location"] == reverse("imports:supervisors", args=[batch.pk])
    page = client.get(response["Location"]).content.decode()
    assert "Je hebt geen kandidaatgroep gekozen." in page


def test_beheerder_may_import_without_a_group(client, world):
    login(client, world.beheerder)
    upload(client, xlsx_bytes(people(1, start=104)))
    batch = ImportBatch.objects.get()
    response = client.post(reverse("imports:group", args=[batch.pk]), {"status": "active"})
    assert response["Location"] == reverse("imports:supervisors", args=[batch.pk])
    page = client.get(response["Location"]).content.decode()
    assert (
        "Je hebt geen kandidaatgroep gekozen. Begeleiders worden dan alleen gekoppeld als je "
        "ze ook direct aan de kandidaten koppelt." in page
    )
    assert "De begeleiders worden aan de kandidaatgroep" not in page


def test_coordinator_confirm_blocked_once_when_group_is_lost_later(client, world):
    login(client, world.coordinator)
    upload(client, xlsx_bytes(people(1, start=98)))
    batch = ImportBatch.objects.get()
    walk_to_confirm(client, batch, group=world.own_group)
    world.own_group.coordinators.remove(world.coordinator)  # unlinked meanwhile
    response = client.post(reverse("imports:confirm", args=[batch.pk]), {"report_email": "c@d.nl"})
    assert response.status_code == 200
    assert response.content.decode().count("niet meer voor jou zichtbaar") == 1
    batch.refresh_from_db()
    assert batch.status == ImportBatch.Status.DRAFT


def test_unreadable_upload_gets_dutch_message(client, world):
    login(client, world.beheerder)
    response = upload(client, b"%PDF-1.4 not a spreadsheet", name="lijst.xlsx")
    assert response.status_code == 200
    assert "PDF" in response.content.decode()
    assert ImportBatch.objects.count() == 0


def test_wrong_extension(client, world):
    login(client, world.beheerder)
    response = upload(client, b"hello", name="lijst.docx")
    assert "is geen ondersteund bestand" in response.content.decode()


def test_english_example_file_maps_without_changes(client, world):
    from django.utils import translation

    from imports.example import example_workbook
    from imports.fields import suggest_mapping

    with translation.override("en"):
        wb = load_workbook(io.BytesIO(example_workbook()))
    headers = [c.value for c in wb["Kandidaten"][1]]
    assert headers[0] == "Candidate number *"
    assert set(suggest_mapping(headers).values()) == set(COLUMNS)


def test_new_group_button_without_a_name_says_so(client, world):
    login(client, world.beheerder)
    upload(client, xlsx_bytes(people(1, start=99)))
    batch = ImportBatch.objects.get()
    response = client.post(
        reverse("imports:group", args=[batch.pk]),
        {"status": "active", "group": "", "new_group_name": " ", "create_group": "1"},
    )
    assert response.status_code == 200
    assert "Typ eerst de naam van de nieuwe kandidaatgroep." in response.content.decode()


def test_history_shows_dates_in_dutch(client, world, django_capture_on_commit_callbacks):
    run_import(
        world.beheerder,
        xlsx_bytes(people(1, start=110)),
        group_id=world.own_group.pk,
        valid_until=__import__("datetime").date(2027, 7, 31),
    )
    login(client, world.beheerder)
    page = client.get(reverse("imports:history")).content.decode()
    assert "geldig tot 31 jul 2027" in page


def test_progress_follows_the_mails_after_the_import(client, world):
    batch = run_import(
        world.beheerder, xlsx_bytes(people(1, start=120)), group_id=world.own_group.pk
    )
    assert batch.status == ImportBatch.Status.DONE
    OutgoingMail.objects.filter(batch_id=batch.pk).delete()
    status = OutgoingMail.Status

    def mail(state, error=""):
        return OutgoingMail.objects.create(
            kind=OutgoingMail.Kind.CREDENTIALS,
            batch_id=batch.pk,
            to="k@leerling.example",
            subject="Inloggegevens",
            status=state,
            last_error=error,
        )

    mails = [
        mail(status.SENT),
        mail(status.PENDING),
        mail(status.PENDING, "SMTPServerDisconnected: 421 try again later"),
        mail(status.FAILED, "550 Mailbox unavailable"),
    ]
    OutgoingMail.objects.create(  # another batch's mail counts nowhere here
        kind=OutgoingMail.Kind.CREDENTIALS, to="x@y.nl", subject="x", status=status.PENDING
    )
    login(client, world.beheerder)
    progress = reverse("imports:progress", args=[batch.pk])
    data = client.get(progress).json()
    assert data["status"] == "done"
    assert data["mail"] == {"sent": 1, "pending": 2, "failed": 1, "retrying": 1}
    page = client.get(reverse("imports:result", args=[batch.pk])).content.decode()
    assert '<ul id="mail-counts" data-pending="2" data-failed="1">' in page
    assert '<span data-mail="retrying">1</span>' in page
    assert '<li data-mail-item="retrying">' in page  # not hidden
    OutgoingMail.objects.filter(pk__in=[m.pk for m in mails[1:3]]).update(
        status=status.SENT, last_error=""
    )
    assert client.get(progress).json()["mail"] == {
        "sent": 3,
        "pending": 0,
        "failed": 1,
        "retrying": 0,
    }
    page = client.get(reverse("imports:result", args=[batch.pk])).content.decode()
    assert '<ul id="mail-counts" data-pending="0" data-failed="1">' in page
    assert '<li data-mail-item="retrying" hidden>' in page


# --- The file's group column: create the missing groups, or ignore the column ----------------

CLASS_HEADERS = [*HEADERS, "Klas"]


def class_file(start: int) -> bytes:
    classes = ["VP2A", "VP2A", "VP2B", "Zorg 1"]
    rows = [[*row, klas] for row, klas in zip(people(4, start=start), classes, strict=True)]
    return xlsx_bytes(rows, headers=CLASS_HEADERS)


def test_check_offers_to_create_the_missing_groups_or_ignore_the_column(client, world):
    login(client, world.beheerder)
    upload(client, class_file(130))
    batch = ImportBatch.objects.get()
    assert batch.mapping["6"] == "group"
    url = reverse("imports:check", args=[batch.pk])
    page = client.get(url).content.decode()
    assert (
        "In de kolom 'Klas' staan kandidaatgroepen die niet bestaan of waaraan je niet "
        "gekoppeld bent:" in page
    )
    assert "<li>VP2A: 2 kandidaten</li>" in page and "<li>VP2B: 1 kandidaat</li>" in page
    assert "Maak de ontbrekende kandidaatgroepen aan: VP2A, VP2B (2 groepen, 3 kandidaten)" in page
    assert "Negeer deze kolom" in page
    assert "aan jou gekoppeld" not in page  # a beheerder's groups are not linked to them
    assert 'data-count="errors">3<' in page

    # Create: stored on the batch, and the check shown again with the new counts.
    response = client.post(url, {"group_column": "create"})
    assert response["Location"] == url
    options = ImportOptions.from_json(ImportBatch.objects.get().options)
    assert (options.create_groups, options.ignore_group_column) == (True, False)
    page = client.get(url).content.decode()
    assert 'data-count="errors">0<' in page and 'data-count="new">4<' in page
    assert (
        "De ontbrekende kandidaatgroepen worden bij het importeren aangemaakt: VP2A, VP2B." in page
    )
    assert "Negeer deze kolom" not in page

    # Taken back, then the column ignored.
    client.post(url, {"group_column": "undo"})
    assert 'data-count="errors">3<' in client.get(url).content.decode()
    client.post(url, {"group_column": "ignore"})
    options = ImportOptions.from_json(ImportBatch.objects.get().options)
    assert (options.create_groups, options.ignore_group_column) == (False, True)
    page = client.get(url).content.decode()
    assert 'data-count="errors">0<' in page and 'data-count="new">4<' in page
    assert "De kolom 'Klas' wordt genegeerd" in page
    assert not CandidateGroup.objects.filter(name__in=["VP2A", "VP2B"]).exists()


def test_coordinator_is_told_the_new_groups_are_linked_to_them(client, world):
    login(client, world.coordinator)
    upload(client, class_file(140))
    batch = ImportBatch.objects.get()
    url = reverse("imports:check", args=[batch.pk])
    page = client.get(url).content.decode()
    assert (
        "Als je de groepen aanmaakt, worden ze aan jou gekoppeld: zo blijven de kandidaten voor "
        "jou zichtbaar." in page
    )
    client.post(url, {"group_column": "create"})
    page = client.get(url).content.decode()
    assert "Ze worden aan jou gekoppeld." in page
    # Every row lands in a group of theirs (own or new): no group needed at step 5.
    response = client.post(reverse("imports:group", args=[batch.pk]), {"status": "active"})
    assert response["Location"] == reverse("imports:supervisors", args=[batch.pk])


def test_coordinator_who_may_not_create_groups_can_only_ignore_the_column(client, world):
    world.college.coordinators_may_create_groups = False
    world.college.save()
    login(client, world.coordinator)
    upload(client, class_file(150))
    batch = ImportBatch.objects.get()
    url = reverse("imports:check", args=[batch.pk])
    page = client.get(url).content.decode()
    assert "Negeer deze kolom" in page
    assert "Maak de ontbrekende kandidaatgroepen aan" not in page
    client.post(url, {"group_column": "create"})  # forged: refused, nothing stored
    options = ImportOptions.from_json(ImportBatch.objects.get().options)
    assert (options.create_groups, options.ignore_group_column) == (False, False)


def test_file_without_missing_groups_offers_nothing(client, world):
    login(client, world.beheerder)
    rows = [[*row, "Zorg 1"] for row in people(2, start=160)]
    upload(client, xlsx_bytes(rows, headers=CLASS_HEADERS))
    batch = ImportBatch.objects.get()
    page = client.get(reverse("imports:check", args=[batch.pk])).content.decode()
    assert "Kandidaatgroepen uit het bestand" not in page


def test_result_page_counts_the_candidates_per_group(client, world):
    batch = run_import(world.beheerder, class_file(170), create_groups=True)
    assert batch.status == ImportBatch.Status.DONE
    assert batch.counts["groups"] == [
        {"name": "VP2A", "count": 2},
        {"name": "VP2B", "count": 1},
        {"name": "Zorg 1", "count": 1},
    ]
    login(client, world.beheerder)
    response = client.get(reverse("imports:result", args=[batch.pk]))
    text = page_text(response)
    assert "Kandidaten per kandidaatgroep Kandidaatgroep Kandidaten VP2A 2 VP2B 1 Zorg 1 1" in text


# --- Sheets ------------------------------------------------------------------------------------


def two_sheet_workbook() -> bytes:
    """An instruction sheet, last year's candidates and this year's: two sheets with a header."""
    wb = Workbook()
    wb.active.title = "Uitleg"
    wb.active.append(["Vul de kandidaten in op het tabblad Kandidaten."])
    for title, rows in (("Vorig jaar", people(1, start=180)), ("Kandidaten", people(2, start=190))):
        ws = wb.create_sheet(title)
        ws.append(HEADERS)
        for row in rows:
            ws.append(row)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def test_mapping_says_which_sheet_was_read_and_lets_the_user_choose(client, world):
    login(client, world.beheerder)
    upload(client, two_sheet_workbook())
    batch = ImportBatch.objects.get()
    url = reverse("imports:mapping", args=[batch.pk])
    page = client.get(url).content.decode()
    assert "Gelezen werkblad: Vorig jaar" in page
    assert "Voornaam180" in page and "Voornaam190" not in page
    assert '<option value="Vorig jaar" selected>Vorig jaar</option>' in page
    assert '<option value="Kandidaten">Kandidaten</option>' in page
    assert "Uitleg" not in page  # no header there: nothing to choose

    response = client.post(url, {"sheet": "Kandidaten"})
    assert response["Location"] == url
    batch.refresh_from_db()
    assert (batch.sheet_name, batch.header_row, batch.headers) == ("Kandidaten", 1, HEADERS)
    page = client.get(url).content.decode()
    assert "Gelezen werkblad: Kandidaten" in page
    assert "Voornaam190" in page and "Voornaam180" not in page
    mapping = {f"col_{i}": f for i, f in batch.mapping.items()}
    client.post(url, mapping)
    check = client.get(reverse("imports:check", args=[batch.pk])).content.decode()
    assert 'data-count="new">2<' in check and "Voornaam191" in check


def test_a_sheet_that_is_not_offered_is_refused(client, world):
    login(client, world.beheerder)
    upload(client, two_sheet_workbook())
    batch = ImportBatch.objects.get()
    client.post(reverse("imports:mapping", args=[batch.pk]), {"sheet": "Uitleg"})
    batch.refresh_from_db()
    assert batch.sheet_name == "Vorig jaar"


def test_one_sheet_is_named_without_a_choice_and_csv_names_none(client, world):
    from .helpers.imports import csv_bytes

    login(client, world.beheerder)
    upload(client, xlsx_bytes(people(1, start=200)))
    batch = ImportBatch.objects.get()
    page = client.get(reverse("imports:mapping", args=[batch.pk])).content.decode()
    assert "Gelezen werkblad: Kandidaten" in page
    assert 'name="sheet"' not in page
    upload(client, csv_bytes(people(1, start=201)), name="lijst.csv")
    csv_batch = ImportBatch.objects.get(file_name="lijst.csv")
    page = client.get(reverse("imports:mapping", args=[csv_batch.pk])).content.decode()
    assert "Gelezen werkblad" not in page
