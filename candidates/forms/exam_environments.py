"""Toetsomgevingen: register an exam environment or change one."""

from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from ..services.exam_environments import InvalidRedirectUri, clean_uris


class ExamEnvironmentForm(forms.Form):
    name = forms.CharField(
        label=_("Naam"),
        max_length=100,
        help_text=_("Zo heet de toetsomgeving voor kandidaten, bijvoorbeeld 'Toetsspeler'."),
    )
    redirect_uris = forms.CharField(
        label=_("Terugstuuradressen (redirect URI's)"),
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Eén adres per regel, precies zoals de toetsomgeving het opgeeft."),
    )
    post_logout_redirect_uris = forms.CharField(
        label=_("Adressen na uitloggen (optioneel)"),
        widget=forms.Textarea(attrs={"rows": 2}),
        required=False,
        help_text=_("Waarheen de toetsomgeving na het uitloggen mag terugsturen; één per regel."),
    )
    allow_staff = forms.BooleanField(
        label=_("Medewerkers mogen ook inloggen"),
        required=False,
        help_text=_("Kandidaten mogen altijd inloggen."),
    )

    def clean_name(self) -> str:
        return " ".join(self.cleaned_data["name"].split())

    def _uris(self, field: str, *, required: bool) -> list[str]:
        try:
            return clean_uris(
                self.cleaned_data[field].splitlines(),
                label=str(self.fields[field].label),
                required=required,
            )
        except InvalidRedirectUri as error:
            raise ValidationError(str(error), code="invalid_uri") from None

    def clean_redirect_uris(self) -> list[str]:
        return self._uris("redirect_uris", required=True)

    def clean_post_logout_redirect_uris(self) -> list[str]:
        return self._uris("post_logout_redirect_uris", required=False)
