from django.contrib import messages
from django.contrib.auth import update_session_auth_hash
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import PasswordChangeForm
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from .forms import LoginForm
from .models import AuditLog, Role
from .services import audit, client_ip


class LoginView(auth_views.LoginView):
    template_name = "accounts/login.html"
    form_class = LoginForm
    redirect_authenticated_user = True


def locked_out(request, credentials=None, *args, **kwargs):
    """django-axes lockout response: the login page with a Dutch explanation, status 429."""
    form = LoginForm(request)
    lockout = _(
        "Te veel mislukte inlogpogingen voor deze gebruikersnaam vanaf dit adres. "
        "Probeer het over een kwartier opnieuw."
    )
    return render(request, "accounts/login.html", {"form": form, "lockout": lockout}, status=429)


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
