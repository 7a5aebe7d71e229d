"""The `webhook:delivery:failed` notification: a delivery that finally failed (its last retry spent, or a 410)
is audited and told to every admin of the account, once per delivery (the attempt that fails it, under the
queue's lease, is the only one that calls this)."""

from django.urls import reverse

from portal.audit import record
from portal.models import Webhook, WebhookDelivery
from portal.notify import notify_admins

DELIVERY_FAILED = "webhook:delivery:failed"
AUDIT_VERB = "webhook.delivery_failed"


def failure_text(webhook: Webhook, delivery: WebhookDelivery) -> str:
    attempts = f"{delivery.attempt_count} attempt{'s' if delivery.attempt_count != 1 else ''}"
    reason = delivery.error or (f"HTTP {delivery.last_status_code}" if delivery.last_status_code else "no answer")
    return (
        f"Webhook “{webhook.name}” could not deliver {delivery.event_name} (event {delivery.event_uid}) "
        f"after {attempts}; redeliver it from the delivery log once the receiver works. Last error: {reason}"
    )


def delivery_failed(webhook: Webhook, delivery: WebhookDelivery) -> int:
    """Audit the failed delivery and notify the account's admins; returns how many were notified."""
    after = {
        "notification": DELIVERY_FAILED,
        "event": delivery.event_name,
        "event_id": str(delivery.event_uid),
        "attempts": delivery.attempt_count,
        "last_status": delivery.last_status_code,
    }
    record(webhook.account, None, AUDIT_VERB, delivery, after=after)
    link = reverse("portal:webhook_delivery_detail", kwargs={"uid": delivery.uid})
    return len(notify_admins(webhook.account, failure_text(webhook, delivery), link=link, level="error"))
