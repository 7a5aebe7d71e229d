"""The two set-based statements behind clean-up batches: move rows into a batch, and put them back.

Rows travel as JSON objects of their stored columns (column name → value), built and read by the database, so a
million rows take one statement each way and no row passes through Python. The values come back exactly as they
were stored: PostgreSQL casts the text back to the column's type; SQLite stores the very values it gave.

- `archive`: on PostgreSQL one statement, `WITH gone AS (DELETE … RETURNING …) INSERT …`, so the batch holds
  exactly the rows deleted. Elsewhere (SQLite) an `INSERT … SELECT` then a `DELETE` of the same rows: a writing
  transaction holds the database lock from its start (`transaction_mode` IMMEDIATE), so nothing changes between.
- `restore`: `INSERT … SELECT … ON CONFLICT DO NOTHING`: a row that clashes with one created since (same unique
  value) is skipped. A reference to a row that is gone meanwhile (e.g. the user who created it) becomes empty when
  the column allows it; otherwise the row is skipped.
"""

from __future__ import annotations

from django.db import connection, models

from portal.models_cleanup import CleanupRow

__all__ = ["MAX_COLUMNS", "archive", "restore"]

MAX_COLUMNS = 50  # jsonb_build_object takes at most 100 arguments


def _quote(name: str) -> str:
    return connection.ops.quote_name(name)


def _rows_table() -> str:
    return _quote(CleanupRow._meta.db_table)


def _is_postgresql() -> bool:
    return connection.vendor == "postgresql"


def _json_object(fields, alias: str) -> str:
    pairs = ", ".join(f"'{field.column}', {alias}.{_quote(field.column)}" for field in fields)
    return f"jsonb_build_object({pairs})" if _is_postgresql() else f"json_object({pairs})"


def _stored_value(field: models.Field, alias: str) -> str:
    """The SQL expression of `field`'s stored value in the JSON column `data` of the rows table `alias`."""
    if not _is_postgresql():
        return f"json_extract({alias}.data, '$.{field.column}')"
    if isinstance(field, models.JSONField):
        return f"({alias}.data -> '{field.column}')"
    return f"({alias}.data ->> '{field.column}')::{field.db_type(connection)}"


def archive(queryset: models.QuerySet, batch_id: int) -> int:
    """Delete the rows of `queryset` and add them to the batch `batch_id`; the number of rows moved."""
    model = queryset.model
    fields = model._meta.concrete_fields
    table, pk = _quote(model._meta.db_table), _quote(model._meta.pk.column)
    chosen, params = queryset.order_by().values("pk").query.sql_with_params()
    with connection.cursor() as cursor:
        if _is_postgresql():
            returned = ", ".join(_quote(field.column) for field in fields)
            cursor.execute(
                f"WITH gone AS (DELETE FROM {table} WHERE {pk} IN ({chosen}) RETURNING {returned}) "
                f"INSERT INTO {_rows_table()} (batch_id, data) SELECT %s, {_json_object(fields, 'gone')} FROM gone",
                [*params, batch_id],
            )
            return cursor.rowcount
        cursor.execute(
            f"INSERT INTO {_rows_table()} (batch_id, data) SELECT %s, {_json_object(fields, 'source')} "
            f"FROM {table} source WHERE source.{pk} IN ({chosen})",
            [batch_id, *params],
        )
        moved = cursor.rowcount
        cursor.execute(f"DELETE FROM {table} WHERE {pk} IN ({chosen})", params)
        if cursor.rowcount != moved:
            raise RuntimeError(f"{model._meta.label}: {moved} rows archived but {cursor.rowcount} deleted")
        return moved


def _reference_check(field: models.ForeignKey, value: str) -> str:
    target = field.target_field
    return f"SELECT 1 FROM {_quote(target.model._meta.db_table)} ref WHERE ref.{_quote(target.column)} = {value}"


def restore(model: type[models.Model], batch_id: int) -> int:
    """Insert the rows of batch `batch_id` back into `model`'s table; the number inserted (the rest clashed)."""
    fields = model._meta.concrete_fields
    values, conditions = [], ["archived.batch_id = %s"]
    for field in fields:
        value = _stored_value(field, "archived")
        if isinstance(field, models.ForeignKey):
            check = _reference_check(field, value)
            if field.null:
                value = f"CASE WHEN EXISTS ({check}) THEN {value} END"
            else:
                conditions.append(f"EXISTS ({check})")
        values.append(value)
    columns = ", ".join(_quote(field.column) for field in fields)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {_quote(model._meta.db_table)} ({columns}) SELECT {', '.join(values)} "
            f"FROM {_rows_table()} archived WHERE {' AND '.join(conditions)} ON CONFLICT DO NOTHING",
            [batch_id],
        )
        return cursor.rowcount
