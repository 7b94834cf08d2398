from django import forms
from django.contrib.auth.forms import AuthenticationForm
from django.utils.formats import date_format
from django.utils.translation import gettext_lazy as _

from .models import CollegeSignIn
from .oidc.asking import refused_at_login


class LoginForm(AuthenticationForm):
    """Tells a candidate in plain Dutch why a correct password still does not let them in."""

    error_messages = {
        **AuthenticationForm.error_messages,
        "invalid_login": _(
            "Gebruikersnaam of wachtwoord is onjuist. Let op: het wachtwoord is "
            "hoofdlettergevoelig."
        ),
        "inactive": _(
            "Je account is niet actief. Neem contact op met je docent of de beheerder van je "
            "school."
        ),
        "expired": _(
            "Je account was geldig tot en met %(date)s en is verlopen. Neem contact op met je "
            "docent of de beheerder van je school."
        ),
        "not_yet_valid": _("Je account is pas geldig vanaf %(date)s."),
        "provider_only": _(
            "Medewerkers van %(school)s loggen niet in met een wachtwoord, maar via de "
            "inlogdienst van de school: kies ‘Inloggen met %(name)s’."
        ),
    }

    def _check_provider_only(self, user) -> None:
        # 'Medewerkers alleen via de eigen inlogdienst'. Told only after the right password,
        # like the other reasons, so the message reveals nothing to a guesser. Candidates and
        # platform operators are never affected.
        if not user.is_college_staff or user.is_superuser:
            return
        sign_in = CollegeSignIn.objects.filter(organisation_id=user.organisation_id).first()
        if sign_in is not None and sign_in.blocks_staff_passwords:
            raise forms.ValidationError(
                self.error_messages["provider_only"],
                code="provider_only",
                params={"school": user.college.name, "name": sign_in.button_name},
            )

    def confirm_login_allowed(self, user):
        try:
            self._confirm_login_allowed(user)
        except forms.ValidationError as error:
            # On the way to an exam environment a refusal is audited as one (accounts.oidc).
            refused_at_login(self.request, user, error.code or "")
            raise

    def _confirm_login_allowed(self, user):
        if not user.is_active:
            raise forms.ValidationError(self.error_messages["inactive"], code="inactive")
        self._check_provider_only(user)
        problem = user.validity_problem()
        if problem == "expired":
            raise forms.ValidationError(
                self.error_messages["expired"],
                code="expired",
                params={"date": date_format(user.valid_until, "j F Y")},
            )
        if problem == "not_yet_valid":
            raise forms.ValidationError(
                self.error_messages["not_yet_valid"],
                code="not_yet_valid",
                params={"date": date_format(user.valid_from, "j F Y")},
            )
