"""The import as a pipeline of small pure steps, each testable alone:

    read (imports.reading) → find header (fields.find_header_row) → map columns
    → clean each cell (clean_rows) → validate rows (in clean_rows + check_duplicates)
    → diff against the database (plan) → write (imports.services.import_execute)

Nothing here writes. Errors name the row as the spreadsheet shows it, the column as the file
calls it, and the value: "Rij 12, kolom Achternaam: verplicht veld is leeg".
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import partial
from operator import itemgetter
from typing import Any

from django.contrib.auth.password_validation import validate_password
from django.contrib.auth.validators import UnicodeUsernameValidator
from django.core.exceptions import ValidationError
from django.core.validators import EmailValidator
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User

from .fields import FIELD_BY_NAME, REQUIRED_FIELDS
from .gcpause import cyclic_gc_paused

MAX_LENGTHS = {
    "candidate_number": 40,
    "first_name": 150,
    "surname_prefix": 30,
    "last_name": 150,
    "email": 254,
    "username": 150,
    "group": 150,
    "password": 128,
}
EXCEL_EPOCH = date(1899, 12, 30)  # Excel's 1900 date system, including its leap-year bug
_email_validator = EmailValidator()
_email_user = re.compile(EmailValidator.user_regex.pattern, EmailValidator.user_regex.flags)
_email_domain = re.compile(EmailValidator.domain_regex.pattern, EmailValidator.domain_regex.flags)
_username_validator = UnicodeUsernameValidator()
_username = re.compile(UnicodeUsernameValidator.regex, UnicodeUsernameValidator.flags)
_candidate_number = re.compile(r"[0-9A-Za-z._-]+")
_date_text = re.compile(r"^(\d{1,2})[-/.](\d{1,2})[-/.](\d{4})$")
_iso_date = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})(?:[ T].*)?$")


@dataclass(slots=True)
class RowError:
    row: int  # as the spreadsheet shows it (1-based, header rows included)
    column: str  # the file's own header text, or the field label
    message: str
    value: str = ""

    def __str__(self) -> str:
        return _("Rij %(row)s, kolom %(column)s: %(message)s") % {
            "row": self.row,
            "column": self.column,
            "message": self.message,
        }


@dataclass(slots=True)
class CleanRow:
    row: int
    values: dict[str, Any]
    errors: list[RowError] = field(default_factory=list)


class CellError(ValueError):
    pass


def _text(value: Any) -> str:
    if type(value) is not str:
        if value is None:
            return ""
        if isinstance(value, float) and value.is_integer():
            # A number cell 12345.0 means the text "12345" (Excel stores numbers as floats).
            value = int(value)
        if isinstance(value, datetime | date):
            return value.isoformat()
        value = str(value)
    # ASCII is NFC already; split() and join() do what re.sub(r"\s+", " ") and strip() did.
    text = value if value.isascii() else unicodedata.normalize("NFC", value)
    return " ".join(text.split())


def clean_name(value: Any) -> str:
    return _text(value)


def clean_candidate_number(value: Any) -> str:
    text = _text(value).replace(" ", "")
    if not text:
        return ""
    if not _candidate_number.fullmatch(text):
        raise CellError(_("alleen cijfers, letters, punt, streepje en liggend streepje toegestaan"))
    return text


def clean_email(value: Any) -> str:
    text = _text(value).lower()
    if not text:
        return ""
    if not _is_email(text):
        raise CellError(_("geen geldig e-mailadres"))
    return text


def _is_email(text: str) -> bool:
    """Django's EmailValidator, its usual case first: a name and a host name, matched with
    its own patterns compiled here (it compiles them lazily, behind a proxy on every use)."""
    if len(text) <= 320 and "@" in text:
        user, domain = text.rsplit("@", 1)
        if _email_user.match(user) and _email_domain.match(domain):
            return True
    try:
        _email_validator(text)  # an address literal, an allow-listed domain, or invalid
    except ValidationError:
        return False
    return True


def clean_username(value: Any) -> str:
    text = _text(value)
    if not text:
        return ""
    if _username.search(text):
        return text  # what UnicodeUsernameValidator allows, with its pattern compiled here
    try:
        _username_validator(text)
    except ValidationError:
        raise CellError(
            _("alleen letters, cijfers en de tekens @ . + - _ zijn toegestaan")
        ) from None
    return text


def clean_date(value: Any, *, today: date) -> date | None:
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        result = value.date()
    elif isinstance(value, date):
        result = value
    elif isinstance(value, int | float) and not isinstance(value, bool):
        if not 1 <= value < 2958466:
            raise CellError(_("geen geldige datum"))
        result = EXCEL_EPOCH + timedelta(days=int(value))
    else:
        text = _text(value)
        if not text:
            return None
        if m := _date_text.match(text):
            day, month, year = (int(g) for g in m.groups())
        elif m := _iso_date.match(text):
            year, month, day = (int(g) for g in m.groups())
        else:
            raise CellError(_("geen geldige datum; gebruik dd-mm-jjjj"))
        try:
            result = date(year, month, day)
        except ValueError:
            raise CellError(_("deze datum bestaat niet")) from None
    if result.year < 1900 or result > today:
        raise CellError(_("de datum ligt niet in een mogelijke periode"))
    return result


def clean_password(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


CLEANERS = {
    "candidate_number": clean_candidate_number,
    "first_name": clean_name,
    "surname_prefix": clean_name,
    "last_name": clean_name,
    "email": clean_email,
    "group": clean_name,
    "username": clean_username,
    "password": clean_password,
}


@cyclic_gc_paused()
def clean_rows(
    rows: list[list[Any]],
    *,
    header_index: int,
    headers: list[Any],
    mapping: dict[str, str],
    today: date | None = None,
) -> list[CleanRow]:
    """Clean and check every data row below the header. Empty rows are skipped.

    Column by column: each column's cleaner is chosen once, and each distinct text in it is
    cleaned once (a large file repeats its first names, prefixes, classes and birth dates
    thousands of times). The errors of a row come in column order, then the empty required
    fields, then the duplicates: as when it was done row by row."""
    today = today or timezone.localdate()
    columns = sorted((int(i), f) for i, f in mapping.items())
    labels = {
        int(i): (_text(headers[int(i)]) if int(i) < len(headers) else "")
        or str(FIELD_BY_NAME[f].label)
        for i, f in mapping.items()
    }
    body = rows[header_index + 1 :]
    kept = [i for i, raw in enumerate(body) if raw.count(None) + raw.count("") != len(raw)]
    data = body if len(kept) == len(body) else [body[i] for i in kept]
    result = [CleanRow(header_index + i + 2, {}, []) for i in kept]
    width = min(map(len, data), default=0)
    for index, name in columns:
        if index < width:  # every row has the cell (the readers pad rows to one width)
            cells = list(map(itemgetter(index), data))
        else:
            cells = [raw[index] if index < len(raw) else None for raw in data]
        clean_column(result, cells, name=name, label=labels[index], today=today)
    for index, name in columns:
        if name in REQUIRED_FIELDS:
            for row in result:
                if row.values[name] == "":
                    row.errors.append(RowError(row.row, labels[index], _("verplicht veld is leeg")))
    check_duplicates(result, labels={f: labels[i] for i, f in columns})
    return result


def clean_column(
    rows: list[CleanRow], cells: list[Any], *, name: str, label: str, today: date
) -> None:
    """Put the cleaned value of `name` in each row's values, or None and an error."""
    clean = _cleaner(name, today)
    seen: dict[str, Any] = {}  # text → cleaned value or CellError
    for row, value in zip(rows, cells, strict=True):
        if type(value) is str:
            outcome = seen.get(value, seen)  # `seen` itself: not seen yet
            if outcome is seen:
                outcome = seen[value] = _outcome(clean, value)
        else:
            outcome = _outcome(clean, value)
        if type(outcome) is CellError:
            row.errors.append(RowError(row.row, label, str(outcome), _text(value)[:100]))
            outcome = None
        row.values[name] = outcome


def _cleaner(name: str, today: date) -> Callable[[Any], Any]:
    if name == "birth_date":
        return partial(clean_date, today=today)
    clean, limit = CLEANERS[name], MAX_LENGTHS[name]

    def clean_text(value: Any) -> str:
        cleaned = clean(value)
        if len(cleaned) > limit:
            raise CellError(
                _("te lang (%(length)s tekens, maximaal %(max)s)")
                % {"length": len(cleaned), "max": limit}
            )
        return cleaned

    return clean_text


def _outcome(clean: Callable[[Any], Any], value: Any) -> Any:
    try:
        return clean(value)
    except CellError as exc:
        return exc


def check_duplicates(rows: list[CleanRow], *, labels: dict[str, str]) -> None:
    """A candidate number or username may occur once in a file (case-insensitively). Every row
    of a duplicate set gets the error, so fixing the file does not stop at the first half."""
    messages = {
        "candidate_number": _("%(rows)s hebben hetzelfde kandidaatnummer %(value)s"),
        "username": _("%(rows)s hebben dezelfde gebruikersnaam %(value)s"),
    }
    for name in ("candidate_number", "username"):
        if name not in labels:
            continue
        for same in _duplicate_sets(rows, name):
            value = same[0].values[name]
            message = messages[name] % {"rows": rows_text([r.row for r in same]), "value": value}
            for row in same:
                row.errors.append(RowError(row.row, labels[name], message, row.values[name]))


def _duplicate_sets(rows: list[CleanRow], name: str) -> list[list[CleanRow]]:
    """The rows sharing a value, per value, in file order. A list is made only for a value
    seen twice: this runs over every row of a 50,000-row file."""
    first: dict[str, CleanRow] = {}
    sets: dict[str, list[CleanRow]] = {}
    for row in rows:
        key = (row.values.get(name) or "").lower()
        if not key:
            continue
        if key not in first:
            first[key] = row
        elif key in sets:
            sets[key].append(row)
        else:
            sets[key] = [first[key], row]
    return list(sets.values())


def rows_text(numbers: list[int]) -> str:
    """'rij 4 en rij 8', 'rij 4, rij 8 en rij 9'."""
    parts = [_("rij %(row)s") % {"row": n} for n in numbers]
    if len(parts) == 1:
        return parts[0]
    return _("%(first)s en %(last)s") % {"first": ", ".join(parts[:-1]), "last": parts[-1]}


def check_passwords(rows: list[CleanRow], *, label: str) -> None:
    """Passwords from the file must pass every configured validator."""
    for row in rows:
        password = row.values.get("password") or ""
        if not password:
            row.errors.append(RowError(row.row, label, _("verplicht veld is leeg")))
            continue
        probe = User(
            username=row.values.get("username") or "",
            first_name=row.values.get("first_name") or "",
            last_name=row.values.get("last_name") or "",
            email=row.values.get("email") or "",
        )
        try:
            validate_password(password, user=probe)
        except ValidationError as exc:
            row.errors.append(RowError(row.row, label, " ".join(exc.messages), "••••••"))
