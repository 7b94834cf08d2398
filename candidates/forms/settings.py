"""Instellingen: the college's choices and its education areas."""

from __future__ import annotations

from datetime import date

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from accounts.college_sign_in import (
    ProviderError,
    check_provider,
    discovery_url,
    provider_url_problem,
)
from accounts.mail import PLACEHOLDERS
from accounts.models import REPORT_PASSWORD_MIN_LENGTH, CollegeSignIn, Organisation
from accounts.passwords import MIN_LENGTH, min_length
from accounts.placeholders import check_placeholders


class SettingsForm(forms.ModelForm):
    """The college's own choices. Saved through organisation_settings_update (audited).

    The report password is never rendered back: the page only says whether one is set. After
    cleaning, cleaned_data["report_password"] is None (leave it), "" (remove it) or the new one.
    """

    report_password = forms.CharField(
        label=_("Beveilig importresultaten met een wachtwoord"),
        required=False,
        strip=False,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
        help_text=_(
            "Minimaal 8 tekens. Met een wachtwoord is het Excel-bestand met de resultaten van "
            "een import (met de gegenereerde wachtwoorden) versleuteld. Het wachtwoord wordt "
            "nooit gemaild: geef het zelf door aan wie de resultaten opent."
        ),
    )
    remove_report_password = forms.BooleanField(
        label=_("Wachtwoord voor importresultaten verwijderen"), required=False
    )

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
        "report_password_short": _(
            "Het wachtwoord voor de importresultaten moet minimaal %(min)d tekens hebben."
        ),
        "report_password_both": _(
            "Vul een nieuw wachtwoord voor de importresultaten in of kies voor verwijderen, "
            "niet allebei."
        ),
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

    def clean_report_password(self):
        password = self.cleaned_data["report_password"]
        if password and len(password) < REPORT_PASSWORD_MIN_LENGTH:
            raise ValidationError(
                self.error_messages["report_password_short"],
                code="report_password_short",
                params={"min": REPORT_PASSWORD_MIN_LENGTH},
            )
        return password

    def _clean_report_password_change(self, data: dict) -> None:
        password, remove = data.get("report_password"), data.get("remove_report_password")
        if "report_password" not in data:
            return  # already refused by clean_report_password
        if password and remove:
            self.add_error("report_password", self.error_messages["report_password_both"])
        elif remove:
            data["report_password"] = ""
        elif not password:
            data["report_password"] = None

    def clean(self):
        super().clean()
        data = self.cleaned_data
        self._clean_report_password_change(data)
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


class CollegeSignInForm(forms.ModelForm):
    """Instellingen → Inlogdienst: the college's OpenID Connect provider. The client secret is
    never rendered back; after cleaning, cleaned_data["client_secret"] is None (keep it) or the
    new one. The provider's discovery document is read when it is switched on or its issuer
    changes, so a wrong issuer URL is told here, not by the first colleague who signs in."""

    issuer = forms.URLField(
        label=_("Issuer-URL van de inlogdienst"),
        max_length=300,
        assume_scheme="https",
        help_text=_(
            "Bijvoorbeeld https://login.microsoftonline.com/TENANT-ID/v2.0. Kandidaatbeheer "
            "leest de configuratie op de issuer-URL plus /.well-known/openid-configuration."
        ),
    )
    client_secret = forms.CharField(
        label=_("Clientgeheim"),
        required=False,
        strip=True,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
        help_text=_("Wordt versleuteld bewaard en nooit meer getoond. Leeg laten: niet wijzigen."),
    )

    class Meta:
        model = CollegeSignIn
        fields = [
            "enabled",
            "issuer",
            "client_id",
            "display_name",
            "claim",
            "staff_only_via_provider",
        ]
        labels = {
            "enabled": _("Medewerkers kunnen inloggen via de inlogdienst van de school"),
            "client_id": _("Client-ID"),
            "display_name": _("Naam op de knop ‘Inloggen met …’"),
            "claim": _("Wie iemand is, volgt uit"),
            "staff_only_via_provider": _("Medewerkers alleen via de eigen inlogdienst"),
        }
        help_texts = {
            "display_name": _("Leeg laten voor de naam van de school."),
            "claim": _(
                "Alleen een bestaand medewerkersaccount van deze school met hetzelfde "
                "e-mailadres of dezelfde gebruikersnaam kan zo inloggen (hoofdletters tellen "
                "niet). Er wordt nooit een account aangemaakt."
            ),
            "staff_only_via_provider": _(
                "Medewerkers van deze school kunnen dan niet meer met een wachtwoord inloggen. "
                "Kandidaten loggen altijd met hun wachtwoord in."
            ),
        }

    error_messages = {
        "insecure": _(
            "De issuer-URL moet met https:// beginnen (http:// alleen voor een inlogdienst op "
            "deze computer)."
        ),
        "https_only": _("De issuer-URL moet met https:// beginnen."),
        "private": _(
            "De inlogdienst op %(url)s ligt op een intern of lokaal netwerkadres. Kies de "
            "issuer-URL van een inlogdienst die via internet bereikbaar is."
        ),
        "endpoint": _(
            "De configuratie op %(url)s noemt het adres %(endpoint)s: dat moet met https:// "
            "beginnen en via internet bereikbaar zijn."
        ),
        "unreachable": _(
            "Op %(url)s is geen OpenID Connect-configuratie te lezen. Controleer de issuer-URL."
        ),
        "not_oidc": _("Op %(url)s staat geen OpenID Connect-configuratie."),
        "issuer_mismatch": _(
            "De inlogdienst noemt zich anders dan deze issuer-URL (zie ‘issuer’ op %(url)s). "
            "Neem die waarde precies over."
        ),
        "secret_needed": _("Vul het clientgeheim in dat de inlogdienst voor deze school gaf."),
        "needs_enabled": _(
            "Zet eerst inloggen via de inlogdienst aan: anders kan geen enkele medewerker "
            "meer inloggen."
        ),
    }

    def clean_issuer(self):
        issuer = self.cleaned_data["issuer"].strip()
        # The scheme here; where the host points is checked with the discovery document.
        problem = provider_url_problem(issuer, resolve=False)
        if problem:
            raise ValidationError(self.error_messages[problem], code=problem)
        return issuer

    def _check_provider(self, issuer: str) -> None:
        # Only when the provider is (switched) on with a new issuer: switching it off, or
        # renaming the button, must work while the provider is down.
        if not ({"issuer", "enabled"} & set(self.changed_data)):
            return
        try:
            check_provider(issuer)
        except ProviderError as exc:
            self.add_error(
                "issuer",
                ValidationError(
                    self.error_messages[exc.code],
                    code=exc.code,
                    params={"url": discovery_url(issuer), "endpoint": exc.detail},
                ),
            )

    def clean(self):
        super().clean()
        data = self.cleaned_data
        if not data.get("client_secret"):
            data["client_secret"] = None
            if not self.instance.has_client_secret:
                self.add_error("client_secret", self.error_messages["secret_needed"])
        if data.get("staff_only_via_provider") and not data.get("enabled"):
            self.add_error("staff_only_via_provider", self.error_messages["needs_enabled"])
        if data.get("enabled") and data.get("issuer"):
            self._check_provider(data["issuer"])
        return data
