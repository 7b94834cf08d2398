"""Forms take their context (the acting user, the candidate) in __init__ and validate against
the selectors, so a choice list never offers what the user may not see."""

from __future__ import annotations

from datetime import date

from django import forms
from django.contrib.auth import password_validation
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from accounts.mail import PLACEHOLDERS
from accounts.models import AuditLog, EducationArea, Organisation, Role, User
from accounts.passwords import MIN_LENGTH, min_length
from accounts.placeholders import check_placeholders
from accounts.validators import parse_id

from .models import Candidate, CandidateGroup
from .selectors import (
    candidate_number_taken,
    candidates_visible_to,
    group_name_taken,
    groups_linkable_by,
    groups_visible_to,
    staff_visible_to,
    username_taken,
)
from .widgets import FastSelect

DATE_INPUT = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
MAX_SELECTION = 1000
ORPHAN_CONFIRM_LABEL = _("Ik begrijp dat deze kandidaat daarna niet meer voor mij zichtbaar is")


class StaffChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj: User) -> str:
        return f"{obj.display_name or obj.username} ({obj.username})"


class GroupChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj: CandidateGroup) -> str:
        if obj.education_area_id:
            return f"{obj.name} ({obj.education_area.name})"
        return obj.name


def _supervisor_choices(user: User, current=()):
    """Active supervisors, plus inactive ones already linked (so saving does not drop them)."""
    current_ids = [u.pk for u in current]
    return staff_visible_to(user).filter(
        Q(role=Role.BEGELEIDER, is_active=True) | Q(pk__in=current_ids)
    )


# --- Candidate list ----------------------------------------------------------------------------


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


class CandidateFilterForm(BootstrapFieldsMixin, forms.Form):
    q = forms.CharField(
        label=_("Zoeken"),
        required=False,
        max_length=200,
        help_text=_("Naam, kandidaatnummer, gebruikersnaam of e-mailadres."),
    )
    group = forms.ChoiceField(label=_("Kandidaatgroep"), required=False, widget=FastSelect)
    status = forms.ChoiceField(
        label=_("Status"),
        required=False,
        widget=FastSelect,
        choices=[("", _("Alle")), ("active", _("Actief")), ("inactive", _("Inactief"))],
    )
    validity = forms.ChoiceField(
        label=_("Geldigheid"),
        required=False,
        widget=FastSelect,
        choices=[
            ("", _("Alle")),
            ("valid", _("Geldig")),
            ("expiring", _("Verloopt binnen 30 dagen")),
            ("expired", _("Verlopen")),
        ],
    )
    sort = forms.ChoiceField(
        required=False,
        widget=forms.HiddenInput,
        choices=[(s, s) for s in ("name", "-name", "number", "-number")],
    )
    per_page = forms.TypedChoiceField(
        label=_("Per pagina"),
        required=False,
        coerce=int,
        empty_value=50,
        widget=FastSelect,
        choices=[(n, n) for n in (25, 50, 100, 250)],
    )

    def __init__(self, *args, user: User, **kwargs):
        super().__init__(*args, **kwargs)
        self.groups = list(groups_visible_to(user).order_by("name").values_list("pk", "name"))
        choices = [("", _("Alle groepen"))]
        if user.role == Role.BEHEERDER:
            choices.append(("none", _("Zonder kandidaatgroep")))
        self.fields["group"].choices = choices + [(str(pk), name) for pk, name in self.groups]

    def filters(self) -> dict:
        """The valid filters; an invalid one (an old link, a group no longer visible) is
        dropped and its error shown, instead of failing the page."""
        self.is_valid()
        data = getattr(self, "cleaned_data", {})
        return {
            "query": data.get("q", ""),
            "group": data.get("group", ""),
            "status": data.get("status", ""),
            "validity": data.get("validity", ""),
            "sort": data.get("sort") or "name",
        }


class SelectionField(forms.Field):
    """Candidate ids from the list's check boxes, as ints; junk (also a number too large to be
    an id, which the database would refuse) is ignored."""

    widget = forms.MultipleHiddenInput

    def to_python(self, value):
        if not value:
            return []
        if isinstance(value, str):
            value = [value]
        return [pk for pk in map(parse_id, value) if pk is not None]


class BulkActionForm(BootstrapFieldsMixin, forms.Form):
    ACTIONS = [
        ("", _("Kies een actie")),
        ("activate", _("Activeren")),
        ("deactivate", _("Deactiveren")),
        ("extend", _("Geldigheid verlengen")),
        ("link", _("Koppelen aan kandidaatgroep")),
        ("unlink", _("Ontkoppelen van kandidaatgroep")),
        ("mail_credentials", _("Nieuw wachtwoord en inloggegevens mailen")),
        ("print_credentials", _("Nieuw wachtwoord en inlogbriefjes afdrukken (PDF)")),
        ("export", _("Exporteren naar Excel (.xlsx)")),
    ]

    error_messages = {
        "empty": _("Selecteer eerst een of meer kandidaten."),
        "too_many": _("Selecteer ten hoogste %(max)d kandidaten tegelijk."),
        "no_date": _("Kies de nieuwe einddatum van de geldigheid."),
        "past": _("De nieuwe einddatum mag niet in het verleden liggen."),
        "no_group": _("Kies een kandidaatgroep."),
    }

    ids = SelectionField(required=False)
    action = forms.ChoiceField(label=_("Actie"), choices=ACTIONS, widget=FastSelect)
    valid_until = forms.DateField(
        label=_("Geldig tot en met"),
        required=False,
        widget=DATE_INPUT,
        help_text=_("Alleen bij 'Geldigheid verlengen'."),
    )
    also_activate = forms.BooleanField(
        label=_("Activeer de accounts ook"),
        required=False,
        help_text=_("Alleen bij 'Geldigheid verlengen'."),
    )
    group = forms.ModelChoiceField(
        label=_("Kandidaatgroep"),
        queryset=CandidateGroup.objects.none(),
        required=False,
        widget=FastSelect,
        empty_label=_("— kies een groep —"),
        help_text=_("Alleen bij koppelen en ontkoppelen."),
    )
    confirm_orphan = forms.BooleanField(
        label=_(
            "Ik begrijp dat kandidaten die ik ontkoppel daarna niet meer voor mij zichtbaar "
            "kunnen zijn"
        ),
        required=False,
    )

    def __init__(self, *args, user: User, groups: list[tuple[int, str]] | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        self.fields["group"].queryset = groups_linkable_by(user).order_by("name")
        if groups is not None:
            # The list page has just fetched these (id, name) pairs for its filter: show them
            # instead of querying again. Validation still goes through the queryset above.
            group = self.fields["group"]
            group.widget.choices = [("", group.empty_label), *groups]
        self.fields["valid_until"].initial = user.organisation.default_valid_until()
        if user.role != Role.TOETSCOORDINATOR:
            del self.fields["confirm_orphan"]

    def clean_ids(self):
        ids = self.cleaned_data["ids"]
        if not ids:
            raise ValidationError(self.error_messages["empty"], code="empty")
        if len(ids) > MAX_SELECTION:
            raise ValidationError(
                self.error_messages["too_many"], code="too_many", params={"max": MAX_SELECTION}
            )
        # Only what this user may see: ids of other colleges or groups simply drop out.
        visible = list(candidates_visible_to(self.user).filter(pk__in=ids).values_list("pk"))
        if not visible:
            raise ValidationError(self.error_messages["empty"], code="empty")
        return [pk for (pk,) in visible]

    def clean(self):
        data = super().clean()
        action = data.get("action")
        if action == "extend":
            until = data.get("valid_until")
            if not until:
                self.add_error("valid_until", ValidationError(self.error_messages["no_date"]))
            elif until < timezone.localdate():
                self.add_error("valid_until", ValidationError(self.error_messages["past"]))
        if action in ("link", "unlink") and not data.get("group"):
            self.add_error("group", ValidationError(self.error_messages["no_group"]))
        if action == "unlink" and data.get("group") and data.get("ids"):
            orphans = orphans_after_unlink(self.user, data["ids"], data["group"])
            if orphans and not data.get("confirm_orphan"):
                self.add_error(
                    "confirm_orphan",
                    ngettext(
                        "%(count)d kandidaat is na het ontkoppelen niet meer voor jou zichtbaar, "
                        "omdat je aan geen van diens andere groepen gekoppeld bent. Vink het "
                        "vakje aan als dat de bedoeling is.",
                        "%(count)d kandidaten zijn na het ontkoppelen niet meer voor jou "
                        "zichtbaar, omdat je aan geen van hun andere groepen gekoppeld bent. "
                        "Vink het vakje aan als dat de bedoeling is.",
                        orphans,
                    )
                    % {"count": orphans},
                )
        return data


def orphans_after_unlink(user: User, ids: list[int], group: CandidateGroup) -> int:
    """How many of the selection would drop out of a coordinator's sight (the seed's warning:
    a candidate outside the coordinator's groups is no longer visible to them)."""
    if user.role != Role.TOETSCOORDINATOR:
        return 0
    my_other_groups = groups_visible_to(user).exclude(pk=group.pk)
    return (
        candidates_visible_to(user)
        .filter(pk__in=ids, groups=group)
        .exclude(groups__in=my_other_groups)
        .count()
    )


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
        data = super().clean()
        if data.get("action") == "extend":
            until = data.get("valid_until")
            if not until:
                self.add_error("valid_until", BulkActionForm.error_messages["no_date"])
            elif until < timezone.localdate():
                self.add_error("valid_until", BulkActionForm.error_messages["past"])
        return data


# --- 'Wijzig deze gebruiker' -------------------------------------------------------------------


class CandidateForm(forms.Form):
    first_name = forms.CharField(label=_("Voornaam"), max_length=150)
    surname_prefix = forms.CharField(label=_("Tussenvoegsel"), max_length=30, required=False)
    last_name = forms.CharField(label=_("Achternaam"), max_length=150)
    email = forms.EmailField(label=_("E-mailadres"), required=False)
    candidate_number = forms.CharField(label=_("Kandidaatnummer"), max_length=40)
    birth_date = forms.DateField(label=_("Geboortedatum"), required=False, widget=DATE_INPUT)
    is_active = forms.TypedChoiceField(
        label=_("Status"),
        coerce=lambda v: v == "1",
        choices=[("1", _("Actief")), ("0", _("Inactief"))],
    )
    valid_from = forms.DateField(label=_("Geldig van"), required=False, widget=DATE_INPUT)
    valid_until = forms.DateField(label=_("Geldig tot en met"), required=False, widget=DATE_INPUT)

    error_messages = {
        "number_taken": _("Kandidaatnummer %(number)s is al in gebruik binnen je school."),
        "future_birth": _("De geboortedatum ligt in de toekomst."),
        "period": _("De einddatum ligt vóór de begindatum."),
    }

    def __init__(self, *args, candidate: Candidate, **kwargs):
        user = candidate.user
        kwargs.setdefault(
            "initial",
            {
                "first_name": user.first_name,
                "surname_prefix": user.surname_prefix,
                "last_name": user.last_name,
                "email": user.email,
                "candidate_number": candidate.candidate_number,
                "birth_date": candidate.birth_date,
                "is_active": "1" if user.is_active else "0",
                "valid_from": user.valid_from,
                "valid_until": user.valid_until,
            },
        )
        super().__init__(*args, **kwargs)
        self.candidate = candidate

    def clean_candidate_number(self):
        number = self.cleaned_data["candidate_number"].strip()
        if candidate_number_taken(
            organisation_id=self.candidate.organisation_id,
            number=number,
            exclude_pk=self.candidate.pk,
        ):
            raise ValidationError(
                self.error_messages["number_taken"], code="number_taken", params={"number": number}
            )
        return number

    def clean_birth_date(self):
        birth_date = self.cleaned_data["birth_date"]
        if birth_date and birth_date > timezone.localdate():
            raise ValidationError(self.error_messages["future_birth"], code="future_birth")
        return birth_date

    def clean(self):
        data = super().clean()
        start, end = data.get("valid_from"), data.get("valid_until")
        if start and end and end < start:
            self.add_error("valid_until", ValidationError(self.error_messages["period"]))
        return data


class PasswordForm(forms.Form):
    MODES = [
        ("show", _("Genereer een wachtwoord en toon het eenmalig")),
        ("mail", _("Genereer een wachtwoord en mail de inloggegevens naar de kandidaat")),
        ("slip", _("Genereer een wachtwoord en maak een inlogbriefje (PDF)")),
        ("typed", _("Stel zelf een wachtwoord in")),
    ]
    mode = forms.ChoiceField(label=_("Nieuw wachtwoord"), choices=MODES, widget=forms.RadioSelect)
    password1 = forms.CharField(
        label=_("Wachtwoord"),
        required=False,
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text=_("Alleen bij 'Stel zelf een wachtwoord in'. Minimaal 8 tekens."),
    )
    password2 = forms.CharField(
        label=_("Herhaal het wachtwoord"),
        required=False,
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )
    must_change_password = forms.BooleanField(
        label=_("Kandidaat moet het wachtwoord wijzigen bij de volgende login"), required=False
    )

    error_messages = {
        "required": _("Vul het nieuwe wachtwoord in."),
        "mismatch": _("De twee wachtwoorden zijn niet gelijk."),
        "no_email": _("Deze kandidaat heeft geen e-mailadres. Vul dat eerst in bij de gegevens."),
    }

    # Django's own validator messages are not all translated into Dutch (the plural of
    # 'too short' is missing), so the known ones get our own wording.
    validator_messages = {
        "password_too_short": _("Dit wachtwoord is te kort: gebruik minimaal 8 tekens."),
        "password_too_common": _("Dit wachtwoord is te algemeen. Kies een ander wachtwoord."),
        "password_entirely_numeric": _("Dit wachtwoord bevat alleen cijfers."),
        "password_too_similar": _("Dit wachtwoord lijkt te veel op de naam of gebruikersnaam."),
    }

    def _dutch(self, error: ValidationError) -> ValidationError:
        if error.code in self.validator_messages:
            return ValidationError(self.validator_messages[error.code], code=error.code)
        return error

    def __init__(self, *args, candidate: Candidate, **kwargs):
        kwargs.setdefault(
            "initial",
            {"mode": "show", "must_change_password": candidate.user.must_change_password},
        )
        super().__init__(*args, **kwargs)
        self.candidate = candidate

    def clean(self):
        data = super().clean()
        mode = data.get("mode")
        if mode == "typed":
            password = data.get("password1")
            if not password:
                self.add_error("password1", ValidationError(self.error_messages["required"]))
            elif password != data.get("password2"):
                self.add_error("password2", ValidationError(self.error_messages["mismatch"]))
            else:
                try:
                    password_validation.validate_password(password, self.candidate.user)
                except ValidationError as error:
                    self.add_error("password1", [self._dutch(e) for e in error.error_list])
        if mode == "mail" and not self.candidate.user.email:
            self.add_error("mode", ValidationError(self.error_messages["no_email"]))
        return data


class LinksForm(forms.Form):
    groups = GroupChoiceField(
        label=_("Kandidaatgroepen"),
        queryset=CandidateGroup.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    supervisors = StaffChoiceField(
        label=_("Direct gekoppelde begeleiders"),
        queryset=User.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_(
            "Een direct gekoppelde begeleider ziet de kandidaat, ongeacht de kandidaatgroep."
        ),
    )
    confirm_orphan = forms.BooleanField(label=ORPHAN_CONFIRM_LABEL, required=False)

    error_messages = {
        "orphan": _(
            "Let op: na deze wijziging zit de kandidaat in geen enkele groep waaraan jij "
            "gekoppeld bent, en is de kandidaat niet meer voor jou zichtbaar. Vink het vakje "
            "aan als dat de bedoeling is."
        ),
    }

    def __init__(self, *args, candidate: Candidate, editor: User, **kwargs):
        linkable = groups_linkable_by(editor).select_related("education_area").order_by("name")
        # Fresh queries, not a prefetch: the groups the editor cannot see must be kept too.
        current_groups = list(CandidateGroup.objects.filter(members=candidate))
        current_supervisors = list(User.objects.filter(direct_candidates=candidate))
        linkable_ids = set(linkable.values_list("pk", flat=True))
        kwargs.setdefault(
            "initial",
            {
                "groups": [g.pk for g in current_groups if g.pk in linkable_ids],
                "supervisors": [u.pk for u in current_supervisors],
            },
        )
        super().__init__(*args, **kwargs)
        self.editor = editor
        # Groups the editor may not link (a coordinator sees only their own) stay as they are.
        self.fixed_groups = [g for g in current_groups if g.pk not in linkable_ids]
        self.fields["groups"].queryset = linkable
        self.fields["supervisors"].queryset = _supervisor_choices(editor, current_supervisors)
        if editor.role != Role.TOETSCOORDINATOR:
            del self.fields["confirm_orphan"]

    def clean(self):
        data = super().clean()
        if "groups" not in data:
            return data
        data["all_groups"] = [*self.fixed_groups, *data["groups"]]
        if self.editor.role == Role.TOETSCOORDINATOR:
            mine = set(groups_visible_to(self.editor).values_list("pk", flat=True))
            stays_visible = any(g.pk in mine for g in data["all_groups"])
            if not stays_visible and not data.get("confirm_orphan"):
                self.add_error("confirm_orphan", ValidationError(self.error_messages["orphan"]))
        return data


# --- Kandidaatgroepen --------------------------------------------------------------------------


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
        self.fields["education_area"].queryset = EducationArea.objects.filter(
            organisation_id=user.organisation_id
        )
        current = list(group.supervisors.all()) if group else []
        self.fields["supervisors"].queryset = _supervisor_choices(user, current)
        if user.role == Role.BEHEERDER:
            self.fields["coordinators"].queryset = staff_visible_to(user).filter(
                role=Role.TOETSCOORDINATOR
            )
        else:
            del self.fields["coordinators"]  # only a beheerder appoints coordinators

    def clean_name(self):
        name = " ".join(self.cleaned_data["name"].split())
        if group_name_taken(
            organisation_id=self.user.organisation_id,
            name=name,
            exclude_pk=self.group.pk if self.group else None,
        ):
            raise ValidationError(
                self.error_messages["name_taken"], code="name_taken", params={"name": name}
            )
        return name


# --- Medewerkers -------------------------------------------------------------------------------


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
        self.fields["groups"].queryset = (
            groups_visible_to(user).select_related("education_area").order_by("name")
        )
        self.fields["areas"].queryset = EducationArea.objects.filter(
            organisation_id=user.organisation_id
        )
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
        data = super().clean()
        if data.get("send_mail") and not data.get("email"):
            self.add_error("email", ValidationError(self.error_messages["no_email"]))
        groups = list(data.get("groups") or [])
        areas = data.get("areas") or []
        if areas:
            by_area = self.fields["groups"].queryset.filter(education_area__in=areas)
            groups = list({g.pk: g for g in [*groups, *by_area]}.values())
        data["all_groups"] = groups
        return data


# --- Instellingen ------------------------------------------------------------------------------


class SettingsForm(forms.ModelForm):
    """The college's own choices. Saved through organisation_settings_update (audited)."""

    class Meta:
        model = Organisation
        fields = [
            "school_year_end_day",
            "school_year_end_month",
            "password_length",
            "password_format",
            "username_pattern",
            "coordinators_may_create_groups",
            "mail_sender_name",
            "mail_reply_to",
            "credentials_mail_text",
        ]
        labels = {
            "school_year_end_day": _("Einde schooljaar: dag"),
            "school_year_end_month": _("Einde schooljaar: maand"),
            "password_length": _("Lengte van gegenereerde wachtwoorden"),
            "password_format": _("Soort gegenereerde wachtwoorden"),
            "username_pattern": _("Patroon voor gebruikersnamen"),
            "coordinators_may_create_groups": _("Toetscoördinatoren mogen groepen aanmaken"),
            "mail_sender_name": _("Naam van de afzender"),
            "mail_reply_to": _("Antwoordadres"),
            "credentials_mail_text": _("Tekst van de mail met inloggegevens"),
        }
        help_texts = {
            "school_year_end_day": _(
                "De standaard einddatum van de geldigheid van nieuwe accounts."
            ),
            "password_length": _(
                "Minimaal 12 tekens. Gegenereerde wachtwoorden bevatten letters en cijfers "
                "zonder tekens die op elkaar lijken (0/O, 1/l)."
            ),
            "username_pattern": _(
                "Beschikbaar: {code} (de korte code van de school) en {candidate_number}."
            ),
            "credentials_mail_text": _(
                "Leeg laten voor de standaardtekst. Beschikbaar: {naam}, {gebruikersnaam}, "
                "{wachtwoord}, {school}, {geldig_tot} en {inlog_url}."
            ),
        }
        widgets = {"credentials_mail_text": forms.Textarea(attrs={"rows": 10})}

    error_messages = {
        "day": _("Kies een dag van 1 tot en met 31."),
        "month": _("Kies een maand van 1 tot en met 12."),
        "no_such_date": _("Die datum bestaat niet in elk jaar. Kies een andere dag."),
        "length": _("Kies een lengte van %(min)d tot en met 64 tekens."),
        "needs_password": _("De tekst moet {wachtwoord} en {gebruikersnaam} bevatten."),
        "needs_number": _("Het patroon moet {candidate_number} bevatten."),
        "header": _('Gebruik geen regeleinden of de tekens < > " in de naam van de afzender.'),
    }

    def clean_school_year_end_day(self):
        day = self.cleaned_data["school_year_end_day"]
        if not 1 <= day <= 31:
            raise ValidationError(self.error_messages["day"], code="day")
        return day

    def clean_school_year_end_month(self):
        month = self.cleaned_data["school_year_end_month"]
        if not 1 <= month <= 12:
            raise ValidationError(self.error_messages["month"], code="month")
        return month

    def clean_password_length(self):
        length = self.cleaned_data["password_length"]
        if not MIN_LENGTH <= length <= 64:
            raise ValidationError(
                self.error_messages["length"], code="length", params={"min": MIN_LENGTH}
            )
        return length

    def clean_mail_sender_name(self):
        name = self.cleaned_data["mail_sender_name"]
        if any(c in name for c in '<>"\r\n'):
            raise ValidationError(self.error_messages["header"], code="header")
        return name

    def _check_placeholders(self, text: str, available: tuple[str, ...]) -> set[str]:
        # Bare {name} only: no format specs, attributes or indexes (accounts.placeholders).
        return check_placeholders(text, available)

    def clean_credentials_mail_text(self):
        text = self.cleaned_data["credentials_mail_text"].strip()
        if text:
            names = self._check_placeholders(text, PLACEHOLDERS)
            if not {"wachtwoord", "gebruikersnaam"} <= names:
                raise ValidationError(self.error_messages["needs_password"], code="needs_password")
        return text

    def clean_username_pattern(self):
        pattern = self.cleaned_data["username_pattern"].strip()
        names = self._check_placeholders(pattern, ("code", "candidate_number"))
        if "candidate_number" not in names:
            raise ValidationError(self.error_messages["needs_number"], code="needs_number")
        return pattern

    def clean(self):
        data = super().clean()
        day, month = data.get("school_year_end_day"), data.get("school_year_end_month")
        if day and month:
            try:
                date(2027, month, day)  # 2027 is no leap year: 29 February is refused
            except ValueError:
                self.add_error("school_year_end_day", self.error_messages["no_such_date"])
        fmt, length = data.get("password_format"), data.get("password_length")
        if fmt and length and length < min_length(fmt):
            self.add_error(
                "password_length",
                ValidationError(
                    self.error_messages["length"], code="length", params={"min": min_length(fmt)}
                ),
            )
        return data


class EducationAreaForm(forms.Form):
    id = forms.IntegerField(required=False, widget=forms.HiddenInput)
    name = forms.CharField(label=_("Naam opleidingsgebied"), max_length=100, required=False)
    delete = forms.BooleanField(label=_("Verwijderen"), required=False)


class BaseEducationAreaFormSet(forms.BaseFormSet):
    error_messages_unique = _("Het opleidingsgebied %(name)s staat er twee keer in.")

    def clean(self):
        if any(self.errors):
            return
        seen = set()
        for form in self.forms:
            name = " ".join((form.cleaned_data.get("name") or "").split())
            if not name or form.cleaned_data.get("delete"):
                continue
            if name.casefold() in seen:
                raise ValidationError(self.error_messages_unique % {"name": name})
            seen.add(name.casefold())


EducationAreaFormSet = forms.formset_factory(
    EducationAreaForm, formset=BaseEducationAreaFormSet, extra=2, max_num=200
)


# --- Auditlog and 'Mijn kandidaten' ------------------------------------------------------------


class AuditFilterForm(forms.Form):
    actor = forms.ModelChoiceField(
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
        self.fields["actor"].queryset = staff_visible_to(user)
        self.fields["actor"].label_from_instance = lambda u: (
            f"{u.display_name or u.username} ({u.username})"
        )

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


class SearchForm(forms.Form):
    q = forms.CharField(
        label=_("Zoeken"),
        required=False,
        max_length=200,
        help_text=_("Naam, kandidaatnummer, gebruikersnaam of e-mailadres."),
    )
