from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login, update_session_auth_hash
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import PasswordChangeForm
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.formats import date_format
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET

from . import college_sign_in as sso
from .forms import LoginForm
from .models import AuditLog, Role
from .services import audit, client_ip


class LoginView(auth_views.LoginView):
    template_name = "accounts/login.html"
    form_class = LoginForm
    redirect_authenticated_user = True

    def get_context_data(self, **kwargs):
        # One button per college that set up its own provider: usernames are unique across
        # the installation, so nobody picks a college to log in with a password, and the
        # buttons are the college choice for SSO (each also has a link of its own).
        return {**super().get_context_data(**kwargs), "college_sign_ins": sso.enabled_sign_ins()}

    def form_valid(self, form):
        # A clean session for every password login. Django's login() keeps the data of a
        # session that belonged to the same user (or to nobody); left over from an earlier
        # sign-in on this browser, an SSO marker or a passed second factor would let the
        # password alone in.
        self.request.session.flush()
        return super().form_valid(form)


# Why an SSO sign-in was refused, as the person on the refusal page reads it.
SSO_REFUSALS = {
    "no_account": gettext_lazy(
        "Er is bij %(school)s geen account van een medewerker dat hoort bij %(who)s. Vraag de "
        "beheerder van je school om een account met dit e-mailadres of deze gebruikersnaam."
    ),
    "candidate": gettext_lazy(
        "Kandidaten loggen niet in via de inlogdienst van de school, maar met hun "
        "gebruikersnaam en wachtwoord."
    ),
    "inactive": gettext_lazy(
        "Je account bij %(school)s staat op inactief. Neem contact op met de beheerder van je "
        "school."
    ),
    "expired": gettext_lazy(
        "Je account bij %(school)s was geldig tot en met %(date)s en is verlopen. Neem "
        "contact op met de beheerder van je school."
    ),
    "not_yet_valid": gettext_lazy("Je account bij %(school)s is pas geldig vanaf %(date)s."),
    "ambiguous": gettext_lazy(
        "Bij %(school)s horen meer medewerkersaccounts bij %(who)s. Vraag de beheerder van je "
        "school om dit op te lossen."
    ),
    "no_claim": gettext_lazy(
        "De inlogdienst van %(school)s gaf niet door wie je bent (geen e-mailadres of "
        "gebruikersnaam). Vraag de beheerder van je school de instellingen na te kijken."
    ),
    "provider_error": gettext_lazy(
        "Inloggen via de inlogdienst van %(school)s is niet gelukt: de inlogdienst gaf een "
        "foutmelding of het antwoord hoorde niet bij deze inlogpoging. Probeer het opnieuw."
    ),
}


def _sso_refused(request, sign_in, refusal: str, match=None, value: str = ""):
    sso.audit_refusal(request, sign_in, refusal, match, value)
    user = match.user if match else None
    day = {"expired": "valid_until", "not_yet_valid": "valid_from"}.get(refusal)
    params = {
        "school": sign_in.organisation.name,
        "who": value,
        "date": date_format(getattr(user, day), "j F Y") if user and day else "",
    }
    message = SSO_REFUSALS[refusal] % params
    status = 502 if refusal == "provider_error" else 403
    ctx = {"message": message, "school": sign_in.organisation.name}
    return render(request, "accounts/college_sign_in_refused.html", ctx, status=status)


def _sign_in_or_404(code: str):
    sign_in = sso.enabled_sign_in(code)
    if sign_in is None:
        raise Http404
    return sign_in


@require_GET
def college_sign_in_start(request, code: str):
    """'Inloggen met <school>': off to the college's provider, to come back to the callback of
    this college only."""
    sign_in = _sign_in_or_404(code)
    next_url = request.GET.get("next", "")
    safe = url_has_allowed_host_and_scheme(
        next_url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    )
    request.session["kb_sign_in_next"] = next_url if safe else ""
    callback = request.build_absolute_uri(reverse("accounts:college_sign_in_callback", args=[code]))
    try:
        return sso.client_for(sign_in).authorize_redirect(request, callback)
    except sso.PROVIDER_ERRORS:
        return _sso_refused(request, sign_in, "provider_error")


@require_GET  # we ask for the query response mode
def college_sign_in_callback(request, code: str):
    """The provider sends the person back here. Authlib checks state, nonce and the id_token;
    we only let in an existing, active staff account of this same college."""
    sign_in = _sign_in_or_404(code)
    client = sso.client_for(sign_in)
    try:
        token = client.authorize_access_token(request)
        claims = sso.identity_claims(client, token)
        if not sso.same_issuer(str(claims.get("iss", "")), sign_in.issuer):
            raise sso.OAuthError(error="issuer_mismatch")
    except sso.PROVIDER_ERRORS:
        return _sso_refused(request, sign_in, "provider_error")
    value = str(claims.get(sign_in.claim) or "")
    match = sso.match_staff_account(sign_in.organisation, sign_in.claim, value)
    if match.refusal or match.user is None:
        return _sso_refused(request, sign_in, match.refusal or "no_account", match, value)
    next_url = request.session.pop("kb_sign_in_next", "")
    request.session.flush()  # nothing of an earlier sign-in on this browser carries over
    request.kb_sign_in_method = sso.COLLEGE_IDP  # for the login's audit row
    login(request, match.user, backend="accounts.backends.ValidityModelBackend")
    request.session[sso.SIGN_IN_METHOD_KEY] = sso.COLLEGE_IDP
    return redirect(next_url or settings.LOGIN_REDIRECT_URL)


def locked_out(request, credentials=None, *args, **kwargs):
    """django-axes lockout response: the login page with a Dutch explanation, status 429."""
    form = LoginForm(request)
    ctx = {"form": form, "college_sign_ins": sso.enabled_sign_ins()}
    lockout = _(
        "Te veel mislukte inlogpogingen voor deze gebruikersnaam vanaf dit adres. "
        "Probeer het over een kwartier opnieuw."
    )
    return render(request, "accounts/login.html", {**ctx, "lockout": lockout}, status=429)


@login_required
def home(request):
    """Each role lands on its own start page."""
    user = request.user
    if user.role in (Role.BEHEERDER, Role.TOETSCOORDINATOR):
        return redirect("candidates:list")
    if user.role == Role.BEGELEIDER:
        return redirect("candidates:mine")
    if user.role == Role.KANDIDAAT:
        return redirect("candidates:me")
    if user.is_superuser:
        return redirect(reverse("admin:index"))
    return render(request, "accounts/no_role.html", status=403)


class OwnPasswordChangeForm(PasswordChangeForm):
    error_messages = {
        **PasswordChangeForm.error_messages,
        "password_incorrect": gettext_lazy("Je huidige wachtwoord klopt niet. Vul het opnieuw in."),
    }


@login_required
def password_change(request):
    """Choose a new password (required after an import or reset with 'wijzigen bij eerste
    keer inloggen'). The new password gets the full-strength hasher and every validator."""
    form = OwnPasswordChangeForm(request.user, request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        user = form.save()
        user.must_change_password = False
        user.save(update_fields=["must_change_password"])
        update_session_auth_hash(request, user)
        audit(
            action=AuditLog.Action.PASSWORD_RESET,
            actor=user,
            target=user,
            after={"by": "self"},
            ip=client_ip(request),
        )
        messages.success(request, _("Je wachtwoord is gewijzigd."))
        return redirect(_safe_next(request) or "accounts:home")
    return render(request, "accounts/password_change.html", {"form": form})


def _safe_next(request) -> str:
    """Where to continue after the change (a pending exam sign-in), if it is on this site."""
    next_url = request.GET.get("next", "")
    safe = url_has_allowed_host_and_scheme(
        next_url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    )
    return next_url if safe else ""
