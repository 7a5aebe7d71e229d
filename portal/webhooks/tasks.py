"""Celery tasks of the webhook engine: thin wrappers taking ids, safe to run twice."""

from celery import shared_task

from portal.models import Webhook
from portal.webhooks import delivery, fan_out, verification


@shared_task(name="portal.webhooks.deliver", ignore_result=True)
def deliver_webhook(webhook_id: int, lease_token: str) -> int:
    """Send a webhook's due deliveries in order (the caller claimed its queue and passes the lease token)."""
    return delivery.run_queue(webhook_id, lease_token)


@shared_task(name="portal.webhooks.sweep", ignore_result=True)
def sweep_webhook_deliveries() -> int:
    """Beat: start the queues whose oldest pending delivery is due (retries, expired leases)."""
    return len(delivery.sweep())


@shared_task(name="portal.webhooks.fan_out_missed", ignore_result=True)
def fan_out_missed_events() -> int:
    """Beat: fan out events whose emitter was stopped between their commit and their fan-out."""
    return fan_out.fan_out_missed_events()


@shared_task(name="portal.webhooks.prune", ignore_result=True)
def prune_webhook_deliveries() -> int:
    """Beat: drop finished deliveries older than WEBHOOK_RETENTION_DAYS."""
    return delivery.prune()


@shared_task(name="portal.webhooks.verify", ignore_result=True)
def verify_webhook_handshake(webhook_id: int) -> bool:
    """After a validation key or URL was set: the challenge handshake (skipped once it succeeded)."""
    webhook = Webhook.objects.filter(pk=webhook_id).first()
    if webhook is None or not webhook.is_held:
        return False
    return verification.verify_webhook(webhook).verified_at is not None
