"""Restorable clean-ups: "delete all" moves the rows into a batch that can be restored for 30 days.

Apps register the kinds of rows they clean up in bulk (`register(CleanupKind(...))` in `AppConfig.ready()`);
portal knows nothing else about them. Rows move in one set-based statement each way (`portal.cleanup_sql`), in
one transaction, however many there are. Restoring brings every row back as it was (same ids, values and
times) except those that clash with a row created since, which are counted as skipped. A beat sweep purges
batches once they expire (`purge_expired`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial

from django.core.exceptions import ImproperlyConfigured
from django.db import models, transaction
from django.utils import timezone

from portal import cleanup_sql
from portal.audit import record
from portal.models import Account
from portal.models_cleanup import CleanupBatch

__all__ = [
    "CONFIRMATION_PHRASE",
    "RETENTION",
    "CleanupKind",
    "NotRestorable",
    "RestoreResult",
    "batches_of",
    "clean",
    "confirmation_matches",
    "kind_named",
    "purge_expired",
    "register",
    "restore",
]

RETENTION = timedelta(days=30)
CONFIRMATION_PHRASE = "DELETE ALL"  # what a person types in the browser before deleting everything


@dataclass(frozen=True)
class CleanupKind:
    """Rows of `model` (which has an `account`) that may be cleaned up in bulk and restored.

    `noun` names them in messages ("opt-outs"); audit verbs are `<audit_prefix>.cleaned` and
    `<audit_prefix>.clean_restored`; `after_change(account_id)` runs after the commit of a clean-up or a restore
    (e.g. to drop a cache), since the set-based statements send no model signals."""

    name: str
    model: type[models.Model]
    noun: str
    audit_prefix: str
    after_change: Callable[[int], None] | None = None

    def rows(self, account: Account) -> models.QuerySet:
        return self.model._base_manager.filter(account=account)


@dataclass(frozen=True)
class RestoreResult:
    batch: CleanupBatch
    restored: int
    skipped: int


class NotRestorable(Exception):
    """The batch was restored already, or has expired."""


_KINDS: dict[str, CleanupKind] = {}


def register(kind: CleanupKind) -> CleanupKind:
    """Make `kind` known; refuses models whose rows other rows point to (a set-based delete would skip their
    cascades) and models too wide for one JSON object."""
    known = _KINDS.get(kind.name)
    if known is not None and known != kind:
        raise ImproperlyConfigured(f"Clean-up kind {kind.name!r} is registered twice.")
    meta = kind.model._meta
    referenced_by = [relation.name for relation in meta.related_objects]
    if referenced_by:
        raise ImproperlyConfigured(f"{meta.label} cannot be cleaned up in bulk: {referenced_by} point to it.")
    if len(meta.concrete_fields) > cleanup_sql.MAX_COLUMNS:
        raise ImproperlyConfigured(f"{meta.label} has more than {cleanup_sql.MAX_COLUMNS} columns.")
    _KINDS[kind.name] = kind
    return kind


def kind_named(name: str) -> CleanupKind:
    try:
        return _KINDS[name]
    except KeyError:
        raise LookupError(f"No clean-up kind {name!r} is registered.") from None


def batches_of(account: Account, kind: CleanupKind) -> models.QuerySet:
    """The account's clean-up batches of `kind`, newest first."""
    return CleanupBatch.objects.for_account(account).of_kind(kind.name).select_related("created_by", "restored_by")


def confirmation_matches(text: str | None) -> bool:
    """True when a person typed the confirmation phrase (any case, any spacing)."""
    return " ".join((text or "").split()).upper() == CONFIRMATION_PHRASE


def _after_commit(kind: CleanupKind, account: Account) -> None:
    if kind.after_change is not None:
        transaction.on_commit(partial(kind.after_change, account.pk))


def _user(actor):
    return actor if getattr(actor, "is_authenticated", False) else None


@transaction.atomic
def clean(account: Account, kind: CleanupKind, actor) -> CleanupBatch | None:
    """Delete every row of `kind` in the account into a new batch, restorable until RETENTION from now.
    None when there was nothing to delete (no batch is kept then); audited either way."""
    now = timezone.now()
    batch = CleanupBatch.objects.create(
        account=account, kind=kind.name, created_by=_user(actor), expires_at=now + RETENTION
    )
    moved = cleanup_sql.archive(kind.rows(account), batch.pk)
    if not moved:
        batch.delete()
        record(account, actor, f"{kind.audit_prefix}.cleaned", account, after={"deleted": 0})
        return None
    batch.row_count = moved
    batch.save(update_fields=["row_count", "updated_at"])
    after = {"deleted": moved, "batch": str(batch.uid), "restorable_until": batch.expires_at.isoformat()}
    record(account, actor, f"{kind.audit_prefix}.cleaned", batch, after=after)
    _after_commit(kind, account)
    return batch


def _refusal(batch: CleanupBatch) -> str:
    if batch.restored_at is not None:
        return f"This clean-up was restored already, on {batch.restored_at:%Y-%m-%d %H:%M} UTC."
    return f"This clean-up expired on {batch.expires_at:%Y-%m-%d %H:%M} UTC: its rows are no longer kept."


@transaction.atomic
def restore(batch: CleanupBatch, actor) -> RestoreResult:
    """Put the rows of `batch` back; rows that clash with one created since are skipped. NotRestorable when
    the batch was restored already or has expired."""
    locked = CleanupBatch.objects.select_for_update().filter(pk=batch.pk).first()
    if locked is None:
        raise NotRestorable("This clean-up has expired and its rows were purged.")
    batch = locked
    if not batch.is_restorable:
        raise NotRestorable(_refusal(batch))
    kind = kind_named(batch.kind)
    restored = cleanup_sql.restore(kind.model, batch.pk)
    batch.rows.all().delete()
    batch.restored_at, batch.restored_by = timezone.now(), _user(actor)
    batch.restored_count, batch.skipped_count = restored, batch.row_count - restored
    batch.save(update_fields=["restored_at", "restored_by", "restored_count", "skipped_count", "updated_at"])
    after = {"restored": restored, "skipped": batch.skipped_count}
    record(batch.account, actor, f"{kind.audit_prefix}.clean_restored", batch, after=after)
    _after_commit(kind, batch.account)
    return RestoreResult(batch=batch, restored=restored, skipped=batch.skipped_count)


def purge_expired(*, now: datetime | None = None) -> int:
    """Delete the batches (and their rows) that expired before `now`, one transaction each; a batch that a
    restore holds is left for the next sweep. The number of batches purged."""
    now = now or timezone.now()
    purged = 0
    for pk in list(CleanupBatch.objects.expired(now).values_list("pk", flat=True)):
        with transaction.atomic():
            batch = CleanupBatch.objects.select_for_update(skip_locked=True).filter(pk=pk, expires_at__lte=now).first()
            if batch is None:
                continue
            dropped = 0 if batch.restored_at else batch.row_count
            record(batch.account, None, "cleanup.purged", batch, after={"kind": batch.kind, "rows": dropped})
            batch.delete()
            purged += 1
    return purged
