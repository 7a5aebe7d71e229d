"""The event bus: apps call `emit`; they know nothing about webhooks."""

from portal.models import Account, Event

EVENT_NAMES = {
    "sms:message:status": "Message status changed (delivery report)",
    "sms:unsubscription": "A number opted out",
    "contacts:subscriber:subscription": "A contact was created, updated or deleted",
    "webhook:ping": "Test event sent from the portal",
}


def emit(account: Account, event: str, payload: dict, identity: str | None = None, webhook_id=None) -> Event:
    """Record an event for the account. Delivery to subscribed webhooks is added by the webhooks module."""
    if event not in EVENT_NAMES:
        raise ValueError(f"unknown event {event!r}")
    return Event.objects.create(account=account, name=event, identity=identity or "", payload=payload)
