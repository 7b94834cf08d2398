"""Django's password validators, with help texts in the 'je' form the rest of the product uses.

Django's Dutch translation addresses the user as 'u' ("Uw wachtwoord mag …") on the very
form where our own texts say 'je'; the rules themselves are Django's, unchanged.
"""

import gzip
import re
from difflib import SequenceMatcher
from pathlib import Path

from django.contrib.auth import password_validation
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

DUTCH_PASSWORD_LIST = Path(__file__).resolve().parent / "data" / "common-passwords-nl.txt.gz"
# What people add to a word to get past a rule: 'Welkom2024!', '#voetbal1'.
DECORATION = re.compile(r"^[\d\W_]+|[\d\W_]+$")


def _core(password: str) -> str:
    """The password in lower case without the digits and symbols at its ends."""
    return DECORATION.sub("", password.lower().strip())


class UserAttributeSimilarityValidator(password_validation.UserAttributeSimilarityValidator):
    """Django's rule on the username, first and last name and e-mail address, and also on the
    name and code of the user's college ('ROCMidden2024'). A password that is one of those
    words with digits or symbols around it is refused too, however short the word."""

    LABELS = {
        "username": gettext_lazy("je gebruikersnaam"),
        "first_name": gettext_lazy("je voornaam"),
        "last_name": gettext_lazy("je achternaam"),
        "email": gettext_lazy("je e-mailadres"),
        "organisation": gettext_lazy("de naam van je school"),
    }

    def _values(self, user) -> list[tuple[str, str]]:
        values = [(a, getattr(user, a, "") or "") for a in self.user_attributes]
        # The import's probe users (passwords from a file) have no college yet.
        organisation = (
            getattr(user, "organisation", None) if getattr(user, "organisation_id", None) else None
        )
        if organisation is not None:
            values += [("organisation", organisation.name), ("organisation", organisation.code)]
        return [(a, str(v)) for a, v in values if v]

    def validate(self, password, user=None):
        if not user:
            return
        password = password.lower()
        core = _core(password)
        for attribute, value in self._values(user):
            value = value.lower()
            parts = {value, *re.split(r"\W+", value)}
            for part in parts:
                if len(part) < 3:
                    continue
                too_similar = part == core or (
                    SequenceMatcher(a=password, b=part).quick_ratio() >= self.max_similarity
                    and SequenceMatcher(a=password, b=part).ratio() >= self.max_similarity
                )
                if too_similar:
                    raise ValidationError(
                        self.get_error_message(),
                        code="password_too_similar",
                        params={"verbose_name": self.LABELS.get(attribute, attribute)},
                    )

    def get_error_message(self):
        return _("Dit wachtwoord lijkt te veel op %(verbose_name)s.")

    def get_help_text(self):
        return _("Je wachtwoord mag niet te veel op je andere persoonlijke gegevens lijken.")


class MinimumLengthValidator(password_validation.MinimumLengthValidator):
    def get_help_text(self):
        return ngettext(
            "Je wachtwoord moet minstens %(min_length)d teken lang zijn.",
            "Je wachtwoord moet minstens %(min_length)d tekens lang zijn.",
            self.min_length,
        ) % {"min_length": self.min_length}


class CommonPasswordValidator(password_validation.CommonPasswordValidator):
    """Django's list of 20,000 common (mostly English) passwords plus our Dutch one
    (accounts/data/build_common_passwords.py: welkom123, wachtwoord, voetbal, zomer2024 …).
    A password is also refused when it is a listed one with digits or symbols around it."""

    def __init__(self, password_list_path=None, dutch_list_path=DUTCH_PASSWORD_LIST):
        if password_list_path is None:
            super().__init__()
        else:
            super().__init__(password_list_path)
        with gzip.open(dutch_list_path, "rt", encoding="utf-8") as f:
            self.passwords |= {line.strip() for line in f if line.strip()}

    def validate(self, password, user=None):
        core = _core(password)
        if password.lower().strip() in self.passwords or core in self.passwords:
            raise ValidationError(self.get_error_message(), code="password_too_common")

    def get_error_message(self):
        return _("Dit wachtwoord wordt te vaak gebruikt en is makkelijk te raden.")

    def get_help_text(self):
        return _("Je wachtwoord mag geen veelgebruikt wachtwoord zijn.")


class NumericPasswordValidator(password_validation.NumericPasswordValidator):
    def get_help_text(self):
        return _("Je wachtwoord mag niet alleen uit cijfers bestaan.")


# The largest id a bigint primary key can hold. A larger number in a URL or form is no id of
# ours: SQLite cannot bind it (OverflowError) and PostgreSQL refuses it (DataError), so it is
# turned away before any query.
MAX_ID = 2**63 - 1


def parse_id(value) -> int | None:
    """A positive database id from a URL or form value, or None for anything else."""
    text = str(value).strip()
    if not text.isascii() or not text.isdigit():
        return None
    number = int(text)
    return number if 0 < number <= MAX_ID else None
