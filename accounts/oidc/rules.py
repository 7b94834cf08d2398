"""Who may sign in to an exam environment: asked at every authorization, not only at login, so
a candidate deactivated at 9:00 cannot start an exam at 9:05 with a session from 8:55."""

from __future__ import annotations

from datetime import date

from django.db import models
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from ..models import ExamEnvironment, User


class Refusal(models.TextChoices):
    """Why a sign-in was refused; the value is what the audit row keeps."""

    IMPERSONATION = "impersonation", gettext_lazy("ingelogd als andere gebruiker")
    DISABLED = "disabled", gettext_lazy("toetsomgeving uitgeschakeld")
    OTHER_COLLEGE = "other_college", gettext_lazy("andere school")
    INACTIVE = "inactive", gettext_lazy("account inactief")
    NOT_YET_VALID = "not_yet_valid", gettext_lazy("account nog niet geldig")
    EXPIRED = "expired", gettext_lazy("account verlopen")
    STAFF = "staff", gettext_lazy("medewerkers niet toegestaan")
    NO_ROLE = "no_role", gettext_lazy("geen kandidaat of medewerker")


def sign_in_refusal(
    *,
    user: User,
    environment: ExamEnvironment | None,
    impersonating: bool,
    today: date | None = None,
) -> Refusal | None:
    """Why `user` may not sign in to `environment` now, or None when they may.

    The order matters only for the message: the environment's own state first (it is the same
    for everybody), then the account, then the role."""
    if impersonating:
        # 'Log in als deze gebruiker' is for looking at what a candidate sees here, never for
        # acting as them somewhere else: no token, whoever the hijacker is.
        return Refusal.IMPERSONATION
    if environment is None or not environment.active:
        return Refusal.DISABLED
    if user.organisation_id != environment.organisation_id:
        return Refusal.OTHER_COLLEGE
    if not user.is_active:
        return Refusal.INACTIVE
    validity = user.validity_problem(today)
    if validity is not None:
        return Refusal(validity)
    if user.is_college_staff:
        return None if environment.allow_staff else Refusal.STAFF
    return None if user.is_candidate else Refusal.NO_ROLE


def refusal_message(refusal: Refusal, user: User) -> str:
    """The Dutch sentence on the page the user sees instead of being signed in."""
    if refusal == Refusal.NOT_YET_VALID and user.valid_from:
        return _("Je account is nog niet geldig: vanaf %(date)s") % {
            "date": date_format(user.valid_from, "j F Y")
        }
    return {
        Refusal.IMPERSONATION: _(
            "Bij 'Log in als deze gebruiker' kun je niet inloggen bij een toetsomgeving."
        ),
        Refusal.DISABLED: _("Deze toetsomgeving is uitgeschakeld door de beheerder van de school."),
        Refusal.OTHER_COLLEGE: _("Deze toetsomgeving hoort bij een andere school"),
        Refusal.INACTIVE: _("Je account staat op inactief"),
        Refusal.NOT_YET_VALID: _("Je account is nog niet geldig"),
        Refusal.EXPIRED: _("Je account is verlopen"),
        Refusal.STAFF: _("Deze toetsomgeving is alleen voor kandidaten."),
        Refusal.NO_ROLE: _("Dit account kan niet inloggen bij een toetsomgeving."),
    }[refusal]


def today() -> date:
    return timezone.localdate()
