"""How the contact ↔ tag and contact ↔ group link tables stay consistent without foreign-key constraints.

`ContactTag` and `GroupMember` carry no foreign-key constraints in the database (`db_constraint=False`).
PostgreSQL checks a foreign key one row at a time, with a query and a row lock for each new link. An import
writes a million links or more: a 1,000,000-row import used 81 server CPU-seconds with these checks and 58
without them (one run each). Row locks give the same guarantee once per statement instead of once per link:

- A writer of links locks, before it writes, the rows it links to with `lock_for_linking` (KEY SHARE, the
  lock a foreign-key check takes), or in the statement that writes the links (`linking_lock_clause`). It
  links only rows still there after the lock. Contacts that the writer itself created or updated in its
  transaction are locked already.
- A deleter locks the contacts, tags or groups it deletes with `lock_for_delete` (FOR UPDATE) before
  Django's collector deletes their links. A writer that locked first has committed by then, and its links
  are deleted too. A writer that comes later finds the rows gone.

The locks taken here follow primary-key order, so two of them cannot deadlock (an import's upsert still
locks the contacts it updates in file order, as any UPDATE does).
`contacts.services` (which the UI, the API and the admin use) follows both rules, and deleting an account
(admin) locks its tags, groups and contacts first (`lock_account_rows`, a `pre_delete` receiver). On SQLite
every writing transaction holds the database lock from its start (`transaction_mode` IMMEDIATE), so the
rules hold there with no row locks.
"""

from __future__ import annotations

from django.core.exceptions import EmptyResultSet
from django.db import connection
from django.db.models import QuerySet

__all__ = ["linking_lock_clause", "lock_account_rows", "lock_for_delete", "lock_for_linking"]


def lock_for_linking(queryset: QuerySet) -> list:
    """Until this transaction ends, the rows of `queryset` cannot be deleted (KEY SHARE; edits still go on).
    Returns the primary keys of the rows locked: those still there."""
    return _lock(queryset, "KEY SHARE")


def linking_lock_clause(alias: str) -> str:
    """The clause that ends an `INSERT … SELECT … FROM table alias` so that it locks the rows it links, in
    primary-key order."""
    return f" ORDER BY {alias}.id FOR KEY SHARE OF {alias}" if connection.vendor == "postgresql" else ""


def lock_for_delete(queryset: QuerySet) -> list:
    """Lock the rows of `queryset` for deletion (waiting for every transaction that is linking them) and return
    their primary keys: the caller deletes exactly those, not rows that came to match the queryset since."""
    return _lock(queryset, "UPDATE")


def lock_account_rows(sender, instance, **kwargs) -> None:
    """`pre_delete` of an Account (the admin deletes accounts): lock its tags, groups and contacts before
    Django's collector deletes their links."""
    from contacts.models import Contact, Group, Tag

    for model in (Tag, Group, Contact):
        _lock(model._base_manager.filter(account=instance), "UPDATE")


def _lock(queryset: QuerySet, strength: str) -> list:
    """Lock the rows in primary-key order (every locker uses the same order, so two cannot deadlock); their
    primary keys. On SQLite the rows are only read (see the module docstring)."""
    model = queryset.model
    # Re-selected by primary key: the caller's queryset may be DISTINCT or ordered, which FOR … refuses.
    rows = model._base_manager.filter(pk__in=queryset.order_by().values("pk")).order_by("pk")
    if connection.vendor != "postgresql":
        return list(rows.values_list("pk", flat=True))
    if connection.get_autocommit():
        raise RuntimeError("Row locks need a transaction (transaction.atomic).")
    try:
        sql, params = rows.values_list("pk").query.sql_with_params()
    except EmptyResultSet:
        return []
    with connection.cursor() as cursor:
        cursor.execute(f"{sql} FOR {strength}", params)
        return [pk for (pk,) in cursor.fetchall()]
