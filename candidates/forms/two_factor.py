from django import forms
from django.utils.translation import gettext_lazy as _

from accounts.models import STAFF_ROLES


class TwoFactorSettingsForm(forms.Form):
    """Instellingen → Tweestapsverificatie: the staff roles that must use it."""

    roles = forms.MultipleChoiceField(
        label=_("Verplicht voor"),
        choices=[(role.value, role.label) for role in STAFF_ROLES],
        widget=forms.CheckboxSelectMultiple,
        required=False,
        error_messages={"invalid_choice": _("Kies alleen rollen uit de lijst.")},
        help_text=_(
            "Medewerkers met een aangevinkte rol moeten na hun wachtwoord een code uit een "
            "authenticator-app invullen. Wie via de inlogdienst van de school inlogt, krijgt "
            "die vraag niet: de inlogdienst vraagt zelf om een tweede stap."
        ),
    )

    def clean_roles(self) -> list[str]:
        chosen = set(self.cleaned_data["roles"])
        return [role.value for role in STAFF_ROLES if role.value in chosen]  # a stable order
