from celery import shared_task

from portal.webhooks.tasks import (  # noqa: F401  (autodiscovery)
    deliver_webhook,
    prune_webhook_deliveries,
    sweep_webhook_deliveries,
)


@shared_task(name="portal.ping")
def ping(value: str = "pong") -> str:
    """Round-trip check used by health tests: returns what it was given."""
    return value
