"""Small template helpers for the Beheer pages: links that keep the current filters, and
audit rows shown as 'field: before → after' in Dutch."""

from __future__ import annotations

from datetime import date

from django import template
from django.utils.formats import date_format
from django.utils.translation import gettext_lazy as _

from accounts.models import AuditLog, CollegeSignIn, Organisation, Role
from accounts.oidc.rules import Refusal

from ..audit_registry import VALUE_LABELS as REGISTERED_VALUE_LABELS

register = template.Library()

# A label for every key that an audit row's before/after can hold (accounts, candidates and
# imports services write them); tests/test_audit_log.py renders one row of every action.
FIELD_LABELS = {
    "first_name": _("Voornaam"),
    "surname_prefix": _("Tussenvoegsel"),
    "last_name": _("Achternaam"),
    "email": _("E-mailadres"),
    "username": _("Gebruikersnaam"),
    "candidate_number": _("Kandidaatnummer"),
    "birth_date": _("Geboortedatum"),
    "is_active": _("Actief"),
    "valid_from": _("Geldig van"),
    "valid_until": _("Geldig tot en met"),
    "groups": _("Kandidaatgroepen"),
    "supervisors": _("Begeleiders"),
    "coordinators": _("Toetscoördinatoren"),
    "coordinated_groups": _("Groepen als toetscoördinator"),
    "supervised_groups": _("Groepen als begeleider"),
    "role": _("Rol"),
    "name": _("Naam"),
    "education_area": _("Opleidingsgebied"),
    "education_areas": _("Opleidingsgebieden"),
    "must_change_password": _("Wachtwoord wijzigen bij volgende login"),
    "method": _("Wachtwoord"),
    "delivery": _("Verstrekt via"),
    "by": _("Gewijzigd door"),
    "school_year_end_day": _("Einde schooljaar: dag"),
    "school_year_end_month": _("Einde schooljaar: maand"),
    "password_length": _("Lengte van gegenereerde wachtwoorden"),
    "password_format": _("Soort gegenereerde wachtwoorden"),
    "username_pattern": _("Patroon voor gebruikersnamen"),
    "coordinators_may_create_groups": _("Toetscoördinatoren mogen groepen aanmaken"),
    "mail_sender_name": _("Naam van de afzender"),
    "mail_reply_to": _("Antwoordadres"),
    "credentials_mail_text": _("Tekst van de mail met inloggegevens"),
    "report_password": _("Wachtwoord voor importresultaten"),
    # The college's sign-in provider (Instellingen → Inlogdienst) and the sign-ins through it.
    "sign_in_enabled": _("Inloggen via de inlogdienst"),
    "sign_in_issuer": _("Issuer-URL van de inlogdienst"),
    "sign_in_client_id": _("Client-ID"),
    "sign_in_client_secret": _("Clientgeheim"),
    "sign_in_display_name": _("Naam op de knop"),
    "sign_in_claim": _("Wie iemand is, volgt uit"),
    "sign_in_staff_only": _("Medewerkers alleen via de eigen inlogdienst"),
    "sign_in": _("Ingelogd via"),
    "two_factor_roles": _("Tweestapsverificatie verplicht voor"),
    "two_factor": _("Tweestapsverificatie"),
    "two_factor_failure": _("Reden"),
    "recovery_codes_left": _("Herstelcodes over"),
    # Imports: the wizard's choices, the outcome, the reason it failed.
    "batch": _("Import"),
    "restarted_from": _("Opnieuw gestart; status was"),
    "password_mode": _("Wachtwoorden"),
    "existing_passwords": _("Wachtwoorden van bestaande kandidaten"),
    "active": _("Accounts actief"),
    "group_id": _("Kandidaatgroep"),
    "new_group_name": _("Nieuwe kandidaatgroep"),
    "supervisor_ids": _("Aantal begeleiders"),
    "link_supervisors_directly": _("Begeleiders direct aan de kandidaten gekoppeld"),
    "send_credentials": _("Inloggegevens gemaild"),
    "report_email": _("Rapport naar"),
    "skip_invalid": _("Rijen met fouten overgeslagen"),
    "rows": _("Rijen"),
    "new": _("Nieuw"),
    "updated": _("Gewijzigd"),
    "unchanged": _("Ongewijzigd"),
    "errors": _("Met fouten"),
    "skipped": _("Overgeslagen"),
    "created_ids": _("Aangemaakte kandidaten"),
    "reason": _("Reden"),
    # The turn of the school year: archiving groups, extending validity.
    "members": _("Leden"),
    "members_deactivated": _("Leden gedeactiveerd"),
    "extended_groups": _("Groepen verlengd"),
    "archived_groups": _("Groepen gearchiveerd"),
    "extended": _("Kandidaten verlengd"),
    # Undoing an import: what it did, as counts (never names).
    "deleted": _("Verwijderde accounts"),
    "deactivated": _("Gedeactiveerde accounts"),
    "restored": _("Kandidaten met hun vorige gegevens terug"),
    "links_removed": _("Verwijderde koppelingen"),
    "groups_removed": _("Verwijderde kandidaatgroepen"),
    "conflicts": _("Conflicten, ongewijzigd gelaten"),
    "hidden": _("Niet zichtbaar, ongewijzigd gelaten"),
    "passwords_kept": _("Wachtwoorden niet teruggezet"),
    # Retention and deletion: counts and settings, never who.
    "accounts": _("Aantal accounts"),
    "group": _("Kandidaatgroep"),
    "audit_rows": _("Aantal auditregels"),
    "retention_months": _("Bewaartermijn na einde geldigheid (maanden)"),
    "retention_action": _("Daarna"),
    "audit_retention_months": _("Bewaartermijn auditlog (maanden)"),
    "coordinators_may_delete": _("Toetscoördinatoren mogen kandidaten verwijderen"),
    # Exam environments (candidates.services.exam_environments, accounts.oidc.views).
    "exam_environment": _("Toetsomgeving"),
    "refusal": _("Reden van weigering"),
    "client_id": _("Client-ID"),
    "redirect_uris": _("Terugstuuradressen"),
    "post_logout_redirect_uris": _("Adressen na uitloggen"),
    "allow_staff": _("Medewerkers mogen inloggen"),
    "enabled": _("Toetsomgeving aan"),
}
FIELD_ORDER = {key: position for position, key in enumerate(FIELD_LABELS)}

VALUE_LABELS = {
    "method": {"typed": _("zelf ingesteld"), "generated": _("gegenereerd")},
    "delivery": {"mail": _("e-mail"), "slip": _("inlogbriefje"), "shown": _("eenmalig getoond")},
    "by": {"self": _("de gebruiker zelf")},
    "role": dict(Role.choices),
    "password_format": dict(Organisation._meta.get_field("password_format").flatchoices),
    "report_password": {"none": _("niet ingesteld"), "set": _("ingesteld"), "new": _("nieuw")},
    "sign_in_client_secret": {
        "none": _("niet ingesteld"),
        "set": _("ingesteld"),
        "new": _("nieuw"),
    },
    "sign_in_claim": dict(CollegeSignIn.Claim.choices),
    "sign_in": {"college_idp": _("de inlogdienst van de school")},
    # Refused sign-ins: through the college's provider (these) and at exam environments.
    "refusal": {
        **dict(Refusal.choices),
        "no_account": _("geen medewerkersaccount van deze school"),
        "candidate": _("kandidaataccount"),
        "inactive": _("account inactief"),
        "expired": _("account verlopen"),
        "not_yet_valid": _("account nog niet geldig"),
        "ambiguous": _("meer accounts met dezelfde gegevens"),
        "no_claim": _("de inlogdienst gaf geen e-mailadres of gebruikersnaam"),
        "provider_error": _("fout van de inlogdienst of ongeldig antwoord"),
    },
    "two_factor_roles": dict(Role.choices),
    "two_factor": {"none": _("niet ingesteld"), "set": _("ingesteld")},
    "two_factor_failure": {
        "wrong": _("onjuiste code"),
        "throttled": _("te snel na een onjuiste code"),
    },
    "retention_action": dict(Organisation._meta.get_field("retention_action").flatchoices),
}  # the imports app adds its own (candidates.audit_registry)
DATE_KEYS = {"valid_from", "valid_until", "birth_date"}
COUNT_KEYS = {"supervisor_ids"}  # a list of ids, shown as how many
LINK_KEYS = {"batch": "batches", "group_id": "groups"}  # shown by name, linked when visible


def _show(key: str, value, links: dict) -> tuple[str, str | None]:
    """(text, url or None) of one value."""
    if value is True:
        return str(_("ja")), None
    if value is False:
        return str(_("nee")), None
    if value is None or value == "" or value == []:
        return "—", None
    if key in COUNT_KEYS:
        return str(len(value)), None
    if key in LINK_KEYS:
        # What the viewer may not see is named, never linked or identified.
        return links.get(LINK_KEYS[key], {}).get(
            str(value), (str(_("niet zichtbaar voor jou")), None)
        )
    labels = VALUE_LABELS.get(key) or REGISTERED_VALUE_LABELS.get(key, {})
    if isinstance(value, list):
        return ", ".join(str(labels.get(v, v) if isinstance(v, str) else v) for v in value), None
    if key in DATE_KEYS and isinstance(value, str):
        try:
            return date_format(date.fromisoformat(value), "j b Y"), None
        except ValueError:
            return value, None
    if isinstance(value, str) and value in labels:
        return str(labels[value]), None
    return str(value), None


@register.simple_tag
def audit_changes(row, links: dict | None = None) -> list[tuple]:
    """(label, before, before_url, after, after_url, has_before) for every key of a row."""
    before, after, links = row.before or {}, row.after or {}, links or {}
    # In the order of FIELD_LABELS, not the stored order: PostgreSQL's jsonb keeps no order.
    keys = sorted({*before, *after}, key=lambda k: (FIELD_ORDER.get(k, len(FIELD_ORDER)), k))
    return [
        (
            str(FIELD_LABELS.get(k, k)),
            *_show(k, before.get(k), links),
            *_show(k, after.get(k), links),
            k in before,
        )
        for k in keys
    ]


@register.simple_tag
def audit_action(row) -> str:
    """The action column: 'Ingelogd bij Toetsspeler' names the exam environment."""
    name = (row.after or {}).get("exam_environment")
    if row.action == AuditLog.Action.EXAM_LOGIN and name:
        return _("Ingelogd bij %(name)s") % {"name": name}
    return row.get_action_display()


@register.filter
def get_item(mapping: dict | None, key):
    return (mapping or {}).get(key)


@register.simple_tag(takes_context=True)
def query_with(context, **changes) -> str:
    """The current query string with some parameters replaced; None removes one. A new
    filter or sort order starts again at page 1."""
    query = context["request"].GET.copy()
    if "page" not in changes:
        query.pop("page", None)
    for key, value in changes.items():
        if value is None or value == "":
            query.pop(key, None)
        else:
            query[key] = value
    encoded = query.urlencode()
    return f"?{encoded}" if encoded else "?"


@register.simple_tag
def next_sort(current: str, column: str) -> str:
    """Clicking a sorted column reverses it."""
    return f"-{column}" if current == column else column


@register.simple_tag
def aria_sort(current: str, column: str) -> str:
    if current == column:
        return "ascending"
    if current == f"-{column}":
        return "descending"
    return "none"
