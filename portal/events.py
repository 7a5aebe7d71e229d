"""The event bus: apps call `emit` (or `emit_many` for a batch); they know nothing about webhooks.

`emit` records the event; once the surrounding transaction commits, one webhook delivery is created per
matching active subscription (identity `all` or the event's sender/number) and per explicit `webhook_id`,
and the webhooks' queues are started. Events emitted in one transaction are fanned out together after its
commit (a few queries per transaction, not per event). `emit_many` records a batch of events of one name
with one bulk insert. The known events live in `portal.webhooks.registry`.

The fan-out marks each event (`fanned_out_at`) in the transaction that creates its deliveries, so a process
killed between the event's commit and its fan-out loses nothing: the beat sweep
(`portal.webhooks.fan_out.fan_out_missed_events`) fans out what is still unmarked a minute later.
"""

from collections.abc import Iterable
from typing import NamedTuple

from django.db import transaction

from portal.bulk import insert_rows
from portal.models import Account, Event
from portal.webhooks import registry
from portal.webhooks.fan_out import dispatch_events

PENDING_ATTRIBUTE = "_pending_webhook_events"
EVENT_COLUMNS = ("uid", "account_id", "name", "identity", "payload", "created_at", "webhook_uid")


class EventItem(NamedTuple):
    """One event of a batch: its payload, the sender/number it is about, and a webhook named explicitly."""

    payload: dict
    identity: str | None = None
    webhook_id: object = None


def emit(account: Account, event: str, payload: dict, identity: str | None = None, webhook_id=None) -> Event:
    """Record an event for the account and fan it out to its webhooks after commit."""
    return emit_many(account, event, [EventItem(payload, identity, webhook_id)])[0]


def emit_many(account: Account, event: str, items: Iterable[EventItem | tuple]) -> list[Event]:
    """Record events of one name for the account in one insert; fan them out once after commit.

    Each item is an `EventItem` or a tuple `(payload, identity[, webhook_id])`. On PostgreSQL the records of a
    batch come back without pk (they are written with COPY)."""
    registry.get(event)
    batch = [EventItem(*item) for item in items]
    if not batch:
        return []
    records = [
        Event(
            account=account,
            name=event,
            identity=item.identity or "",
            payload=item.payload,
            webhook_uid=str(item.webhook_id) if item.webhook_id else "",
        )
        for item in batch
    ]
    connection = transaction.get_connection()
    _insert(records)
    pending = getattr(connection, PENDING_ATTRIBUTE, None)
    if pending is None:
        pending = []
        setattr(connection, PENDING_ATTRIBUTE, pending)
    pending.extend(record.uid for record in records)
    transaction.on_commit(lambda: _flush(connection), robust=True)
    return records


def _insert(records: list[Event]) -> None:
    """One statement for the batch (the records get no pk: the fan-out reads events back by uid); a single event
    is saved (it gets its pk)."""
    if len(records) == 1:
        records[0].save(force_insert=True)
    else:
        rows = [tuple(getattr(record, name) for name in EVENT_COLUMNS) for record in records]
        insert_rows(Event, EVENT_COLUMNS, rows, json_columns=frozenset({"payload"}))


def _flush(connection) -> None:
    """Fan out every event this connection emitted and committed so far (later callbacks find nothing left).

    Events rolled back with their transaction may linger here; their (never reused) uids match nothing."""
    pending = getattr(connection, PENDING_ATTRIBUTE, None)
    if pending:
        setattr(connection, PENDING_ATTRIBUTE, [])
        dispatch_events(pending)
