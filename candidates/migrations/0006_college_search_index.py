"""The candidate search indexed per college on PostgreSQL.

0003's trigram index spans every college of the installation. A search in one college of
20,000 candidates ('groot': 371 matches) then read the posting lists of all 60 colleges
(23,215 matches) before the college was applied, or PostgreSQL gave up on the index and
tested the pattern against each of the college's 20,000 rows: 4–5 ms per query where one
college alone took 0.3 ms (docs/performance.md, platform scale).

This index puts the college beside the trigrams (`btree_gin` lets a GIN index hold a plain
column), so the index yields only the college's matches and a search costs what it costs in
a college of its own, however many colleges share the database. It replaces 0003's index,
which it makes redundant. A finer statistics target on search_text lets the planner count a
word's matches from its sample (a 101-value histogram guessed 2 or 419 rows for 371,
depending on the sample), so it picks the same plan in a small database and a large one.

Where btree_gin is not available the migration leaves 0003's index alone, as 0003 does
without pg_trgm.
"""

from django.db import migrations

OLD_INDEX = "candidate_search_trgm"
INDEX = "candidate_college_search"
STATISTICS = 1000


def _available(cursor, extension: str) -> bool:
    cursor.execute("SELECT 1 FROM pg_available_extensions WHERE name = %s", [extension])
    return cursor.fetchone() is not None


def _has_index(cursor, name: str) -> bool:
    cursor.execute("SELECT 1 FROM pg_indexes WHERE indexname = %s", [name])
    return cursor.fetchone() is not None


def create_index(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    with schema_editor.connection.cursor() as cursor:
        if not (_available(cursor, "btree_gin") and _has_index(cursor, OLD_INDEX)):
            return  # no pg_trgm (0003 skipped its index) or no btree_gin
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS btree_gin")
    schema_editor.execute(
        f"CREATE INDEX IF NOT EXISTS {INDEX} ON candidates_candidate "
        "USING gin (organisation_id, search_text gin_trgm_ops)"
    )
    schema_editor.execute(f"DROP INDEX IF EXISTS {OLD_INDEX}")
    schema_editor.execute(
        "ALTER TABLE candidates_candidate "
        f"ALTER COLUMN search_text SET STATISTICS {STATISTICS}"
    )


def drop_index(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    with schema_editor.connection.cursor() as cursor:
        if not _has_index(cursor, INDEX):
            return
    schema_editor.execute(
        f"CREATE INDEX IF NOT EXISTS {OLD_INDEX} ON candidates_candidate "
        "USING gin (search_text gin_trgm_ops)"
    )
    schema_editor.execute(f"DROP INDEX IF EXISTS {INDEX}")
    schema_editor.execute(
        "ALTER TABLE candidates_candidate ALTER COLUMN search_text SET STATISTICS -1"
    )


class Migration(migrations.Migration):
    dependencies = [("candidates", "0005_group_archive")]

    operations = [migrations.RunPython(create_index, drop_index, elidable=False)]
