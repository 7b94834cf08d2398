"""Instellingen → Tweestapsverificatie (beheerder only): which staff roles must use it."""

from __future__ import annotations

from django.contrib import messages
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from accounts.models import Organisation, Role
from accounts.permissions import role_required
from accounts.services import client_ip

from ..forms.two_factor import TwoFactorSettingsForm
from ..services import two_factor as services


@role_required(Role.BEHEERDER)
def two_factor_settings(request):
    organisation = Organisation.objects.get(pk=request.user.college_id)
    form = TwoFactorSettingsForm(
        request.POST or None, initial={"roles": organisation.two_factor_roles}
    )
    if request.method == "POST" and form.is_valid():
        changed = services.organisation_two_factor_update(
            actor=request.user,
            organisation=organisation,
            roles=form.cleaned_data["roles"],
            ip=client_ip(request),
        )
        if changed:
            messages.success(
                request, _("De instellingen voor tweestapsverificatie zijn opgeslagen.")
            )
        else:
            messages.info(request, _("Er was niets gewijzigd."))
        return redirect("candidates:two_factor_settings")
    return render(request, "candidates/two_factor_settings.html", {"form": form})
