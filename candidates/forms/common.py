"""Fields and forms that several back-office pages share."""

from __future__ import annotations

from typing import TypeVar

from django import forms
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from accounts.models import Role, User

from ..models import CandidateGroup
from ..selectors import staff_visible_to

DATE_INPUT = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")

F = TypeVar("F", bound=forms.Field)


def declared_field(form: forms.BaseForm, name: str, kind: type[F]) -> F:
    """`form.fields[name]` as the field class it was declared with, to set its choices or
    queryset: `fields` holds every kind of field, so its entries are typed as a plain Field."""
    field = form.fields[name]
    if not isinstance(field, kind):
        raise TypeError(f"{name} is a {type(field).__name__}, not a {kind.__name__}")
    return field


def staff_label(user: User) -> str:
    return f"{user.display_name or user.username} ({user.username})"


class StaffChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj: User) -> str:
        return staff_label(obj)


class GroupChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj: CandidateGroup) -> str:
        if obj.education_area is not None:
            return f"{obj.name} ({obj.education_area.name})"
        return obj.name


def supervisor_choices(user: User, current=()):
    """Active supervisors, plus inactive ones already linked (so saving does not drop them)."""
    current_ids = [u.pk for u in current]
    return staff_visible_to(user).filter(
        Q(role=Role.BEGELEIDER, is_active=True) | Q(pk__in=current_ids)
    )


class BootstrapFieldsMixin(forms.BaseForm):
    """Bootstrap 5's classes on the widgets, for the forms the list page renders with
    templates/candidates/_field.html instead of crispy-forms (whose ten nested templates per
    field cost ~4 ms a field on the page staff open most). A field with errors also gets
    `is-invalid`, which shows its message. Placed before forms.Form among the bases."""

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
