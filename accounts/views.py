from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _

from .forms import LoginForm
from .models import Role


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
