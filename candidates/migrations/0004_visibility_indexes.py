from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('accounts', '0003_login_slips_mail'),
        ('candidates', '0003_search_trigram_index'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        # The membership table is Django's own (ManyToManyField), so its index is plain SQL,
        # the same on SQLite and PostgreSQL: group → candidates from the index alone.
        migrations.RunSQL(
            "CREATE INDEX candidate_groups_by_group "
            "ON candidates_candidate_groups (candidategroup_id, candidate_id)",
            "DROP INDEX candidate_groups_by_group",
        ),
        migrations.AddIndex(
            model_name='candidate',
            index=models.Index(fields=['user', 'organisation'], name='candidate_user_college'),
        ),
    ]
