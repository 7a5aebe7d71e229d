"""Export sources read with `values_list`: tuples a chunk at a time, each field converted on its way to its column.

At a million rows the cost is per value, so the fields that need work are read in the cheapest form the database
gives: times and UUIDs as text (the database driver's timestamp and UUID loaders cost ten times what parsing the
text does), times turned to the account's time zone with one offset lookup per hour of the day.
"""

from __future__ import annotations

import operator
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from django.db.models import Expression, QuerySet, TextField
from django.db.models.functions import Cast

from portal.accounts import zone_of
from portal.exports.registry import Table
from portal.exports.writers import ExportColumn
from portal.masking import mask_msisdn
from portal.models import Account

__all__ = [
    "CHUNK_ROWS",
    "Field",
    "local_times",
    "phone_field",
    "time_field",
    "uid_field",
    "value_columns",
    "values_table",
]

CHUNK_ROWS = 5_000
HOUR = timedelta(hours=1)


@dataclass(frozen=True)
class Field:
    """A column read from a `values_list` field or expression (or a tuple of them, converted together),
    optionally converted (masking, time zone, descriptions)."""

    header: str
    path: str | Expression | tuple[str | Expression, ...]
    convert: Callable[[Any], Any] | None = None
    phone: bool = False
    plain: bool = False


def values_table(queryset: QuerySet, fields: list[Field]) -> Table:
    """Columns over `values_list` tuples of the fields' paths, read CHUNK_ROWS at a time."""
    columns, paths = value_columns(fields)
    return Table(columns, queryset.values_list(*paths).iterator(chunk_size=CHUNK_ROWS))


def value_columns(fields: list[Field]) -> tuple[list[ExportColumn], list[str | Expression]]:
    """The columns reading tuples of the fields' values, and the paths those tuples are read with (in order)."""
    columns, paths = [], []
    for spec in fields:
        names = spec.path if isinstance(spec.path, tuple) else (spec.path,)
        get = operator.itemgetter(*range(len(paths), len(paths) + len(names)))
        paths.extend(names)
        columns.append(ExportColumn(spec.header, get, phone=spec.phone, plain=spec.plain, convert=spec.convert))
    return columns, paths


def phone_field(header: str, path: str, account: Account) -> Field:
    """A phone-number column, masked for accounts with `mobile_secure` (portal.masking)."""
    convert = (lambda number: mask_msisdn(number, account)) if account.mobile_secure else None
    return Field(header, path, convert, phone=True)


def time_field(header: str, path: str, account: Account) -> Field:
    """A time column: ISO 8601 with the offset of the account's time zone (what the API answers), or empty."""
    return Field(header, Cast(path, TextField()), local_times(account), plain=True)


def local_times(account: Account) -> Callable[[str | None], str]:
    """Converts the database's text of a UTC time (`2026-12-04 19:03:39.80+00`; SQLite's has no offset) to ISO
    8601 in the account's time zone. The offset is looked up once per hour (and not kept for an hour in which the
    zone's offset changes)."""
    zone = zone_of(account)
    offsets: dict[str, tuple[timedelta, str] | None] = {}

    def offset_of(hour: str) -> tuple[timedelta, str] | None:
        start = datetime.fromisoformat(f"{hour}:00:00+00:00")
        offset = start.astimezone(zone).utcoffset()
        if (start + HOUR - timedelta(microseconds=1)).astimezone(zone).utcoffset() != offset:
            return None
        return offset, start.astimezone(zone).isoformat()[19:]  # "+05:30" (seconds too when the offset has any)

    def convert(text: str | None) -> str:
        if text is None:
            return ""
        hour = text[:13]
        if hour not in offsets:
            offsets[hour] = offset_of(hour)
        utc = datetime.fromisoformat(text[:-3] if text.endswith("+00") else text)  # naive, in UTC
        known = offsets[hour]
        if known is None:
            return utc.replace(tzinfo=UTC).astimezone(zone).isoformat()
        offset, suffix = known
        return (utc + offset).isoformat() + suffix

    return convert


def uid_field(header: str, path: str) -> Field:
    """A UUID column read as text (PostgreSQL's is the canonical form; SQLite stores 32 hex digits)."""
    return Field(header, Cast(path, TextField()), _uuid_text, plain=True)


def _uuid_text(text: str | None) -> str:
    if text is None:
        return ""
    return text if len(text) == 36 else str(uuid.UUID(text))
