"""CSV writers with the one formula-injection policy of every spreadsheet the portal writes.

A writer takes a list of `ExportColumn` and an iterable of rows (any objects or tuples; each column knows how to
read its value) and never holds more than a batch of rows: `iter_csv` yields text chunks for a
`StreamingHttpResponse`, `write_csv` writes to an open text file. XLSX is `portal.exports.xlsx.write_xlsx`.

Policy (`safe_cell`): a text value starting with ``=``, ``@``, ``-``, ``+``, tab or carriage return is neutralised
by prefixing an apostrophe, unless the column is a phone column and the value is a valid E.164 number, masked or
not (``+919876543210`` and ``+91987654XXXX`` stay as they are).
"""

from __future__ import annotations

import csv
import datetime as dt
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import IO, Any

from portal.masking import MASK

__all__ = ["ExportColumn", "iter_csv", "row_reader", "safe_cell", "write_csv"]

FORMULA_TRIGGERS = ("=", "@", "-", "+", "\t", "\r")
_TRIGGER_CHARS = frozenset(FORMULA_TRIGGERS)
E164 = re.compile(r"\+[1-9]\d{6,14}")
MASKED_E164 = re.compile(r"\+[1-9]\d{2,10}" + MASK)
CSV_BATCH_ROWS = 500
BOM = "\ufeff"


@dataclass(frozen=True)
class ExportColumn:
    """One exported column: its header, how to read it from a row, and whether it holds phone numbers."""

    header: str
    getter: Callable[[Any], Any] = field(repr=False)
    phone: bool = False
    # values of fixed forms (ids, states, numbers, times): never text that starts like a formula or holds anything
    # XML escapes, so neither is checked; never set it for text a person or a handset wrote
    plain: bool = False
    convert: Callable[[Any], Any] | None = field(default=None, repr=False)  # applied to what `getter` read


def safe_cell(value: Any, *, phone: bool = False) -> Any:
    """The value as it may be written to a spreadsheet: formula-like text gets a leading apostrophe."""
    if value is None:
        return ""
    if not isinstance(value, str):
        return value
    if not value.startswith(FORMULA_TRIGGERS):
        return value
    if phone and (_plain_e164(value) or E164.fullmatch(value) or MASKED_E164.fullmatch(value)):
        return value
    return "'" + value


def _plain_e164(value: str) -> bool:
    """`E164.fullmatch(value)` by string methods: a phone column holds a million of them."""
    digits = value[1:]
    return value[0] == "+" and 7 <= len(digits) <= 15 and digits.isascii() and digits.isdigit() and digits[0] != "0"


def row_reader(columns: list[ExportColumn]) -> Callable[[Any], list[Any]]:
    """A function turning one row into its cells, column by column, through `safe_cell` (only the columns that
    may hold text: `plain` ones never start like a formula). Built once per export: it runs a million times."""
    getters = [column.getter for column in columns]
    converted = [(index, column.convert) for index, column in enumerate(columns) if column.convert is not None]
    checked = [(index, column.phone) for index, column in enumerate(columns) if not column.plain]

    def read(row: Any) -> list[Any]:
        cells = [get(row) for get in getters]
        for index, convert in converted:
            cells[index] = convert(cells[index])
        for index, phone in checked:
            value = cells[index]
            if value.__class__ is str:
                if value[:1] in _TRIGGER_CHARS:
                    cells[index] = safe_cell(value, phone=phone)
            elif isinstance(value, str):
                cells[index] = safe_cell(str(value), phone=phone)
        return cells

    return read


def iter_csv(columns: list[ExportColumn], rows: Iterable[Any], *, bom: bool = True) -> Iterator[str]:
    """CSV text in chunks of a few hundred rows: the header first, then every row (UTF-8 BOM for Excel)."""
    buffer = _LineBuffer()
    writer = csv.writer(buffer)
    writer.writerow([column.header for column in columns])
    yield (BOM if bom else "") + buffer.take()
    read = row_reader(columns)
    pending = 0
    for row in rows:
        writer.writerow(_csv_texts(read(row)))
        pending += 1
        if pending >= CSV_BATCH_ROWS:
            yield buffer.take()
            pending = 0
    if pending:
        yield buffer.take()


def write_csv(columns: list[ExportColumn], rows: Iterable[Any], target: IO[str], *, bom: bool = True) -> None:
    """Write the header and every row to `target` (a text file opened with newline="") as they come."""
    if bom:
        target.write(BOM)
    writer = csv.writer(target)
    writer.writerow([column.header for column in columns])
    read = row_reader(columns)
    for row in rows:
        writer.writerow(_csv_texts(read(row)))


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


def _csv_texts(cells: list[Any]) -> list[Any]:
    """Dates in ISO 8601 and booleans as true/false; strings and numbers as csv writes them."""
    for index, value in enumerate(cells):
        kind = value.__class__
        if kind is str or kind is int:
            continue
        if kind is bool:
            cells[index] = "true" if value else "false"
        elif isinstance(value, dt.date):
            cells[index] = value.isoformat()
    return cells
