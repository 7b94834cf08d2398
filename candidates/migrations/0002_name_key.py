from django.conf import settings
from django.db import migrations, models

from candidates.models import fold


def fill_name_keys(apps, schema_editor):
    """Existing candidates get their key in chunks (a college can have 50,000)."""
    Candidate = apps.get_model("candidates", "Candidate")
    rows = Candidate.objects.select_related("user").order_by("pk")
    last = 0
    while chunk := list(rows.filter(pk__gt=last)[:2000]):
        for c in chunk:
            u = c.user
            c.name_key = "\x1f".join(fold(p) for p in (u.last_name, u.first_name, u.surname_prefix))
        Candidate.objects.bulk_update(chunk, ["name_key"])
        last = chunk[-1].pk


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0003_login_slips_mail"),
        ("candidates", "0001_initial"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name="candidate",
            name="name_key",
            field=models.TextField(default="", editable=False),
        ),
        migrations.RunPython(fill_name_keys, migrations.RunPython.noop),
        migrations.AddIndex(
            model_name="candidate",
            index=models.Index(
                fields=["organisation", "name_key", "user"], name="candidate_name_order"
            ),
        ),
    ]
