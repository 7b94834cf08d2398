"""What the user chose in the wizard after the column mapping, stored as JSON on the batch."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from datetime import date
from typing import Any

from django.db import models
from django.utils.translation import gettext_lazy as _


class PasswordMode(models.TextChoices):
    """Where new candidates' passwords come from. The values are stored in the batch's JSON."""

    GENERATE = "generate", _("Genereer een willekeurig wachtwoord")
    FILE = "file", _("Neem het wachtwoord uit het bestand")


class ExistingPasswords(models.TextChoices):
    """What happens to the password of a candidate that already exists."""

    KEEP = "keep", _("Behoud het wachtwoord van bestaande kandidaten")
    REPLACE = "replace", _("Geef ook bestaande kandidaten een nieuw wachtwoord")


@dataclass
class ImportOptions:
    password_mode: str = PasswordMode.GENERATE.value
    existing_passwords: str = ExistingPasswords.KEEP.value
    must_change_password: bool = False
    active: bool = True
    group_id: int | None = None
    new_group_name: str = ""
    supervisor_ids: list[int] = field(default_factory=list)
    link_supervisors_directly: bool = False
    valid_from: date | None = None
    valid_until: date | None = None
    send_credentials: bool = False
    report_email: str = ""
    skip_invalid: bool = False
    # The file's group column ('Klas'): create the groups it names that do not exist yet, or
    # leave the column out of the import altogether.
    create_groups: bool = False
    ignore_group_column: bool = False

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        for key in ("valid_from", "valid_until"):
            data[key] = data[key].isoformat() if data[key] else None
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any] | None) -> ImportOptions:
        data = dict(data or {})
        known = {f.name for f in fields(cls)}
        data = {k: v for k, v in data.items() if k in known}
        for key in ("valid_from", "valid_until"):
            if isinstance(data.get(key), str):
                data[key] = date.fromisoformat(data[key])
        return cls(**data)
