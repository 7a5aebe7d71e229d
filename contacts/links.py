"""How the contact ↔ tag and contact ↔ group link tables stay consistent without foreign-key constraints.

`ContactTag` and `GroupMember` carry no foreign-key constraints in the database (`db_constraint=False`).
PostgreSQL checks a foreign key one row at a time, with a query and a row lock for each new link. An import
writes a million links or more, and these checks cost the server more than the inserts themselves: 22 of
81 CPU-seconds in a 1,000,000-row import. Row locks give the same guarantee once per statement instead of
once per link:

- A writer of links locks, before it writes, the rows it links to with `lock_for_linking` (KEY SHARE, the
  lock a foreign-key check takes), or in the statement that writes the links (`linking_lock_clause`). It
  links only rows still there after the lock. Contacts that the writer itself created or updated in its
  transaction are locked already.
- A deleter locks the contacts, tags or groups it deletes with `lock_for_delete` (FOR UPDATE) before
  Django's collector deletes their links. A writer that locked first has committed by then, and its links
  are deleted too. A writer that comes later finds the rows gone.

`contacts.services` (which the UI, the API and the admin use) follows both rules. On SQLite every writing
transaction holds the database lock from its start (`transaction_mode` IMMEDIATE), so the rules hold there
with no row locks.
"""

from __future__ import annotations

from django.core.exceptions import EmptyResultSet
from django.db import connection
from django.db.models import QuerySet

__all__ = ["linking_lock_clause", "lock_for_delete", "lock_for_linking"]


def lock_for_linking(queryset: QuerySet) -> None:
    """Until this transaction ends, the rows of `queryset` cannot be deleted (KEY SHARE; edits still go on)."""
    _lock(queryset, "KEY SHARE")


def linking_lock_clause(alias: str) -> str:
    """The locking clause that makes an `INSERT … SELECT … FROM table alias` lock the rows it links."""
    return f" FOR KEY SHARE OF {alias}" if connection.vendor == "postgresql" else ""


def lock_for_delete(queryset: QuerySet) -> None:
    """Lock the rows of `queryset` for deletion: waits for every transaction that is linking them."""
    _lock(queryset, "UPDATE")


def _lock(queryset: QuerySet, strength: str) -> None:
    if connection.vendor != "postgresql":
        return
    if connection.get_autocommit():
        raise RuntimeError("Row locks need a transaction (transaction.atomic).")
    model = queryset.model
    # Re-selected by primary key: the caller's queryset may be DISTINCT or ordered, which FOR … refuses.
    rows = model._base_manager.filter(pk__in=queryset.order_by().values("pk")).order_by("pk").values("pk")
    try:
        sql, params = rows.query.sql_with_params()
    except EmptyResultSet:
        return
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT count(*) FROM ({sql} FOR {strength}) AS locked", params)
