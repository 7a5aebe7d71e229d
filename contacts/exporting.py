"""Streamed CSV and XLSX writers with a per-column formula-injection policy.

Both writers take a list of `ExportColumn` and an iterable of rows (any objects; each column knows how to
read its value), and never hold more than one row in memory: CSV is a generator of text chunks for a
`StreamingHttpResponse`; XLSX goes through openpyxl's write-only mode into a temporary file that is streamed.

Policy: a text value starting with ``=``, ``@``, ``-``, ``+``, tab or carriage return is neutralised by
prefixing an apostrophe, unless the column is a phone column and the value is a valid E.164 number
(``+919876543210`` stays as it is). In XLSX every text value is also written as a string cell, so no cell is
ever a formula.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from typing import IO, Any

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell

from portal.masking import MASK, mask_msisdn

__all__ = ["ExportColumn", "contact_export_columns", "iter_csv", "safe_cell", "write_xlsx"]

FORMULA_TRIGGERS = ("=", "@", "-", "+", "\t", "\r")
E164 = re.compile(r"\+[1-9]\d{6,14}")
MASKED_E164 = re.compile(r"\+[1-9]\d{2,10}" + MASK)
CSV_BATCH_ROWS = 500
XLSX_MAX_TEXT = 32_767


@dataclass(frozen=True)
class ExportColumn:
    """One exported column: its header, how to read it from a row, and whether it holds phone numbers."""

    header: str
    getter: Callable[[Any], Any] = field(repr=False)
    phone: bool = False


def safe_cell(value: Any, *, phone: bool = False) -> Any:
    """The value as it may be written to a spreadsheet: formula-like text gets a leading apostrophe."""
    if value is None:
        return ""
    if not isinstance(value, str):
        return value
    if not value.startswith(FORMULA_TRIGGERS):
        return value
    if phone and (E164.fullmatch(value) or MASKED_E164.fullmatch(value)):
        return value
    return "'" + value


def iter_csv(columns: list[ExportColumn], rows: Iterable[Any], *, bom: bool = True) -> Iterator[str]:
    """CSV text in chunks of a few hundred rows: the header first, then every row (UTF-8 BOM for Excel)."""
    buffer = _LineBuffer()
    writer = csv.writer(buffer)
    writer.writerow([column.header for column in columns])
    yield ("\ufeff" if bom else "") + buffer.take()
    pending = 0
    for row in rows:
        writer.writerow([_csv_text(safe_cell(column.getter(row), phone=column.phone)) for column in columns])
        pending += 1
        if pending >= CSV_BATCH_ROWS:
            yield buffer.take()
            pending = 0
    if pending:
        yield buffer.take()


def write_xlsx(
    columns: list[ExportColumn], rows: Iterable[Any], target: str | IO[bytes], *, title: str = "Export"
) -> None:
    """Write an XLSX workbook (one sheet) to `target` with openpyxl's write-only mode (constant memory)."""
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title=_sheet_title(title))
    sheet.append([_text_cell(sheet, column.header) for column in columns])
    for row in rows:
        sheet.append([_xlsx_cell(sheet, safe_cell(column.getter(row), phone=column.phone)) for column in columns])
    workbook.save(target)


class _LineBuffer:
    """A write-only file for csv.writer whose content is taken out after each batch."""

    def __init__(self) -> None:
        self._parts: list[str] = []

    def write(self, text: str) -> int:
        self._parts.append(text)
        return len(text)

    def take(self) -> str:
        text = "".join(self._parts)
        self._parts.clear()
        return text


def _csv_text(value: Any) -> str:
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _text_cell(sheet, text: str) -> WriteOnlyCell:
    cell = WriteOnlyCell(sheet, value=text[:XLSX_MAX_TEXT])
    cell.data_type = "s"
    return cell


def _xlsx_cell(sheet, value: Any) -> WriteOnlyCell | Any:
    if isinstance(value, str):
        return _text_cell(sheet, value)
    if isinstance(value, dt.datetime) and value.tzinfo is not None:
        return _text_cell(sheet, value.isoformat())
    if isinstance(value, bool | int | float | Decimal | dt.date):
        return value
    return _text_cell(sheet, str(value))


def _sheet_title(title: str) -> str:
    cleaned = re.sub(r"[\[\]:*?/\\]", " ", title).strip() or "Export"
    return cleaned[:31]


def contact_export_columns(account) -> list[ExportColumn]:
    """Columns of a contact export; phone numbers are masked for accounts with `mobile_secure`."""

    return [
        ExportColumn("id", lambda contact: str(contact.uid)),
        ExportColumn("identity", lambda contact: contact.identity),
        ExportColumn("phone", lambda contact: mask_msisdn(contact.phone, account), phone=True),
        ExportColumn("country", lambda contact: contact.country),
        ExportColumn("number_type", lambda contact: contact.number_type),
        ExportColumn("email", lambda contact: contact.email),
        ExportColumn("first_name", lambda contact: contact.first_name),
        ExportColumn("last_name", lambda contact: contact.last_name),
        ExportColumn("gender", lambda contact: contact.gender),
        ExportColumn("birth_date", lambda contact: contact.birth_date),
        ExportColumn("postal_code", lambda contact: contact.postal_code),
        ExportColumn("company", lambda contact: contact.company),
        ExportColumn("tags", lambda contact: ", ".join(sorted(tag.name for tag in contact.tags.all()))),
        ExportColumn("groups", lambda contact: ", ".join(sorted(group.name for group in contact.groups.all()))),
        ExportColumn("attributes", lambda contact: json.dumps(contact.attributes, ensure_ascii=False)),
        ExportColumn("created_at", lambda contact: contact.created_at),
    ]
