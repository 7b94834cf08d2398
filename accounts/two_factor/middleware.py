"""Keeps a session that still owes its second factor out of every page but the ones that
collect it (and logging out, the language picker, static files)."""

from __future__ import annotations

from urllib.parse import urlencode

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django_otp import DEVICE_ID_SESSION_KEY

from .rules import SIGN_IN_METHOD_KEY, required_for_session, session_verified

# Open to a session that has not passed its second factor yet.
OPEN_TO_UNVERIFIED = ("two_factor:verify", "two_factor:enrol", "accounts:logout", "set_language")
# Carried over 'Log in als deze gebruiker' and back (signals.py): django.contrib.auth's login()
# starts a new session for the other user, and the beheerder must not have to verify again.
CARRIED_OVER_IMPERSONATION = (DEVICE_ID_SESSION_KEY, SIGN_IN_METHOD_KEY)
HIJACKER_KEY = "kb_two_factor_of_hijacker"


def verification_url(next_url: str, name: str = "two_factor:verify") -> str:
    """The verification (or enrolment) page, going on to `next_url` afterwards."""
    return f"{reverse(name)}?{urlencode({'next': next_url})}"


def _here(request: HttpRequest) -> str:
    # A GET keeps its query string: an exam environment's /o/authorize/?… must go on after
    # verifying. A POST cannot be replayed; its page can.
    return request.get_full_path() if request.method == "GET" else request.path


class TwoFactorMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        # What signals.py needs after a login() that started a new session.
        request.kb_second_factor = {  # type: ignore[attr-defined]
            key: request.session.get(key) for key in (*CARRIED_OVER_IMPERSONATION, HIJACKER_KEY)
        }
        if request.user.is_authenticated and self._must_verify(request):
            if not request.path.startswith(settings.STATIC_URL) and not self._open(request):
                return redirect(verification_url(_here(request)))
            # base.html leaves out the menu, whose pages would only lead back here.
            request.kb_second_factor_pending = True  # type: ignore[attr-defined]
        return self.get_response(request)

    @staticmethod
    def _must_verify(request: HttpRequest) -> bool:
        if session_verified(request):
            return False
        # The platform admin (django-otp's OTPAdminSite) only lets verified operators in.
        admin = request.path.startswith(reverse("admin:index")) and request.user.is_staff
        return admin or required_for_session(request)

    @staticmethod
    def _open(request: HttpRequest) -> bool:
        return request.path in {reverse(name) for name in OPEN_TO_UNVERIFIED}
