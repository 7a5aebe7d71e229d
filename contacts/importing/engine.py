"""The import engine: read → map → validate and normalise → de-duplicate → write in batches → report.

One engine serves every import kind; what differs is its *target*. A target is an object with:

- ``kind`` (an `ImportKind` value) and ``fields``: the `FieldSpec`s its columns can map to (`mapping.py`). A field
  with ``is_phone=True`` is normalised by the engine (rules.md "Phone numbers": `contacts.phones`, over
  processes, with a cache of repeated values); the target receives the `PhoneResult`s.
- ``begin(job)``: once, before the first batch (create temporary tables, load lookups).
- ``clean(row, phones, job) -> Record | list[Problem]``: validate one `MappedRow`; `phones` maps each phone
  field to its `PhoneResult`. Return the values to write, or the problems (per field) that fail the row.
- ``key(record)``: the de-duplication key (a row whose key was already seen in the file is skipped and each
  duplicated key is reported once), or None for no de-duplication.
- ``write(records, job) -> WriteResult``: write one batch (at most `batch_rows` records) in one transaction;
  return the created / updated / skipped (and opted-out) counts and the problems of rows it refused. On
  PostgreSQL it runs on a writer thread with its own connection (see `_batch_writer`).
- ``end(job)``: once, after the last batch, also after a cancel or failure (drop temporary tables, ANALYZE).

Register a target with `register_target(kind, factory)` in its module and name that module in
`TARGET_MODULES`; `run_import(record)` looks the target up by the Import's kind. Contacts:
`contacts.importing.targets.ContactTarget`; unsubscribers: `contacts.unsubscriber_import.UnsubscriberTarget`.

Batches commit one by one: a cancel (checked between batches) or a failure leaves every committed batch
whole and nothing of the others. A run touches its Import row every batch and, on a heartbeat thread, during
long stages; one whose worker died is resumed by `contacts.importing.recovery`. Every save names the run's
attempt: a run whose import was handed to a new attempt stops at its next save and writes nothing more.
A bad row never stops the file (a row over the column cap, `columns.py`, is one); only a file-level
`ImportFileError` (unreadable, unsafe, too large, a header over the column cap, no data) fails the import, with
its message.
"""

from __future__ import annotations

import datetime
import gc
import importlib
import logging
import os
import pickle
import re
import subprocess
import sys
import threading
import time
import zipfile
from collections import deque
from collections.abc import Callable, Hashable, Iterable, Iterator, Sequence
from concurrent.futures import Future
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from django.conf import settings
from django.utils import timezone

from contacts.importing.columns import TOO_WIDE, check_header, split_wide, too_wide_reason
from contacts.importing.errors import ImportFileError
from contacts.importing.frames import FRAME_HEADER
from contacts.importing.mapping import IGNORE, FieldSpec, MappedRow, SheetMapping, column_letter, describe, plan_sheet
from contacts.importing.readers import Row, detect_kind
from contacts.importing.recovery import heartbeat
from contacts.importing.safety import PROJECT_ROOT, read_rows
from contacts.models.imports import Import, ImportRowError, ImportState
from contacts.phones import PhoneResult, normalize_many
from portal.bulk import insert_rows
from portal.writers import ThreadedWriter, can_write_on_threads

__all__ = [
    "ImportJob",
    "Problem",
    "Record",
    "Target",
    "WriteResult",
    "build_preview",
    "display_value",
    "register_target",
    "run_import",
    "target_for",
]

logger = logging.getLogger(__name__)
PREVIEW_ROWS = 20
POOL_MIN_ROWS = 50_000
_DIMENSION = re.compile(rb'<dimension ref="[A-Z]+\d+(?::[A-Z]+(\d+))?"')
PHONE_CACHE_SIZE = 300_000
POOL_MIN_VALUES = 1000
MIN_BATCH_ROWS = 2000
BATCHES_PER_IMPORT = 20
ERROR_COLUMNS = ("job_id", "position", "sheet", "row", "column", "value", "code", "reason")


@dataclass(slots=True)
class Problem:
    field: str
    value: Any
    code: str
    reason: str


@dataclass(slots=True)
class Record:
    sheet: str
    row: int
    values: dict


@dataclass
class WriteResult:
    created: int = 0
    updated: int = 0
    skipped: int = 0
    opted_out: int = 0
    problems: list[tuple[Record, Problem]] = field(default_factory=list)


class Target(Protocol):
    kind: str
    fields: Sequence[FieldSpec]

    def begin(self, job: ImportJob) -> None: ...
    def clean(self, row: MappedRow, phones: dict[str, PhoneResult], job: ImportJob) -> Record | list[Problem]: ...
    def key(self, record: Record) -> Hashable | None: ...
    def write(self, records: list[Record], job: ImportJob) -> WriteResult: ...
    def end(self, job: ImportJob) -> None: ...


_TARGETS: dict[str, Callable[[], Target]] = {}
# The module that registers each kind's target, imported on first use (a worker process may not have it yet).
TARGET_MODULES: dict[str, str] = {
    "contacts": "contacts.importing.targets",
    "unsubscribers": "contacts.unsubscriber_import",
}


def register_target(kind: str, factory: Callable[[], Target]) -> None:
    _TARGETS[kind] = factory


def target_for(kind: str) -> Target:
    if kind not in _TARGETS and kind in TARGET_MODULES:
        importlib.import_module(TARGET_MODULES[kind])
    try:
        return _TARGETS[kind]()
    except KeyError:
        raise ImportFileError("unknown_kind", f"Imports of {kind} are not available.") from None


def _setting(name: str, default: int) -> int:
    return int(getattr(settings, name, default))


@dataclass
class ImportJob:
    """What a target needs to know about the running import."""

    record: Import
    target: Target
    batch_rows: int = 20_000
    country: str = ""

    @property
    def account(self):
        return self.record.account

    @property
    def mode(self) -> str:
        return self.record.mode

    @property
    def keep_existing(self) -> set[str]:
        return set(self.record.keep_existing or ())

    @property
    def dry_run(self) -> bool:
        return self.record.dry_run


def display_value(value: Any) -> str:
    """A cell as a person typed it: integral floats without `.0`, dates in ISO form, a list (tags) comma
    separated."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e16:
        return str(int(value))
    if isinstance(value, (datetime.date, datetime.datetime, datetime.time)):
        return value.isoformat()
    if isinstance(value, (list, tuple)):
        return ", ".join(map(display_value, value))
    return str(value)


class PhoneWorkers:
    """`processes` phone worker processes (`contacts.importing.phone_worker`, started with subprocess so that a
    daemonic Celery child can start them too). Each call of `submit` goes to the next worker; a reader thread
    per worker turns its answers, in order, into the results of the futures `submit` returned."""

    def __init__(self, processes: int, country: str):
        env = {
            **os.environ,
            "PYTHONPATH": os.pathsep.join(filter(None, [str(PROJECT_ROOT), os.environ.get("PYTHONPATH")])),
        }
        self.workers = []
        for _ in range(processes):
            process = subprocess.Popen(
                [sys.executable, "-m", "contacts.importing.phone_worker", country],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                env=env,
            )
            waiting: deque[Future] = deque()
            reader = threading.Thread(target=self._answers, args=(process, waiting), daemon=True)
            reader.start()
            self.workers.append((process, waiting, reader))
        self.next = 0

    @staticmethod
    def _answers(process: subprocess.Popen, waiting: deque) -> None:
        stream = process.stdout
        while True:
            header = stream.read(FRAME_HEADER.size)
            body = stream.read(FRAME_HEADER.unpack(header)[0]) if len(header) == FRAME_HEADER.size else b""
            if not body:
                break
            results = list(map(PhoneResult._make, pickle.loads(body)))
            waiting.popleft().set_result(results)
        while waiting:
            waiting.popleft().set_exception(RuntimeError("a phone worker process stopped"))

    def submit(self, values: list) -> Future:
        process, waiting, _reader = self.workers[self.next % len(self.workers)]
        self.next += 1
        future: Future = Future()
        waiting.append(future)
        body = pickle.dumps(values, protocol=pickle.HIGHEST_PROTOCOL)
        process.stdin.write(FRAME_HEADER.pack(len(body)) + body)
        process.stdin.flush()
        return future

    def close(self) -> None:
        for process, _waiting, reader in self.workers:
            process.stdin.close()
            reader.join(timeout=10)
            if process.poll() is None:
                process.kill()
            process.wait()


@dataclass
class PendingPhones:
    known: dict
    parts: list[tuple[list, Future]] = field(default_factory=list)


class PhoneNormalizer:
    """Normalises the phone cells of chunks over a process pool, overlapping with reading; caches repeats."""

    def __init__(self, country: str, processes: int):
        self.country = country
        self.processes = processes
        self.cache: dict[Any, PhoneResult] = {}
        self.pool: PhoneWorkers | None = None

    def start(self) -> None:
        self._pool()

    def _pool(self) -> PhoneWorkers | None:
        if self.processes < 2:
            return None
        if self.pool is None:
            self.pool = PhoneWorkers(self.processes, self.country)
        return self.pool

    def submit(self, values: Iterable[Any]) -> PendingPhones:
        """Start normalising a chunk's values; what the cache already knows is kept with the chunk, so the
        cache can be emptied (it is bounded) while chunks are in flight."""
        known: dict[Any, PhoneResult] = {}
        missing = []
        for value in dict.fromkeys(values):
            result = self.cache.get(value)
            if result is None:
                missing.append(value)
            else:
                known[value] = result
        pending = PendingPhones(known)
        if not missing:
            return pending
        pool = self._pool() if len(missing) >= POOL_MIN_VALUES else None
        if pool is None:
            known.update(zip(missing, normalize_many(missing, self.country), strict=True))
            return pending
        size = max(1, -(-len(missing) // self.processes))
        for start in range(0, len(missing), size):
            part = missing[start : start + size]
            pending.parts.append((part, pool.submit(part)))
        return pending

    def collect(self, pending: PendingPhones) -> dict[Any, PhoneResult]:
        """Every value of the chunk → its PhoneResult (waits for the workers); remembers them for later chunks."""
        results = pending.known
        if len(self.cache) > PHONE_CACHE_SIZE:
            self.cache.clear()
        for part, future in pending.parts:
            normalized = dict(zip(part, future.result(), strict=True))
            results.update(normalized)
            self.cache.update(normalized)
        return results

    def close(self) -> None:
        if self.pool is not None:
            self.pool.close()
            self.pool = None


def _phone_key(value: Any) -> Any:
    if value is None or isinstance(value, (str, int, float)):
        return value
    return str(value)


class SheetPlanner:
    """Plans each sheet's mapping from its first rows and drops the rows above and at the header."""

    def __init__(self, target: Target, overrides: dict, *, unknown_to_attributes: bool = True):
        self.target = target
        self.overrides = overrides
        self.unknown_to_attributes = unknown_to_attributes
        self.mappings: dict[str, SheetMapping] = {}

    def data_rows(self, chunk: list[Row]) -> tuple[SheetMapping, list[Row]]:
        sheet = chunk[0].sheet
        mapping = self.mappings.get(sheet)
        if mapping is None:
            mapping = plan_sheet(
                sheet,
                chunk[:10],
                self.target.fields,
                overrides=self.overrides,
                unknown_to_attributes=self.unknown_to_attributes,
            )
            check_header(chunk[:10], mapping.header_row)
            self.mappings[sheet] = mapping
        if mapping.header_row is None:
            return mapping, chunk
        return mapping, [row for row in chunk if row.number > mapping.header_row]


def _phone_fields(target: Target) -> list[str]:
    return [spec.name for spec in target.fields if spec.is_phone]


def _missing_required(target: Target, mapping: SheetMapping) -> list[FieldSpec]:
    mapped = {column.target for column in mapping.columns}
    return [spec for spec in target.fields if spec.required and spec.name not in mapped]


class Runner:
    """One run of one Import through its target."""

    def __init__(self, record: Import):
        self.record = record
        self.attempt = record.attempts
        self.target = target_for(record.kind)
        self.job = ImportJob(
            record=record,
            target=self.target,
            batch_rows=_setting("IMPORT_BATCH_ROWS", 20_000),
            country=record.account.default_country or "",
        )
        self.planner = SheetPlanner(self.target, record.mapping or {})
        self.phone_fields = _phone_fields(self.target)
        self.normalizer = PhoneNormalizer(self.job.country, 1)
        self.seen: dict[Hashable, int] = {}
        self.repeats: dict[Hashable, list] = {}
        self.sheet_ids: dict[str, int] = {}
        self.sheet_names: list[str] = []
        self.pending: list[Record] = []
        self.errors: list[tuple] = []  # ERROR_COLUMNS of ImportRowError rows not yet stored
        self.stored_errors = 0
        self.max_errors = _setting("IMPORT_MAX_STORED_ERRORS", 100_000)
        self.timings = {"read": 0.0, "validate": 0.0, "write": 0.0}
        self.counts = {"rows_read": 0, "created": 0, "updated": 0, "skipped": 0, "failed": 0, "duplicates": 0}
        self.counts["opted_out"] = 0
        self.skipped_sheets: list[str] = []
        self.last_progress = 0.0
        self.writer: ThreadedWriter | None = None

    # -- state -----------------------------------------------------------------------------------------
    def _save(self, **fields) -> None:
        """Save on the import's row; `_Superseded` when the row is no longer this run's attempt (or is gone)."""
        fields["updated_at"] = timezone.now()
        for name, value in fields.items():
            setattr(self.record, name, value)
        if not Import.objects.filter(pk=self.record.pk, attempts=self.attempt).update(**fields):
            raise _Superseded

    def _progress(self, *, force: bool = False) -> None:
        now = time.monotonic()
        if force or now - self.last_progress > 0.5:
            self.last_progress = now
            self.timings["write"] = self.writer.busy_seconds if self.writer else 0.0
            self._save(**self.counts, timings={k: round(v, 3) for k, v in self.timings.items()})

    def _cancelled(self) -> bool:
        current = Import.objects.filter(pk=self.record.pk).values_list("cancel_requested", "attempts").first()
        if current is None or current[1] != self.attempt:
            raise _Superseded
        return current[0]

    # -- problems ----------------------------------------------------------------------------------------
    def _problem(self, sheet: str, row: int, column: str, value: Any, code: str, reason: str) -> None:
        if self.stored_errors >= self.max_errors:
            return
        self.stored_errors += 1
        self.errors.append(
            (
                self.record.pk,
                self._place(sheet, row),
                sheet[:100],
                row,
                column[:120],
                display_value(value)[:255],
                code[:40],
                reason[:255],
            )
        )

    def _flush_errors(self) -> None:
        if self.errors:
            insert_rows(ImportRowError, ERROR_COLUMNS, self.errors)
            self.errors = []

    def _column_label(self, sheet: str, field_name: str) -> str:
        mapping = self.planner.mappings.get(sheet)
        column = mapping.column_for(field_name) if mapping else None
        return column.label if column else field_name

    # -- stages ------------------------------------------------------------------------------------------
    def _map_chunk(self, chunk: list[Row]) -> list[MappedRow]:
        mapping, rows = self.planner.data_rows(chunk)
        rows, wide = split_wide(rows)
        for row in wide:
            self._problem(row.sheet, row.number, "", "", TOO_WIDE, too_wide_reason(row.over_limit))
        self.counts["rows_read"] += len(wide)
        self.counts["failed"] += len(wide)
        if not rows:
            return []
        missing = _missing_required(self.target, mapping)
        if missing:
            if mapping.sheet not in self.skipped_sheets:
                self.skipped_sheets.append(mapping.sheet)
            names = ", ".join(spec.label for spec in missing)
            for row in rows:
                self._problem(row.sheet, row.number, "", "", "missing_column", f"No column is mapped to {names}.")
            self.counts["rows_read"] += len(rows)
            self.counts["failed"] += len(rows)
            return []
        self.counts["rows_read"] += len(rows)
        return [mapping.apply(row) for row in rows]

    def _validate(self, mapped: list[MappedRow], phones_by_value: dict[Any, PhoneResult]) -> None:
        phone_fields = self.phone_fields
        target, job = self.target, self.job
        for row in mapped:
            fields = row.fields
            phones = {name: phones_by_value[_phone_key(fields[name])] for name in phone_fields if name in fields}
            outcome = target.clean(row, phones, job)
            if isinstance(outcome, list):
                self.counts["failed"] += 1
                for problem in outcome:
                    column = self._column_label(row.sheet, problem.field)
                    self._problem(row.sheet, row.number, column, problem.value, problem.code, problem.reason)
                continue
            key = target.key(outcome)
            if key is not None:
                if key in self.seen:
                    self._repeat(key, outcome)
                    continue
                self.seen[key] = self._place(outcome.sheet, outcome.row)
            self.pending.append(outcome)
            if len(self.pending) >= job.batch_rows:
                self._write()

    def _place(self, sheet: str, row: int) -> int:
        """Where a row is in the file: its sheet's order of appearance, then its row number, in one integer."""
        sheet_id = self.sheet_ids.get(sheet)
        if sheet_id is None:
            sheet_id = self.sheet_ids[sheet] = len(self.sheet_names)
            self.sheet_names.append(sheet)
        return sheet_id << 32 | row

    def _repeat(self, key: Hashable, record: Record) -> None:
        self.counts["duplicates"] += 1
        self.counts["skipped"] += 1
        entry = self.repeats.get(key)
        if entry is None:
            self.repeats[key] = [record.sheet, record.row, 1]
        else:
            entry[2] += 1

    def _report_repeats(self) -> None:
        for key, (sheet, row, times) in self.repeats.items():
            first = self.seen[key]
            first_sheet, first_row = self.sheet_names[first >> 32], first & 0xFFFFFFFF
            where = f"row {first_row}" + (f" of sheet {first_sheet}" if first_sheet and first_sheet != sheet else "")
            more = f"; repeated {times} times in all" if times > 1 else ""
            self._problem(sheet, row, "", key, "duplicate", f"Duplicate of {where}, skipped{more}.")

    def _write(self) -> None:
        if not self.pending:
            return
        records, self.pending = self.pending, []
        if self._cancelled():
            raise _Cancelled
        if self.record.dry_run:
            self._progress()
            return
        if self.record.state != ImportState.WRITING:
            self._save(state=ImportState.WRITING)
        for result in self.writer.submit(records):
            self._account(result)
        self._progress()

    def _account(self, result: WriteResult) -> None:
        self.counts["created"] += result.created
        self.counts["updated"] += result.updated
        self.counts["skipped"] += result.skipped
        self.counts["opted_out"] += result.opted_out
        for record, problem in result.problems:
            self.counts["failed"] += 1
            column = self._column_label(record.sheet, problem.field)
            self._problem(record.sheet, record.row, column, problem.value, problem.code, problem.reason)
        self._flush_errors()

    def _drain(self, waiting: deque, *, keep: int) -> None:
        while len(waiting) > keep:
            mapped, pending = waiting.popleft()
            started = time.perf_counter()
            self._validate(mapped, self.normalizer.collect(pending))
            self.timings["validate"] += time.perf_counter() - started

    def run(self) -> None:
        path = Path(self.record.file.path)
        self._save(state=ImportState.READING, started_at=timezone.now())
        file_type = detect_kind(path)
        self._save(file_type=file_type, rows_estimate=_estimate_rows(path, file_type))
        if self.record.rows_estimate >= POOL_MIN_ROWS:
            self.normalizer.processes = _setting("IMPORT_PHONE_PROCESSES", 2)
            self.normalizer.start()  # the workers start while the parser reads the file
        self.job.batch_rows = batch_rows_for(self.record.rows_estimate, self.job.batch_rows)
        self.target.begin(self.job)
        waiting: deque = deque()
        chunks: Iterator[list[Row]] = read_rows(path, kind=self.record.kind)
        self.writer = _batch_writer(self.target, self.job)
        try:
            while True:
                started = time.perf_counter()
                chunk = next(chunks, None)
                self.timings["read"] += time.perf_counter() - started
                if chunk is None:
                    break
                started = time.perf_counter()
                mapped = self._map_chunk(chunk)
                values = [_phone_key(row.fields.get(name)) for row in mapped for name in self.phone_fields]
                waiting.append((mapped, self.normalizer.submit(values)))
                self.timings["validate"] += time.perf_counter() - started
                if self.record.state == ImportState.READING:
                    self._save(state=ImportState.VALIDATING)
                self._drain(waiting, keep=1)
                self._progress()
            self._drain(waiting, keep=0)
            self._write()
            # Every row is validated: the phone workers can go, and the repeats are known, while the last
            # batches are still being written.
            self.normalizer.close()
            self._report_repeats()
            self._flush_errors()
            for result in self.writer.finish():
                self._account(result)
        finally:
            chunks.close()
            self.normalizer.close()
            for result in self.writer.finish(discard_queued=True):
                self._account(result)
            self.timings["write"] = self.writer.busy_seconds
            self.target.end(self.job)
        if not self.counts["rows_read"]:
            raise ImportFileError("no_data", "The file has no data rows (only empty rows or a header).")
        self._flush_errors()

    def finish(self, final: dict) -> None:
        """The last save: counts, the final state (none when `final` is empty: an interrupted run) and the report."""
        self._flush_errors()
        try:
            self._save(
                **self.counts,
                **final,
                rows_estimate=self.counts["rows_read"]
                if final.get("state") == ImportState.DONE
                else self.record.rows_estimate,
                timings={k: round(v, 3) for k, v in self.timings.items()},
                report={**(self.record.report or {}), **self.report()},
                finished_at=timezone.now(),
            )
        except _Superseded:
            logger.warning("Import %s: attempt %s was superseded before its last save", self.record.uid, self.attempt)

    def report(self) -> dict:
        return {
            "sheets": [
                {"name": name, "header_row": mapping.header_row, "columns": describe(mapping, self.target.fields)}
                for name, mapping in self.planner.mappings.items()
            ],
            "skipped_sheets": self.skipped_sheets,
            "errors_stored": self.stored_errors,
        }


class _Cancelled(Exception):
    pass


class _Superseded(Exception):
    """The import was deleted, or handed to a new attempt by the stall sweep while this run was slow."""


def _batch_writer(target: Target, job: ImportJob) -> ThreadedWriter:
    """Writes batches on `IMPORT_WRITERS` threads where it can (`portal.writers`), so the database works while
    the next batch is validated; with two writers, on two server processes at once. A target opts in to more
    than one with `parallel_writes = True` (its `write` is then safe to call from two threads)."""
    writers = _setting("IMPORT_WRITERS", 2) if getattr(target, "parallel_writes", False) else 1
    return ThreadedWriter(
        lambda records: target.write(records, job),
        threads=writers,
        backlog=writers,
        threaded=can_write_on_threads(),
        name="import-writer",
    )


def batch_rows_for(rows_estimate: int, largest: int) -> int:
    """About `BATCHES_PER_IMPORT` batches of `MIN_BATCH_ROWS` to `largest` rows. The last batch is written after
    everything else is done, with nothing to overlap it, so a smaller one ends a 100,000-row import sooner; a
    million rows still go in large batches, each of which has a fixed cost (stage tables, statements, commit)."""
    return min(largest, max(MIN_BATCH_ROWS, rows_estimate // BATCHES_PER_IMPORT))


def _estimate_rows(path: Path, kind: str) -> int:
    """Rows expected, for the progress bar: the sheet dimensions of an xlsx, or size / line length for text."""
    size = path.stat().st_size
    if kind == "csv":
        with open(path, "rb") as handle:
            head = handle.read(65536)
        lines = max(1, head.count(b"\n"))
        return int(size / (len(head) / lines)) if head else 0
    if kind == "xlsx":
        total = 0
        with zipfile.ZipFile(path) as archive:
            for name in archive.namelist():
                if name.startswith("xl/worksheets/") and name.endswith(".xml"):
                    with archive.open(name) as part:
                        match = _DIMENSION.search(part.read(4096))
                    total += int(match.group(1) or 1) if match else 0
        return total or size // 38
    return max(1, size // 40)


@contextmanager
def cyclic_gc_paused():
    """The cyclic garbage collector off for a bulk run: an import allocates millions of short-lived, acyclic
    objects (rows, dicts, results), and the collections they trigger re-scan every live object, the growing
    de-duplication index included (a quarter of the engine's time when on). Reference counting still frees
    them; whatever cycles appear meanwhile are collected when it is back on."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def run_import(record: Import) -> Import:
    """Run an Import to its end (done, failed or cancelled); never raises for a bad file."""
    if record.cancel_requested:
        Import.objects.filter(pk=record.pk).update(state=ImportState.CANCELLED, finished_at=timezone.now())
        record.refresh_from_db()
        return record
    try:
        runner = Runner(record)
    except ImportFileError as exc:
        Import.objects.filter(pk=record.pk).update(
            state=ImportState.FAILED, error_code=exc.code, error_message=exc.message, finished_at=timezone.now()
        )
        record.refresh_from_db()
        return record
    final: dict = {}
    superseded = False
    try:
        with cyclic_gc_paused(), heartbeat(record.pk, runner.attempt):
            runner.run()
        final = {"state": ImportState.DONE}
    except _Cancelled:
        final = {"state": ImportState.CANCELLED}
    except _Superseded:
        superseded = True
        logger.warning("Import %s: attempt %s was superseded or deleted; it stops", record.uid, runner.attempt)
    except ImportFileError as exc:
        final = {"state": ImportState.FAILED, "error_code": exc.code, "error_message": exc.message}
    except Exception as exc:
        logger.exception("Import %s stopped on an unexpected error", record.uid)
        final = {
            "state": ImportState.FAILED,
            "error_code": "internal_error",
            "error_message": f"The import stopped on an unexpected error ({type(exc).__name__}); committed "
            "batches were kept.",
        }
    finally:
        if not superseded:
            runner.finish(final)
    return record


def build_preview(path: Path, kind: str, account, overrides: dict | None = None, limit: int = PREVIEW_ROWS) -> dict:
    """The mapping of every sheet and the first `limit` data rows with their per-cell problems; writes nothing."""
    target = target_for(kind)
    planner = SheetPlanner(target, overrides or {})
    job = ImportJob(record=Import(account=account, kind=kind), target=target, country=account.default_country or "")
    rows_out: list[dict] = []
    missing_columns: dict[str, list[str]] = {}
    chunks = read_rows(Path(path), kind=kind)
    try:
        for chunk in chunks:
            mapping, rows = planner.data_rows(chunk)
            missing = _missing_required(target, mapping)
            if missing:
                missing_columns[mapping.sheet] = [spec.label for spec in missing]
                continue
            for row in rows[: limit - len(rows_out)]:
                rows_out.append(_preview_row(mapping, row, target, job))
            if len(rows_out) >= limit:
                break
    finally:
        chunks.close()
    if not planner.mappings:
        raise ImportFileError("no_data", "The file has no data rows (only empty rows or a header).")
    return {
        "fields": [{"name": spec.name, "label": spec.label, "required": spec.required} for spec in target.fields],
        "sheets": [
            {
                "name": name,
                "header_row": mapping.header_row,
                "columns": describe(mapping, target.fields),
                "missing": missing_columns.get(name, []),
            }
            for name, mapping in planner.mappings.items()
        ],
        "rows": rows_out,
    }


def _preview_row(mapping: SheetMapping, row: Row, target: Target, job: ImportJob) -> dict:
    mapped = mapping.apply(row)
    phone_fields = _phone_fields(target)
    values = [_phone_key(mapped.fields.get(name)) for name in phone_fields if name in mapped.fields]
    results = dict(zip(values, normalize_many(values, job.country), strict=True))
    phones = {name: results[_phone_key(mapped.fields.get(name))] for name in phone_fields if name in mapped.fields}
    if row.over_limit:  # not imported: the reason is shown on the phone cell
        outcome = [Problem(phone_fields[0] if phone_fields else "", "", TOO_WIDE, too_wide_reason(row.over_limit))]
    else:
        outcome = target.clean(mapped, phones, job)
    problems = {problem.field: problem.reason for problem in outcome} if isinstance(outcome, list) else {}
    cleaned = outcome.values if isinstance(outcome, Record) else {}
    if "full_name" in mapped.fields and cleaned:
        cleaned = {**cleaned, "full_name": " / ".join(cleaned.get(name, "") for name in ("first_name", "last_name"))}
    cells = []
    for column in mapping.columns:
        value = row.values[column.index] if column.index < len(row.values) else None
        cells.append(
            {
                "column": column_letter(column.index),
                "target": column.target,
                "value": display_value(value),
                "cleaned": display_value(cleaned.get(column.target)) if column.target != IGNORE else "",
                "problem": problems.get(column.target, ""),
            }
        )
    return {"sheet": row.sheet, "row": row.number, "ok": not problems, "cells": cells, "problems": problems}
