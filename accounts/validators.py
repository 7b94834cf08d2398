"""Django's password validators, with help texts in the 'je' form the rest of the product uses.

Django's Dutch translation addresses the user as 'u' ("Uw wachtwoord mag …") on the very
form where our own texts say 'je'; the rules themselves are Django's, unchanged.
"""

from django.contrib.auth import password_validation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext


class UserAttributeSimilarityValidator(password_validation.UserAttributeSimilarityValidator):
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
