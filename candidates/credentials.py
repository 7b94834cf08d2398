"""What a person receives with a new password, built in one place for every path that makes
one (the import, a bulk password reset, a new staff member): the credentials mail, the login
slip and the addresses printed in them.

A `Credentials` is made once per operation: it looks up the login address once and formats
each validity date once, because an import builds ten thousand of these.
"""

from __future__ import annotations

from datetime import date

from django.conf import settings
from django.urls import reverse
from django.utils import translation
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from accounts.hashers import GeneratedPasswordHasher
from accounts.models import Organisation, OutgoingMail, User
from accounts.secrets import seal_json

# Generated passwords (>= 67.7 bits, see accounts.passwords) may use the hasher whose cost is
# derived from their entropy (accounts.hashers); it is upgraded to the full-strength default
# at the first login. Typed passwords never use it.
GENERATED_HASHER = GeneratedPasswordHasher.algorithm


def login_url() -> str:
    """The absolute address of the login page, as printed on slips and in mails."""
    return settings.KB_BASE_URL + reverse("accounts:login")


def import_result_url(batch_id) -> str:
    return settings.KB_BASE_URL + reverse("imports:result", args=[batch_id])


class Credentials:
    def __init__(self, organisation: Organisation) -> None:
        self.organisation = organisation
        self.login_url = login_url()
        self._dates: dict[tuple[str, date], str] = {}
        # Slips are printed by whoever acts, in their language; one operation, one language.
        self._slip_language = translation.get_language() or settings.LANGUAGE_CODE
        # The mail goes to the candidate, whatever language the person who acted reads.
        with translation.override(settings.LANGUAGE_CODE):
            self.subject = _("Je inloggegevens voor %(school)s") % {"school": organisation.name}
            self._forever = _("onbepaalde tijd")

    def _date(self, value: date, language: str) -> str:
        key = (language, value)
        if key not in self._dates:
            with translation.override(language):
                self._dates[key] = date_format(value, "j F Y")
        return self._dates[key]

    def mail_context(self, user: User) -> dict[str, str]:
        """Placeholders of the credentials mail, except {wachtwoord} (that one is sealed)."""
        valid_until = (
            self._date(user.valid_until, settings.LANGUAGE_CODE)
            if user.valid_until
            else self._forever
        )
        return {
            "naam": user.display_name or user.username,
            "gebruikersnaam": user.username,
            "school": self.organisation.name,
            "geldig_tot": valid_until,
            "inlog_url": self.login_url,
        }

    def mail(self, user: User, password: str, *, batch_id=None) -> OutgoingMail:
        """An unsaved outbox row; the password is kept only sealed until it is sent."""
        return OutgoingMail(
            kind=OutgoingMail.Kind.CREDENTIALS,
            to=user.email,
            subject=self.subject,
            organisation=self.organisation,
            recipient_user=user,
            batch_id=batch_id,
            context=self.mail_context(user),
            secret=seal_json({"password": password}),
        )

    def slip_entry(
        self, user: User, *, candidate_number: str, password: str, group: str
    ) -> dict[str, str]:
        """One login slip for candidates.slips.render_login_slips (printed in the language of
        whoever prints them)."""
        return {
            "name": user.display_name or user.username,
            "sort_name": user.sort_name or user.username,
            "username": user.username,
            "password": password,
            "group": group,
            "candidate_number": candidate_number,
            "valid_until": (
                self._date(user.valid_until, self._slip_language) if user.valid_until else ""
            ),
        }
