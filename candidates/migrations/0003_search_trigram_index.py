"""A trigram index for the candidate search on PostgreSQL.

The search is `search_text LIKE '%word%'` (candidates.selectors.candidate_search), which a
B-tree cannot serve: without this index PostgreSQL reads all 50,000 rows of a college twice
per search (count and page). pg_trgm's GIN index serves LIKE with a leading wildcard. SQLite
has no such index and keeps scanning, which is fine at its scale. Where the extension is not
installed the migration leaves the search as it was rather than failing the deploy.
"""

from django.db import migrations

INDEX = "candidate_search_trgm"


def create_index(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    with schema_editor.connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_available_extensions WHERE name = 'pg_trgm'")
        if cursor.fetchone() is None:
            return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    schema_editor.execute(
        f"CREATE INDEX IF NOT EXISTS {INDEX} ON candidates_candidate "
        "USING gin (search_text gin_trgm_ops)"
    )


def drop_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"DROP INDEX IF EXISTS {INDEX}")


class Migration(migrations.Migration):
    dependencies = [("candidates", "0002_name_key")]

    operations = [migrations.RunPython(create_index, drop_index, elidable=False)]
