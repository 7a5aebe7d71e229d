"""Readers for uploaded files: the type is told by content, never by extension.

Every reader yields chunks (lists) of `Row(sheet, number, values)`: `sheet` is the sheet name ("" for text
files), `number` the 1-based row number a person sees in Excel (for csv: the record number, so a quoted
field spanning several lines is still one row), `values` the cells as read. Spreadsheet numbers stay floats
and text stays text, so the phone rules can tell `447400123456.0` (a number that lost its `+`) from text.
Rows whose cells are all empty are not yielded, but the numbering keeps counting them. A row longer than the
column cap (`max_columns`) keeps its first `max_columns` cells, with `over_limit` set when a value past them was
dropped (`columns.py`).

This module does not import Django; spreadsheets are parsed by `safety.read_rows`, which runs
`spreadsheet_chunks` in a child process with memory and time limits.
"""

from __future__ import annotations

import codecs
import csv
import io
import mmap
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import NamedTuple

from contacts.importing.columns import MAX_COLUMNS, CsvColumnGuard, fit
from contacts.importing.errors import ImportFileError

__all__ = [
    "CHUNK_ROWS",
    "KIND_CSV",
    "KIND_XLS",
    "KIND_XLSX",
    "Row",
    "TextFormat",
    "csv_chunks",
    "detect_kind",
    "detect_text_format",
    "spreadsheet_chunks",
]

KIND_CSV, KIND_XLSX, KIND_XLS = "csv", "xlsx", "xls"
CHUNK_ROWS = 5000
SAMPLE_BYTES = 256 * 1024
DELIMITERS = (",", ";", "\t", "|")
CSV_FIELD_LIMIT = 1024 * 1024

ZIP_MAGIC = b"PK\x03\x04"
CFB_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_OTHER_BINARIES = {
    b"%PDF": "a PDF document",
    b"\x89PNG": "a PNG image",
    b"\xff\xd8\xff": "a JPEG image",
    b"GIF8": "a GIF image",
    b"\x1f\x8b": "a gzip archive",
    b"Rar!": "a RAR archive",
    b"7z\xbc\xaf": "a 7-Zip archive",
    b"\x7fELF": "a program",
    b"MZ": "a program",
}
_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
_CONTROL = frozenset(range(32)) - {9, 10, 12, 13}
UTF8_FALLBACK = "import-cp1252-fallback"


def _cp1252_fallback(error: UnicodeError) -> tuple[str, int]:
    """Bytes that are not UTF-8 in a file that looked like UTF-8 (a Windows file whose first part was plain
    ASCII) are read as cp1252, then latin-1, instead of failing the whole file."""
    if not isinstance(error, UnicodeDecodeError):
        raise error
    bad = error.object[error.start : error.end]
    try:
        return bad.decode("cp1252"), error.end
    except UnicodeDecodeError:
        return bad.decode("latin-1"), error.end


codecs.register_error(UTF8_FALLBACK, _cp1252_fallback)


class Row(NamedTuple):
    sheet: str
    number: int
    values: tuple
    over_limit: int = 0  # the column cap the row went over (its cells past it were dropped), else 0


class TextFormat(NamedTuple):
    encoding: str
    delimiter: str


def _wrong_type(what: str) -> ImportFileError:
    return ImportFileError(
        "wrong_type",
        f"This file is {what}, not a spreadsheet or text file. Upload a .csv, .txt, .xls or .xlsx file.",
    )


def empty_file_error() -> ImportFileError:
    return ImportFileError("empty_file", "The file is empty (0 bytes).")


def password_error() -> ImportFileError:
    return ImportFileError(
        "password_protected",
        "This workbook is password-protected. Open it in Excel, remove the password "
        "(File → Info → Protect Workbook → Encrypt with Password) and upload it again.",
    )


def _cfb_stream_names(path: Path) -> set[str]:
    """Names of the streams an OLE2 compound file mentions (directory entries are UTF-16LE names)."""
    wanted = ("EncryptedPackage", "EncryptionInfo", "Workbook", "Book", "WordDocument", "PowerPoint Document")
    found = set()
    with open(path, "rb") as handle, mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ) as data:
        for name in wanted:
            if data.find(name.encode("utf-16-le") + b"\x00\x00") != -1:
                found.add(name)
    return found


def detect_kind(path: Path) -> str:
    """`xlsx`, `xls` or `csv` from the bytes of the file; raises ImportFileError for anything else."""
    path = Path(path)
    size = path.stat().st_size
    if size == 0:
        raise empty_file_error()
    with open(path, "rb") as handle:
        head = handle.read(SAMPLE_BYTES)
    if head.startswith(ZIP_MAGIC):
        return _zip_kind(path)
    if head.startswith(CFB_MAGIC):
        streams = _cfb_stream_names(path)
        if "EncryptedPackage" in streams:
            raise password_error()
        if streams & {"Workbook", "Book"}:
            return KIND_XLS
        if "WordDocument" in streams:
            raise _wrong_type("a Word document")
        raise _wrong_type("an Office document of another kind")
    for magic, what in _OTHER_BINARIES.items():
        if head.startswith(magic):
            raise _wrong_type(what)
    detect_text_format(head)
    return KIND_CSV


def _zip_kind(path: Path) -> str:
    try:
        with zipfile.ZipFile(path) as archive:
            names = set(archive.namelist())
    except zipfile.BadZipFile as exc:
        raise ImportFileError("corrupt_file", "The file looks like an Excel workbook but is damaged.") from exc
    if "[Content_Types].xml" in names and any(name.startswith("xl/") for name in names):
        return KIND_XLSX
    if any(name.startswith("word/") for name in names):
        raise _wrong_type("a Word document")
    if any(name.startswith("ppt/") for name in names):
        raise _wrong_type("a PowerPoint presentation")
    if "mimetype" in names:
        raise _wrong_type("an OpenDocument file (save it as .xlsx or .csv)")
    raise _wrong_type("a zip archive")


def _guess_encoding(sample: bytes, *, complete: bool) -> str:
    for bom, encoding in _BOMS:
        if sample.startswith(bom):
            return encoding
    if b"\x00" in sample:
        even, odd = sample[0::2].count(0), sample[1::2].count(0)
        if odd > len(sample) // 4 and even == 0:
            return "utf-16-le"
        if even > len(sample) // 4 and odd == 0:
            return "utf-16-be"
        raise _wrong_type("binary data")
    try:
        sample.decode("utf-8")
        return "utf-8"
    except UnicodeDecodeError as exc:
        if not complete and exc.start >= len(sample) - 3:
            return "utf-8"
    try:
        sample.decode("cp1252")
        return "cp1252"
    except UnicodeDecodeError:
        return "latin-1"


def _looks_binary(text: str) -> bool:
    controls = sum(1 for char in text[:20000] if ord(char) in _CONTROL)
    return controls > max(2, len(text[:20000]) // 100)


def _sniff_delimiter(text: str) -> str:
    """The candidate that splits most sample records into the same number (>1) of fields."""
    lines = text.splitlines()
    if len(text) >= SAMPLE_BYTES // 2 and len(lines) > 1:
        lines = lines[:-1]
    sample = "\n".join(lines[:200])
    best, best_score = ",", (0.0, 0)
    for delimiter in DELIMITERS:
        try:
            counts = [len(record) for record in csv.reader(io.StringIO(sample), delimiter=delimiter) if record]
        except csv.Error:
            continue
        if not counts:
            continue
        modal = max(set(counts), key=counts.count)
        if modal < 2:
            continue
        score = (counts.count(modal) / len(counts), modal)
        if score > best_score:
            best, best_score = delimiter, score
    return best


def detect_text_format(sample: bytes, *, complete: bool = False) -> TextFormat:
    """Encoding (BOM, UTF-8, UTF-16 without BOM, cp1252, latin-1) and delimiter of a text sample."""
    encoding = _guess_encoding(sample, complete=complete)
    try:
        text = sample.decode(encoding, errors="strict" if complete else "ignore")
    except UnicodeDecodeError as exc:
        raise ImportFileError(
            "unreadable_encoding", f"The file's text could not be decoded as {encoding}; save it as UTF-8."
        ) from exc
    if text.startswith("\ufeff"):
        text = text[1:]
    if _looks_binary(text):
        raise _wrong_type("binary data")
    return TextFormat(encoding, _sniff_delimiter(text))


def csv_chunks(path: Path, *, chunk_rows: int = CHUNK_ROWS, max_columns: int = MAX_COLUMNS) -> Iterator[list[Row]]:
    """Stream a csv/txt file as chunks of rows, with detected encoding and delimiter."""
    path = Path(path)
    with open(path, "rb") as handle:
        sample = handle.read(SAMPLE_BYTES)
    if not sample:
        raise empty_file_error()
    text_format = detect_text_format(sample, complete=len(sample) < SAMPLE_BYTES)
    csv.field_size_limit(CSV_FIELD_LIMIT)
    with open(path, "rb") as raw:
        errors = UTF8_FALLBACK if text_format.encoding == "utf-8" else "strict"
        stream = io.TextIOWrapper(raw, encoding=text_format.encoding, errors=errors, newline="")
        lines = CsvColumnGuard(stream, text_format.delimiter, max_columns)
        reader = csv.reader(lines, delimiter=text_format.delimiter)
        next_record = lines.next_record
        chunk: list[Row] = []
        number = 0
        try:
            for number, record in enumerate(reader, start=1):
                dropped = next_record()
                if number == 1 and record and record[0].startswith("\ufeff"):
                    record[0] = record[0][1:]
                if dropped or any(cell.strip() for cell in record):
                    if len(record) > max_columns or dropped:
                        chunk.append(Row("", number, *fit(record, max_columns, dropped)))
                    else:
                        chunk.append(Row("", number, tuple(record)))
                    if len(chunk) >= chunk_rows:
                        yield chunk
                        chunk = []
        except UnicodeDecodeError as exc:
            raise ImportFileError(
                "unreadable_encoding",
                f"After row {number} the file is not valid {text_format.encoding} text. "
                "Save the file as UTF-8 and upload it again.",
            ) from exc
        except csv.Error as exc:
            raise ImportFileError("malformed_csv", f"Row {number + 1} could not be read: {exc}.") from exc
        if chunk:
            yield chunk


# What a formula's error leaves in a cell; calamine hands them over as text, and they mean "no value".
EXCEL_ERRORS = frozenset(
    {"#NULL!", "#DIV/0!", "#VALUE!", "#REF!", "#NAME?", "#NUM!", "#N/A", "#GETTING_DATA", "#SPILL!", "#CALC!"}
    | {"#FIELD!", "#BLOCKED!", "#CONNECT!", "#BUSY!", "#UNKNOWN!"}
)


def _cells(cells: list) -> tuple | None:
    """A calamine row as plain values, empty strings and Excel's error values (`#N/A`, …) as None (text keeps its
    exact characters); None for a row with nothing in it. Most rows have neither and are taken as they are (a
    million rows pass here)."""
    if "" not in cells and EXCEL_ERRORS.isdisjoint(cells):
        return tuple(cells) if cells else None
    values = tuple(None if value == "" or value in EXCEL_ERRORS else value for value in cells)
    return values if any(value is not None for value in values) else None


def spreadsheet_chunks(
    path: Path, *, chunk_rows: int = CHUNK_ROWS, max_columns: int = MAX_COLUMNS
) -> Iterator[list[Row]]:
    """Every sheet of an xlsx/xls workbook with python-calamine-plus (run it in a child process). An xlsx sheet
    is streamed row by row from the file, so the first rows go out at once and its cells are never all in memory
    (the shared strings are); an xls sheet is loaded whole."""
    from python_calamine_plus import CalamineWorkbook, PasswordError

    try:
        workbook = CalamineWorkbook.from_path(str(path))
    except PasswordError as exc:
        raise password_error() from exc
    except Exception as exc:  # calamine raises several unrelated types for damaged files
        raise ImportFileError("corrupt_file", f"The workbook could not be opened: {exc}") from exc
    with workbook:
        for name in workbook.sheet_names:
            chunk: list[Row] = []
            for number, cells in _sheet_rows(workbook, name):
                values = _cells(cells)
                if values is None:
                    continue
                if len(values) > max_columns:
                    chunk.append(Row(name, number, *fit(values, max_columns)))
                else:
                    chunk.append(Row(name, number, values))
                if len(chunk) >= chunk_rows:
                    yield chunk
                    chunk = []
            if chunk:
                yield chunk


def _sheet_rows(workbook, name: str) -> Iterator[tuple[int, list]]:
    """(row number, cells from column A) of a sheet; calamine's errors as ImportFileError."""
    from python_calamine_plus import PasswordError, StreamingNotSupported

    try:
        try:
            yield from enumerate(workbook.stream_sheet_by_name(name), start=1)
            return
        except StreamingNotSupported:
            pass
        sheet = workbook.get_sheet_by_name(name)
        if sheet.start is None:
            return
        # A loaded sheet's rows begin at row 1 but its columns at the first used one.
        padding = [""] * sheet.start[1]
        for number, cells in enumerate(sheet.iter_rows(), start=1):
            yield number, padding + cells
    except PasswordError as exc:
        raise password_error() from exc
    except Exception as exc:
        raise ImportFileError("corrupt_file", f"Sheet {name!r} could not be read: {exc}") from exc
