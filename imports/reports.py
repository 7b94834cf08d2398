"""Spreadsheets the import produces: the result report and the file of rows with errors.
Both go through candidates.xlsx, so nothing from the uploaded file can become a formula."""

from __future__ import annotations

import io
from collections.abc import Sequence

from django.utils.translation import gettext as _
from msoffcrypto.format.ooxml import OOXMLFile

from accounts.models import User
from candidates.xlsx import write_workbook

from .planning import ERROR, NEW, UNCHANGED, UPDATED, Plan, PlannedRow


def status_label(status: str) -> str:
    return {
        NEW: _("nieuw"),
        UPDATED: _("bijgewerkt"),
        UNCHANGED: _("ongewijzigd"),
        ERROR: _("fout"),
    }[status]


def row_name(p: PlannedRow, users: dict[int, User]) -> str:
    """The name as the account shows it; a row that wrote no account shows the file's."""
    user = users.get(p.row) or User(
        first_name=p.values.get("first_name") or "",
        surname_prefix=p.values.get("surname_prefix") or "",
        last_name=p.values.get("last_name") or "",
    )
    return user.display_name


def import_report_xlsx(
    *,
    plan: Plan,
    passwords: dict[int, str],
    group_names: dict[int, str],
    active: bool,
    users: dict[int, User] | None = None,
    groups: Sequence[dict] = (),
) -> bytes:
    """The result per row, and per group how many of the imported candidates are in it."""
    users = users or {}
    headers = [
        _("Rij"),
        _("Gebruikersnaam"),
        _("Kandidaatnummer"),
        _("Naam"),
        _("Kandidaatgroep"),
        _("Wachtwoord"),
        _("Status"),
        _("Account"),
        _("Fout"),
    ]
    # Translated once, not once per row: a report has ten thousand rows.
    statuses = {status: status_label(status) for status in (NEW, UPDATED, UNCHANGED, ERROR)}
    unchanged = _("ongewijzigd")
    account = _("actief") if active else _("inactief")
    rows = [
        [
            p.row,
            p.username,
            p.values.get("candidate_number") or "",
            row_name(p, users),
            ", ".join(sorted(group_names[g] for g in p.group_ids if g in group_names)),
            passwords.get(p.row, unchanged) if p.status != ERROR else "",
            statuses[p.status],
            account if p.status != ERROR else "",
            "; ".join(str(e) for e in p.errors),
        ]
        for p in plan.rows
    ]
    sheets = [(_("Importresultaat"), headers, rows)]
    if groups:
        sheets.append(
            (
                _("Kandidaatgroepen"),
                [_("Kandidaatgroep"), _("Aantal kandidaten")],
                [[g["name"], g["count"]] for g in groups],
            )
        )
    return write_workbook(sheets)


def protect_xlsx(data: bytes, password: str) -> bytes:
    """The workbook as an encrypted Office file (ECMA-376 Agile encryption: AES-256, SHA-512,
    100,000 key-derivation rounds), which Excel and LibreOffice open with the password. The
    report lists generated passwords, many of them of minors; without this anyone who gets
    hold of the attachment can read them."""
    if not password:
        # Never hand back an unprotected file from the function that should protect it.
        raise ValueError("protect_xlsx needs a password")
    out = io.BytesIO()
    OOXMLFile(io.BytesIO(data)).encrypt(password, out)
    return out.getvalue()


def error_rows_xlsx(*, plan: Plan, headers: list[str], raw_rows: dict[int, list]) -> bytes:
    """The rows with errors as the user uploaded them, plus a column 'Fout', to fix and
    upload again."""
    out_headers = [*headers, _("Fout")]
    rows = []
    for p in plan.rows:
        if p.status != ERROR:
            continue
        raw = list(raw_rows.get(p.row, []))
        raw += [None] * (len(headers) - len(raw))
        rows.append([*raw[: len(headers)], "; ".join(str(e) for e in p.errors)])
    return write_workbook([(_("Fouten"), out_headers, rows)])
