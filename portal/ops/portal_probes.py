"""The portal's own operational probes: the webhook backlog /readyz bounds; Celery queue lengths, webhook
deliveries by state, accounts at a low balance and the beat heartbeat's age for /metrics."""

from datetime import datetime

from django.conf import settings
from django.db.models import Count

from portal.models import Account, AccountStatus, WebhookDelivery, awaiting_handshake
from portal.ops import broker, heartbeats
from portal.ops.probes import Backlog, Gauge, counts_by

PENDING = WebhookDelivery.State.PENDING
HELD_FOR_HANDSHAKE = awaiting_handshake("webhook__")


def webhook_backlog(limit: int, now: datetime) -> int:
    """Pending deliveries that are due (not waiting for a later retry, nor for their webhook's handshake)."""
    due = WebhookDelivery.objects.filter(state=PENDING, next_attempt_at__lte=now).exclude(HELD_FOR_HANDSHAKE)
    return due.order_by()[:limit].count()


def celery_queue_length_gauge(now: datetime) -> Gauge:
    return Gauge(
        "portal_celery_queue_length",
        "Tasks waiting in each Celery queue (not counting those a worker has reserved).",
        ("queue",),
        {(queue,): length for queue, length in broker.queue_lengths().items()},
    )


def webhook_deliveries_gauge(now: datetime) -> Gauge:
    deliveries = WebhookDelivery.objects.all()
    return Gauge(
        "portal_webhook_deliveries",
        "Webhook deliveries by state (succeeded and failed ones until they are pruned).",
        ("state",),
        counts_by(deliveries, "state", WebhookDelivery.State.values),
    )


def low_balance_gauge(now: datetime) -> Gauge:
    rows = (
        Account.objects.filter(status=AccountStatus.ACTIVE, balance__lte=settings.LOW_BALANCE_ALARM)
        .order_by()
        .values_list("currency")
        .annotate(n=Count("pk"))
    )
    return Gauge(
        "portal_accounts_low_balance",
        "Active accounts whose balance is at or below LOW_BALANCE_ALARM, by currency.",
        ("currency",),
        {(currency,): n for currency, n in rows},
    )


def beat_heartbeat_gauge(now: datetime) -> Gauge:
    age = heartbeats.age_seconds(heartbeats.BEAT, now)
    return Gauge(
        "portal_beat_heartbeat_age_seconds",
        "Seconds since beat and a default worker last wrote the heartbeat (absent before the first one).",
        values={} if age is None else {(): age},
    )


BACKLOGS = [Backlog("webhook_backlog", "READY_WEBHOOK_BACKLOG_MAX", webhook_backlog)]
GAUGES = [celery_queue_length_gauge, webhook_deliveries_gauge, low_balance_gauge, beat_heartbeat_gauge]
