import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("accounts", "0006_exam_environment"),
    ]

    operations = [
        migrations.CreateModel(
            name="CollegeSignIn",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("enabled", models.BooleanField(default=False, verbose_name="inloggen via de inlogdienst aan")),
                ("issuer", models.URLField(max_length=300, verbose_name="issuer-URL")),
                ("client_id", models.CharField(max_length=255, verbose_name="client-ID")),
                ("client_secret_sealed", models.BinaryField(blank=True, editable=False, null=True)),
                ("display_name", models.CharField(blank=True, max_length=100, verbose_name="naam op de knop")),
                ("claim", models.CharField(choices=[("email", "E-mailadres (claim ‘email’)"), ("preferred_username", "Gebruikersnaam (claim ‘preferred_username’)")], default="email", max_length=30, verbose_name="wie iemand is, volgt uit")),
                ("staff_only_via_provider", models.BooleanField(default=False, verbose_name="medewerkers alleen via de eigen inlogdienst")),
                ("organisation", models.OneToOneField(on_delete=django.db.models.deletion.CASCADE, related_name="sign_in", to="accounts.organisation")),
            ],
            options={
                "verbose_name": "inlogdienst",
                "verbose_name_plural": "inlogdiensten",
            },
        ),
    ]
