"""'Exporteren naar Excel': the selected candidates as an .xlsx of text cells.

Every value is written as text through candidates.xlsx (never a formula, so a name such as
'=HYPERLINK(...)' stays a name); dates as dd-mm-jjjj text and numbers with their leading zeros.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.utils.translation import gettext as _

from .models import Candidate
from .xlsx import write_workbook


def _day(value) -> str:
    return value.strftime("%d-%m-%Y") if value else ""


def candidates_workbook(candidates: Iterable[Candidate]) -> bytes:
    """`candidates` come with select_related('user') and the groups the reader may see."""
    headers = [
        _("Kandidaatnummer"),
        _("Gebruikersnaam"),
        _("Voornaam"),
        _("Tussenvoegsel"),
        _("Achternaam"),
        _("E-mailadres"),
        _("Geboortedatum"),
        _("Status"),
        _("Geldig van"),
        _("Geldig tot en met"),
        _("Kandidaatgroepen"),
    ]
    rows = (
        [
            c.candidate_number,
            c.user.username,
            c.user.first_name,
            c.user.surname_prefix,
            c.user.last_name,
            c.user.email,
            _day(c.birth_date),
            _("Actief") if c.user.is_active else _("Inactief"),
            _day(c.user.valid_from),
            _day(c.user.valid_until),
            ", ".join(g.name for g in c.groups.all()),
        ]
        for c in candidates
    )
    return write_workbook([(_("Kandidaten"), headers, rows)])
