"""Fields and forms that several back-office pages share."""

from __future__ import annotations

from django import forms
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from accounts.models import Role, User

from ..models import CandidateGroup
from ..selectors import staff_visible_to

DATE_INPUT = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class StaffChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj: User) -> str:
        return f"{obj.display_name or obj.username} ({obj.username})"


class GroupChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj: CandidateGroup) -> str:
        if obj.education_area_id:
            return f"{obj.name} ({obj.education_area.name})"
        return obj.name


def supervisor_choices(user: User, current=()):
    """Active supervisors, plus inactive ones already linked (so saving does not drop them)."""
    current_ids = [u.pk for u in current]
    return staff_visible_to(user).filter(
        Q(role=Role.BEGELEIDER, is_active=True) | Q(pk__in=current_ids)
    )


class BootstrapFieldsMixin:
    """Bootstrap 5's classes on the widgets, for the forms the list page renders with
    templates/candidates/_field.html instead of crispy-forms (whose ten nested templates per
    field cost ~4 ms a field on the page staff open most). A field with errors also gets
    `is-invalid`, which shows its message."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            widget = field.widget
            if widget.is_hidden:
                continue
            if isinstance(widget, forms.CheckboxInput):
                css = "form-check-input"
            elif isinstance(widget, forms.Select):
                css = "form-select"
            else:
                css = "form-control"
            widget.attrs["class"] = css

    def full_clean(self):
        super().full_clean()
        for name in self.errors:
            if name in self.fields and not self.fields[name].widget.is_hidden:
                self.fields[name].widget.attrs["class"] += " is-invalid"


class SearchForm(forms.Form):
    q = forms.CharField(
        label=_("Zoeken"),
        required=False,
        max_length=200,
        help_text=_("Naam, kandidaatnummer, gebruikersnaam of e-mailadres."),
    )
