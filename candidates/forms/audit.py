"""Auditlog: the filters above the log."""

from __future__ import annotations

from datetime import date

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from accounts.models import AuditLog, User

from ..selectors import staff_visible_to
from .common import DATE_INPUT, declared_field, staff_label


class ActorChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: User) -> str:
        return staff_label(obj)


class AuditFilterForm(forms.Form):
    actor = ActorChoiceField(
        label=_("Door"), queryset=User.objects.none(), required=False, empty_label=_("Iedereen")
    )
    action = forms.ChoiceField(
        label=_("Actie"), required=False, choices=[("", _("Alle acties")), *AuditLog.Action.choices]
    )
    candidate = forms.CharField(
        label=_("Kandidaat"),
        required=False,
        max_length=150,
        help_text=_("Gebruikersnaam of kandidaatnummer."),
    )
    date_from = forms.DateField(label=_("Vanaf"), required=False, widget=DATE_INPUT)
    date_to = forms.DateField(label=_("Tot en met"), required=False, widget=DATE_INPUT)

    error_messages = {
        "date_range": _("Kies een datum tussen 1 januari %(first)d en 31 december %(last)d."),
    }
    # The log starts with the product; a day far outside this range is a typing error (and a
    # day near 9999 cannot be turned into the timestamps the filter compares with).
    FIRST_YEAR, LAST_YEAR = 2000, 2999

    def __init__(self, *args, user: User, **kwargs):
        super().__init__(*args, **kwargs)
        declared_field(self, "actor", forms.ModelChoiceField).queryset = staff_visible_to(user)

    def _clean_day(self, name: str) -> date | None:
        day = self.cleaned_data[name]
        if day and not self.FIRST_YEAR <= day.year <= self.LAST_YEAR:
            raise ValidationError(
                self.error_messages["date_range"],
                code="date_range",
                params={"first": self.FIRST_YEAR, "last": self.LAST_YEAR},
            )
        return day

    def clean_date_from(self):
        return self._clean_day("date_from")

    def clean_date_to(self):
        return self._clean_day("date_to")
