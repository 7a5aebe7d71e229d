"""Writes on imports: create from an upload, start (inline or as a Celery task), cancel, delete.

Small uploads (under `IMPORT_INLINE_MAX_BYTES`, default 256 KB) run inline in the request, larger ones run in
the `contacts.run_import` Celery task once the transaction that created the Import commits. Either way the run
first claims the import (`contacts.importing.recovery`, which also resumes imports whose worker was killed).
"""

from __future__ import annotations

from collections.abc import Iterable

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction

from contacts.importing.engine import run_import
from contacts.importing.recovery import claim_import, enqueue_import, rerun_changes
from contacts.importing.safety import check_size, limits_for, too_large_error
from contacts.models import Group, Import, ImportKind, ImportMode, ImportRowError, ImportState
from portal.audit import record

__all__ = [
    "AWAITING_MAPPING",
    "can_start",
    "cancel_import",
    "check_request_size",
    "create_import",
    "delete_import",
    "start_import",
]

INLINE_MAX_BYTES = 256 * 1024
AWAITING_MAPPING = "awaiting_mapping"
MULTIPART_OVERHEAD = 64 * 1024


def check_request_size(content_length: str | int | None, kind: str = ImportKind.CONTACTS) -> None:
    """Refuse an upload from its Content-Length before the body is read (ImportFileError "too_large")."""
    try:
        length = int(content_length or 0)
    except ValueError:
        return
    limit = limits_for(kind).max_bytes
    if length > limit + MULTIPART_OVERHEAD:
        raise too_large_error(length, limit)


def create_import(
    account,
    user,
    upload: UploadedFile,
    *,
    kind: str = ImportKind.CONTACTS,
    mode: str = ImportMode.UPSERT,
    keep_existing: Iterable[str] = (),
    group: Group | None = None,
    tags: Iterable[str] = (),
    mapping: dict | None = None,
    options: dict | None = None,
    dry_run: bool = False,
) -> Import:
    """Store the upload as a queued Import (checks the size limit first: ImportFileError "too_large")."""
    check_size(upload.size, limits_for(kind))
    job = Import(
        account=account,
        kind=kind,
        file_name=(upload.name or "upload")[:255],
        file_size=upload.size,
        mode=mode,
        keep_existing=list(keep_existing),
        group=group,
        tags=[tag.strip() for tag in tags if tag and tag.strip()],
        mapping=mapping or {},
        options=options or {},
        dry_run=dry_run,
        created_by=user if getattr(user, "is_authenticated", False) else None,
    )
    job.file.save("upload", upload, save=False)
    job.save()
    record(account, user, "import.created", job, after={"file": job.file_name, "mode": mode, "dry_run": dry_run})
    return job


def can_start(job: Import) -> bool:
    """A finished import (a dry run, or a failed or cancelled one) or an upload waiting for its mapping."""
    return job.is_finished or bool((job.report or {}).get(AWAITING_MAPPING))


def start_import(job: Import, *, dry_run: bool | None = None, mapping: dict | None = None) -> Import:
    """Queue an import (again: a dry run can be started for real); inline when the file is small."""
    changes = {**rerun_changes(), "attempts": 1}
    if dry_run is not None:
        changes["dry_run"] = dry_run
    if mapping is not None:
        changes["mapping"] = mapping
    ImportRowError.objects.filter(job=job).delete()
    Import.objects.filter(pk=job.pk).update(**changes)
    for name, value in changes.items():
        setattr(job, name, value)
    if job.file_size <= getattr(settings, "IMPORT_INLINE_MAX_BYTES", INLINE_MAX_BYTES):
        if claim_import(job.pk):
            run_import(job)
    else:
        enqueue_import(job.pk)
    job.refresh_from_db()
    return job


def cancel_import(job: Import, user) -> Import:
    """Ask a running import to stop after its current batch; a queued one stops before it starts."""
    if job.is_finished:
        return job
    Import.objects.filter(pk=job.pk).update(cancel_requested=True)
    if job.state == ImportState.QUEUED:
        Import.objects.filter(pk=job.pk, state=ImportState.QUEUED).update(state=ImportState.CANCELLED)
    record(job.account, user, "import.cancelled", job)
    job.refresh_from_db()
    return job


def delete_import(job: Import, user) -> None:
    """Delete an import entry, its row errors and its stored file (a running import is cancelled first)."""
    if not job.is_finished:
        Import.objects.filter(pk=job.pk).update(cancel_requested=True)
    record(job.account, user, "import.deleted", job, before={"file": job.file_name, "state": job.state})
    storage, name = job.file.storage, job.file.name
    job.delete()
    if name:
        transaction.on_commit(lambda: storage.delete(name))
