"""Writing many rows' changed fields in one statement.

Django's ``bulk_update`` builds a ``CASE WHEN id = ... THEN ...`` per row and field: for a
scoring chunk or an ingest batch that is a large statement to build and for the database to
plan, each time (bulk_update of 500 conversations' counts cost half a second). On
PostgreSQL ``rows_update`` sends the rows as one JSON document, joined to the table by
primary key (``UPDATE ... FROM jsonb_to_recordset(...)``); elsewhere it is ``bulk_update``.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import orjson
from django.db import connection, models


def rows_update(objects: Sequence[models.Model], fields: Sequence[str]) -> None:
    """Write ``fields`` of ``objects`` (saved rows of one model) as they are on the objects,
    in one statement on PostgreSQL. Sends no signals and runs no ``auto_now``, as
    ``bulk_update`` does not."""
    if not objects:
        return
    model = type(objects[0])
    if connection.vendor != "postgresql":
        model.objects.bulk_update(objects, fields, batch_size=1000)
        return
    meta = model._meta
    quote = connection.ops.quote_name
    chosen = [meta.get_field(name) for name in fields]
    pk = meta.pk
    assert pk is not None
    columns = [pk, *chosen]
    # The rows travel as one JSON document, read back into typed columns: one string to
    # send, where arrays (one per field) would be quoted element by element on the client.
    names = [f"f{i}" for i in range(len(columns))]
    rows = [{n: _value(f, obj) for n, f in zip(names, columns, strict=True)} for obj in objects]
    typed = ", ".join(
        f"{name} {_column_type(field)}" for name, field in zip(names, columns, strict=True)
    )
    assignments = ", ".join(f"{quote(field.column)} = v.f{i + 1}" for i, field in enumerate(chosen))
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {quote(meta.db_table)} AS t SET {assignments} "  # noqa: S608 (names from the model)
            f"FROM jsonb_to_recordset(%s::jsonb) AS v({typed}) WHERE t.{quote(pk.column)} = v.f0",
            [orjson.dumps(rows).decode()],
        )


def _column_type(field: models.Field) -> str:
    """The PostgreSQL type of a field's column (a foreign key's is its target's)."""
    kind = field.db_type(connection)
    if kind is None:
        raise ValueError(f"{field.name}: no column type to update through")
    # Serial types name a column default, not a type a value can be read as.
    kind = {"bigserial": "bigint", "serial": "integer", "smallserial": "smallint"}.get(kind, kind)
    return kind.split(" CHECK", 1)[0]


def _value(field: models.Field, obj: models.Model) -> Any:
    value = getattr(obj, field.attname)
    if isinstance(field, models.JSONField):
        if field.encoder is not None:
            return json.loads(json.dumps(value, cls=field.encoder))
        return value
    return field.get_db_prep_value(value, connection, prepared=False)
