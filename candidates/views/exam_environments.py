"""Instellingen → Toetsomgevingen (beheerder only): the college's exam software that signs its
candidates in here. The client secret is shown once, in the response that made it, and never
stored in plain text."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from accounts.models import ExamEnvironment, Role
from accounts.permissions import role_required
from accounts.services import client_ip

from ..forms.exam_environments import ExamEnvironmentForm
from ..selectors import exam_environments_visible_to
from ..services import exam_environments as services


def _environment_or_404(request, pk: int) -> ExamEnvironment:
    return get_object_or_404(exam_environments_visible_to(request.user), pk=pk)


def _secret_page(request, environment: ExamEnvironment, secret: str, *, new: bool):
    ctx = {
        "environment": environment,
        "client_secret": secret,
        "issuer": settings.KB_BASE_URL,
        "discovery_url": settings.KB_BASE_URL
        + reverse("oauth2_provider:oidc-connect-discovery-info"),
        "new": new,
        "settings_section": "exam",
    }
    return render(request, "candidates/exam_environment_secret.html", ctx)


@role_required(Role.BEHEERDER)
def exam_environment_list(request):
    environments = exam_environments_visible_to(request.user).order_by("application__name")
    ctx = {
        "environments": environments,
        "issuer": settings.KB_BASE_URL,
        "provider_ready": bool(settings.OAUTH2_PROVIDER["OIDC_RSA_PRIVATE_KEY"]),
        "settings_section": "exam",
    }
    return render(request, "candidates/exam_environments.html", ctx)


@never_cache
@role_required(Role.BEHEERDER)
def exam_environment_create(request):
    form = ExamEnvironmentForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        registered = services.exam_environment_create(
            actor=request.user,
            organisation=request.user.college,
            ip=client_ip(request),
            **form.cleaned_data,
        )
        return _secret_page(request, registered.environment, registered.client_secret, new=True)
    ctx = {"form": form, "environment": None, "settings_section": "exam"}
    return render(request, "candidates/exam_environment_form.html", ctx)


@role_required(Role.BEHEERDER)
def exam_environment_edit(request, pk: int):
    environment = _environment_or_404(request, pk)
    app = environment.application
    initial = {
        "name": app.name,
        "redirect_uris": "\n".join(app.redirect_uris.split()),
        "post_logout_redirect_uris": "\n".join(app.post_logout_redirect_uris.split()),
        "allow_staff": environment.allow_staff,
    }
    form = ExamEnvironmentForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        changed = services.exam_environment_update(
            actor=request.user, environment=environment, ip=client_ip(request), **form.cleaned_data
        )
        if changed:
            messages.success(request, _("De toetsomgeving is opgeslagen."))
        else:
            messages.info(request, _("Er was niets gewijzigd."))
        return redirect("candidates:exam_environments")
    ctx = {"form": form, "environment": environment, "settings_section": "exam"}
    return render(request, "candidates/exam_environment_form.html", ctx)


@never_cache
@require_POST
@role_required(Role.BEHEERDER)
def exam_environment_new_secret(request, pk: int):
    environment = _environment_or_404(request, pk)
    secret = services.exam_environment_new_secret(
        actor=request.user, environment=environment, ip=client_ip(request)
    )
    return _secret_page(request, environment, secret, new=False)


@require_POST
@role_required(Role.BEHEERDER)
def exam_environment_switch(request, pk: int):
    environment = _environment_or_404(request, pk)
    active = request.POST.get("active") == "1"
    services.exam_environment_set_active(
        actor=request.user, environment=environment, active=active, ip=client_ip(request)
    )
    if active:
        messages.success(request, _("%(name)s staat weer aan.") % {"name": environment.name})
    else:
        messages.success(
            request,
            _("%(name)s staat uit; wie er nu was ingelogd, is uitgelogd.")
            % {"name": environment.name},
        )
    return redirect("candidates:exam_environments")
