"""Beheer → Auditlog (beheerder only): filters, before/after, and every kind of change."""

import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.models import AuditLog, AuditLogSubject, User
from accounts.services import audit

from .helpers.candidates import count_queries, logged_in
from .helpers.imports import people, run_import, xlsx_bytes
from .helpers.two_factor import verified

AUDIT = reverse("candidates:audit")


def listed(response) -> list[AuditLog]:
    return list(response.context["page"].object_list)


def as_beheerder(client, world):
    """Log in, then forget the login's own audit row so the tests see only theirs."""
    logged_in(client, world.beheerder)
    AuditLog.objects.all().delete()
    return client


@pytest.mark.parametrize("role", ["coordinator", "supervisor"])
def test_only_beheerders(client, world, role):
    assert logged_in(client, getattr(world, role)).get(AUDIT).status_code == 403


def test_shows_only_the_own_college(client, world):
    audit(
        action=AuditLog.Action.USER_CHANGED, actor=world.beheerder, target=world.in_own_group.user
    )
    audit(
        action=AuditLog.Action.USER_CHANGED,
        actor=world.outsider,
        target=world.of_other_college.user,
    )
    client = as_beheerder(client, world)
    audit(
        action=AuditLog.Action.USER_CHANGED, actor=world.beheerder, target=world.in_own_group.user
    )
    audit(
        action=AuditLog.Action.USER_CHANGED,
        actor=world.outsider,
        target=world.of_other_college.user,
    )
    response = client.get(AUDIT)
    assert [r.target_user for r in listed(response)] == [world.in_own_group.user]
    assert "kand-foreign" not in response.content.decode()


def test_filters_actor_action_candidate_and_date(client, world):
    client = as_beheerder(client, world)
    old = audit(
        action=AuditLog.Action.STATUS_CHANGED,
        actor=world.coordinator,
        target=world.in_own_group.user,
        before={"is_active": True},
        after={"is_active": False},
    )
    old.created = timezone.now() - timedelta(days=10)
    old.save()
    recent = audit(
        action=AuditLog.Action.PASSWORD_RESET,
        actor=world.beheerder,
        target=world.in_other_group.user,
        after={"method": "generated", "delivery": "mail"},
    )
    assert listed(client.get(AUDIT, {"actor": world.coordinator.pk})) == [old]
    assert listed(client.get(AUDIT, {"action": "password_reset"})) == [recent]
    assert listed(client.get(AUDIT, {"candidate": "KAND-OWN"})) == [old]
    assert listed(client.get(AUDIT, {"candidate": "0000002"})) == [recent]
    today = timezone.localdate()
    assert listed(client.get(AUDIT, {"date_from": today.isoformat()})) == [recent]
    assert listed(client.get(AUDIT, {"date_to": (today - timedelta(days=5)).isoformat()})) == [old]


def test_bad_filters_are_explained_not_a_500(client, world):
    response = logged_in(client, world.beheerder).get(
        AUDIT, {"date_from": "gisteren", "actor": "999999", "action": "hack"}
    )
    assert response.status_code == 200
    page = response.content.decode()
    assert "Voer een geldige datum in." in page
    assert "Selecteer een geldige keuze" in page


def test_shows_before_and_after(client, world):
    audit(
        action=AuditLog.Action.VALIDITY_CHANGED,
        actor=world.beheerder,
        target=world.in_own_group.user,
        before={"valid_until": "2026-07-31"},
        after={"valid_until": "2027-07-31"},
    )
    page = logged_in(client, world.beheerder).get(AUDIT).content.decode()
    assert "Geldigheid gewijzigd" in page
    assert "Geldig tot en met</span>: <del>31 jul 2026</del> → 31 jul 2027" in page


def test_every_kind_of_change_appears(client, world, django_capture_on_commit_callbacks):
    """Edit, password reset, link change, status change and impersonation, done through the
    pages, all land in the log with before and after."""
    candidate = world.in_own_group
    edit = reverse("candidates:edit", args=[candidate.pk])
    client = verified(client, world.beheerder)  # impersonation needs the second factor
    client.post(
        edit,
        {
            "first_name": "Anneke",
            "last_name": "Eigen",
            "email": candidate.user.email,
            "candidate_number": "0000001",
            "is_active": "0",
        },
    )
    client.post(reverse("candidates:password", args=[candidate.pk]), {"mode": "show"})
    client.post(
        reverse("candidates:links", args=[candidate.pk]),
        {"groups": [world.own_group.pk, world.other_group.pk]},
    )
    client.post(reverse("candidates:edit", args=[world.in_other_group.pk]), {})  # invalid: no row
    client.post(reverse("hijack:acquire"), {"user_pk": world.in_other_group.pk, "next": "/"})
    client.post(reverse("hijack:release"), {"next": "/"})

    actions = set(AuditLog.objects.values_list("action", flat=True))
    assert {
        "user_changed",
        "status_changed",
        "password_reset",
        "group_links_changed",
        "impersonation_started",
        "impersonation_ended",
    } <= actions
    page = client.get(AUDIT).content.decode()
    for label in (
        "Gebruiker gewijzigd",
        "Status gewijzigd",
        "Wachtwoord opnieuw ingesteld",
        "Kandidaatgroepen gewijzigd",
        "Ingelogd als andere gebruiker",
        "Terug naar eigen account",
    ):
        assert label in page
    assert "<del>Anna</del> → Anneke" in page
    assert "<del>Zorg 1</del> → Techniek 1, Zorg 1" in page


def test_audit_log_query_count_is_constant(client, world):
    client = logged_in(client, world.beheerder)
    audit(
        action=AuditLog.Action.USER_CHANGED, actor=world.beheerder, target=world.in_own_group.user
    )
    client.get(AUDIT)
    few = count_queries(lambda: client.get(AUDIT))
    for _ in range(30):
        audit(
            action=AuditLog.Action.USER_CHANGED,
            actor=world.coordinator,
            target=world.in_other_group.user,
        )
    assert count_queries(lambda: client.get(AUDIT)) == few


# --- every action's details in words -----------------------------------------------------------

BATCH = "8f0c6a52-3c1e-4d3f-9a57-2f1e0c4b7a11"


def _changes(page: str) -> list[str]:
    """The 'Wijziging' items of the only row, tags stripped, links kept as [text](url)."""
    items = re.findall(r"<li><span class=\"fw-semibold\">(.*?)</li>", page, re.S)
    out = []
    for item in items:
        item = re.sub(r'<a href="([^"]+)">(.*?)</a>', r"[\2](\1)", item)
        item = re.sub(r"<del>(.*?)</del>", r"(\1)", item)
        out.append(re.sub(r"<[^>]+>", "", item).replace("&#x27;", "'"))
    return out


def _details(world, **row):
    row.setdefault("actor", world.beheerder)
    row.setdefault("organisation", world.college)
    audit(**row)
    return row


def _expected(world) -> dict[str, tuple[dict, list[str]]]:
    """For each action: an audit row as the services write it, and what the log shows."""
    w = world
    group_url = reverse("candidates:group_detail", args=[w.own_group.pk])
    return {
        "user_created": (
            {
                "target": w.in_own_group.user,
                "after": {
                    "role": "kandidaat",
                    "candidate_number": "0000001",
                    "groups": ["Zorg 1"],
                    "batch": BATCH,
                },
            },
            [
                "Rol: Kandidaat",
                "Kandidaatnummer: 0000001",
                "Kandidaatgroepen: Zorg 1",
                "Import: niet zichtbaar voor jou",
            ],
        ),
        "user_changed": (
            {
                "target": w.in_own_group.user,
                "before": {"first_name": "Anna", "birth_date": None},
                "after": {"first_name": "Anneke", "birth_date": "2008-02-29"},
            },
            ["Voornaam: (Anna) → Anneke", "Geboortedatum: (—) → 29 feb 2008"],
        ),
        "role_changed": (
            {
                "target": w.supervisor,
                "before": {"role": "begeleider"},
                "after": {"role": "toetscoordinator"},
            },
            ["Rol: (Begeleider) → Toetscoördinator"],
        ),
        "status_changed": (
            {
                "target": w.in_own_group.user,
                "before": {"is_active": True},
                "after": {"is_active": False},
            },
            ["Actief: (ja) → nee"],
        ),
        "validity_changed": (
            {
                "target": w.in_own_group.user,
                "before": {"valid_until": "2026-07-31"},
                "after": {"valid_until": "2027-07-31"},
            },
            ["Geldig tot en met: (31 jul 2026) → 31 jul 2027"],
        ),
        "password_reset": (
            {"target": w.in_own_group.user, "after": {"by": "self"}},
            ["Gewijzigd door: de gebruiker zelf"],
        ),
        "group_links_changed": (
            {
                "target": w.coordinator,
                "before": {"coordinated_groups": ["Zorg 1"]},
                "after": {"coordinated_groups": []},
            },
            ["Groepen als toetscoördinator: (Zorg 1) → —"],
        ),
        "supervisor_links_changed": (
            {
                "target": w.in_own_group.user,
                "before": {"supervisors": []},
                "after": {"supervisors": ["begel"]},
            },
            ["Begeleiders: (—) → begel"],
        ),
        "group_created": (
            {
                "target_repr": "Zorg 2",
                "after": {"name": "Zorg 2", "coordinators": ["coord"], "supervisors": []},
            },
            ["Naam: Zorg 2", "Toetscoördinatoren: coord", "Begeleiders: —"],
        ),
        "group_changed": (
            {
                "target_repr": "Zorg 1",
                "before": {"education_area": ""},
                "after": {"education_area": "Zorg en welzijn"},
            },
            ["Opleidingsgebied: (—) → Zorg en welzijn"],
        ),
        "import_started": (
            {
                "target_repr": "klas.xlsx",
                "after": {
                    "batch": BATCH,
                    "password_mode": "generate",
                    "existing_passwords": "keep",
                    "must_change_password": True,
                    "active": True,
                    "group_id": w.own_group.pk,
                    "new_group_name": "",
                    "supervisor_ids": [w.supervisor.pk, 7],
                    "link_supervisors_directly": False,
                    "valid_from": None,
                    "valid_until": "2027-07-31",
                    "send_credentials": False,
                    "report_email": "b@example.nl",
                    "skip_invalid": True,
                    "restarted_from": "failed",
                },
            },
            [
                "Import: niet zichtbaar voor jou",
                "Wachtwoorden: gegenereerd",
                "Wachtwoorden van bestaande kandidaten: behouden",
                "Wachtwoord wijzigen bij volgende login: ja",
                "Accounts actief: ja",
                f"Kandidaatgroep: [Zorg 1]({group_url})",
                "Nieuwe kandidaatgroep: —",
                "Aantal begeleiders: 2",
                "Begeleiders direct aan de kandidaten gekoppeld: nee",
                "Geldig van: —",
                "Geldig tot en met: 31 jul 2027",
                "Inloggegevens gemaild: nee",
                "Rapport naar: b@example.nl",
                "Rijen met fouten overgeslagen: ja",
                "Opnieuw gestart; status was: Mislukt",
            ],
        ),
        "import_finished": (
            {
                "target_repr": "klas.xlsx",
                "after": {
                    "batch": BATCH,
                    "rows": 12,
                    "new": 10,
                    "updated": 1,
                    "unchanged": 1,
                    "errors": 0,
                    "skipped": 0,
                    "created_ids": 10,
                },
            },
            [
                "Import: niet zichtbaar voor jou",
                "Rijen: 12",
                "Nieuw: 10",
                "Gewijzigd: 1",
                "Ongewijzigd: 1",
                "Met fouten: 0",
                "Overgeslagen: 0",
                "Aangemaakte kandidaten: 10",
            ],
        ),
        "import_failed": (
            {
                "target_repr": "klas.xlsx",
                "after": {"batch": BATCH, "reason": "Het bestand is niet meer beschikbaar."},
            },
            ["Import: niet zichtbaar voor jou", "Reden: Het bestand is niet meer beschikbaar."],
        ),
        "import_undone": (
            {
                "target_repr": "klas.xlsx",
                "after": {
                    "batch": BATCH,
                    "deleted": 8,
                    "deactivated": 2,
                    "restored": 1,
                    "links_removed": 3,
                    "groups_removed": 1,
                    "conflicts": 1,
                    "hidden": 0,
                    "passwords_kept": 0,
                },
            },
            [
                "Import: niet zichtbaar voor jou",
                "Verwijderde accounts: 8",
                "Gedeactiveerde accounts: 2",
                "Kandidaten met hun vorige gegevens terug: 1",
                "Verwijderde koppelingen: 3",
                "Verwijderde kandidaatgroepen: 1",
                "Conflicten, ongewijzigd gelaten: 1",
                "Niet zichtbaar, ongewijzigd gelaten: 0",
                "Wachtwoorden niet teruggezet: 0",
            ],
        ),
        "login": ({"target": w.beheerder}, []),
        "login_failed": ({"actor": None, "target_repr": "onbekend"}, []),
        "impersonation_started": ({"target": w.in_own_group.user}, []),
        "impersonation_ended": ({"target": w.in_own_group.user}, []),
        "settings_changed": (
            {
                "target_repr": "ROC Midden",
                "before": {
                    "password_format": "mixed",
                    "education_areas": ["Zorg"],
                    "two_factor_roles": ["beheerder"],
                },
                "after": {
                    "password_format": "lower",
                    "education_areas": ["Techniek", "Zorg"],
                    "two_factor_roles": ["beheerder", "toetscoordinator"],
                },
            },
            [
                "Soort gegenereerde wachtwoorden: (Hoofdletters, kleine letters en cijfers) → "
                "Alleen kleine letters en cijfers (minimaal 14 tekens)",
                "Opleidingsgebieden: (Zorg) → Techniek, Zorg",
                "Tweestapsverificatie verplicht voor: (Beheerder) → Beheerder, Toetscoördinator",
            ],
        ),
        "account_expired": (
            {
                "actor": None,
                "target": w.in_own_group.user,
                "before": {"is_active": True},
                "after": {"is_active": False, "valid_until": "2026-07-31"},
            },
            ["Actief: (ja) → nee", "Geldig tot en met: 31 jul 2026"],
        ),
        "two_factor_enrolled": (
            {
                "actor": w.coordinator,
                "target": w.coordinator,
                "before": {"two_factor": "none"},
                "after": {"two_factor": "set"},
            },
            ["Tweestapsverificatie: (niet ingesteld) → ingesteld"],
        ),
        "two_factor_failed": (
            {
                "actor": w.coordinator,
                "target": w.coordinator,
                "after": {"two_factor_failure": "throttled"},
            },
            ["Reden: te snel na een onjuiste code"],
        ),
        "two_factor_reset": (
            {
                "target": w.coordinator,
                "before": {"two_factor": "set"},
                "after": {"two_factor": "none"},
            },
            ["Tweestapsverificatie: (ingesteld) → niet ingesteld"],
        ),
        "recovery_code_used": (
            {"actor": w.coordinator, "target": w.coordinator, "after": {"recovery_codes_left": 9}},
            ["Herstelcodes over: 9"],
        ),
        "recovery_codes_renewed": ({"actor": w.coordinator, "target": w.coordinator}, []),
        "data_exported": ({"target": w.in_own_group.user}, []),
        "group_archived": (
            {
                "target_repr": "Zorg 1",
                "after": {"group_id": w.own_group.pk, "members": 12, "members_deactivated": 3},
            },
            [f"Kandidaatgroep: [Zorg 1]({group_url})", "Leden: 12", "Leden gedeactiveerd: 3"],
        ),
        "group_restored": (
            {"target_repr": "Zorg 1", "after": {"group_id": w.own_group.pk}},
            [f"Kandidaatgroep: [Zorg 1]({group_url})"],
        ),
        "school_year_started": (
            {
                "target_repr": "ROC Midden",
                "after": {
                    "valid_until": "2027-07-31",
                    "extended_groups": ["Zorg 1"],
                    "archived_groups": ["Techniek 1"],
                    "extended": 40,
                },
            },
            [
                "Geldig tot en met: 31 jul 2027",
                "Groepen verlengd: Zorg 1",
                "Groepen gearchiveerd: Techniek 1",
                "Kandidaten verlengd: 40",
            ],
        ),
        "accounts_deleted": (
            {"after": {"accounts": 3, "group": "Zorg 1"}},
            ["Aantal accounts: 3", "Kandidaatgroep: Zorg 1"],
        ),
        "accounts_anonymised": (
            {"actor": None, "after": {"accounts": 12, "retention_months": 12}},
            ["Aantal accounts: 12", "Bewaartermijn na einde geldigheid (maanden): 12"],
        ),
        "audit_purged": (
            {"actor": None, "after": {"audit_rows": 40, "audit_retention_months": 24}},
            ["Aantal auditregels: 40", "Bewaartermijn auditlog (maanden): 24"],
        ),
        "exam_login": (
            {"target": w.in_own_group.user, "after": {"exam_environment": "Toetsspeler"}},
            ["Toetsomgeving: Toetsspeler"],
        ),
        "exam_login_refused": (
            {
                "target": w.in_own_group.user,
                "after": {"exam_environment": "Toetsspeler", "refusal": "expired"},
            },
            ["Toetsomgeving: Toetsspeler", "Reden van weigering: account verlopen"],
        ),
        "exam_env_created": (
            {
                "target_repr": "Toetsspeler",
                "after": {
                    "client_id": "abc123",
                    "name": "Toetsspeler",
                    "redirect_uris": ["https://toets.example.nl/cb"],
                    "post_logout_redirect_uris": [],
                    "allow_staff": False,
                    "enabled": True,
                },
            },
            [
                "Client-ID: abc123",
                "Naam: Toetsspeler",
                "Terugstuuradressen: https://toets.example.nl/cb",
                "Adressen na uitloggen: —",
                "Medewerkers mogen inloggen: nee",
                "Toetsomgeving aan: ja",
            ],
        ),
        "exam_env_changed": (
            {
                "target_repr": "Toetsspeler",
                "before": {"enabled": True},
                "after": {"enabled": False},
            },
            ["Toetsomgeving aan: (ja) → nee"],
        ),
        "exam_env_secret": (
            {"target_repr": "Toetsspeler", "after": {"client_id": "abc123"}},
            ["Client-ID: abc123"],
        ),
    }


@pytest.mark.parametrize("action", AuditLog.Action.values)
def test_each_action_shows_its_details_in_dutch(client, world, action):
    client = as_beheerder(client, world)
    row, shown = _expected(world)[action]
    _details(world, action=action, **row)
    page = client.get(AUDIT).content.decode()
    # Shown in the order of the labels table, whatever order the database kept the keys in.
    assert sorted(_changes(page)) == sorted(shown)
    for key in ("by:", "self", "rows", "created_ids", "unchanged", "batch", "_id"):
        assert key not in re.sub(r'href="[^"]+"', "", "".join(_changes(page)))


def test_every_action_is_covered(world):
    assert set(_expected(world)) == set(AuditLog.Action.values)


def test_a_visible_import_and_candidate_are_links(client, world):
    from imports.models import ImportBatch

    batch = ImportBatch.objects.create(
        organisation=world.college, created_by=world.beheerder, file_name="klas 1.xlsx"
    )
    client = as_beheerder(client, world)
    audit(
        action=AuditLog.Action.USER_CREATED,
        actor=world.beheerder,
        target=world.in_own_group.user,
        after={"batch": str(batch.pk)},
    )
    page = client.get(AUDIT).content.decode()
    result = reverse("imports:result", args=[batch.pk])
    assert _changes(page) == [f"Import: [klas 1.xlsx]({result})"]
    edit = reverse("candidates:edit", args=[world.in_own_group.pk])
    assert f'<td><a href="{edit}">' in page


def test_the_history_on_the_profile_uses_the_same_words(client, world):
    client = logged_in(client, world.coordinator)
    audit(
        action=AuditLog.Action.PASSWORD_RESET,
        actor=world.in_own_group.user,
        target=world.in_own_group.user,
        after={"by": "self"},
    )
    page = client.get(reverse("candidates:edit", args=[world.in_own_group.pk])).content.decode()
    assert "Gewijzigd door</span>: de gebruiker zelf" in page


def _table(page: str) -> str:
    return re.search(r"<tbody>.*?</tbody>", page, re.S).group(0)


def test_an_imported_candidate_shows_its_part_of_the_import_as_a_row_of_its_own(client, world):
    """An import is one audit row with a subject per candidate. For one candidate, the history
    and the log filtered on them show exactly what a row of its own per candidate showed."""
    client = as_beheerder(client, world)
    rows = people(2, start=700)
    run_import(world.beheerder, xlsx_bytes(rows), group_id=world.own_group.pk)
    rows[0][3] = "Nieuwenhuis"
    run_import(world.beheerder, xlsx_bytes(rows), group_id=world.own_group.pk)
    user = User.objects.get(username="rocm-0000700")
    assert AuditLogSubject.objects.count() == 3
    assert not AuditLog.objects.filter(action__in=["user_created", "user_changed"]).exists()
    edit = reverse("candidates:edit", args=[user.candidate.pk])
    filtered = f"{AUDIT}?candidate=0000700"
    history, log = client.get(edit).content.decode(), client.get(filtered).content.decode()
    response = client.get(filtered)
    assert [(r.action, r.target_user, r.actor) for r in listed(response)] == [
        ("user_changed", user, world.beheerder),
        ("user_created", user, world.beheerder),
    ]
    assert "<del>Achternaam700</del> → Nieuwenhuis" in history
    assert "0000700" in _table(history)
    only_created = client.get(f"{filtered}&action=user_created")
    assert [r.action for r in listed(only_created)] == ["user_created"]
    unfiltered = [r.action for r in listed(client.get(AUDIT))]
    assert unfiltered.count("import_finished") == 2 and "user_created" not in unfiltered

    # The same rows written the old way, one AuditLog row per candidate, render the same.
    for subject in AuditLogSubject.objects.filter(user=user):
        row = subject.as_row()
        row.pk = None
        row.save()
    AuditLogSubject.objects.all().delete()
    assert _table(client.get(edit).content.decode()) == _table(history)
    assert _table(client.get(filtered).content.decode()) == _table(log)


def test_details_follow_the_labels_table_whatever_order_they_were_stored_in(client, world):
    client = as_beheerder(client, world)
    audit(
        action=AuditLog.Action.USER_CHANGED,
        actor=world.beheerder,
        target=world.in_own_group.user,
        before={"email": "", "last_name": "Eigen", "first_name": "Anna"},
        after={"email": "anna@example.nl", "last_name": "Eigenaar", "first_name": "Anneke"},
    )
    labels = [item.split(":")[0] for item in _changes(client.get(AUDIT).content.decode())]
    assert labels == ["Voornaam", "Achternaam", "E-mailadres"]
