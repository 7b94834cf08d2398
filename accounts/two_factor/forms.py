from django import forms
from django.utils.translation import gettext_lazy as _


class CodeForm(forms.Form):
    """One code: six digits from the app, or (when `recovery` is allowed) a recovery code.
    The form checks the shape; the service checks the code (and writes the audit row)."""

    code = forms.CharField(
        label=_("Code"),
        max_length=40,
        error_messages={"required": _("Vul de code in.")},
    )

    def __init__(self, *args, recovery: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        field = self.fields["code"]
        # 'one-time-code' lets phones offer the code from the app; no autofill of old values.
        field.widget.attrs.update({"autocomplete": "one-time-code", "spellcheck": "false"})
        if recovery:
            field.label = _("Code uit je app of herstelcode")
            field.help_text = _(
                "De zes cijfers die je authenticator-app nu toont. Telefoon kwijt? "
                "Gebruik dan een van je herstelcodes."
            )
        else:
            field.label = _("Code uit je app")
            field.help_text = _("De zes cijfers die je authenticator-app nu toont.")
            field.widget.attrs["inputmode"] = "numeric"
