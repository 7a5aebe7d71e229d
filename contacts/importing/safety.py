"""Reading untrusted uploads safely: size limits, zip-bomb and XML checks, and a sandboxed parser process.

`read_rows(path, kind=...)` is the only entry point the engine uses. It checks the size for the import kind,
tells the file type by content (`readers.detect_kind`), then:
- csv/txt: streams in this process (bounded by the chunk size, and each line cut at the column cap before the
  csv module splits it: `columns.CsvColumnGuard`);
- xlsx: checks the zip directory (entry count, total uncompressed size, compression ratio per entry), rejects
  any XML part that declares a DTD or entities, and parses the workbook's structure with defusedxml;
- xlsx/xls: parses with python-calamine-plus in a child process (`contacts.importing.child`) that sets its own
  address-space (RLIMIT_AS) and CPU-time (RLIMIT_CPU) limits and streams chunks of rows back through a pipe;
  a watchdog kills it when the importer has waited too long for its next chunk (time spent validating and
  writing, while the parser waits on the full pipe, does not count).
  A child that crashes, runs out of memory or time becomes an `ImportFileError` with a clear message; the
  calling worker never dies with it. The parent unpickles with an allow-list (only datetime types).

Every reader keeps at most `max_columns` cells of a row (`IMPORT_MAX_COLUMNS`, 1,000) and marks a wider row
(`contacts.importing.columns`). Limits come from Django settings when configured (see `limits_for`), otherwise from
the defaults here: 100 MB per file, 1 GB uncompressed and 100:1 per part for an xlsx, 512 MB of address space and
300 s of CPU for the parser.
"""

from __future__ import annotations

import io
import os
import pickle
import signal
import subprocess
import sys
import tempfile
import threading
import time
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring as defused_fromstring

from contacts.importing.columns import MAX_COLUMNS
from contacts.importing.errors import ImportFileError
from contacts.importing.frames import FRAME_HEADER
from contacts.importing.readers import CHUNK_ROWS, KIND_CSV, KIND_XLSX, Row, csv_chunks, detect_kind
from contacts.importing.sizes import MB, over_limit

__all__ = ["Limits", "check_size", "check_xlsx_archive", "limits_for", "read_rows", "spreadsheet_chunks_isolated"]

PROJECT_ROOT = Path(__file__).resolve().parents[2]
CHILD_MODULE = "contacts.importing.child"
XML_HEAD_BYTES = 64 * 1024
STRUCTURE_PARTS = ("[Content_Types].xml", "xl/workbook.xml")


@dataclass(frozen=True)
class Limits:
    max_bytes: int = 100 * MB
    max_uncompressed_bytes: int = 1024 * MB
    max_zip_entries: int = 10_000
    max_compression_ratio: int = 100
    max_columns: int = MAX_COLUMNS
    reader_memory_mb: int = 512
    reader_cpu_seconds: int = 300
    reader_wall_seconds: float = 600


def limits_for(kind: str) -> Limits:
    """Limits for an import kind: `IMPORT_MAX_FILE_SIZE` (bytes, an int or a dict per kind) and the
    `IMPORT_*` reader settings override the defaults when Django settings are configured."""
    try:
        from django.conf import settings

        configured = settings.configured
    except ImportError:
        configured = False
    if not configured:
        return Limits()
    defaults = Limits()
    max_size = getattr(settings, "IMPORT_MAX_FILE_SIZE", defaults.max_bytes)
    if isinstance(max_size, dict):
        max_size = max_size.get(kind, defaults.max_bytes)
    return Limits(
        max_bytes=int(max_size),
        max_uncompressed_bytes=int(getattr(settings, "IMPORT_MAX_UNCOMPRESSED_BYTES", defaults.max_uncompressed_bytes)),
        max_zip_entries=int(getattr(settings, "IMPORT_MAX_ZIP_ENTRIES", defaults.max_zip_entries)),
        max_compression_ratio=int(getattr(settings, "IMPORT_MAX_COMPRESSION_RATIO", defaults.max_compression_ratio)),
        max_columns=int(getattr(settings, "IMPORT_MAX_COLUMNS", defaults.max_columns)),
        reader_memory_mb=int(getattr(settings, "IMPORT_READER_MEMORY_MB", defaults.reader_memory_mb)),
        reader_cpu_seconds=int(getattr(settings, "IMPORT_READER_CPU_SECONDS", defaults.reader_cpu_seconds)),
        reader_wall_seconds=float(getattr(settings, "IMPORT_READER_WALL_SECONDS", defaults.reader_wall_seconds)),
    )


def too_large_error(size: int, limit: int) -> ImportFileError:
    size_mb, limit_mb = over_limit(size, limit)
    return ImportFileError(
        "too_large",
        f"The file is {size_mb} MB; the limit for this import is {limit_mb} MB. Split it into smaller files.",
    )


def check_size(size: int, limits: Limits) -> None:
    if size > limits.max_bytes:
        raise too_large_error(size, limits.max_bytes)


def _zip_bomb(detail: str) -> ImportFileError:
    return ImportFileError("zip_bomb", f"The workbook was rejected as unsafe: {detail}.")


def _entity_bomb(part: str) -> ImportFileError:
    return ImportFileError(
        "xml_entities",
        f"The workbook was rejected as unsafe: its part {part} declares XML entities (a DTD), "
        "which Excel never writes.",
    )


def check_xlsx_archive(path: Path, limits: Limits) -> None:
    """Zip-bomb and XML checks on an xlsx before any parser sees it."""
    with zipfile.ZipFile(path) as archive:
        entries = archive.infolist()
        if len(entries) > limits.max_zip_entries:
            raise _zip_bomb(f"it holds {len(entries)} parts (the limit is {limits.max_zip_entries})")
        total = sum(entry.file_size for entry in entries)
        if total > limits.max_uncompressed_bytes:
            total_mb, limit_mb = over_limit(total, limits.max_uncompressed_bytes)
            raise _zip_bomb(f"it would expand to {total_mb} MB (the limit is {limit_mb} MB)")
        for entry in entries:
            if entry.file_size > MB and entry.file_size > limits.max_compression_ratio * max(entry.compress_size, 1):
                ratio = entry.file_size // max(entry.compress_size, 1)
                raise _zip_bomb(
                    f"its part {entry.filename} is compressed {ratio}:1 (the limit is {limits.max_compression_ratio}:1)"
                )
        for entry in entries:
            if entry.filename.endswith((".xml", ".rels")):
                _check_xml_part(archive, entry)


def _check_xml_part(archive: zipfile.ZipFile, entry: zipfile.ZipInfo) -> None:
    with archive.open(entry) as part:
        head = part.read(XML_HEAD_BYTES)
        if b"<!DOCTYPE" in head or b"<!ENTITY" in head:
            raise _entity_bomb(entry.filename)
        if entry.filename not in STRUCTURE_PARTS:
            return
        content = head + part.read()
    try:
        defused_fromstring(content)
    except DefusedXmlException as exc:
        raise _entity_bomb(entry.filename) from exc
    except Exception as exc:  # ParseError and friends: a damaged workbook
        raise ImportFileError("corrupt_file", f"The workbook is damaged: {entry.filename} is not valid XML.") from exc


class _RowsUnpickler(pickle.Unpickler):
    """Only plain values and datetime types may come back from the parser process."""

    ALLOWED = {("datetime", "datetime"), ("datetime", "date"), ("datetime", "time"), ("datetime", "timedelta")}

    def find_class(self, module: str, name: str):
        if (module, name) in self.ALLOWED:
            return super().find_class(module, name)
        raise pickle.UnpicklingError(f"{module}.{name} is not allowed from the parser process")


def _read_exact(stream, size: int) -> bytes | None:
    data = stream.read(size)
    if len(data) < size:
        return None
    return data


def _child_failure(returncode: int, limits: Limits, timed_out: bool) -> ImportFileError:
    if timed_out:
        return ImportFileError(
            "read_timeout",
            f"Reading the spreadsheet took longer than {limits.reader_wall_seconds:g} s. "
            "Save it as CSV and upload that.",
        )
    if returncode == -signal.SIGXCPU:
        return ImportFileError(
            "read_timeout",
            f"Reading the spreadsheet used more than {limits.reader_cpu_seconds} s of CPU. "
            "Save it as CSV and upload that.",
        )
    if returncode in (-signal.SIGKILL, -signal.SIGABRT, -signal.SIGSEGV, -signal.SIGBUS):
        return ImportFileError(
            "parser_crashed",
            "The spreadsheet could not be read: the parser stopped on this file (it may be damaged, or need more than "
            f"{limits.reader_memory_mb} MB of memory). Open it in Excel, save it again or export it as CSV.",
        )
    return ImportFileError(
        "parser_crashed",
        f"The spreadsheet could not be read (the parser exited with status {returncode}). "
        "Open it in Excel, save it again or export it as CSV.",
    )


def spreadsheet_chunks_isolated(
    path: Path, limits: Limits, *, chunk_rows: int, module: str = CHILD_MODULE
) -> Iterator[list[Row]]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(PROJECT_ROOT), os.environ.get("PYTHONPATH")]))}
    command = [
        sys.executable,
        "-m",
        module,
        str(path),
        str(chunk_rows),
        str(limits.reader_memory_mb),
        str(limits.reader_cpu_seconds),
        str(limits.max_columns),
    ]
    with tempfile.TemporaryFile() as stderr:
        process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=stderr, stdin=subprocess.DEVNULL, env=env)
        watchdog = _ParserWatchdog(process, limits.reader_wall_seconds)
        finished = False
        try:
            stream = process.stdout
            while True:
                with watchdog.waiting():
                    header = _read_exact(stream, FRAME_HEADER.size)
                    body = _read_exact(stream, FRAME_HEADER.unpack(header)[0]) if header is not None else None
                if body is None:
                    break
                message = _RowsUnpickler(io.BytesIO(body)).load()
                if message[0] == "rows":
                    sheet = message[1]
                    yield [Row(sheet, *row) for row in message[2]]
                elif message[0] == "error":
                    raise ImportFileError(message[1], message[2])
                else:
                    finished = True
                    break
        finally:
            watchdog.stop()
            if process.poll() is None and not finished:
                process.kill()
            process.stdout.close()
            returncode = process.wait()
        if not finished:
            raise _child_failure(returncode, limits, watchdog.fired.is_set())


class _ParserWatchdog:
    """Kills the parser when the importer has waited `seconds` for its next chunk (a parse that hangs).

    Only waiting counts: while the importer validates and writes, the parser blocks on the full pipe, and
    that time is not the parser's."""

    def __init__(self, process: subprocess.Popen, seconds: float):
        self.process, self.seconds = process, seconds
        self.waiting_since: float | None = None
        self.fired = threading.Event()
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self._watch, name="import-parser-watchdog", daemon=True)
        self.thread.start()

    @contextmanager
    def waiting(self):
        self.waiting_since = time.monotonic()
        try:
            yield
        finally:
            self.waiting_since = None

    def _watch(self) -> None:
        while not self.stopped.wait(min(0.5, self.seconds / 4)):
            since = self.waiting_since
            if since is not None and time.monotonic() - since > self.seconds:
                self.fired.set()
                self.process.kill()
                return

    def stop(self) -> None:
        self.stopped.set()
        self.thread.join()


def read_rows(
    path: Path, *, kind: str = "contacts", limits: Limits | None = None, chunk_rows: int = CHUNK_ROWS
) -> Iterator[list[Row]]:
    """Chunks of rows from an uploaded file, after every safety check (see the module docstring)."""
    path = Path(path)
    limits = limits or limits_for(kind)
    check_size(path.stat().st_size, limits)
    file_kind = detect_kind(path)
    if file_kind == KIND_CSV:
        yield from csv_chunks(path, chunk_rows=chunk_rows, max_columns=limits.max_columns)
        return
    if file_kind == KIND_XLSX:
        check_xlsx_archive(path, limits)
    yield from spreadsheet_chunks_isolated(path, limits, chunk_rows=chunk_rows)
