"""Instellingen → Privacy (beheerder only): retention periods and who may delete."""

from __future__ import annotations

from django.contrib import messages
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from accounts.models import Organisation, Role
from accounts.permissions import role_required
from accounts.services import client_ip

from ..forms.retention import PrivacySettingsForm
from ..services import retention as services


@role_required(Role.BEHEERDER)
def privacy_settings(request):
    organisation = request.user.college
    # A copy for the form: the service compares with the saved values to audit the change.
    form = PrivacySettingsForm(
        request.POST or None, instance=Organisation.objects.get(pk=organisation.pk)
    )
    if request.method == "POST" and form.is_valid():
        changed = services.retention_settings_update(
            actor=request.user,
            organisation=organisation,
            changes={f: form.cleaned_data[f] for f in services.RETENTION_SETTINGS},
            ip=client_ip(request),
        )
        if changed:
            messages.success(request, _("De instellingen zijn opgeslagen."))
        else:
            messages.info(request, _("Er was niets gewijzigd."))
        return redirect("candidates:settings_privacy")
    return render(request, "candidates/settings_privacy.html", {"form": form})
