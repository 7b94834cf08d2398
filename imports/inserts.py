"""Bulk inserts of the import's new rows: COPY on PostgreSQL, one executemany elsewhere.

`bulk_create` sends every value of every row through the field machinery (get_db_prep_save,
the compiler's placeholders); for the 40,000 rows a 10,000-candidate import writes (users,
candidates, group links, audit subjects) that was most of the write. Here each column's
conversion is chosen once, from the field's type, and the rows go to the database in one
statement per table. Only for rows that are new in this transaction: there is no
ON CONFLICT here (the links of updated candidates keep bulk_create's ignore_conflicts).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from enum import Enum
from typing import Any

from django.db import connection, models
from django.utils import timezone


def reserve_ids(model: type[models.Model], count: int) -> list[int] | None:
    """`count` primary keys from the table's sequence (PostgreSQL), so rows written with COPY
    know their ids; None elsewhere (the caller reads the ids back)."""
    if connection.vendor != "postgresql" or not count:
        return None
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
            [model._meta.db_table, model._meta.pk.column, count],
        )
        return [row[0] for row in cursor.fetchall()]


def insert(objs: Sequence[models.Model]) -> None:
    """Insert unsaved instances of one model. An auto-incremented key that is None is left to
    the database (on PostgreSQL, give it from reserve_ids instead: COPY returns no ids)."""
    if not objs:
        return
    model = type(objs[0])
    fields = [f for f in model._meta.concrete_fields if not _left_to_database(f, objs[0])]
    now = timezone.now()
    # auto_now(_add) columns get this moment, as bulk_create's pre_save would give them.
    names = [None if _stamped(f) else f.attname for f in fields]
    rows = [[now if name is None else getattr(obj, name) for name in names] for obj in objs]
    _write(model, fields, rows)
    for obj in objs:  # saved, as bulk_create leaves them
        obj._state.adding = False
        obj._state.db = connection.alias


def insert_rows(model: type[models.Model], names: Sequence[str], rows: list[list]) -> None:
    """Insert rows given as values of the fields `names` (attribute names: "candidate_id"),
    without making an instance of each: for the link and audit-subject tables."""
    if rows:
        fields = [model._meta.get_field(name.removesuffix("_id")) for name in names]
        _write(model, fields, rows)


def _write(model: type[models.Model], fields: list, rows: list[list]) -> None:
    converters = [(i, c) for i, f in enumerate(fields) if (c := _converter(f)) is not None]
    for row in rows:
        for index, convert in converters:
            row[index] = convert(row[index])
    quote = connection.ops.quote_name
    table = quote(model._meta.db_table)
    columns = ", ".join(quote(f.column or f.attname) for f in fields)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # COPY goes to psycopg's own cursor, past Django's error translation: wrapped here,
            # a refused row is an IntegrityError and a deadlock an OperationalError, as from
            # any other query, so the task's retry and failure handling sees what it knows.
            with connection.wrap_database_errors, cursor.copy(
                f"COPY {table} ({columns}) FROM STDIN"
            ) as copy:
                for row in rows:
                    copy.write_row(row)
        else:
            marks = ", ".join(["%s"] * len(fields))
            # Table and column names from the model, quoted; every value is a parameter.
            sql = f"INSERT INTO {table} ({columns}) VALUES ({marks})"  # noqa: S608
            cursor.executemany(sql, rows)


def _left_to_database(field: models.Field, obj: models.Model) -> bool:
    return field.primary_key and isinstance(field, models.AutoField) and obj.pk is None


def _stamped(field: models.Field) -> bool:
    return getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False)


def _converter(field: models.Field) -> Callable[[Any], Any] | None:
    """How one column's values go to the database, decided once per column; None when the
    Python value is what the driver takes."""
    ops = connection.ops
    kind = field.get_internal_type()
    if kind == "DateTimeField":
        return ops.adapt_datetimefield_value
    if kind == "DateField":
        return ops.adapt_datefield_value
    if kind == "JSONField":
        encoder = getattr(field, "encoder", None)
        return lambda value: ops.adapt_json_value(value, encoder)
    if field.choices:  # a TextChoices member goes as its plain value
        return lambda value: value.value if isinstance(value, Enum) else value
    if kind in _AS_IS:
        return None
    return lambda value: field.get_db_prep_save(value, connection)


# Column types whose Python value is what both databases' drivers take.
_AS_IS = {
    "AutoField",
    "BigAutoField",
    "BigIntegerField",
    "BooleanField",
    "CharField",
    "EmailField",
    "ForeignKey",
    "IntegerField",
    "OneToOneField",
    "PositiveIntegerField",
    "PositiveSmallIntegerField",
    "SmallIntegerField",
    "TextField",
}
