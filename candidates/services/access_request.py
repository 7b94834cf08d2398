"""'Download alle gegevens': everything the college holds about one candidate, for an access
request. One .zip with the same records twice: a readable .xlsx (a sheet per section, Dutch
headers) and JSON (for a machine). Both are built from one list of sections, so they cannot
drift apart. Never a password, a hash or a sealed secret: the user row is read field by
field, and audit details lose every key that names a secret.

The caller found the candidate through the visibility rule; the download is an audit row.
"""

from __future__ import annotations

import io
import json
import zipfile
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.models import AuditLog, AuditLogSubject, User
from accounts.services import audit

from ..models import Candidate, CandidateGroup
from ..selectors import newest_first, subject_rows
from ..templatetags.candidates_tags import FIELD_LABELS
from ..xlsx import write_workbook

IMPORT_ACTIONS = (
    AuditLog.Action.IMPORT_STARTED,
    AuditLog.Action.IMPORT_FINISHED,
    AuditLog.Action.IMPORT_FAILED,
)
STATUS_ACTIONS = (
    AuditLog.Action.USER_CREATED,
    AuditLog.Action.STATUS_CHANGED,
    AuditLog.Action.VALIDITY_CHANGED,
    AuditLog.Action.ACCOUNT_EXPIRED,
)
# Audit details never hold a secret today; this is the guard for a key someone adds later.
SECRET_MARKERS = ("password", "secret", "hash", "token", "sealed")
SAFE_KEYS = {"must_change_password", "password_mode", "existing_passwords"}


@dataclass(frozen=True)
class Section:
    key: str  # the JSON key
    title: Any  # the sheet's name (lazy Dutch text)
    columns: tuple[tuple[str, Any], ...]  # (record key, column header)


SECTIONS = (
    Section(
        "profile",
        gettext_lazy("Gegevens"),
        (("field", gettext_lazy("Gegeven")), ("value", gettext_lazy("Waarde"))),
    ),
    Section(
        "groups",
        gettext_lazy("Kandidaatgroepen"),
        (
            ("name", gettext_lazy("Naam")),
            ("education_area", gettext_lazy("Opleidingsgebied")),
            ("archived", gettext_lazy("Gearchiveerd")),
            ("coordinators", gettext_lazy("Toetscoördinatoren")),
            ("supervisors", gettext_lazy("Begeleiders")),
        ),
    ),
    Section(
        "supervisors",
        gettext_lazy("Begeleiders"),
        (
            ("username", gettext_lazy("Gebruikersnaam")),
            ("name", gettext_lazy("Naam")),
            ("via", gettext_lazy("Via")),
        ),
    ),
    Section("status_history", gettext_lazy("Statusgeschiedenis"), ()),
    Section("audit", gettext_lazy("Auditlog"), ()),
    Section(
        "imports",
        gettext_lazy("Imports"),
        (
            ("batch", gettext_lazy("Import")),
            ("file", gettext_lazy("Bestand")),
            ("started", gettext_lazy("Gestart op")),
            ("started_by", gettext_lazy("Gestart door")),
            ("outcome", gettext_lazy("Uitkomst")),
            ("what", gettext_lazy("Wat de import bij de kandidaat deed")),
        ),
    ),
)
AUDIT_COLUMNS = (
    ("time", gettext_lazy("Tijdstip")),
    ("action", gettext_lazy("Actie")),
    ("actor", gettext_lazy("Door")),
    ("target", gettext_lazy("Betreft")),
    ("before", gettext_lazy("Voor")),
    ("after", gettext_lazy("Na")),
    ("ip_address", gettext_lazy("IP-adres")),
)


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return timezone.localtime(value).isoformat(timespec="seconds")
    if isinstance(value, date):
        return value.isoformat()
    return value


def _scrub(details: dict) -> dict:
    return {
        key: value
        for key, value in details.items()
        if key in SAFE_KEYS or not any(m in key.lower() for m in SECRET_MARKERS)
    }


def _who(user: User | None) -> str:
    if user is None:
        return ""
    return f"{user.display_name} ({user.username})" if user.display_name else user.username


def _profile(candidate: Candidate) -> list[dict]:
    u = candidate.user
    fields = [
        (_("Gebruikersnaam"), u.username),
        (_("Voornaam"), u.first_name),
        (_("Tussenvoegsel"), u.surname_prefix),
        (_("Achternaam"), u.last_name),
        (_("E-mailadres"), u.email),
        (_("Kandidaatnummer"), candidate.candidate_number),
        (_("Geboortedatum"), _plain(candidate.birth_date)),
        (_("Onderwijsinstelling"), candidate.organisation.name),
        (_("Actief"), u.is_active),
        (_("Geldig van"), _plain(u.valid_from)),
        (_("Geldig tot en met"), _plain(u.valid_until)),
        (_("Wachtwoord wijzigen bij volgende login"), u.must_change_password),
        (_("Account aangemaakt"), _plain(u.date_joined)),
        (_("Laatst ingelogd"), _plain(u.last_login)),
    ]
    return [{"field": str(label), "value": value} for label, value in fields]


def _groups(candidate: Candidate) -> list[CandidateGroup]:
    return list(
        CandidateGroup.objects.filter(members=candidate)
        .select_related("education_area")
        .prefetch_related("coordinators", "supervisors")
        .order_by("name")
    )


def _group_records(groups: list[CandidateGroup]) -> list[dict]:
    return [
        {
            "name": g.name,
            "education_area": g.education_area.name if g.education_area else "",
            "archived": _plain(g.archived_at) or "",
            "coordinators": ", ".join(sorted(u.username for u in g.coordinators.all())),
            "supervisors": ", ".join(sorted(u.username for u in g.supervisors.all())),
        }
        for g in groups
    ]


def _supervisor_records(candidate: Candidate, groups: list[CandidateGroup]) -> list[dict]:
    records = [
        {"username": u.username, "name": u.display_name, "via": _("direct gekoppeld")}
        for u in User.objects.filter(direct_candidates=candidate).order_by("username")
    ]
    for g in groups:
        records += [
            {"username": u.username, "name": u.display_name, "via": g.name}
            for u in g.supervisors.all()
        ]
    return records


def _audit_rows(candidate: Candidate) -> list[AuditLog]:
    """Every row about the candidate, or by them (sign-ins, their own password change), and
    their part of the rows that touched many (an import); no limit."""
    own = AuditLog.objects.filter(
        Q(target_user_id=candidate.pk) | Q(actor_id=candidate.pk)
    ).select_related("actor", "target_user")
    subjects = subject_rows(AuditLogSubject.objects.filter(user_id=candidate.pk))
    return newest_first([*own, *subjects])


def _audit_record(row: AuditLog, candidate: Candidate) -> dict:
    return {
        "time": _plain(row.created),
        "action": str(row.get_action_display()),
        "action_code": row.action,
        "actor": _who(row.actor) if row.actor_id else "",
        "target": row.target_repr,
        "before": _scrub(row.before),
        "after": _scrub(row.after),
        # The address is the candidate's personal data only when they acted themselves.
        "ip_address": row.ip_address if row.actor_id == candidate.pk else "",
    }


def _import_records(rows: list[AuditLog]) -> list[dict]:
    """The imports that touched the candidate, from the import's own audit rows (the import
    app sits above this one, so its batches are read from the log, not its tables)."""
    touched = {r.after["batch"]: r for r in rows if r.after.get("batch")}
    if not touched:
        return []
    import_rows = AuditLog.objects.filter(
        action__in=IMPORT_ACTIONS, after__batch__in=list(touched)
    ).select_related("actor")
    by_batch: dict[str, dict[str, AuditLog]] = {}
    for r in import_rows:
        by_batch.setdefault(r.after["batch"], {})[r.action] = r
    records = []
    for batch, subject in touched.items():
        found = by_batch.get(batch, {})
        started = found.get(AuditLog.Action.IMPORT_STARTED)
        end = found.get(AuditLog.Action.IMPORT_FINISHED) or found.get(AuditLog.Action.IMPORT_FAILED)
        records.append(
            {
                "batch": batch,
                "file": (started or end or subject).target_repr,
                "started": _plain(started.created) if started else "",
                "started_by": _who(started.actor) if started else "",
                "outcome": str(end.get_action_display()) if end else "",
                "what": str(subject.get_action_display()),
            }
        )
    return records


def candidate_data(candidate: Candidate) -> dict[str, list[dict]]:
    """The records of every section, keyed as in SECTIONS (JSON-ready values)."""
    groups = _groups(candidate)
    rows = _audit_rows(candidate)
    audit_records = [_audit_record(r, candidate) for r in rows]
    return {
        "profile": _profile(candidate),
        "groups": _group_records(groups),
        "supervisors": _supervisor_records(candidate, groups),
        "status_history": [r for r in audit_records if r["action_code"] in STATUS_ACTIONS],
        "audit": audit_records,
        "imports": _import_records(rows),
    }


def _cell(value: Any) -> Any:
    if isinstance(value, dict):
        return "; ".join(f"{FIELD_LABELS.get(k, k)}: {_cell(v)}" for k, v in value.items())
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    return value


def _workbook(data: dict[str, list[dict]]) -> bytes:
    sheets = []
    for section in SECTIONS:
        columns = section.columns or AUDIT_COLUMNS
        rows = [[_cell(r.get(key)) for key, _label in columns] for r in data[section.key]]
        sheets.append((str(section.title), [str(label) for _k, label in columns], rows))
    return write_workbook(sheets)


@transaction.atomic
def access_request_export(*, actor: User, candidate: Candidate, ip: str | None = None) -> bytes:
    """The .zip for 'Download alle gegevens'. The download's own audit row is written first,
    so the export lists it too: the candidate sees that their data was handed out. One
    transaction: an export that fails leaves no row saying it was handed out."""
    audit(action=AuditLog.Action.DATA_EXPORTED, actor=actor, target=candidate.user, ip=ip)
    data = candidate_data(candidate)
    stamp = timezone.localtime().isoformat(timespec="seconds")
    document = {"candidate": candidate.user.username, "exported": stamp, **data}
    name = f"gegevens-{candidate.user.username}"
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(f"{name}.xlsx", _workbook(data))
        archive.writestr(
            f"{name}.json", json.dumps(document, ensure_ascii=False, indent=2, default=str)
        )
    return out.getvalue()
