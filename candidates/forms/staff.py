"""Medewerkers: create and edit a coordinator or supervisor."""

from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from accounts.models import EducationArea, Role, User

from ..models import CandidateGroup
from ..selectors import groups_visible_to, unarchived, username_taken
from .common import GroupChoiceField, declared_field


class StaffForm(forms.Form):
    username = forms.CharField(label=_("Gebruikersnaam"), max_length=150)
    first_name = forms.CharField(label=_("Voornaam"), max_length=150)
    surname_prefix = forms.CharField(label=_("Tussenvoegsel"), max_length=30, required=False)
    last_name = forms.CharField(label=_("Achternaam"), max_length=150)
    email = forms.EmailField(label=_("E-mailadres"), required=False)
    role = forms.ChoiceField(
        label=_("Rol"),
        choices=[
            (Role.TOETSCOORDINATOR, Role.TOETSCOORDINATOR.label),
            (Role.BEGELEIDER, Role.BEGELEIDER.label),
        ],
    )
    is_active = forms.TypedChoiceField(
        label=_("Status"),
        coerce=lambda v: v == "1",
        choices=[("1", _("Actief")), ("0", _("Inactief"))],
        initial="1",
    )
    areas = forms.ModelMultipleChoiceField(
        label=_("Koppel aan alle groepen van opleidingsgebied"),
        queryset=EducationArea.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_(
            "Zo wijs je een toetscoördinator aan voor een opleidingsgebied: de medewerker "
            "wordt gekoppeld aan alle huidige groepen van dat gebied."
        ),
    )
    groups = GroupChoiceField(
        label=_("Kandidaatgroepen"),
        queryset=CandidateGroup.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_(
            "Een toetscoördinator beheert de kandidaten van deze groepen; een begeleider ziet ze."
        ),
    )
    send_mail = forms.BooleanField(
        label=_("Inloggegevens naar het e-mailadres sturen"), required=False
    )

    error_messages = {
        "username_taken": _("De gebruikersnaam %(username)s is al in gebruik."),
        "username_chars": _(
            "Gebruik in de gebruikersnaam alleen letters, cijfers en de tekens . - _ @"
        ),
        "no_email": _("Vul een e-mailadres in om de inloggegevens te mailen."),
        "self": _("Je kunt je eigen account hier niet wijzigen."),
    }

    def __init__(self, *args, user: User, staff: User | None = None, **kwargs):
        if staff is not None:
            groups = (
                staff.coordinated_groups
                if staff.role == Role.TOETSCOORDINATOR
                else staff.supervised_groups
            )
            kwargs.setdefault(
                "initial",
                {
                    "username": staff.username,
                    "first_name": staff.first_name,
                    "surname_prefix": staff.surname_prefix,
                    "last_name": staff.last_name,
                    "email": staff.email,
                    "role": staff.role,
                    "is_active": "1" if staff.is_active else "0",
                    "groups": list(groups.values_list("pk", flat=True)),
                },
            )
        super().__init__(*args, **kwargs)
        self.user, self.staff = user, staff
        # Archived groups are not offered, except those the colleague is linked to already.
        current: list[int] = []
        if staff is not None:
            current += staff.coordinated_groups.values_list("pk", flat=True)
            current += staff.supervised_groups.values_list("pk", flat=True)
        visible = (
            unarchived(groups_visible_to(user), keep=current)
            .select_related("education_area")
            .order_by("name")
        )
        declared_field(self, "groups", forms.ModelChoiceField).queryset = visible
        self.visible_groups = visible
        areas = declared_field(self, "areas", forms.ModelChoiceField)
        areas.queryset = EducationArea.objects.filter(organisation_id=user.college_id)
        if staff is None:
            del self.fields["is_active"]
        else:
            # The username is how the colleague logs in; it does not change here.
            self.fields["username"].disabled = True
            del self.fields["send_mail"]

    def clean_username(self):
        if self.staff is not None:
            return self.staff.username
        username = self.cleaned_data["username"].strip()
        if not all(c.isalnum() or c in ".-_@" for c in username):
            raise ValidationError(self.error_messages["username_chars"], code="username_chars")
        if username_taken(username):
            raise ValidationError(
                self.error_messages["username_taken"],
                code="username_taken",
                params={"username": username},
            )
        return username

    def clean(self):
        super().clean()
        data = self.cleaned_data
        if data.get("send_mail") and not data.get("email"):
            self.add_error("email", ValidationError(self.error_messages["no_email"]))
        groups = list(data.get("groups") or [])
        areas = data.get("areas") or []
        if areas:
            by_area = self.visible_groups.filter(education_area__in=areas)
            groups = list({g.pk: g for g in [*groups, *by_area]}.values())
        data["all_groups"] = groups
        return data
