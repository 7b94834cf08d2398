from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("candidates", "0004_visibility_indexes"),
    ]

    operations = [
        migrations.AddField(
            model_name="candidategroup",
            name="archived_at",
            field=models.DateTimeField(blank=True, null=True, verbose_name="gearchiveerd op"),
        ),
    ]
