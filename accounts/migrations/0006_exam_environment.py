import uuid

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models
from oauth2_provider.settings import oauth2_settings


ACTIONS = [
    ("user_created", "Gebruiker aangemaakt"),
    ("user_changed", "Gebruiker gewijzigd"),
    ("role_changed", "Rol gewijzigd"),
    ("status_changed", "Status gewijzigd"),
    ("validity_changed", "Geldigheid gewijzigd"),
    ("password_reset", "Wachtwoord opnieuw ingesteld"),
    ("group_links_changed", "Kandidaatgroepen gewijzigd"),
    ("supervisor_links_changed", "Begeleiders gewijzigd"),
    ("group_created", "Kandidaatgroep aangemaakt"),
    ("group_changed", "Kandidaatgroep gewijzigd"),
    ("import_started", "Import gestart"),
    ("import_finished", "Import voltooid"),
    ("import_failed", "Import mislukt"),
    ("login", "Ingelogd"),
    ("login_failed", "Inloggen mislukt"),
    ("impersonation_started", "Ingelogd als andere gebruiker"),
    ("impersonation_ended", "Terug naar eigen account"),
    ("settings_changed", "Instellingen gewijzigd"),
    ("account_expired", "Account verlopen en gedeactiveerd"),
    ("exam_login", "Ingelogd bij toetsomgeving"),
    ("exam_login_refused", "Inloggen bij toetsomgeving geweigerd"),
    ("exam_env_created", "Toetsomgeving gekoppeld"),
    ("exam_env_changed", "Toetsomgeving gewijzigd"),
    ("exam_env_secret", "Nieuw geheim voor toetsomgeving"),
]


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0005_audit_log_subjects"),
        migrations.swappable_dependency(oauth2_settings.APPLICATION_MODEL),
    ]

    operations = [
        migrations.AlterField(
            model_name="auditlog",
            name="action",
            field=models.CharField(choices=ACTIONS, max_length=40, verbose_name="actie"),
        ),
        migrations.AlterField(
            model_name="auditlogsubject",
            name="action",
            field=models.CharField(choices=ACTIONS, max_length=40),
        ),
        migrations.CreateModel(
            name="ExamEnvironment",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "allow_staff",
                    models.BooleanField(
                        default=False, verbose_name="medewerkers mogen ook inloggen"
                    ),
                ),
                ("active", models.BooleanField(default=True, verbose_name="aan")),
                ("created", models.DateTimeField(default=django.utils.timezone.now)),
                (
                    "application",
                    models.OneToOneField(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="exam_environment",
                        to=oauth2_settings.APPLICATION_MODEL,
                    ),
                ),
                (
                    "organisation",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="exam_environments",
                        to="accounts.organisation",
                    ),
                ),
            ],
            options={
                "verbose_name": "toetsomgeving",
                "verbose_name_plural": "toetsomgevingen",
                "ordering": ["organisation", "application__name"],
            },
        ),
        migrations.CreateModel(
            name="OidcSubject",
            fields=[
                (
                    "user",
                    models.OneToOneField(
                        on_delete=django.db.models.deletion.CASCADE,
                        primary_key=True,
                        related_name="+",
                        serialize=False,
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                ("subject", models.UUIDField(default=uuid.uuid4, editable=False, unique=True)),
            ],
            options={
                "verbose_name": "OpenID Connect-kenmerk",
                "verbose_name_plural": "OpenID Connect-kenmerken",
            },
        ),
    ]
