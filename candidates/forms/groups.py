"""Kandidaatgroepen: the group form and the actions on a whole group."""

from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import EducationArea, Organisation, Role, User

from ..models import CandidateGroup
from ..selectors import group_name_taken, staff_visible_to
from .candidates import BulkActionForm
from .common import DATE_INPUT, StaffChoiceField, declared_field, supervisor_choices


class GroupBulkActionForm(forms.Form):
    ACTIONS = [
        ("", _("Kies een actie")),
        ("extend", _("Geldigheid van alle leden verlengen")),
        ("deactivate", _("Alle leden deactiveren")),
        ("mail_credentials", _("Alle leden een nieuw wachtwoord mailen")),
        ("print_credentials", _("Alle leden een nieuw wachtwoord geven: inlogbriefjes (PDF)")),
    ]
    action = forms.ChoiceField(label=_("Actie voor de hele groep"), choices=ACTIONS)
    valid_until = forms.DateField(
        label=_("Geldig tot en met"),
        required=False,
        widget=DATE_INPUT,
        help_text=_("Alleen bij 'Geldigheid verlengen'."),
    )
    also_activate = forms.BooleanField(label=_("Activeer de accounts ook"), required=False)
    confirm = forms.BooleanField(
        label=_("Ik weet zeker dat ik dit voor alle leden van de groep wil doen"),
        required=True,
        error_messages={"required": _("Vink aan dat je dit voor alle leden wilt doen.")},
    )

    def __init__(self, *args, organisation: Organisation, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["valid_until"].initial = organisation.default_valid_until()

    def clean(self):
        super().clean()
        data = self.cleaned_data
        if data.get("action") == "extend":
            until = data.get("valid_until")
            if not until:
                self.add_error("valid_until", BulkActionForm.error_messages["no_date"])
            elif until < timezone.localdate():
                self.add_error("valid_until", BulkActionForm.error_messages["past"])
        return data


class GroupForm(forms.Form):
    name = forms.CharField(label=_("Naam"), max_length=150)
    education_area = forms.ModelChoiceField(
        label=_("Opleidingsgebied"),
        queryset=EducationArea.objects.none(),
        required=False,
        empty_label=_("(geen)"),
    )
    coordinators = StaffChoiceField(
        label=_("Toetscoördinatoren"),
        queryset=User.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    supervisors = StaffChoiceField(
        label=_("Begeleiders"),
        queryset=User.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Begeleiders zien de kandidaten zolang die tot deze kandidaatgroep behoren."),
    )

    error_messages = {"name_taken": _("Er bestaat al een kandidaatgroep met de naam %(name)s.")}

    def __init__(self, *args, user: User, group: CandidateGroup | None = None, **kwargs):
        if group is not None:
            kwargs.setdefault(
                "initial",
                {
                    "name": group.name,
                    "education_area": group.education_area_id,
                    "coordinators": [u.pk for u in group.coordinators.all()],
                    "supervisors": [u.pk for u in group.supervisors.all()],
                },
            )
        super().__init__(*args, **kwargs)
        self.user, self.group = user, group
        areas = declared_field(self, "education_area", forms.ModelChoiceField)
        areas.queryset = EducationArea.objects.filter(organisation_id=user.college_id)
        current = list(group.supervisors.all()) if group else []
        supervisors = declared_field(self, "supervisors", forms.ModelChoiceField)
        supervisors.queryset = supervisor_choices(user, current)
        if user.role == Role.BEHEERDER:
            coordinators = declared_field(self, "coordinators", forms.ModelChoiceField)
            coordinators.queryset = staff_visible_to(user).filter(role=Role.TOETSCOORDINATOR)
        else:
            del self.fields["coordinators"]  # only a beheerder appoints coordinators

    def clean_name(self):
        name = " ".join(self.cleaned_data["name"].split())
        if group_name_taken(
            organisation_id=self.user.college_id,
            name=name,
            exclude_pk=self.group.pk if self.group else None,
        ):
            raise ValidationError(
                self.error_messages["name_taken"], code="name_taken", params={"name": name}
            )
        return name
