"""The turn of the school year: archiving a group, 'Verplaats naar groep' (a bulk action and a
group action) and 'Nieuw schooljaar'. Choices come from the selectors, so nobody picks a
group they may not see, and no archived group is offered as a target."""

from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from accounts.models import User

from ..models import CandidateGroup
from ..selectors import active_groups_linkable_by
from ..services.school_year import ARCHIVE, EXTEND, LEAVE, move_orphans, school_year_groups
from .common import DATE_INPUT, declared_field

MOVE_ERRORS = {
    "same": _("Kies een andere kandidaatgroep dan de groep waaruit je verplaatst."),
    "no_source": _("Kies de kandidaatgroep waaruit je de kandidaten verplaatst."),
}


def orphan_error(count: int) -> str:
    return ngettext(
        "Verplaatsen kan niet: %(count)d kandidaat is daarna niet meer voor jou zichtbaar.",
        "Verplaatsen kan niet: %(count)d kandidaten zijn daarna niet meer voor jou zichtbaar.",
        count,
    ) % {"count": count}


def clean_move(form: forms.Form, user: User, data: dict, *, target_field: str = "group") -> None:
    """The move's checks, shared by the bulk action and the group action: a source, a target
    that differs from it, and the orphan rule (refused, not confirmed: a move is meant to
    keep the candidates in sight)."""
    source, target, ids = data.get("from_group"), data.get(target_field), data.get("ids")
    if source is None:
        form.add_error("from_group", ValidationError(MOVE_ERRORS["no_source"], code="no_source"))
    elif target is not None and source.pk == target.pk:
        form.add_error(target_field, ValidationError(MOVE_ERRORS["same"], code="same"))
    elif target is not None and ids:
        orphans = move_orphans(user, ids, source, target)
        if orphans:
            form.add_error(target_field, ValidationError(orphan_error(orphans), code="orphan"))


class GroupMoveForm(forms.Form):
    """'Verplaats naar groep' on a group's page: every visible member to another group."""

    group = forms.ModelChoiceField(
        label=_("Naar kandidaatgroep"),
        queryset=CandidateGroup.objects.none(),
        empty_label=_("— kies een groep —"),
    )
    confirm = forms.BooleanField(
        label=_("Ik weet zeker dat ik alle leden naar deze groep wil verplaatsen"),
        error_messages={"required": _("Vink aan dat je alle leden wilt verplaatsen.")},
    )

    def __init__(self, *args, user: User, source: CandidateGroup, ids: list[int], **kwargs):
        super().__init__(*args, **kwargs)
        self.user, self.source, self.ids = user, source, ids
        targets = active_groups_linkable_by(user).exclude(pk=source.pk).order_by("name")
        declared_field(self, "group", forms.ModelChoiceField).queryset = targets

    def clean(self):
        data = super().clean()
        if data is not None:
            clean_move(self, self.user, {**data, "from_group": self.source, "ids": self.ids})
        return data


class GroupArchiveForm(forms.Form):
    deactivate = forms.BooleanField(
        label=_("Deactiveer ook de leden die in geen andere actieve kandidaatgroep zitten"),
        required=False,
    )


class SchoolYearForm(forms.Form):
    """Per group: extend, archive or leave; one end date for every extended group."""

    CHOICES = [
        (LEAVE, _("Laten zoals het is")),
        (EXTEND, _("Geldigheid verlengen")),
        (ARCHIVE, _("Archiveren")),
    ]
    valid_until = forms.DateField(label=_("Verlengen tot en met"), widget=DATE_INPUT)
    deactivate = forms.BooleanField(
        label=_(
            "Deactiveer bij archiveren de leden die in geen andere actieve kandidaatgroep zitten"
        ),
        required=False,
    )

    error_messages = {
        "past": _("De nieuwe einddatum mag niet in het verleden liggen."),
        "nothing": _("Kies voor ten minste één kandidaatgroep 'verlengen' of 'archiveren'."),
    }

    def __init__(self, *args, user: User, valid_until, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["valid_until"].initial = valid_until
        self.groups = list(school_year_groups(user))
        for group in self.groups:
            self.fields[f"group_{group.pk}"] = forms.ChoiceField(
                label=group.name, choices=self.CHOICES, initial=LEAVE
            )

    def group_fields(self):
        return [(group, self[f"group_{group.pk}"]) for group in self.groups]

    def clean_valid_until(self):
        until = self.cleaned_data["valid_until"]
        if until < timezone.localdate():
            raise ValidationError(self.error_messages["past"], code="past")
        return until

    def clean(self):
        data = super().clean() or {}
        data["choices"] = {g.pk: data.get(f"group_{g.pk}", LEAVE) for g in self.groups}
        if all(choice == LEAVE for choice in data["choices"].values()):
            raise ValidationError(self.error_messages["nothing"], code="nothing")
        return data
