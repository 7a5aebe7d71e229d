"""The event bus: apps call `emit`; they know nothing about webhooks.

`emit` records the event; once the surrounding transaction commits, one webhook delivery is created per
matching active subscription (identity `all` or the event's sender/number) and per explicit `webhook_id`,
and the webhooks' queues are started. Events emitted in one transaction are fanned out together after its
commit (a few queries per transaction, not per event). The known events live in `portal.webhooks.registry`.
"""

from django.db import transaction

from portal.models import Account, Event
from portal.webhooks import registry

PENDING_ATTRIBUTE = "_pending_webhook_events"


def emit(account: Account, event: str, payload: dict, identity: str | None = None, webhook_id=None) -> Event:
    """Record an event for the account and fan it out to its webhooks after commit."""
    registry.get(event)
    record = Event.objects.create(account=account, name=event, identity=identity or "", payload=payload)
    connection = transaction.get_connection()
    pending = getattr(connection, PENDING_ATTRIBUTE, None)
    if pending is None:
        pending = {}
        setattr(connection, PENDING_ATTRIBUTE, pending)
    pending[record.uid] = str(webhook_id) if webhook_id else None
    transaction.on_commit(lambda: _flush(connection), robust=True)
    return record


def _flush(connection) -> None:
    """Fan out every event this connection emitted and committed so far (later callbacks find nothing left).

    Events rolled back with their transaction may linger here; their (never reused) uids match nothing."""
    from portal.webhooks.delivery import dispatch_events

    pending = getattr(connection, PENDING_ATTRIBUTE, None)
    if pending:
        setattr(connection, PENDING_ATTRIBUTE, {})
        dispatch_events(pending)
