from celery import shared_task

from portal.webhooks.tasks import deliver_webhook, sweep_webhook_deliveries  # noqa: F401  (autodiscovery)


@shared_task(name="portal.ping")
def ping(value: str = "pong") -> str:
    """Round-trip check used by health tests: returns what it was given."""
    return value
