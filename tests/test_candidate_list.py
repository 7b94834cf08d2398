"""Beheer → Kandidaten: search, filters, sorting, paging, bulk actions and query counts."""

import pytest
from django.contrib.auth.hashers import check_password, identify_hasher
from django.core import mail
from django.urls import reverse

from accounts.models import AuditLog, OutgoingMail

from .factories import CandidateFactory, GroupFactory
from .helpers.candidates import (
    count_queries,
    days,
    logged_in,
    make_candidate,
    make_candidates,
    pdf_pages,
    read_xlsx,
    rows,
)

LIST = reverse("candidates:list")


def names(response) -> list[str]:
    return [c.user.username for c in response.context["page"].object_list]


# --- Visibility and counts ---------------------------------------------------------------------


def test_beheerder_sees_every_candidate_of_own_college(client, world):
    response = logged_in(client, world.beheerder).get(LIST)
    assert response.status_code == 200
    assert sorted(names(response)) == ["kand-direct", "kand-other", "kand-own"]
    assert "3 kandidaten" in response.content.decode()
    assert "kand-foreign" not in response.content.decode()


def test_coordinator_sees_only_own_group_and_counts_do_not_leak(client, world):
    make_candidates(world.college, world.other_group, 7)
    response = logged_in(client, world.coordinator).get(LIST)
    page = response.content.decode()
    assert names(response) == ["kand-own"]
    assert "1 kandidaat" in page
    # The other group's name is neither a filter option nor shown in a row.
    assert "Techniek 1" not in page


def test_coordinator_sees_only_own_group_names_of_a_shared_candidate(client, world):
    world.in_own_group.groups.add(world.other_group)
    page = logged_in(client, world.coordinator).get(LIST).content.decode()
    assert "Zorg 1" in page
    assert "Techniek 1" not in page


def test_filter_on_a_group_not_visible_is_ignored_with_a_message(client, world):
    response = logged_in(client, world.coordinator).get(LIST, {"group": world.other_group.pk})
    assert names(response) == ["kand-own"]
    assert "Selecteer een geldige keuze" in response.content.decode()


def test_row_links_to_wijzig_deze_gebruiker(client, world):
    page = logged_in(client, world.beheerder).get(LIST).content.decode()
    assert "Wijzig deze gebruiker" in page
    assert reverse("candidates:edit", args=[world.in_own_group.pk]) in page


# --- Search -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "query",
    ["emile", "ÉMILE", "Rousseau", "rocm-0777", "0000777", "emile@school.example", "emil rouss"],
)
def test_search_ignores_accents_and_case(client, world, query):
    make_candidate(
        world,
        candidate_number="0000777",
        user__username="rocm-0777",
        user__first_name="Émile",
        user__last_name="Rousseau",
        user__email="emile@school.example",
    )
    response = logged_in(client, world.beheerder).get(LIST, {"q": query})
    assert names(response) == ["rocm-0777"]


def test_search_finds_nothing_outside_visibility(client, world):
    response = logged_in(client, world.coordinator).get(LIST, {"q": "Ander"})
    assert names(response) == []
    assert "Geen kandidaten gevonden." in response.content.decode()


# --- Filters ----------------------------------------------------------------------------------


def test_status_filter(client, world):
    world.in_other_group.user.is_active = False
    world.in_other_group.user.save()
    client = logged_in(client, world.beheerder)
    assert names(client.get(LIST, {"status": "inactive"})) == ["kand-other"]
    assert sorted(names(client.get(LIST, {"status": "active"}))) == ["kand-direct", "kand-own"]


def test_validity_filters(client, world):
    def set_until(candidate, until):
        candidate.user.valid_until = until
        candidate.user.save()

    set_until(world.in_own_group, days(10))  # expires within 30 days
    set_until(world.in_other_group, days(-1))  # expired
    set_until(world.directly_linked, days(100))  # valid
    client = logged_in(client, world.beheerder)
    assert names(client.get(LIST, {"validity": "expiring"})) == ["kand-own"]
    assert names(client.get(LIST, {"validity": "expired"})) == ["kand-other"]
    assert sorted(names(client.get(LIST, {"validity": "valid"}))) == ["kand-direct", "kand-own"]


def test_group_filter_and_without_group(client, world):
    orphan = make_candidate(world, groups=[], user__username="kand-zonder")
    client = logged_in(client, world.beheerder)
    assert names(client.get(LIST, {"group": world.own_group.pk})) == ["kand-own"]
    assert names(client.get(LIST, {"group": "none"})) == [orphan.user.username]


def test_sort_on_name_and_number(client, world):
    client = logged_in(client, world.beheerder)
    # Ander, Direct, Eigen
    assert names(client.get(LIST, {"sort": "name"})) == ["kand-other", "kand-direct", "kand-own"]
    assert names(client.get(LIST, {"sort": "-name"})) == ["kand-own", "kand-direct", "kand-other"]
    assert names(client.get(LIST, {"sort": "-number"})) == [
        "kand-direct",
        "kand-other",
        "kand-own",
    ]


def test_pagination_and_bad_page_number(client, world):
    make_candidates(world.college, world.own_group, 30)
    client = logged_in(client, world.coordinator)
    assert len(names(client.get(LIST, {"per_page": 25}))) == 25
    assert len(names(client.get(LIST, {"per_page": 25, "page": 2}))) == 6
    # Junk in the query string gives a page, not a 500.
    response = client.get(LIST, {"page": "abc", "per_page": "7", "sort": "x", "validity": "?"})
    assert response.status_code == 200


# --- Speed: a constant number of queries -------------------------------------------------------


@pytest.mark.parametrize("role", ["beheerder", "coordinator"])
def test_list_query_count_does_not_grow_with_rows(client, world, role):
    client = logged_in(client, getattr(world, role))
    client.get(LIST)  # warm up the session
    few = count_queries(lambda: client.get(LIST))
    for candidate in make_candidates(world.college, world.own_group, 40):
        candidate.groups.add(world.other_group)
    many = count_queries(lambda: client.get(LIST, {"per_page": 100}))
    assert few == many
    assert many <= 12


# --- Bulk actions -----------------------------------------------------------------------------


def bulk(client, action, candidates, **extra):
    data = {"action": action, "ids": [c.pk for c in candidates], **extra}
    return client.post(LIST + "?q=&sort=name", data)


def test_deactivate_and_activate_selection(client, world):
    client = logged_in(client, world.beheerder)
    response = bulk(client, "deactivate", [world.in_own_group, world.in_other_group])
    assert response.status_code == 302
    assert response["Location"] == LIST + "?q=&sort=name"
    world.in_own_group.user.refresh_from_db()
    assert world.in_own_group.user.is_active is False
    audit = rows(AuditLog.Action.STATUS_CHANGED, world.in_own_group)
    assert audit[0].before == {"is_active": True}
    assert audit[0].after == {"is_active": False}
    assert audit[0].actor == world.beheerder
    bulk(client, "activate", [world.in_own_group])
    world.in_own_group.user.refresh_from_db()
    assert world.in_own_group.user.is_active is True
    page = client.get(LIST).content.decode()
    assert "Status: 1 van 1 geselecteerde kandidaat gewijzigd." in page


def test_extend_validity(client, world):
    client = logged_in(client, world.coordinator)
    until = days(200)
    bulk(client, "extend", [world.in_own_group], valid_until=until.isoformat())
    world.in_own_group.user.refresh_from_db()
    assert world.in_own_group.user.valid_until == until
    (row,) = rows(AuditLog.Action.VALIDITY_CHANGED, world.in_own_group)
    assert row.before == {"valid_until": None}
    assert row.after == {"valid_until": until.isoformat()}


def test_extend_validity_and_activate_expired_accounts(client, world):
    user = world.in_own_group.user
    user.is_active, user.valid_until = False, days(-5)
    user.save()
    bulk(
        logged_in(client, world.beheerder),
        "extend",
        [world.in_own_group],
        valid_until=days(300).isoformat(),
        also_activate="on",
    )
    user.refresh_from_db()
    assert (user.is_active, user.valid_until) == (True, days(300))


def test_extend_needs_a_future_date(client, world):
    client = logged_in(client, world.beheerder)
    response = bulk(client, "extend", [world.in_own_group], valid_until=days(-1).isoformat())
    assert response.status_code == 200
    assert "De nieuwe einddatum mag niet in het verleden liggen." in response.content.decode()
    response = bulk(client, "extend", [world.in_own_group], valid_until="31-02-2027")
    assert response.status_code == 200
    assert "Voer een geldige datum in." in response.content.decode()
    assert rows(AuditLog.Action.VALIDITY_CHANGED) == []


def test_link_and_unlink_group(client, world):
    client = logged_in(client, world.beheerder)
    bulk(client, "link", [world.in_own_group, world.in_other_group], group=world.other_group.pk)
    assert set(world.in_own_group.groups.all()) == {world.own_group, world.other_group}
    # in_other_group was already a member: no change, no audit row.
    (row,) = rows(AuditLog.Action.GROUP_LINKS_CHANGED)
    assert row.before == {"groups": ["Zorg 1"]}
    assert row.after == {"groups": ["Techniek 1", "Zorg 1"]}
    bulk(client, "unlink", [world.in_own_group], group=world.own_group.pk)
    assert list(world.in_own_group.groups.all()) == [world.other_group]


def test_coordinator_cannot_link_to_a_group_not_theirs(client, world):
    response = bulk(
        logged_in(client, world.coordinator),
        "link",
        [world.in_own_group],
        group=world.other_group.pk,
    )
    assert response.status_code == 200
    assert "Selecteer een geldige keuze" in response.content.decode()
    assert list(world.in_own_group.groups.all()) == [world.own_group]


def test_coordinator_unlink_warns_before_orphaning(client, world):
    client = logged_in(client, world.coordinator)
    response = bulk(client, "unlink", [world.in_own_group], group=world.own_group.pk)
    assert response.status_code == 200
    assert "1 kandidaat is na het ontkoppelen niet meer voor jou zichtbaar" in (
        response.content.decode()
    )
    assert list(world.in_own_group.groups.all()) == [world.own_group]
    response = bulk(
        client, "unlink", [world.in_own_group], group=world.own_group.pk, confirm_orphan="on"
    )
    assert response.status_code == 302
    assert list(world.in_own_group.groups.all()) == []


def test_coordinator_unlink_without_orphans_needs_no_confirmation(client, world):
    second = GroupFactory(organisation=world.college, coordinators=[world.coordinator])
    world.in_own_group.groups.add(second)
    response = bulk(
        logged_in(client, world.coordinator), "unlink", [world.in_own_group], group=second.pk
    )
    assert response.status_code == 302
    assert list(world.in_own_group.groups.all()) == [world.own_group]


def test_mail_new_credentials(client, world, django_capture_on_commit_callbacks):
    no_mail = make_candidate(world, user__email="", user__username="kand-nomail")
    client = logged_in(client, world.coordinator)
    with django_capture_on_commit_callbacks(execute=True):
        bulk(client, "mail_credentials", [world.in_own_group, no_mail])
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == [world.in_own_group.user.email]
    assert "Gebruikersnaam: kand-own" in message.body
    password = message.body.split("Wachtwoord: ")[1].split("\n")[0]
    user = world.in_own_group.user
    user.refresh_from_db()
    assert check_password(password, user.password)
    assert identify_hasher(user.password).algorithm == "pbkdf2_sha256_generated"
    sent = OutgoingMail.objects.get(recipient_user=user)
    assert sent.status == OutgoingMail.Status.SENT and sent.secret is None
    # The candidate without an address keeps the old password, and the page says so.
    no_mail.user.refresh_from_db()
    assert check_password("Correct-Paard-Batterij-7", no_mail.user.password)
    page = client.get(LIST).content.decode()
    assert "Zonder e-mailadres, wachtwoord niet gewijzigd" in page
    (row,) = rows(AuditLog.Action.PASSWORD_RESET)
    assert row.target_user == user
    assert row.after == {"method": "generated", "delivery": "mail"}
    assert password not in str(row.after)


def test_print_slips_gives_a_pdf_and_stores_no_password(client, world):
    client = logged_in(client, world.beheerder)
    response = bulk(client, "print_credentials", [world.in_own_group, world.in_other_group])
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Cache-Control"] == "no-store, private"
    assert response.content.startswith(b"%PDF")
    assert pdf_pages(response.content) == 2  # two groups, each on its own page
    assert OutgoingMail.objects.count() == 0
    world.in_own_group.user.refresh_from_db()
    assert not check_password("Correct-Paard-Batterij-7", world.in_own_group.user.password)
    assert len(rows(AuditLog.Action.PASSWORD_RESET)) == 2


def test_export_xlsx_writes_text_never_formulas(client, world):
    nasty = make_candidate(
        world,
        candidate_number="0012345",
        user__first_name='=HYPERLINK("http://evil.example","klik")',
        user__last_name="+31 6 1234",
    )
    response = bulk(logged_in(client, world.beheerder), "export", [nasty, world.in_own_group])
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith('attachment; filename="kandidaten-')
    ws, values = read_xlsx(response.content)
    assert values[0][:3] == ["Kandidaatnummer", "Gebruikersnaam", "Voornaam"]
    row = next(r for r in values if r[0] == "0012345")
    assert row[2] == '=HYPERLINK("http://evil.example","klik")'
    assert row[4] == "+31 6 1234"
    for cells in ws.iter_rows(min_row=2):
        for cell in cells:
            assert cell.data_type != "f"
            assert cell.value is None or isinstance(cell.value, str)
    # Sorted by last name ('+31 6 1234' before 'Eigen'), numbers keep their leading zeros.
    assert [r[0] for r in values[1:]] == ["0012345", "0000001"]


def test_selection_outside_visibility_is_ignored(client, world):
    client = logged_in(client, world.coordinator)
    response = bulk(client, "deactivate", [world.in_other_group, world.of_other_college])
    assert response.status_code == 200
    assert "Selecteer eerst een of meer kandidaten." in response.content.decode()
    world.in_other_group.user.refresh_from_db()
    world.of_other_college.user.refresh_from_db()
    assert world.in_other_group.user.is_active and world.of_other_college.user.is_active
    # Mixed with a visible one: only the visible one changes.
    bulk(client, "deactivate", [world.in_own_group, world.of_other_college])
    world.of_other_college.user.refresh_from_db()
    assert world.of_other_college.user.is_active
    assert len(rows(AuditLog.Action.STATUS_CHANGED)) == 1


def test_no_selection_or_no_action_gives_dutch_errors(client, world):
    client = logged_in(client, world.beheerder)
    response = client.post(LIST, {"action": "deactivate"})
    assert "Selecteer eerst een of meer kandidaten." in response.content.decode()
    response = client.post(LIST, {"ids": [world.in_own_group.pk], "action": "explode"})
    assert response.status_code == 200
    assert "Selecteer een geldige keuze" in response.content.decode()
    # The checked rows stay checked after an error.
    assert f'value="{world.in_own_group.pk}" id="sel-{world.in_own_group.pk}" checked' in (
        response.content.decode()
    )


def test_expired_filter_counts_only_visible(client, world):
    CandidateFactory(
        organisation=world.other_college,
        groups=[world.foreign_group],
        user__valid_until=days(-3),
    )
    response = logged_in(client, world.beheerder).get(LIST, {"validity": "expired"})
    assert response.context["page"].paginator.count == 0


# --- markup from templates ---------------------------------------------------------------------


def test_rows_and_fields_come_from_templates(client, world):
    """The list's rows and fields are templates; the widgets carry Bootstrap's classes."""
    response = logged_in(client, world.beheerder).get(LIST, {"validity": "nonsense"})
    used = {t.name for t in response.templates}
    assert {"candidates/_list_rows.html", "candidates/_field.html"} <= used
    html = response.content.decode()
    assert '<select name="validity" class="form-select is-invalid"' in html
    assert '<input type="text" name="q" maxlength="200" class="form-control"' in html


def test_no_template_tag_builds_html_in_python():
    from pathlib import Path

    import candidates.templatetags as tags

    for module in Path(tags.__file__).parent.glob("*.py"):
        source = module.read_text()
        assert "mark_safe" not in source and "format_html" not in source, module.name
