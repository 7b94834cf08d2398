"""`column IN (a long list of strings)` sent as ONE parameter.

Django's `__in` turns each value into a parameter of its own and prepares each through the
field: for the 50,000 numbers and usernames of a large file that took longer than the rest
of the query, and on PostgreSQL (whose driver quotes every parameter into the statement)
the statement itself became a megabyte to parse. Here the values travel as one text: on
SQLite a JSON array read by json_each, on PostgreSQL a list split by string_to_array (faster
than reading JSON; folded into a constant, so the planner knows every value). The database
then looks them up as it would an IN list.

Only for text columns and text values; every value is matched exactly, as `__in` would.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from django.db.models import BooleanField, Lookup

# Splits the values on PostgreSQL. Cleaned cells cannot hold it (imports.pipeline turns it
# into a space, like all whitespace); should a value hold it after all, JSON carries them.
SEPARATOR = "\x1f"
TEMPLATES = {
    "string_to_array": "{column} = ANY(string_to_array(%s, E'\\x1f'))",
    "json_array": "{column} = ANY(ARRAY(SELECT json_array_elements_text(%s::json)))",
    "json_each": "{column} IN (SELECT value FROM json_each(%s))",
}


class InValues(Lookup):
    """`InValues(F("user__username"), values)`, usable in filter() like any lookup."""

    lookup_name = "in_values"
    prepare_rhs = False
    output_field = BooleanField()

    def __init__(self, lhs: Any, values: Iterable[str]) -> None:
        super().__init__(lhs, list(values))

    def as_sql(self, compiler: Any, connection: Any) -> tuple[str, tuple[Any, ...]]:
        column, params = self.process_lhs(compiler, connection)
        values: list[str] = self.rhs
        if not values:
            return "1 = 0", ()
        if connection.vendor != "postgresql":
            template, value = TEMPLATES["json_each"], json.dumps(values)
        elif any(SEPARATOR in value for value in values):
            template, value = TEMPLATES["json_array"], json.dumps(values)
        else:
            template, value = TEMPLATES["string_to_array"], SEPARATOR.join(values)
        # The column comes from the compiler (quoted); the values are one parameter.
        return template.format(column=column), (*params, value)
