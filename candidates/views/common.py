"""What the back-office views share: who may open them, the page size, and the responses and
messages of the bulk actions on candidates and on a whole group."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpResponse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from accounts.models import Role

from ..services.candidates import PasswordReset
from ..slips import render_login_slips

ADMINS = (Role.BEHEERDER, Role.TOETSCOORDINATOR)
PAGE_SIZE = 50


def pdf_response(entries: list[dict], filename: str) -> HttpResponse:
    """Slips carry plaintext passwords: produced in this response, never stored or cached."""
    response = HttpResponse(render_login_slips(entries), content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "no-store"
    return response


def report_reset(request, result: PasswordReset) -> None:
    if result.mailed:
        messages.success(
            request,
            ngettext(
                "Er is een nieuw wachtwoord gemaild naar %(count)d kandidaat.",
                "Er zijn nieuwe wachtwoorden gemaild naar %(count)d kandidaten.",
                result.mailed,
            )
            % {"count": result.mailed},
        )
    if result.without_email:
        messages.warning(
            request,
            _("Zonder e-mailadres, wachtwoord niet gewijzigd: %(names)s")
            % {"names": ", ".join(result.without_email)},
        )


def report_changed(request, what: str, changed: int, count: int) -> None:
    messages.success(
        request,
        ngettext(
            "%(what)s: %(changed)d van %(count)d geselecteerde kandidaat gewijzigd.",
            "%(what)s: %(changed)d van %(count)d geselecteerde kandidaten gewijzigd.",
            count,
        )
        % {"what": what, "changed": changed, "count": count},
    )
