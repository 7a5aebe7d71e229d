"""Reading unsubscriber lists from uploaded files (txt, csv, xls, xlsx) until the import engine takes over.

A file is either a bare list of numbers (one per line or first column), or a table whose header names a
number column (receiver, mobile, msisdn, phone, number) and optionally `type` and `value` columns.
"""

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass

from django.core.exceptions import ValidationError

ALLOWED_EXTENSIONS = ("txt", "csv", "xls", "xlsx")
MAX_UPLOAD_BYTES = 100 * 1024 * 1024
NUMBER_HEADERS = ("receiver", "mobile", "msisdn", "phone", "number", "mobile number", "phone number")


@dataclass(frozen=True)
class ReceiverRow:
    receiver: str
    type: str | None = None
    value: str | None = None


def _extension(name: str) -> str:
    return name.rsplit(".", 1)[-1].lower() if "." in name else ""


def _text_rows(data: bytes) -> Iterator[list[str]]:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = data.decode("latin-1")
    sample = text[:4096]
    try:
        dialect = csv.Sniffer().sniff(sample, delimiters=",;\t|")
    except csv.Error:
        dialect = csv.excel
    yield from csv.reader(io.StringIO(text), dialect)


def _sheet_rows(data: bytes) -> Iterator[list[str]]:
    from python_calamine import CalamineWorkbook

    try:
        workbook = CalamineWorkbook.from_filelike(io.BytesIO(data))
        sheet = workbook.get_sheet_by_index(0)
    except Exception as exc:  # calamine raises its own error types for unreadable workbooks
        raise ValidationError({"file": [f"Unreadable spreadsheet: {exc}"]}) from None
    for row in sheet.to_python(skip_empty_area=True):
        yield [_cell_text(cell) for cell in row]


def _cell_text(cell) -> str:
    if isinstance(cell, float) and cell.is_integer():
        return str(int(cell))
    return "" if cell is None else str(cell)


def _header_positions(row: list[str]) -> dict[str, int] | None:
    names = [cell.strip().lower() for cell in row]
    number_column = next((names.index(h) for h in NUMBER_HEADERS if h in names), None)
    if number_column is None:
        return None
    positions = {"receiver": number_column}
    for optional in ("type", "value"):
        if optional in names:
            positions[optional] = names.index(optional)
    return positions


def read_receiver_rows(name: str, data: bytes) -> list[ReceiverRow]:
    """Rows of an uploaded list; ValidationError on the `file` field for unsupported or empty files."""
    extension = _extension(name)
    if extension not in ALLOWED_EXTENSIONS:
        raise ValidationError({"file": [f"Unsupported file type .{extension}; use {', '.join(ALLOWED_EXTENSIONS)}."]})
    if len(data) > MAX_UPLOAD_BYTES:
        raise ValidationError({"file": ["The file is larger than 100 MB."]})
    rows = _sheet_rows(data) if extension in ("xls", "xlsx") else _text_rows(data)
    result: list[ReceiverRow] = []
    positions: dict[str, int] | None = None
    first = True
    for row in rows:
        if not any(cell.strip() for cell in row):
            continue
        if first:
            first = False
            positions = _header_positions(row)
            if positions is not None:
                continue
        result.append(_row(row, positions))
    if not result:
        raise ValidationError({"file": ["The file contains no numbers."]})
    return result


def _row(row: list[str], positions: dict[str, int] | None) -> ReceiverRow:
    def cell(key: str) -> str | None:
        if positions is None or key not in positions or positions[key] >= len(row):
            return None
        return row[positions[key]].strip() or None

    if positions is None:
        return ReceiverRow(receiver=row[0].strip())
    return ReceiverRow(receiver=cell("receiver") or "", type=cell("type"), value=cell("value"))
