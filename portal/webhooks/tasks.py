"""Celery tasks of the webhook engine: thin wrappers taking ids, safe to run twice."""

from celery import shared_task

from portal.webhooks import delivery


@shared_task(name="portal.webhooks.deliver", ignore_result=True)
def deliver_webhook(webhook_id: int, lease_token: str) -> int:
    """Send a webhook's due deliveries in order (the caller claimed its queue and passes the lease token)."""
    return delivery.run_queue(webhook_id, lease_token)


@shared_task(name="portal.webhooks.sweep", ignore_result=True)
def sweep_webhook_deliveries() -> int:
    """Beat: start the queues whose oldest pending delivery is due (retries, expired leases)."""
    return len(delivery.sweep())


@shared_task(name="portal.webhooks.prune", ignore_result=True)
def prune_webhook_deliveries() -> int:
    """Beat: drop finished deliveries older than WEBHOOK_RETENTION_DAYS."""
    return delivery.prune()
