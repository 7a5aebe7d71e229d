"""Exports: create one (validated, audited, queued as the `portal.run_export` task), run it, and purge them.

An export runs in a Celery worker (the one `make run` starts with the embedded broker): it counts the rows its
filters match, then streams them from the database a chunk at a time into a CSV or XLSX file under MEDIA_ROOT
(VAR_DIR/media/exports/<account>/), so memory stays flat whatever the number of rows, and stores its progress every
`PROGRESS_ROWS` rows. The file is written beside its final name and renamed when complete. Exports and their files
are deleted `EXPORT_KEEP_DAYS` (7) days after they were asked for (`purge_expired`, a beat task); the same sweep
marks failed an export whose worker stopped (no progress for `STALE_AFTER`) or that no worker took.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterable, Iterator
from contextlib import nullcontext
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from celery import current_app
from django.conf import settings
from django.core.files import File
from django.core.files.storage import default_storage
from django.db import connection, transaction
from django.utils import timezone

from portal.audit import record
from portal.exports import registry
from portal.exports.writers import write_csv
from portal.exports.xlsx import XLSX_MAX_ROWS, write_xlsx
from portal.models import Account
from portal.models_exports import Export, ExportFormat, ExportKind, ExportState
from portal.service_errors import ServiceError
from portal.writers import ThreadedWriter

__all__ = ["RUN_TASK", "create_export", "keep_days", "open_file", "purge_expired", "run_export"]

logger = logging.getLogger(__name__)

RUN_TASK = "portal.run_export"
PROGRESS_ROWS = 10_000
STALE_AFTER = timedelta(minutes=15)
QUEUED_TOO_LONG = timedelta(hours=6)
DEFAULT_KEEP_DAYS = 7


def keep_days() -> int:
    return int(getattr(settings, "EXPORT_KEEP_DAYS", DEFAULT_KEEP_DAYS))


def _user(actor):
    return actor if getattr(actor, "is_authenticated", False) else None


def create_export(account: Account, actor, *, kind: str, file_format: str, filters: Any = None) -> Export:
    """A queued export of the account's `kind` rows matching `filters` (the list's filter names and values),
    run by a worker once the transaction commits. ServiceError naming `kind`, `format` or `filter[name]`."""
    if kind not in ExportKind.values:
        raise ServiceError(f"Choose one of {', '.join(ExportKind.values)}.", field="kind", code=ServiceError.INVALID)
    if file_format not in ExportFormat.values:
        choices = ", ".join(ExportFormat.values)
        raise ServiceError(f"Choose one of {choices}.", field="format", code=ServiceError.INVALID)
    source = registry.source_of(kind)
    cleaned = registry.validate_filters(source, account, filters)
    now = timezone.now()
    with transaction.atomic():
        export = Export.objects.create(
            account=account,
            kind=kind,
            format=file_format,
            filters=cleaned,
            file_name=f"{source.file_stem}-{timezone.localtime(now):%Y%m%d-%H%M}.{file_format}",
            created_by=_user(actor),
            expires_at=now + timedelta(days=keep_days()),
        )
        record(account, actor, "export.created", export, after={"kind": kind, "format": file_format, "filter": cleaned})
        transaction.on_commit(lambda: current_app.signature(RUN_TASK, args=(export.pk,)).delay())
    return export


def open_file(export: Export, actor) -> File:
    """The finished export's file opened for reading; the download is audited. ServiceError (a conflict) while
    the export is not done, FileNotFoundError when its file is gone."""
    if export.state != ExportState.DONE or not export.file:
        raise ServiceError(f"The export is {export.get_state_display().lower()}: it has no file to download.")
    handle = default_storage.open(export.file.name, "rb")
    record(export.account, actor, "export.downloaded", export, after={"rows": export.rows, "size": export.size})
    return handle


def run_export(export_id: int) -> str:
    """Write the file of a queued export; a missing export, or one another worker took, is left alone."""
    now = timezone.now()
    claimed = Export.objects.filter(pk=export_id, state=ExportState.QUEUED).update(
        state=ExportState.RUNNING, started_at=now, updated_at=now
    )
    if not claimed:
        return "skipped"
    export = Export.objects.select_related("account", "created_by").get(pk=export_id)
    name = _storage_name(export)
    target = Path(default_storage.path(name))
    partial = _partial_path(export)
    try:
        rows = _write(export, partial)
        os.replace(partial, target)
    except Exception as exc:
        logger.exception("Export %s failed", export.uid)
        partial.unlink(missing_ok=True)
        message = str(exc) if isinstance(exc, ServiceError) else f"The export failed: {type(exc).__name__}."
        _finish(export, state=ExportState.FAILED, error=message)
        return ExportState.FAILED
    _finish(export, state=ExportState.DONE, file=name, size=target.stat().st_size, rows=rows, progress=100)
    return ExportState.DONE


def _write(export: Export, partial: Path) -> int:
    """Count, then write every matching row to `partial`; returns the rows written."""
    source = registry.source_of(export.kind)
    account = export.account
    rows = registry.filtered_rows(source, account, export.filters, export.created_by)
    total = rows.count()
    if export.format == ExportFormat.XLSX and total >= XLSX_MAX_ROWS:
        raise ServiceError(
            f"{total:,} rows match: an XLSX sheet holds at most {XLSX_MAX_ROWS - 1:,}. Narrow the filters or "
            "choose CSV.",
            field="format",
        )
    Export.objects.filter(pk=export.pk).update(rows_total=total, updated_at=timezone.now())
    partial.parent.mkdir(parents=True, exist_ok=True)
    # PostgreSQL streams a cursor inside a transaction; outside one, Django's cursor is WITH HOLD, which makes the
    # server run the whole query before the first row (3.6 s of a million-row export). The progress, which
    # pollers must see meanwhile, is then stored from a thread with its own connection.
    streaming = connection.vendor == "postgresql"
    progress = _Progress(export.pk, total, threaded=streaming)
    with progress.writer, transaction.atomic() if streaming else nullcontext():
        table = source.table(rows, account)
        if export.format == ExportFormat.XLSX:
            write_xlsx(table.columns, progress.rows(table.rows), str(partial), title=source.title)
        else:
            with open(partial, "w", newline="", encoding="utf-8") as handle:
                write_csv(table.columns, progress.rows(table.rows), handle)
    return progress.written


class _Progress:
    """Counts the rows going to the writer and stores the progress every PROGRESS_ROWS rows (`writer`)."""

    def __init__(self, export_pk: int, total: int, *, threaded: bool) -> None:
        self.export_pk, self.total, self.written = export_pk, max(total, 1), 0
        self.writer = ThreadedWriter(self._store, threads=1, backlog=4, threaded=threaded, name="export-progress")

    def rows(self, rows: Iterable[Any]) -> Iterator[Any]:
        for row in rows:
            yield row
            self.written += 1
            if self.written % PROGRESS_ROWS == 0:
                self.writer.submit(self.written)

    def _store(self, written: int) -> None:
        percent = min(99, written * 100 // self.total)
        Export.objects.filter(pk=self.export_pk).update(rows=written, progress=percent, updated_at=timezone.now())


def _storage_name(export: Export) -> str:
    return f"exports/{export.account_id}/{export.uid}.{export.format}"


def _partial_path(export: Export) -> Path:
    return Path(default_storage.path(_storage_name(export) + ".part"))


def _finish(export: Export, **changes) -> None:
    changes.update(finished_at=timezone.now(), updated_at=timezone.now())
    Export.objects.filter(pk=export.pk).update(**changes)
    for field, value in changes.items():
        setattr(export, field, value)


def purge_expired(*, now: datetime | None = None) -> int:
    """Delete the exports past their `expires_at` with their files, and mark failed those whose worker stopped
    (no progress for STALE_AFTER) or that no worker took (QUEUED_TOO_LONG). Returns the number deleted."""
    now = now or timezone.now()
    Export.objects.filter(state=ExportState.RUNNING, updated_at__lt=now - STALE_AFTER).update(
        state=ExportState.FAILED, error="The export stopped: its worker ended. Start a new one.", finished_at=now
    )
    Export.objects.filter(state=ExportState.QUEUED, created_at__lt=now - QUEUED_TOO_LONG).update(
        state=ExportState.FAILED, error="No worker took the export. Start a new one.", finished_at=now
    )
    purged = 0
    for export in Export.objects.expired(now).only("pk", "uid", "account_id", "format", "file"):
        if export.file:
            default_storage.delete(export.file.name)
        _partial_path(export).unlink(missing_ok=True)
        export.delete()
        purged += 1
    return purged
