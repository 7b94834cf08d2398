"""The fields an import file can fill, and how file headers are recognised.

Headers are matched case- and accent-insensitively, ignoring spaces and punctuation, against
Dutch and English names and the column names of Dutch student information systems (Eduarte,
Magister, Osiris, Somtoday, EduArte exports).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.utils.translation import gettext_lazy as _

from candidates.models import fold

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise


@dataclass(frozen=True)
class Field:
    name: str
    label: StrOrPromise
    required: bool
    aliases: tuple[str, ...]
    help: StrOrPromise


FIELDS: tuple[Field, ...] = (
    Field(
        "candidate_number",
        _("Kandidaatnummer"),
        True,
        (
            "kandidaatnummer",
            "candidate number",
            "candidatenumber",
            "studentnummer",
            "student number",
            "studentnr",
            "deelnemernummer",
            "deelnemernr",
            "leerlingnummer",
            "leerlingnr",
            "stamnummer",
            "stamnr",
            "ovnummer",
            "nummer",
            "id",
            "student id",
        ),
        _("Verplicht. Uniek binnen je school. Voorloopnullen blijven behouden."),
    ),
    Field(
        "first_name",
        _("Voornaam"),
        True,
        ("voornaam", "roepnaam", "first name", "firstname", "given name", "voornamen"),
        _("Verplicht. De naam waarmee de kandidaat wordt aangesproken."),
    ),
    Field(
        "surname_prefix",
        _("Tussenvoegsel"),
        False,
        (
            "tussenvoegsel",
            "tussenvoegsels",
            "voorvoegsel",
            "voorvoegsels",
            "prefix",
            "surname prefix",
            "tussenv",
        ),
        _("Optioneel, bijvoorbeeld 'van der'."),
    ),
    Field(
        "last_name",
        _("Achternaam"),
        True,
        ("achternaam", "last name", "lastname", "surname", "family name", "geslachtsnaam"),
        _("Verplicht. Zonder tussenvoegsel."),
    ),
    Field(
        "email",
        _("E-mailadres"),
        False,
        (
            "e-mailadres",
            "emailadres",
            "e-mail",
            "email",
            "mail",
            "email address",
            "e-mail adres",
            "emailadres school",
            "e-mail school",
        ),
        _("Nodig als de inloggegevens per e-mail worden verstuurd."),
    ),
    Field(
        "birth_date",
        _("Geboortedatum"),
        False,
        (
            "geboortedatum",
            "birth date",
            "birthdate",
            "date of birth",
            "geb datum",
            "gebdatum",
            "geboren",
        ),
        _("Optioneel. Als datum, of als tekst dd-mm-jjjj."),
    ),
    Field(
        "group",
        _("Kandidaatgroep"),
        False,
        (
            "kandidaatgroep",
            "groep",
            "klas",
            "group",
            "class",
            "klasnaam",
            "groepsnaam",
            "stamgroep",
            "candidate group",
            "lesgroep",
        ),
        _("Optioneel. De kandidaat wordt ook aan deze groep gekoppeld."),
    ),
    Field(
        "username",
        _("Gebruikersnaam"),
        False,
        ("gebruikersnaam", "username", "user name", "login", "inlognaam", "account"),
        _("Optioneel. Leeg: gemaakt volgens het patroon van je school."),
    ),
    Field(
        "password",
        _("Wachtwoord"),
        False,
        ("wachtwoord", "password"),
        _("Alleen als je kiest voor 'Neem het wachtwoord uit het bestand'."),
    ),
)
FIELD_BY_NAME = {f.name: f for f in FIELDS}
REQUIRED_FIELDS = tuple(f.name for f in FIELDS if f.required)


def normalise_header(value: object) -> str:
    text = fold(str(value or ""))
    return re.sub(r"[^a-z0-9]+", " ", text).strip()


_ALIASES: dict[str, str] = {}
for _field in FIELDS:
    for _alias in (_field.name, str(_field.label), *_field.aliases):
        _ALIASES.setdefault(normalise_header(_alias), _field.name)
        _ALIASES.setdefault(normalise_header(_alias).replace(" ", ""), _field.name)


def field_for_header(header: object) -> str | None:
    key = normalise_header(header)
    if not key:
        return None
    return _ALIASES.get(key) or _ALIASES.get(key.replace(" ", ""))


def find_header_row(rows: list[list[object]], *, look_at: int = 20) -> int:
    """Index of the row that looks most like a header (title lines above it are skipped)."""
    best, best_score = 0, 0
    for index, row in enumerate(rows[:look_at]):
        score = len({f for f in (field_for_header(c) for c in row) if f})
        if score > best_score:
            best, best_score = index, score
    return best


def suggest_mapping(headers: Sequence[object]) -> dict[str, str]:
    """{column index as str: field}; each field at most once (the first column wins)."""
    mapping: dict[str, str] = {}
    taken: set[str] = set()
    for index, header in enumerate(headers):
        field = field_for_header(header)
        if field and field not in taken:
            mapping[str(index)] = field
            taken.add(field)
    return mapping


def headers_key(headers: Sequence[object]) -> str:
    """Identifies a set of headers, to remember the mapping a college used for it."""
    joined = "\x1f".join(normalise_header(h) for h in headers)
    return hashlib.sha256(joined.encode()).hexdigest()
