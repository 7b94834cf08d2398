from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ImportsConfig(AppConfig):
    name = "imports"
    verbose_name = "Imports"

    def ready(self):
        # Imported here, not at the top: models load only once the app registry is ready.
        from candidates import audit_registry

        from .models import ImportBatch
        from .options import ExistingPasswords, PasswordMode
        from .selectors import audit_batch_links

        # How the audit log (in candidates, below this app) names and links what imports wrote.
        audit_registry.register(
            value_labels={
                "password_mode": {
                    PasswordMode.GENERATE.value: _("gegenereerd"),
                    PasswordMode.FILE.value: _("uit het bestand"),
                },
                "existing_passwords": {
                    ExistingPasswords.KEEP.value: _("behouden"),
                    ExistingPasswords.REPLACE.value: _("vervangen"),
                },
                "restarted_from": dict(ImportBatch.Status.choices),
            },
            links=audit_batch_links,
        )
