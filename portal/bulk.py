"""Inserting many rows whose primary keys the caller does not need back."""

from __future__ import annotations

import json
from collections.abc import Sequence

from django.db import connection
from django.db.models import Model

__all__ = ["insert_rows"]


def insert_rows(
    objects: Sequence[Model], columns: Sequence[str], *, json_columns: frozenset[str] = frozenset()
) -> None:
    """Insert unsaved `objects` of one model: COPY of `columns` (attribute names such as `account_id`;
    `json_columns` serialised) on PostgreSQL, several times cheaper than the ORM's INSERT; `bulk_create`
    elsewhere. The objects get no pk on PostgreSQL."""
    if not objects:
        return
    model = type(objects[0])
    if connection.vendor != "postgresql":
        model.objects.bulk_create(objects, batch_size=2000)
        return
    column_of = {field.attname: field.column for field in model._meta.concrete_fields}
    quote = connection.ops.quote_name
    names = ", ".join(quote(column_of[name]) for name in columns)
    with (
        connection.cursor() as cursor,
        cursor.cursor.copy(f"COPY {quote(model._meta.db_table)} ({names}) FROM STDIN") as copy,
    ):
        for obj in objects:
            copy.write_row(
                [json.dumps(getattr(obj, name)) if name in json_columns else getattr(obj, name) for name in columns]
            )
