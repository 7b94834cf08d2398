"""Small template helpers for the Beheer pages: links that keep the current filters, and
audit rows shown as 'field: before → after' in Dutch."""

from __future__ import annotations

from django import template
from django.utils.translation import gettext_lazy as _

register = template.Library()

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
    "school_year_end_day": _("Einde schooljaar: dag"),
    "school_year_end_month": _("Einde schooljaar: maand"),
    "password_length": _("Lengte van gegenereerde wachtwoorden"),
    "password_format": _("Soort gegenereerde wachtwoorden"),
    "username_pattern": _("Patroon voor gebruikersnamen"),
    "coordinators_may_create_groups": _("Toetscoördinatoren mogen groepen aanmaken"),
    "mail_sender_name": _("Naam van de afzender"),
    "mail_reply_to": _("Antwoordadres"),
    "credentials_mail_text": _("Tekst van de mail met inloggegevens"),
}
VALUE_LABELS = {
    "typed": _("zelf ingesteld"),
    "generated": _("gegenereerd"),
    "mail": _("e-mail"),
    "slip": _("inlogbriefje"),
    "shown": _("eenmalig getoond"),
    "beheerder": _("Beheerder"),
    "toetscoordinator": _("Toetscoördinator"),
    "begeleider": _("Begeleider"),
    "kandidaat": _("Kandidaat"),
}


def _show(value) -> str:
    if value is True:
        return str(_("ja"))
    if value is False:
        return str(_("nee"))
    if value is None or value == "" or value == []:
        return "—"
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    if isinstance(value, str) and value in VALUE_LABELS:
        return str(VALUE_LABELS[value])
    return str(value)


@register.filter
def audit_changes(row) -> list[tuple[str, str, str, bool]]:
    """(label, before, after, has_before) for every key of an audit row."""
    before, after = row.before or {}, row.after or {}
    keys = list(dict.fromkeys([*before, *after]))
    return [
        (str(FIELD_LABELS.get(k, k)), _show(before.get(k)), _show(after.get(k)), k in before)
        for k in keys
    ]


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
