import time
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import SESSION_KEY, logout
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import translation
from django.utils.cache import patch_cache_control
from django.utils.translation import gettext as _

SESSION_STARTED_KEY = "kb_session_started"
SIGN_IN_METHOD_KEY = "kb_sign_in_method"  # set by an SSO sign-in (accounts.college_sign_in)
SESSION_RENEWED_KEY = "kb_session_renewed"
# The idle time-out (SESSION_COOKIE_AGE) starts again when the session is saved. Saving it on
# every request (SESSION_SAVE_EVERY_REQUEST) cost an UPDATE and a commit per page view; once
# a minute keeps the idle time-out exact to the minute.
SESSION_RENEW_SECONDS = 60


class SessionTimeoutMiddleware:
    """Both session time-outs: the idle one is renewed at most once a minute (see above), and
    the absolute one ends a session that is old, however busy."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.user.is_authenticated:
            started = request.session.get(SESSION_STARTED_KEY)
            # Kept on the request: logging in as someone else (and back) starts a new session
            # dict, and the signal handlers put this back so impersonation never extends it.
            request.kb_session_started = started
            # Likewise how the person signed in (accounts.college_sign_in): impersonating
            # someone, and coming back, must not lose that an SSO sign-in started the session.
            request.kb_session_sign_in_method = request.session.get(SIGN_IN_METHOD_KEY)
            now = int(time.time())
            if started is None:
                request.session[SESSION_STARTED_KEY] = now
            elif now - started > settings.SESSION_ABSOLUTE_TIMEOUT:
                logout(request)
                messages.info(request, _("Je sessie is verlopen. Log opnieuw in."))
                return redirect(settings.LOGIN_URL)
            if now - request.session.get(SESSION_RENEWED_KEY, 0) >= SESSION_RENEW_SECONDS:
                request.session[SESSION_RENEWED_KEY] = now  # modified, so saved with a new expiry
        elif SESSION_KEY in request.session:
            # Its user was deactivated or their validity ended (ValidityModelBackend.get_user).
            # Django keeps such a session; nothing in it (an SSO sign-in, a passed second
            # factor) may outlive that into a later login.
            request.session.flush()
        return self.get_response(request)


class MustChangePasswordMiddleware:
    """'Wachtwoord wijzigen bij de eerste keer inloggen': until the user has chosen a password
    of their own, every page leads to the change form (logout and language excepted). Not
    while a beheerder is logged in as the candidate: that must not use up the change."""

    ALLOWED = (
        "accounts:password_change",
        "accounts:logout",
        "set_language",
        "hijack:release",
        # The second factor comes first: accounts.two_factor.middleware sends a session that
        # still owes it from the password change to these pages.
        "two_factor:verify",
        "two_factor:enrol",
    )

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = request.user
        if (
            user.is_authenticated
            and user.must_change_password
            and not request.session.get("hijack_history")
            and request.path not in {reverse(name) for name in self.ALLOWED}
        ):
            change = reverse("accounts:password_change")
            if request.path == reverse("oauth2_provider:authorize"):
                # A sign-in to an exam environment continues once the password is changed.
                change += "?" + urlencode({"next": request.get_full_path()})
            return redirect(change)
        return self.get_response(request)


class DutchFirstLocaleMiddleware:
    """Dutch unless the user chose otherwise. Django's LocaleMiddleware would follow the
    browser's Accept-Language, so staff with an English browser would land in English; the
    colleges work in Dutch, and their staff expect the Dutch terms of their exam platform whatever
    their browser says. The language picker sets the cookie."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        chosen = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME)
        supported = {code for code, _name in settings.LANGUAGES}
        language = chosen if chosen in supported else settings.LANGUAGE_CODE
        translation.activate(language)
        request.LANGUAGE_CODE = language
        response = self.get_response(request)
        response.headers.setdefault("Content-Language", language)
        return response


class PrivateCacheMiddleware:
    """`Cache-Control: private, no-store` on every response to a logged-in user: pages and
    downloads hold candidates' personal data, and on a shared school computer the browser's
    cache (or its back button after logging out) would show them to the next pupil.

    Anonymous responses (the login page, error pages) are left as the views make them: they
    hold nothing personal. Static files never reach this middleware (whitenoise answers them
    first), so they stay cacheable for everybody."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        # Asked before and after the view: logging in and logging out change the answer.
        was_authenticated = request.user.is_authenticated
        response = self.get_response(request)
        if was_authenticated or request.user.is_authenticated:
            patch_cache_control(response, private=True, no_store=True)
        return response


class RequestSizeLimitMiddleware:
    """Refuse a request whose declared body exceeds KB_MAX_REQUEST_BYTES before anything reads
    it: otherwise Django would receive the whole upload (to memory or a temporary file) before
    the upload form could say it is too large. The proxy in front refuses larger bodies still
    earlier (docs/deployment.md); this keeps the web workers safe without it."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0  # Django itself treats a malformed length as an empty body
        if length > settings.KB_MAX_REQUEST_BYTES:
            return render(
                request,
                "413.html",
                {
                    "size": _megabytes(length, decimals=1),
                    "max": _megabytes(settings.KB_IMPORT_MAX_FILE_BYTES, decimals=0),
                    "back_url": request.path,
                },
                status=413,
            )
        return self.get_response(request)


def _megabytes(size: int, *, decimals: int) -> str:
    """'60,0': the upload form's way of writing a size (Dutch decimal comma)."""
    return f"{size / 1048576:.{decimals}f}".replace(".", ",")
