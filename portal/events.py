"""The event bus: apps call `emit`; they know nothing about webhooks.

`emit` records the event; once the surrounding transaction commits, one webhook delivery is created per
matching active subscription (identity `all` or the event's sender/number) and per explicit `webhook_id`,
and the webhooks' queues are started. The known events live in `portal.webhooks.registry`.
"""

from functools import partial

from django.db import transaction

from portal.models import Account, Event
from portal.webhooks import registry


def emit(account: Account, event: str, payload: dict, identity: str | None = None, webhook_id=None) -> Event:
    """Record an event for the account and fan it out to its webhooks after commit."""
    from portal.webhooks.delivery import dispatch_event

    registry.get(event)
    record = Event.objects.create(account=account, name=event, identity=identity or "", payload=payload)
    explicit = str(webhook_id) if webhook_id else None
    transaction.on_commit(partial(dispatch_event, record.pk, explicit), robust=True)
    return record
