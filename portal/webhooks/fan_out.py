"""Fan-out: one pending delivery per (event, matching webhook), created in the transaction that marks the
event fanned out (`Event.fanned_out_at`). The emitter fans out right after its commit (`dispatch_events`);
the beat sweep (`fan_out_missed_events`) catches the events of a process killed in between. Event rows are
locked while they are fanned out, so two processes never create an event's deliveries twice.
"""

import logging
import uuid
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from portal.models import Event, Subscription, Webhook, WebhookDelivery
from portal.webhooks.delivery import ACTIVE, envelope, kick

logger = logging.getLogger("portal.webhooks")
MISSED_EVENT_GRACE = timedelta(minutes=1)  # an emitter's own fan-out runs within milliseconds of its commit


# Fan-out -------------------------------------------------------------------------------------------------


def _explicit_uid(value) -> uuid.UUID | None:
    try:
        return uuid.UUID(str(value)) if value else None
    except ValueError:
        logger.warning("an event names an unknown webhook_id %r", value)
        return None


def match_webhooks(events: list[Event]) -> dict[int, list[int]]:
    """Event pk → active webhooks subscribed to it (identity `all` or the event's), plus the one it names.

    Two queries whatever the number of events."""
    subscriptions: dict[tuple[int, str], list[tuple[str, int]]] = {}
    rows = Subscription.objects.filter(
        account_id__in={event.account_id for event in events},
        event__in={event.name for event in events},
        webhook__status=ACTIVE,
    ).values_list("account_id", "event", "identity", "webhook_id")
    for account_id, name, identity, webhook_id in rows:
        subscriptions.setdefault((account_id, name), []).append((identity, webhook_id))
    uids = {uid for uid in (_explicit_uid(event.webhook_uid) for event in events) if uid}
    named = {
        (uid, account_id): webhook_id
        for uid, account_id, webhook_id in Webhook.objects.filter(uid__in=uids, status=ACTIVE).values_list(
            "uid", "account_id", "id"
        )
    }
    matches = {}
    for event in events:
        identities = {Subscription.ALL, event.identity}
        ids = {wid for identity, wid in subscriptions.get((event.account_id, event.name), []) if identity in identities}
        named_id = named.get((_explicit_uid(event.webhook_uid), event.account_id))
        if named_id:
            ids.add(named_id)
        matches[event.pk] = sorted(ids)
    return matches


def matching_webhook_ids(event: Event) -> list[int]:
    """Active webhooks subscribed to the event (identity `all` or the event's), plus the one it names."""
    return match_webhooks([event])[event.pk]


def fan_out(events: list[Event], *, now: datetime | None = None) -> list[int]:
    """Create one pending delivery per (event, matching webhook), in event order, and mark the events fanned
    out in the same transaction; returns the webhook ids."""
    now = now or timezone.now()
    matches = match_webhooks(events)
    deliveries = [
        WebhookDelivery(
            account_id=event.account_id,
            webhook_id=webhook_id,
            event_uid=event.uid,
            event_name=event.name,
            identity=event.identity,
            payload=envelope(event),
            next_attempt_at=now,
        )
        for event in sorted(events, key=lambda event: event.pk)
        for webhook_id in matches[event.pk]
    ]
    with transaction.atomic():
        WebhookDelivery.objects.bulk_create(deliveries, batch_size=500)
        Event.objects.filter(pk__in=[event.pk for event in events]).update(fanned_out_at=now)
    return sorted({delivery.webhook_id for delivery in deliveries})


def _fan_out_unmarked(events: QuerySet) -> tuple[int, list[int]]:
    """Fan out the events of the queryset nobody has fanned out yet; the rows are locked (another process
    fanning out the same events skips them), so each event's deliveries are created once. Returns the number
    of events fanned out and the webhook ids."""
    with transaction.atomic():
        locked = list(events.filter(fanned_out_at__isnull=True).order_by("pk").select_for_update(skip_locked=True))
        return len(locked), (fan_out(locked) if locked else [])


def dispatch_events(uids: list[uuid.UUID]) -> list[int]:
    """After commit: create the deliveries of these events and start the idle queues."""
    _, webhook_ids = _fan_out_unmarked(Event.objects.filter(uid__in=list(uids)))
    kick(webhook_ids)
    return webhook_ids


def fan_out_missed_events(*, grace: timedelta = MISSED_EVENT_GRACE, limit: int = 5000) -> int:
    """Beat sweep: fan out events committed more than `grace` ago whose fan-out never ran (the process that
    emitted them was killed right after the commit). Returns the number of events fanned out."""
    cutoff = timezone.now() - grace
    candidates = Event.objects.filter(fanned_out_at__isnull=True, created_at__lt=cutoff).order_by("created_at")
    pks = list(candidates.values_list("pk", flat=True)[:limit])
    if not pks:
        return 0
    count, webhook_ids = _fan_out_unmarked(Event.objects.filter(pk__in=pks))
    if count:
        logger.warning("fanned out %d event(s) whose fan-out had not run", count)
    kick(webhook_ids)
    return count
