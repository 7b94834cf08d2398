"""Forms of the 'Privacy' settings page and of deleting candidates."""

from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from accounts.models import Organisation

from .candidates import MAX_SELECTION, SelectionField

# Ten years: longer is no retention period at all, and keeps the month arithmetic sane.
MAX_RETENTION_MONTHS = 120


class PrivacySettingsForm(forms.ModelForm):
    class Meta:
        model = Organisation
        fields = [
            "retention_months",
            "retention_action",
            "audit_retention_months",
            "coordinators_may_delete",
        ]
        labels = {
            "retention_months": _("Bewaartermijn na einde geldigheid (maanden)"),
            "retention_action": _("Wat gebeurt er daarna met het account?"),
            "audit_retention_months": _("Bewaartermijn auditlog (maanden)"),
            "coordinators_may_delete": _(
                "Toetscoördinatoren mogen kandidaten in hun eigen groepen verwijderen"
            ),
        }
        help_texts = {
            "retention_months": _(
                "Zoveel maanden na de laatste geldige dag wordt het account elke nacht "
                "automatisch geanonimiseerd of verwijderd."
            ),
            "retention_action": _(
                "Anonimiseren haalt naam, e-mailadres, geboortedatum, kandidaatnummer, "
                "gebruikersnaam en wachtwoord weg; het account telt alleen nog mee in aantallen."
            ),
            "audit_retention_months": _(
                "Oudere auditregels worden elke nacht verwijderd, behalve de regels over "
                "verwijderen, anonimiseren en instellingen."
            ),
        }
        widgets = {"retention_action": forms.RadioSelect}

    error_messages = {
        "range": _("Kies een aantal maanden van 1 tot en met %(max)d."),
    }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name in ("retention_months", "audit_retention_months"):
            # One Dutch message for every number out of range (Django's own would say "0").
            field = self.fields[name]
            field.validators = []
            field.widget.attrs.update(min=1, max=MAX_RETENTION_MONTHS)

    def _months(self, name: str) -> int:
        months = self.cleaned_data[name]
        if not 1 <= months <= MAX_RETENTION_MONTHS:
            raise ValidationError(
                self.error_messages["range"], code="range", params={"max": MAX_RETENTION_MONTHS}
            )
        return months

    def clean_retention_months(self) -> int:
        return self._months("retention_months")

    def clean_audit_retention_months(self) -> int:
        return self._months("audit_retention_months")


class DeleteSelectionForm(forms.Form):
    """The confirmation page's hidden list of candidate ids (the view keeps only those the
    user may delete)."""

    ids = SelectionField(required=False)

    def clean_ids(self) -> list[int]:
        return self.cleaned_data["ids"][:MAX_SELECTION]
