from celery import shared_task

from portal.cleanup import purge_expired
from portal.ops.tasks import heartbeat  # noqa: F401  (autodiscovery)
from portal.webhooks.tasks import (  # noqa: F401  (autodiscovery)
    deliver_webhook,
    fan_out_missed_events,
    prune_webhook_deliveries,
    sweep_webhook_deliveries,
)


@shared_task(name="portal.ping")
def ping(value: str = "pong") -> str:
    """Round-trip check used by health tests: returns what it was given."""
    return value


@shared_task(name="portal.purge_cleanup_batches")
def purge_cleanup_batches() -> int:
    """Beat sweep: clean-up batches past their 30 days are deleted with their rows (idempotent)."""
    return purge_expired()
