"""The column cap of every reader (`IMPORT_MAX_COLUMNS`, default 1,000), in one place.

A reader keeps at most `limit` cells of a row (`fit`). A row with a value past the cap keeps its first `limit`
cells and carries the cap in `Row.over_limit`; the engine then fails the file when that row is a sheet's header
(`check_header`), and reports it as a row error when it is a data row (`split_wide`), while the other rows
import. Empty cells past the cap are dropped quietly (a stray cell far to the right widens every row of a sheet).

A csv line is cut before the csv module splits it (`CsvColumnGuard`), so a line of 200,000 delimiters never
becomes a list of 200,000 cells; a spreadsheet row is cut as the parser hands it over (the parser runs in its
sandbox, under its memory limit). Django-free: the parser process imports it.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence

from contacts.importing.errors import ImportFileError

__all__ = ["MAX_COLUMNS", "TOO_WIDE", "CsvColumnGuard", "check_header", "fit", "split_wide", "too_wide_reason"]

MAX_COLUMNS = 1000
TOO_WIDE = "too_many_columns"


class CsvColumnGuard:
    """The lines of a text stream for `csv.reader`, a record cut after its `limit + 1`-th field.

    A record's first line with fewer delimiters than the cap passes as it is (one `str.count`); one with more is
    matched, quotes respected, against `limit` fields and cut after them when it has them, so the csv module
    returns `limit + 1` fields (delimiters inside quotes do not count). The lines that continue a record (after a
    quoted newline) are counted exactly, so a record cannot grow past the cap over many lines either. What follows
    a cut is dropped, but its quoting is kept: when the dropped part opens a quoted field that goes on over the next
    lines, those lines stay in the record (their text dropped too), so no later row moves. A line is only ever cut
    where its record already has more fields than the cap: no row within the cap loses a cell. The reader calls
    `next_record()` after each record: True when the guard dropped anything other than empty fields from it.
    """

    def __init__(self, lines: Iterator[str], delimiter: str, limit: int):
        self.lines, self.delimiter, self.limit = lines, delimiter, limit
        self.starting, self.over, self.dropped = True, False, False
        d = re.escape(delimiter)
        self.tail = rf'[^"]*+(?:""[^"]*+)*+"[^{d}\r\n]*+'  # the rest of a quoted field, from inside its quotes
        self.field = rf'(?:"{self.tail}|(?!")[^{d}\r\n]*+){d}'  # a field and the delimiter after it
        self.rest = re.compile(self.tail)
        self.quoted = re.compile(rf'(?<={d})"[^"]*+(?:""[^"]*+)*+(?:"|\Z)')
        self.first_fields = re.compile(rf"(?:{self.field}){{{limit}}}")
        self.any_fields = re.compile(rf"(?:{self.field})*+")
        self.open_quote = re.compile(r'"[^"]*+(?:""[^"]*+)*+\Z')
        self.content = re.compile(rf"[^{d}\s]")

    def __iter__(self) -> Iterator[str]:
        delimiter, limit = self.delimiter, self.limit
        counted = 0  # delimiters between fields in the lines that continue the record
        for line in self.lines:
            if self.starting:
                self.starting, self.over, counted = False, False, 0
                if line.count(delimiter) >= limit:
                    line = self._cut(line, self.first_fields)
            elif self.over:
                line = self._dropped_line(line)
            else:
                line, counted = self._continued(line, counted)
            yield line

    def next_record(self) -> bool:
        dropped, self.dropped, self.starting = self.dropped, False, True
        return dropped

    def _continued(self, line: str, counted: int) -> tuple[str, int]:
        rest = self.rest.match(line)
        if rest is None:
            return line, counted  # the whole line is inside the quoted field
        start = rest.end()
        inside = "".join(self.quoted.findall(line, start)).count(self.delimiter)
        between = line.count(self.delimiter, start) - inside
        if counted + between < self.limit:
            return line, counted + between
        wanted = self.limit - counted
        fields = re.compile(rf"{self.tail}{re.escape(self.delimiter)}(?:{self.field}){{{wanted - 1}}}")
        return self._cut(line, fields), self.limit

    def _cut(self, line: str, fields: re.Pattern) -> str:
        """The line up to the end of the `fields` it starts with, or the whole line when it does not hold them."""
        match = fields.match(line)
        if match is None:
            return line
        self.over = True
        return line[: match.end()] + self._drop(line, match.end())

    def _dropped_line(self, line: str) -> str:
        """A line that continues a record already cut: only what keeps its quoting."""
        rest = self.rest.match(line)
        if rest is None:
            self.dropped = self.dropped or bool(self.content.search(line))
            return "\n"  # still inside the quoted field
        self.dropped = self.dropped or bool(self.content.search(line, 0, rest.end()))
        if line.startswith(self.delimiter, rest.end()):
            return '"' + self.delimiter + self._drop(line, rest.end() + len(self.delimiter))
        return '"\n'

    def _drop(self, line: str, start: int) -> str:
        """The end of a line cut at `start` (the start of a field): a newline, or a quote and a newline when the
        dropped fields leave a quoted field open."""
        self.dropped = self.dropped or bool(self.content.search(line, start))
        last = self.any_fields.match(line, start).end()
        return '"\n' if self.open_quote.match(line, last) else "\n"


def fit(values: Sequence, limit: int, dropped: bool = False) -> tuple[tuple, int]:
    """The first `limit` cells of a row longer than the cap, and the cap when a value is lost (a cell past it that
    is not empty, or `dropped`: the csv guard cut some off), else 0."""
    lost = dropped or any(value is not None and str(value).strip() for value in values[limit:])
    return tuple(values[:limit]), limit if lost else 0


def too_wide_reason(limit: int) -> str:
    return f"The row has more than {limit:,} columns (the limit); it was not imported."


def check_header(head: Sequence, header_row: int | None) -> None:
    """A sheet's header row (among its first rows `head`) over the cap fails the file."""
    header = next((row for row in head if row.number == header_row), None)
    if header is None or not header.over_limit:
        return
    where = f"sheet {header.sheet!r}, row {header.number}" if header.sheet else f"row {header.number}"
    raise ImportFileError(
        TOO_WIDE,
        f"The header row ({where}) has more than {header.over_limit:,} columns; the limit is "
        f"{header.over_limit:,}. Delete the empty or unused columns, or split the file, and upload it again.",
    )


def split_wide(rows: list) -> tuple[list, list]:
    """(rows within the cap, rows over it), in file order."""
    if not any(row.over_limit for row in rows):
        return rows, []
    return [row for row in rows if not row.over_limit], [row for row in rows if row.over_limit]
