from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from accounts.models import User
from candidates.forms.common import declared_field
from candidates.selectors import (
    active_groups_linkable_by,
    groups_linkable_by,
    supervisors_visible_to,
)

from .fields import FIELDS, REQUIRED_FIELDS
from .options import ExistingPasswords, PasswordMode
from .planning import may_create_groups
from .reading import SUPPORTED_EXTENSIONS

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise


class UploadForm(forms.Form):
    file = forms.FileField(
        label=_("Importbestand"),
        help_text=_("Excel (.xlsx, .xlsm, .xls), OpenDocument (.ods) of CSV (.csv)."),
    )

    error_messages = {
        "extension": _(
            "'%(name)s' is geen ondersteund bestand. Kies een bestand dat eindigt op "
            "%(extensions)s."
        ),
        "too_large": _("Het bestand is %(size)s MB; het maximum is %(max)s MB."),
    }

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if Path(upload.name).suffix.lower() not in SUPPORTED_EXTENSIONS:
            raise forms.ValidationError(
                self.error_messages["extension"],
                code="extension",
                params={"name": upload.name, "extensions": ", ".join(SUPPORTED_EXTENSIONS)},
            )
        limit = settings.KB_IMPORT_MAX_FILE_BYTES
        if upload.size > limit:
            raise forms.ValidationError(
                self.error_messages["too_large"],
                code="too_large",
                params={
                    "size": f"{upload.size / 1048576:.1f}".replace(".", ","),
                    "max": f"{limit / 1048576:.0f}",
                },
            )
        return upload


class MappingForm(forms.Form):
    """One select per file column; each system field may be chosen once."""

    error_messages = {
        "twice": _("'%(field)s' is aan meer dan één kolom gekoppeld: %(columns)s."),
        "required": _("Koppel een kolom aan het verplichte veld '%(field)s'."),
    }

    def __init__(self, *args, columns: list[dict], **kwargs):
        super().__init__(*args, **kwargs)
        self.columns = columns
        choices = [("", _("— niet importeren —"))] + [(f.name, f.label) for f in FIELDS]
        for column in columns:
            self.fields[f"col_{column['index']}"] = forms.ChoiceField(
                label=column["header"] or _("Kolom %(n)s") % {"n": column["index"] + 1},
                choices=choices,
                required=False,
                initial=column["field"],
            )

    def clean(self):
        super().clean()
        data = self.cleaned_data
        chosen: dict[str, list[str]] = {}
        for column in self.columns:
            field = data.get(f"col_{column['index']}")
            if field:
                chosen.setdefault(field, []).append(column["header"] or str(column["index"] + 1))
        labels = {f.name: f.label for f in FIELDS}
        for field, headers in chosen.items():
            if len(headers) > 1:
                self.add_error(
                    None,
                    forms.ValidationError(
                        self.error_messages["twice"],
                        code="twice",
                        params={"field": labels[field], "columns": ", ".join(headers)},
                    ),
                )
        for field in REQUIRED_FIELDS:
            if field not in chosen:
                self.add_error(
                    None,
                    forms.ValidationError(
                        self.error_messages["required"],
                        code="required",
                        params={"field": labels[field]},
                    ),
                )
        return data

    def mapping(self) -> dict[str, str]:
        return {
            str(c["index"]): self.cleaned_data[f"col_{c['index']}"]
            for c in self.columns
            if self.cleaned_data.get(f"col_{c['index']}")
        }


class SheetForm(forms.Form):
    """Which worksheet to read, when more than one has a header we recognise."""

    sheet = forms.ChoiceField(label=_("Werkblad"))

    def __init__(self, *args, sheets: list[str], **kwargs):
        super().__init__(*args, **kwargs)
        declared_field(self, "sheet", forms.ChoiceField).choices = [(name, name) for name in sheets]


class GroupColumnForm(forms.Form):
    """What to do with the names in the file's group column that are no group of ours:
    create them, ignore the column, or take the choice back."""

    CREATE, IGNORE, UNDO = "create", "ignore", "undo"
    group_column = forms.ChoiceField(choices=[(CREATE, ""), (IGNORE, ""), (UNDO, "")])

    def __init__(self, *args, may_create: bool, **kwargs):
        super().__init__(*args, **kwargs)
        if not may_create:
            column = declared_field(self, "group_column", forms.ChoiceField)
            column.choices = [(self.IGNORE, ""), (self.UNDO, "")]


class CheckForm(forms.Form):
    skip_invalid = forms.BooleanField(
        label=_("Importeer alleen de rijen zonder fouten; sla de rijen met fouten over"),
        required=False,
    )


class PasswordForm(forms.Form):
    password_mode = forms.ChoiceField(
        label=_("Wachtwoord"),
        widget=forms.RadioSelect,
        choices=PasswordMode.choices,
    )
    existing_passwords = forms.ChoiceField(
        label=_("Bestaande kandidaten"),
        widget=forms.RadioSelect,
        choices=ExistingPasswords.choices,
    )
    must_change_password = forms.BooleanField(
        label=_("Kandidaat moet het wachtwoord wijzigen bij de eerste keer inloggen"),
        required=False,
    )

    def __init__(self, *args, has_password_column: bool, **kwargs):
        super().__init__(*args, **kwargs)
        self.has_password_column = has_password_column

    def clean_password_mode(self):
        mode = self.cleaned_data["password_mode"]
        if mode == PasswordMode.FILE and not self.has_password_column:
            raise forms.ValidationError(
                _(
                    "Er is geen kolom aan 'Wachtwoord' gekoppeld. Ga terug naar 'Kolommen "
                    "controleren' of kies 'Genereer een willekeurig wachtwoord'."
                ),
                code="no_column",
            )
        return mode


class GroupForm(forms.Form):
    """Status and target group. A new group typed here is only created by the import itself;
    until then it is offered in the dropdown as the chosen group ('… (nieuw)'), so the
    dropdown always shows what will happen."""

    PENDING = "nieuw"  # the dropdown's value for the not yet created group

    status = forms.ChoiceField(
        label=_("Status van de kandidaten"),
        widget=forms.RadioSelect,
        choices=[("active", _("Actief")), ("inactive", _("Inactief"))],
    )
    group = forms.ChoiceField(label=_("Selecteer kandidaatgroep"), required=False)
    new_group_name = forms.CharField(
        label=_("Nieuwe kandidaatgroep"),
        max_length=150,
        required=False,
        help_text=_(
            "Staat de gewenste groep er niet bij? Typ de naam en klik op 'Maak een "
            "nieuwe kandidaatgroep met deze naam'."
        ),
    )

    def __init__(self, *args, user, pending_name: str = "", **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        self.pending_name = pending_name
        self.groups = {str(g.pk): g for g in active_groups_linkable_by(user)}
        choices: list[tuple[str, StrOrPromise]] = [("", _("— geen groep —"))]
        if pending_name:
            choices.append((self.PENDING, _("%(name)s (nieuw)") % {"name": pending_name}))
        group = declared_field(self, "group", forms.ChoiceField)
        group.choices = choices + [(pk, g.name) for pk, g in self.groups.items()]
        self.may_create = may_create_groups(user, user.organisation)
        if not self.may_create:
            del self.fields["new_group_name"]

    def clean_group(self):
        """The chosen existing group, or None (no group, or the pending new one)."""
        return self.groups.get(self.cleaned_data.get("group") or "")

    def clean_new_group_name(self):
        return " ".join(self.cleaned_data.get("new_group_name", "").split())

    def clean(self):
        super().clean()
        data = self.cleaned_data
        if "create_group" in self.data and "new_group_name" in self.fields:
            if not data.get("new_group_name"):
                self.add_error(
                    "new_group_name",
                    forms.ValidationError(
                        _("Typ eerst de naam van de nieuwe kandidaatgroep."), code="empty"
                    ),
                )
        elif not data.get("new_group_name") and self.data.get("group") == self.PENDING:
            data["new_group_name"] = self.pending_name  # the pending group stays chosen
        name = data.get("new_group_name")
        if name:
            self._existing_or_new(data, name)
        return data

    def _existing_or_new(self, data: dict, name: str) -> None:
        existing = groups_linkable_by(self.user).filter(name__iexact=name).first()
        if existing is not None and existing.is_archived:
            self.add_error(
                "new_group_name" if "new_group_name" in self.fields else "group",
                forms.ValidationError(
                    _(
                        "Kandidaatgroep '%(name)s' is gearchiveerd. Zet de groep eerst terug "
                        "of kies een andere naam."
                    ),
                    code="archived",
                    params={"name": name},
                ),
            )
        elif existing is not None:
            # It exists and is ours: select it instead of creating a duplicate.
            data["group"], data["new_group_name"] = existing, ""
        elif self.user.organisation.candidate_groups.filter(name__iexact=name).exists():
            self.add_error(
                "new_group_name" if "new_group_name" in self.fields else "group",
                forms.ValidationError(
                    _(
                        "Er bestaat al een kandidaatgroep '%(name)s' waaraan je niet gekoppeld "
                        "bent. Kies een andere naam."
                    ),
                    code="exists",
                    params={"name": name},
                ),
            )


class SupervisorChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj: User) -> str:
        return f"{obj.display_name} ({obj.username})"


class SupervisorsForm(forms.Form):
    supervisors = SupervisorChoiceField(
        label=_("Selecteer begeleiders"),
        queryset=User.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    link_directly = forms.BooleanField(
        label=_(
            "Koppel de begeleiders ook direct aan de kandidaten (dan blijven de kandidaten "
            "zichtbaar voor de begeleider, ongeacht hun kandidaatgroep)"
        ),
        required=False,
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        supervisors = declared_field(self, "supervisors", forms.ModelChoiceField)
        supervisors.queryset = supervisors_visible_to(user)


class ValidityForm(forms.Form):
    valid_from = forms.DateField(
        label=_("Geldig van"), widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )
    valid_until = forms.DateField(
        label=_("Geldig tot en met"),
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )

    def clean(self):
        super().clean()
        data = self.cleaned_data
        start, end = data.get("valid_from"), data.get("valid_until")
        if start and end and end < start:
            self.add_error(
                "valid_until",
                forms.ValidationError(_("De einddatum ligt vóór de begindatum."), code="order"),
            )
        return data


class CredentialsForm(forms.Form):
    send_credentials = forms.TypedChoiceField(
        label=_("Inloggegevens"),
        widget=forms.RadioSelect,
        coerce=lambda v: v == "email",
        choices=[
            ("email", _("Stuur iedere kandidaat de inloggegevens per e-mail")),
            (
                "teacher",
                _(
                    "Niet per e-mail: een docent verstrekt de gegevens (met "
                    "afdrukbare inlogbriefjes)"
                ),
            ),
        ],
    )


class ConfirmForm(forms.Form):
    report_email = forms.EmailField(
        label=_("E-mailadres voor de importresultaten"),
        help_text=_(
            "Vul een actief e-mailadres in: hier komen de resultaten en, als een docent "
            "de gegevens verstrekt, de inlogbriefjes naartoe."
        ),
    )
