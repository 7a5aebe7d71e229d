"""Reading uploaded unsubscriber lists (txt, csv, xls, xlsx) through the import engine's safe readers.

`contacts.importing.safety.read_rows` tells the type by content, enforces the size limit and parses
spreadsheets in a sandboxed child process. This module only decides what the rows mean: either a bare list
of numbers (one per line, or the first column), or a table whose header names a number column (receiver,
mobile, msisdn, phone, number) and optionally `type` and `value` columns.
"""

import shutil
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from django.core.exceptions import ValidationError

from contacts.importing.errors import ImportFileError
from contacts.importing.safety import read_rows

ALLOWED_EXTENSIONS = ("txt", "csv", "xls", "xlsx")
IMPORT_KIND = "unsubscribers"
NUMBER_HEADERS = ("receiver", "mobile", "msisdn", "phone", "number", "mobile number", "phone number")


@dataclass(frozen=True)
class ReceiverRow:
    receiver: object
    type: str | None = None
    value: str | None = None


def _text(value) -> str:
    return "" if value is None else str(value).strip()


def _header_positions(values: Iterable) -> dict[str, int] | None:
    names = [_text(cell).lower() for cell in values]
    number_column = next((names.index(h) for h in NUMBER_HEADERS if h in names), None)
    if number_column is None:
        return None
    positions = {"receiver": number_column}
    for optional in ("type", "value"):
        if optional in names:
            positions[optional] = names.index(optional)
    return positions


def _row(values: list, positions: dict[str, int] | None) -> ReceiverRow:
    if positions is None:
        return ReceiverRow(receiver=values[0])

    def cell(key: str):
        index = positions.get(key)
        return values[index] if index is not None and index < len(values) else None

    return ReceiverRow(receiver=cell("receiver"), type=_text(cell("type")) or None, value=_text(cell("value")) or None)


def rows_from_path(path: Path) -> list[ReceiverRow]:
    """Rows of a stored upload; ValidationError on `file` for unreadable, unsafe or empty files."""
    result: list[ReceiverRow] = []
    positions: dict[str, int] | None = None
    first = True
    try:
        for chunk in read_rows(path, kind=IMPORT_KIND):
            for row in chunk:
                values = list(row.values)
                if first:
                    first = False
                    positions = _header_positions(values)
                    if positions is not None:
                        continue
                if _text(values[0] if positions is None else _row(values, positions).receiver):
                    result.append(_row(values, positions))
    except ImportFileError as exc:
        raise ValidationError({"file": [exc.message]}) from None
    if not result:
        raise ValidationError({"file": ["The file contains no numbers."]})
    return result


def read_receiver_rows(upload) -> list[ReceiverRow]:
    """Rows of an uploaded file (a Django UploadedFile), read from disk by the import engine's readers."""
    temporary_path = getattr(upload, "temporary_file_path", None)
    if temporary_path is not None:
        return rows_from_path(Path(temporary_path()))
    with tempfile.NamedTemporaryFile(suffix=Path(upload.name or "").suffix) as handle:
        upload.seek(0)
        shutil.copyfileobj(upload, handle)
        handle.flush()
        return rows_from_path(Path(handle.name))
