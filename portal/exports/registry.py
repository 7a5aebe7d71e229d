"""What can be exported: each app registers its kinds of rows (`register(ExportSource(...))` in `AppConfig.ready()`).

A source names the FilterSet of the list it exports, so an export is filtered by the very rules of that list (the
HTML page and the API share them), the account's rows in the list's order, and how to turn the filtered rows into
columns and rows for the writers (`portal.exports.values` for sources read with `values_list`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, NamedTuple

from django.core.exceptions import ImproperlyConfigured
from django.db.models import QuerySet
from django.http import QueryDict

from portal.exports.writers import ExportColumn
from portal.models import Account
from portal.models_exports import ExportKind
from portal.service_errors import ServiceError

__all__ = [
    "ExportSource",
    "FilterContext",
    "Table",
    "filtered_rows",
    "register",
    "source_of",
    "validate_filters",
]


class Table(NamedTuple):
    columns: list[ExportColumn]
    rows: Iterable[Any]


@dataclass(frozen=True)
class FilterContext:
    """What a FilterSet reads from its `request` (the account whose rows it filters), for a job with no request."""

    account: Account
    user: Any = None


@dataclass(frozen=True)
class ExportSource:
    """Rows of one `ExportKind`: `rows(account)` are the account's rows in the list's order, filtered by
    `filterset`; `table(filtered, account)` gives the columns and the rows to write (masking and `hide_msg` of
    the account applied there). `title` names the sheet, `file_stem` the file (messages-20260101-0930.csv).
    `exported(filtered, account)`, when given, turns the list's filtered rows into the rows exported (the
    delivery reports of the filtered messages)."""

    kind: str
    title: str
    file_stem: str
    filterset: type
    rows: Callable[[Account], QuerySet]
    table: Callable[[QuerySet, Account], Table]
    exported: Callable[[QuerySet, Account], QuerySet] | None = None


_SOURCES: dict[str, ExportSource] = {}


def register(source: ExportSource) -> ExportSource:
    if source.kind not in ExportKind.values:
        raise ImproperlyConfigured(f"Export kind {source.kind!r} is not one of {ExportKind.values}.")
    known = _SOURCES.get(source.kind)
    if known is not None and known != source:
        raise ImproperlyConfigured(f"Export kind {source.kind!r} is registered twice.")
    _SOURCES[source.kind] = source
    return source


def source_of(kind: str) -> ExportSource:
    try:
        return _SOURCES[kind]
    except KeyError:
        raise LookupError(f"No export source {kind!r} is registered.") from None


def _as_text(name: str, value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str | int | float):
        return str(value)
    raise ServiceError("Give one value (a string or a number).", field=f"filter[{name}]", code=ServiceError.INVALID)


def validate_filters(source: ExportSource, account: Account, filters: Any) -> dict[str, str]:
    """The filters as the list takes them (name → text), checked by the list's FilterSet: an unknown name or a
    value the FilterSet refuses is a ServiceError naming `filter[name]`. Empty values are dropped."""
    if filters is None:
        return {}
    if not isinstance(filters, dict):
        raise ServiceError("Give the filters as an object (name → value).", field="filter", code=ServiceError.INVALID)
    known = set(source.filterset.base_filters)
    for name in sorted(filters):
        if name not in known:
            allowed = ", ".join(sorted(known)) or "none"
            raise ServiceError(
                f"Unknown filter. Allowed: {allowed}.", field=f"filter[{name}]", code=ServiceError.INVALID
            )
    cleaned = {name: _as_text(name, value) for name, value in filters.items() if value not in (None, "")}
    filterset = source.filterset(_query(cleaned), queryset=source.rows(account), request=FilterContext(account))
    if not filterset.is_valid():
        name, messages = next(iter(filterset.errors.items()))
        raise ServiceError(" ".join(messages), field=f"filter[{name}]", code=ServiceError.INVALID)
    return cleaned


def filtered_rows(source: ExportSource, account: Account, filters: dict[str, str], user=None) -> QuerySet:
    """The account's rows of the source matching `filters` (validated when the export was created)."""
    filterset = source.filterset(_query(filters), queryset=source.rows(account), request=FilterContext(account, user))
    if not filterset.is_valid():
        raise ServiceError("The export's filters are no longer valid.", field="filter", code=ServiceError.INVALID)
    return filterset.qs if source.exported is None else source.exported(filterset.qs, account)


def _query(filters: dict[str, str]) -> QueryDict:
    data = QueryDict(mutable=True)
    data.update(filters)
    return data
