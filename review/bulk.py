"""Writing many rows in one statement, the rows sent as one JSON document.

Django's ``bulk_update`` builds a ``CASE WHEN id = ... THEN ...`` per row and field: for a
scoring chunk or an ingest batch that is a large statement to build and for the database to
plan, each time (bulk_update of 500 conversations' counts cost half a second). On
PostgreSQL ``rows_update`` sends the rows as one JSON document, joined to the table by
primary key (``UPDATE ... FROM jsonb_to_recordset(...)``); elsewhere it is ``bulk_update``.

``bulk_create`` on PostgreSQL sends a column as an array (``UNNEST``), which the client-side
cursor quotes element by element in Python: 25 assessments, their JSON columns escaped one
by one, cost 8 ms where ``rows_insert``'s one document costs 2 ms (a scoring chunk writes
them on every rescore). Elsewhere it is ``bulk_create``.

A JSON document carries no NaN or infinity (orjson would write null): a row holding one is
refused, naming its field, before anything is sent, as the database would refuse it.
"""

from __future__ import annotations

import json
import math
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
    document, typed = _document(objects, columns)
    assignments = ", ".join(f"{quote(field.column)} = v.f{i + 1}" for i, field in enumerate(chosen))
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {quote(meta.db_table)} AS t SET {assignments} "  # noqa: S608 (names from the model)
            f"FROM jsonb_to_recordset(%s::jsonb) AS v({typed}) WHERE t.{quote(pk.column)} = v.f0",
            [document],
        )


def rows_insert(
    objects: Sequence[models.Model],
    *,
    unique_field: str | None = None,
    update_fields: Sequence[str] = (),
) -> None:
    """Insert ``objects`` (new rows of one model) as ``bulk_create`` does, in one statement
    on PostgreSQL: defaults and ``auto_now_add`` applied, each object's generated primary key
    set, no signals. With ``unique_field``, a row that conflicts on it has its
    ``update_fields`` overwritten instead (``bulk_create(update_conflicts=True)``)."""
    if not objects:
        return
    model = type(objects[0])
    if connection.vendor != "postgresql":
        upsert: dict[str, Any] = {}
        if unique_field is not None:
            upsert = {"update_conflicts": True, "unique_fields": [unique_field],
                      "update_fields": list(update_fields)}  # fmt: skip
        model.objects.bulk_create(objects, **upsert)
        return
    meta = model._meta
    quote = connection.ops.quote_name
    generated = meta.pk if isinstance(meta.pk, models.AutoField | models.BigAutoField) else None
    columns = [f for f in meta.concrete_fields if f is not generated]
    for obj in objects:
        for field in columns:
            setattr(obj, field.attname, field.pre_save(obj, add=True))
    document, typed = _document(objects, columns)
    names = ", ".join(quote(field.column) for field in columns)
    values = ", ".join(f"v.f{i}" for i in range(len(columns)))
    conflict = ""
    if unique_field is not None:
        target = meta.get_field(unique_field).column
        changes = ", ".join(
            f"{quote(c)} = EXCLUDED.{quote(c)}"
            for c in (meta.get_field(name).column for name in update_fields)
        )
        conflict = f" ON CONFLICT ({quote(target)}) DO UPDATE SET {changes}"
    assert meta.pk is not None
    with connection.cursor() as cursor:
        # In the document's order (WITH ORDINALITY), so the keys returned are the objects',
        # in order, as bulk_create relies on for its own.
        cursor.execute(
            f"INSERT INTO {quote(meta.db_table)} ({names}) SELECT {values} "  # noqa: S608 (names from the model)
            f"FROM ROWS FROM (jsonb_to_recordset(%s::jsonb) AS ({typed})) WITH ORDINALITY"
            f" AS v({', '.join(f'f{i}' for i in range(len(columns)))}, n) ORDER BY v.n"
            f"{conflict} RETURNING {quote(meta.pk.column)}",
            [document],
        )
        keys = [row[0] for row in cursor.fetchall()]
    for obj, key in zip(objects, keys, strict=True):
        if generated is not None:
            obj.pk = key
        obj._state.adding = False
        obj._state.db = connection.alias


def _document(objects: Sequence[models.Model], columns: Sequence[models.Field]) -> tuple[str, str]:
    """The objects' ``columns`` as one JSON document (each row's fields named f0, f1, ...)
    and the column list that reads it back typed. ValueError, naming the field, for a
    number JSON cannot carry."""
    names = [f"f{i}" for i in range(len(columns))]
    rows = []
    for obj in objects:
        row = {}
        for name, field in zip(names, columns, strict=True):
            value = _value(field, obj)
            if not _finite(value):
                raise ValueError(
                    f"{obj._meta.label}.{field.name}: NaN or infinity has no JSON form"
                )
            row[name] = value
        rows.append(row)
    typed = ", ".join(
        f"{name} {_column_type(field)}" for name, field in zip(names, columns, strict=True)
    )
    return orjson.dumps(rows).decode(), typed


def _finite(value: Any) -> bool:
    """No NaN or infinity anywhere in ``value`` (a JSON document's numbers included)."""
    if isinstance(value, float):
        return math.isfinite(value)
    if isinstance(value, dict):
        return all(_finite(v) for v in value.values())
    if isinstance(value, list | tuple):
        return all(_finite(v) for v in value)
    return True


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
