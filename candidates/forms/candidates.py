"""Beheer → Kandidaten (filters, bulk actions) and 'Wijzig deze gebruiker' (details, password,
links). Forms take their context (the acting user, the candidate) in __init__ and validate
against the selectors, so a choice list never offers what the user may not see."""

from __future__ import annotations

from django import forms
from django.contrib.auth import password_validation
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from accounts.models import Role, User
from accounts.validators import parse_id

from ..models import Candidate, CandidateGroup
from ..selectors import (
    active_groups_linkable_by,
    candidate_number_taken,
    candidates_orphaned_by,
    candidates_visible_to,
    group_ids_after_unlink,
    groups_linkable_by,
    groups_visible_to,
    may_delete_candidates,
    unarchived,
)
from ..widgets import FastSelect
from .common import (
    DATE_INPUT,
    BootstrapFieldsMixin,
    GroupChoiceField,
    StaffChoiceField,
    declared_field,
    supervisor_choices,
)
from .school_year import clean_move

MAX_SELECTION = 1000
ORPHAN_CONFIRM_LABEL = _("Ik begrijp dat deze kandidaat daarna niet meer voor mij zichtbaar is")


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
        # django-stubs allow only str or None here; Django returns any value as it is.
        empty_value=50,  # type: ignore[arg-type]
        widget=FastSelect,
        choices=[(n, n) for n in (25, 50, 100, 250)],
    )

    def __init__(self, *args, user: User, **kwargs):
        super().__init__(*args, **kwargs)
        # One query for both lists: the filter offers the active groups, 'Verplaats naar groep'
        # also moves out of archived ones (BulkActionForm takes both from here).
        visible = list(
            groups_visible_to(user).order_by("name").values_list("pk", "name", "archived_at")
        )
        self.all_groups = [(pk, name) for pk, name, _archived in visible]
        self.groups = [(pk, name) for pk, name, archived in visible if archived is None]
        choices = [("", _("Alle groepen"))]
        if user.role == Role.BEHEERDER:
            choices.append(("none", _("Zonder kandidaatgroep")))
        declared_field(self, "group", forms.ChoiceField).choices = choices + [
            (str(pk), name) for pk, name in self.groups
        ]

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
        ("move", _("Verplaatsen naar kandidaatgroep")),
        ("mail_credentials", _("Nieuw wachtwoord en inloggegevens mailen")),
        ("print_credentials", _("Nieuw wachtwoord en inlogbriefjes afdrukken (PDF)")),
        ("export", _("Exporteren naar Excel (.xlsx)")),
        ("delete", _("Verwijderen")),
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
        help_text=_("Alleen bij koppelen, ontkoppelen en verplaatsen (de nieuwe groep)."),
    )
    from_group = forms.ModelChoiceField(
        label=_("Van kandidaatgroep"),
        queryset=CandidateGroup.objects.none(),
        required=False,
        widget=FastSelect,
        empty_label=_("— kies een groep —"),
        help_text=_("Alleen bij verplaatsen."),
    )
    confirm_orphan = forms.BooleanField(
        label=_(
            "Ik begrijp dat kandidaten die ik ontkoppel daarna niet meer voor mij zichtbaar "
            "kunnen zijn"
        ),
        required=False,
    )

    def __init__(
        self,
        *args,
        user: User,
        groups: list[tuple[int, str]] | None = None,
        all_groups: list[tuple[int, str]] | None = None,
        **kwargs,
    ):
        super().__init__(*args, **kwargs)
        self.user = user
        group = declared_field(self, "group", forms.ModelChoiceField)
        group.queryset = active_groups_linkable_by(user).order_by("name")
        if groups is not None:
            # The list page has just fetched these (id, name) pairs for its filter: show them
            # instead of querying again. Validation still goes through the queryset above.
            group.widget.choices = [("", group.empty_label), *groups]
        self.fields["valid_until"].initial = user.college.default_valid_until()
        # Moving out of an archived group is how a class leaves last year's group.
        source = declared_field(self, "from_group", forms.ModelChoiceField)
        source.queryset = groups_linkable_by(user).order_by("name")
        if all_groups is not None:
            source.widget.choices = [("", source.empty_label), *all_groups]
        if user.role != Role.TOETSCOORDINATOR:
            del self.fields["confirm_orphan"]
        if not may_delete_candidates(user):
            action = declared_field(self, "action", forms.ChoiceField)
            action.choices = [c for c in self.ACTIONS if c[0] != "delete"]

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
        super().clean()
        data = self.cleaned_data
        action = data.get("action")
        if action == "extend":
            until = data.get("valid_until")
            if not until:
                self.add_error("valid_until", ValidationError(self.error_messages["no_date"]))
            elif until < timezone.localdate():
                self.add_error("valid_until", ValidationError(self.error_messages["past"]))
        if action in ("link", "unlink", "move") and not data.get("group"):
            self.add_error("group", ValidationError(self.error_messages["no_group"]))
        if action == "move":
            clean_move(self, self.user, data)
        if action == "unlink" and data.get("group") and data.get("ids"):
            after = group_ids_after_unlink(self.user, data["ids"], data["group"])
            orphans = len(candidates_orphaned_by(self.user, after))
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
        super().clean()
        data = self.cleaned_data
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
        super().clean()
        data = self.cleaned_data
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
        # Fresh queries, not a prefetch: the groups the editor cannot see must be kept too.
        current_groups = list(CandidateGroup.objects.filter(members=candidate))
        # An archived group is offered only while the candidate is in it (to unlink it).
        linkable = (
            unarchived(groups_linkable_by(editor), keep=[g.pk for g in current_groups])
            .select_related("education_area")
            .order_by("name")
        )
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
        self.candidate = candidate
        # Groups the editor may not link (a coordinator sees only their own) stay as they are.
        self.fixed_groups = [g for g in current_groups if g.pk not in linkable_ids]
        declared_field(self, "groups", forms.ModelChoiceField).queryset = linkable
        supervisors = declared_field(self, "supervisors", forms.ModelChoiceField)
        supervisors.queryset = supervisor_choices(editor, current_supervisors)
        if editor.role != Role.TOETSCOORDINATOR:
            del self.fields["confirm_orphan"]

    def clean(self):
        super().clean()
        data = self.cleaned_data
        if "groups" not in data:
            return data
        data["all_groups"] = [*self.fixed_groups, *data["groups"]]
        after = {self.candidate.pk: [g.pk for g in data["all_groups"]]}
        if candidates_orphaned_by(self.editor, after) and not data.get("confirm_orphan"):
            self.add_error("confirm_orphan", ValidationError(self.error_messages["orphan"]))
        return data
