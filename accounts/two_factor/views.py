"""The pages of two-step sign-in: verify after the password, set up an authenticator app,
renew the recovery codes. Staff and platform operators only: candidates never need one."""

from __future__ import annotations

from functools import wraps

import segno
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render, resolve_url
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST
from django_otp import login as otp_login

from ..services import client_ip
from . import services
from .forms import CodeForm
from .middleware import verification_url
from .rules import has_second_factor, required_for_session, session_verified

# The secret being set up, until the user confirms it with a code: no device row before that.
NEW_KEY = "kb_two_factor_new_key"


def staff_only(view):
    """Signed in, and staff of a college or a platform operator (403 for candidates)."""

    @login_required
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        user = request.user
        if not (user.is_college_staff or user.is_staff):
            raise PermissionDenied
        return view(request, *args, **kwargs)

    return wrapper


def _next_url(request: HttpRequest) -> str:
    """Where to go once verified: the page the user was on its way to, if it is ours."""
    url = request.POST.get("next") or request.GET.get("next") or ""
    safe = url_has_allowed_host_and_scheme(
        url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    )
    return url if safe else resolve_url(settings.LOGIN_REDIRECT_URL)


def _mark_verified(request: HttpRequest, device) -> None:
    # A new session key now that the session may do more, as at the password login.
    request.session.cycle_key()
    otp_login(request, device)


def _show_codes(request: HttpRequest, codes: list[str], *, enrolled: bool) -> HttpResponse:
    ctx = {"codes": codes, "enrolled": enrolled, "next": _next_url(request)}
    return render(request, "accounts/two_factor/recovery_codes.html", ctx)


@staff_only
def verify(request):
    """'Tweestapsverificatie': the code from the app, or a recovery code."""
    next_url = _next_url(request)
    if session_verified(request):
        return redirect(next_url)
    if not has_second_factor(request.user):
        return redirect(verification_url(next_url, "two_factor:enrol"))
    form = CodeForm(request.POST or None, recovery=True)
    if request.method == "POST" and form.is_valid():
        result = services.verify_code(
            user=request.user, code=form.cleaned_data["code"], ip=client_ip(request)
        )
        if result.device is not None:
            _mark_verified(request, result.device)
            if result.recovery_codes_left is not None:
                messages.warning(request, _recovery_code_used(result.recovery_codes_left))
            return redirect(next_url)
        form.add_error("code", _throttled() if result.throttled else _wrong_code())
    return render(request, "accounts/two_factor/verify.html", {"form": form, "next": next_url})


def _wrong_code() -> str:
    return _(
        "Deze code klopt niet. Typ de zes cijfers die je app nu toont, of een van je "
        "herstelcodes. Klopt de code in je app niet? Controleer of de tijd op je telefoon "
        "automatisch wordt ingesteld."
    )


def _throttled() -> str:
    return _("Te veel onjuiste codes achter elkaar. Wacht een halve minuut en probeer het opnieuw.")


def _recovery_code_used(left: int) -> str:
    return (
        ngettext(
            "Je hebt een herstelcode gebruikt. Je hebt er nog %(count)d over.",
            "Je hebt een herstelcode gebruikt. Je hebt er nog %(count)d over.",
            left,
        )
        % {"count": left}
        + " "
        + _("Maak nieuwe herstelcodes via Tweestapsverificatie als je ze bijna op hebt.")
    )


@staff_only
def enrol(request):
    """Set up an authenticator app: QR code and the secret as text, confirmed with a code;
    then the ten recovery codes, shown once."""
    next_url = _next_url(request)
    if has_second_factor(request.user) and not session_verified(request):
        # A new app only after the current one: a password alone must not replace it.
        return redirect(verification_url(next_url))
    key = request.session.get(NEW_KEY) or services.new_totp_key()
    request.session[NEW_KEY] = key
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if services.totp_matches(key, form.cleaned_data["code"]):
            device, codes = services.two_factor_enrol(
                user=request.user, key=key, ip=client_ip(request)
            )
            del request.session[NEW_KEY]
            _mark_verified(request, device)
            return _show_codes(request, codes, enrolled=True)
        form.add_error("code", _wrong_code())
    device = services.totp_device_for(request.user, key)
    ctx = {
        "form": form,
        "next": next_url,
        "qr": segno.make(device.config_url, error="m").svg_data_uri(scale=5, border=2),
        "secret": services.secret_as_text(key),
        "issuer": settings.OTP_TOTP_ISSUER,
        "required": required_for_session(request),
        "replacing": has_second_factor(request.user),
    }
    return render(request, "accounts/two_factor/enrol.html", ctx)


@staff_only
def overview(request):
    """Your own second factor: whether it is set up, how many recovery codes are left."""
    user = request.user
    ctx = {
        "has_second_factor": has_second_factor(user),
        "required": required_for_session(request),
        "codes_left": services.recovery_codes_left(user),
        "verified": session_verified(request),
    }
    return render(request, "accounts/two_factor/overview.html", ctx)


@staff_only
@require_POST
def recovery_codes(request):
    """New recovery codes (the old ones stop working), shown once."""
    if not (has_second_factor(request.user) and session_verified(request)):
        raise PermissionDenied
    codes = services.recovery_codes_renew(user=request.user, ip=client_ip(request))
    return _show_codes(request, codes, enrolled=False)
