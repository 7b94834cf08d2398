"""Instellingen (beheerder only): the college's choices and its education areas."""

from __future__ import annotations

from django.contrib import messages
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from accounts.mail import render_credentials_text
from accounts.models import CollegeSignIn, EducationArea, Organisation, Role
from accounts.passwords import generate_password
from accounts.permissions import role_required
from accounts.services import client_ip

from ..forms.settings import CollegeSignInForm, EducationAreaFormSet, SettingsForm
from ..services import settings as services
from ..slips import default_login_url


def _area_changes(areas, formset):
    by_id = {a.pk: a for a in areas}
    added, renamed, deleted = [], [], []
    for form in formset.forms:
        name = " ".join((form.cleaned_data.get("name") or "").split())
        area = by_id.get(form.cleaned_data.get("id"))
        if area is None:
            if name and not form.cleaned_data.get("delete"):
                added.append(name)
        elif form.cleaned_data.get("delete") or not name:
            deleted.append(area)
        elif name != area.name:
            renamed.append((area, name))
    return added, renamed, deleted


def _preview(organisation, text: str, password_length: int, password_format: str) -> str:
    sample = {
        "naam": "Anna de Vries",
        "gebruikersnaam": f"{organisation.code}-0012345",
        "wachtwoord": generate_password(password_length, password_format),
        "school": organisation.name,
        "geldig_tot": date_format(organisation.default_valid_until(), "j F Y"),
        "inlog_url": default_login_url(),
    }
    return render_credentials_text(text, sample)


@role_required(Role.BEHEERDER)
def college_settings(request):
    """'Ieder roc is anders georganiseerd': the beheerder's choices for the college. The
    'Voorbeeld' button shows the credentials mail with sample values without saving."""
    organisation = request.user.organisation
    areas = list(EducationArea.objects.filter(organisation=organisation).order_by("name"))
    initial = [{"id": a.pk, "name": a.name} for a in areas]
    # The form gets its own copy: a ModelForm writes cleaned values onto its instance, and the
    # service must still see the old values to audit what changed.
    form_instance = Organisation.objects.get(pk=organisation.pk)
    form = SettingsForm(request.POST or None, instance=form_instance)
    formset = EducationAreaFormSet(request.POST or None, initial=initial, prefix="areas")
    preview = None
    if request.method == "POST" and form.is_valid() and formset.is_valid():
        data = form.cleaned_data
        if "preview" in request.POST:
            preview = _preview(
                organisation,
                data["credentials_mail_text"],
                data["password_length"],
                data["password_format"],
            )
        else:
            added, renamed, deleted = _area_changes(areas, formset)
            changed = services.organisation_settings_update(
                actor=request.user,
                organisation=organisation,
                changes={f: data[f] for f in services.ORGANISATION_SETTINGS},
                areas_added=added,
                areas_renamed=renamed,
                areas_deleted=deleted,
                ip=client_ip(request),
            )
            if changed:
                messages.success(request, _("De instellingen zijn opgeslagen."))
            else:
                messages.info(request, _("Er was niets gewijzigd."))
            return redirect("candidates:settings")
    ctx = {"form": form, "formset": formset, "preview": preview}
    return render(request, "candidates/settings.html", ctx)


@role_required(Role.BEHEERDER)
def college_sign_in_settings(request):
    """Instellingen → Inlogdienst: the college's own OpenID Connect provider for its staff."""
    organisation = request.user.organisation
    # A fresh copy for the form (see college_settings); an unsaved row until the first save.
    instance = CollegeSignIn.objects.filter(organisation=organisation).first()
    form = CollegeSignInForm(
        request.POST or None, instance=instance or CollegeSignIn(organisation=organisation)
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        changed = services.college_sign_in_update(
            actor=request.user,
            organisation=organisation,
            changes={f: data[f] for f in services.SIGN_IN_SETTINGS},
            client_secret=data["client_secret"],
            ip=client_ip(request),
        )
        if changed:
            messages.success(request, _("De instellingen van de inlogdienst zijn opgeslagen."))
        else:
            messages.info(request, _("Er was niets gewijzigd."))
        return redirect("candidates:settings_sign_in")
    callback = reverse("accounts:college_sign_in_callback", args=[organisation.code])
    ctx = {"form": form, "redirect_uri": request.build_absolute_uri(callback)}
    return render(request, "candidates/settings_sign_in.html", ctx)
