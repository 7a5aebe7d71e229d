"""Imports whose worker died: one run per import at a time, a heartbeat while it runs, and the sweep that
resumes a stalled import.

- `claim_import`: the `contacts.run_import` task takes a queued import with one conditional UPDATE (queued →
  reading), so of two deliveries of its task (a redelivery, a requeue) only one runs it.
- `heartbeat`: a running import's row is touched every batch by the engine's progress saves and, on PostgreSQL,
  every `heartbeat_seconds()` by a thread of its own, which also covers a long parse, a batch waiting for locks
  or the last ANALYZE.
- `requeue_stalled_imports` (beat, every 60 s): an import in a running state whose row nobody touched for
  `IMPORT_STALL_SECONDS` (300) has lost its worker (SIGKILL, a lost host). It goes back to `queued` with
  `attempts` + 1, the row errors and counters of the killed run cleared, and `contacts.run_import` is sent again.
  The batches the killed run committed stay; the engine's upserts are idempotent, so the new run writes them again
  (counted as updated, or skipped in `create` mode). After `IMPORT_MAX_ATTEMPTS` (3) runs it fails "stalled"; one
  whose cancel was asked is cancelled.

`attempts` also fences a run: the engine's saves and the heartbeat name the attempt they belong to, so a run that
was only slow, not dead, stops at its next save once the sweep has handed its import to a new run.
"""

from __future__ import annotations

import logging
import threading
from contextlib import contextmanager
from datetime import timedelta

from celery import current_app
from django.conf import settings
from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from contacts.models.imports import Import, ImportRowError, ImportState
from portal.writers import can_write_on_threads

__all__ = [
    "RUNNING_STATES",
    "RUN_TASK",
    "claim_import",
    "enqueue_import",
    "heartbeat",
    "heartbeat_seconds",
    "requeue_stalled_imports",
    "rerun_changes",
    "stall_seconds",
    "touch",
]

logger = logging.getLogger(__name__)
RUN_TASK = "contacts.run_import"
RUNNING_STATES = (ImportState.READING, ImportState.VALIDATING, ImportState.WRITING)
STALL_SECONDS = 300
MAX_ATTEMPTS = 3
SWEEP_LIMIT = 100


def stall_seconds() -> float:
    return float(getattr(settings, "IMPORT_STALL_SECONDS", STALL_SECONDS))


def max_attempts() -> int:
    return int(getattr(settings, "IMPORT_MAX_ATTEMPTS", MAX_ATTEMPTS))


def heartbeat_seconds() -> float:
    """Five heartbeats per stall period, between 1 and 60 s apart."""
    return max(1.0, min(60.0, stall_seconds() / 5))


def rerun_changes() -> dict:
    """The fields a run starts from: queued, counters at zero, no error and no report."""
    return {
        "state": ImportState.QUEUED,
        "cancel_requested": False,
        "error_code": "",
        "error_message": "",
        "rows_read": 0,
        "created": 0,
        "updated": 0,
        "skipped": 0,
        "failed": 0,
        "duplicates": 0,
        "opted_out": 0,
        "finished_at": None,
        "report": {},
    }


def enqueue_import(import_id: int) -> None:
    """Send `contacts.run_import` (routed to the `imports` queue) once the current transaction commits. By name:
    `contacts.tasks` imports this module."""
    transaction.on_commit(lambda: current_app.signature(RUN_TASK, args=(import_id,)).delay())


def claim_import(import_id: int) -> bool:
    """Take a queued import for running (queued → reading); False when another delivery took it first, or when it
    is no longer queued (finished, cancelled, deleted)."""
    claimed = Import.objects.filter(pk=import_id, state=ImportState.QUEUED).update(
        state=ImportState.READING, updated_at=timezone.now()
    )
    return claimed == 1


def touch(import_id: int, attempt: int) -> bool:
    """The heartbeat of a running import's attempt; False once that attempt is no longer the one running."""
    running = Import.objects.filter(pk=import_id, attempts=attempt, state__in=RUNNING_STATES)
    return running.update(updated_at=timezone.now()) == 1


class _Heartbeat:
    def __init__(self, import_id: int, attempt: int, every: float):
        self.import_id, self.attempt, self.every = import_id, attempt, every
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self._beat, name=f"import-heartbeat-{import_id}", daemon=True)

    def _beat(self) -> None:
        try:
            while not self.stopped.wait(self.every):
                try:
                    if not touch(self.import_id, self.attempt):
                        return
                except DatabaseError:
                    logger.warning("import %s: heartbeat failed", self.import_id, exc_info=True)
                    connection.close_if_unusable_or_obsolete()
        finally:
            connection.close()

    def stop(self) -> None:
        self.stopped.set()
        self.thread.join()


@contextmanager
def heartbeat(import_id: int, attempt: int):
    """Touch the import's row from a thread with its own connection while the block runs (PostgreSQL outside a
    transaction, see `portal.writers.can_write_on_threads`; elsewhere the engine's progress saves are the only
    heartbeat)."""
    if not can_write_on_threads():
        yield
        return
    beat = _Heartbeat(import_id, attempt, heartbeat_seconds())
    beat.thread.start()
    try:
        yield
    finally:
        beat.stop()


def requeue_stalled_imports(*, limit: int = SWEEP_LIMIT) -> dict[str, int]:
    """Beat: resume, fail or cancel the imports whose row went untouched for `IMPORT_STALL_SECONDS` (see the
    module docstring). Rows are locked with SKIP LOCKED, so two sweeps never take the same import."""
    now = timezone.now()
    cutoff = now - timedelta(seconds=stall_seconds())
    most = max_attempts()
    outcome = {"requeued": 0, "failed": 0, "cancelled": 0}
    with transaction.atomic():
        stalled = (
            Import.objects.select_for_update(skip_locked=True)
            .filter(state__in=RUNNING_STATES, updated_at__lt=cutoff)
            .order_by("pk")
            .only("pk", "uid", "attempts", "cancel_requested")[:limit]
        )
        for job in stalled:
            same = Import.objects.filter(pk=job.pk)
            if job.cancel_requested:
                same.update(state=ImportState.CANCELLED, finished_at=now, updated_at=now)
                outcome["cancelled"] += 1
            elif job.attempts >= most:
                same.update(
                    state=ImportState.FAILED,
                    error_code="stalled",
                    error_message=f"The import stopped reporting progress {job.attempts} times (its worker was "
                    "stopped each time); the batches written before stay. Start it again to finish it.",
                    finished_at=now,
                    updated_at=now,
                )
                outcome["failed"] += 1
                logger.warning("import %s stalled on attempt %d of %d: failed", job.uid, job.attempts, most)
            else:
                ImportRowError.objects.filter(job_id=job.pk).delete()
                same.update(**rerun_changes(), attempts=job.attempts + 1, updated_at=now)
                enqueue_import(job.pk)
                outcome["requeued"] += 1
                logger.warning("import %s stalled on attempt %d of %d: queued again", job.uid, job.attempts, most)
    return outcome
