"""The `sms:message:in` event: an inbound (mobile originated) message, whichever way it arrived (the inbound
HTTP API, an SMPP bind), with one payload builder for live events and the webhook test sample."""

import uuid
from datetime import UTC, datetime

from contacts.models import InboundAction, InboundMessage
from portal.events import emit
from portal.webhooks.registry import EventType

INBOUND_EVENT = "sms:message:in"


def inbound_payload(message: InboundMessage) -> dict:
    """BICS Interact's `vmn:message:in` fields: the message, the number that received it and its account."""
    received = message.received_at.isoformat() if message.received_at else None
    return {
        "id": str(message.uid),
        "from": message.from_number,
        "to": message.to,
        "text": message.text,
        "parts": message.parts,
        "received_at": received,
        "received_time": received,
        "number_id": str(message.number.uid) if message.number else None,
        "account_id": str(message.account.uid) if message.account_id else None,
        "keyword": message.keyword,
        "action": message.action,
    }


def emit_inbound(message: InboundMessage) -> None:
    """After the surrounding transaction commits, to the account's webhooks subscribed to inbound messages (for
    every number or this one), and to the webhook of the message's keyword route."""
    route = message.keyword_route
    webhook = str(route.webhook.uid) if route is not None and route.webhook_id else None
    emit(message.account, INBOUND_EVENT, inbound_payload(message), identity=message.to or None, webhook_id=webhook)


def inbound_event_type() -> EventType:
    sample = InboundMessage(
        uid=uuid.UUID("0b6f8c2e-3f4a-4c1d-9e57-6a3d2b1c0f9e"),
        from_number="+918921269000",
        to="ACMEIN",
        text="STOP",
        parts=1,
        received_at=datetime(2026, 1, 2, 12, 30, tzinfo=UTC),
        keyword="STOP",
        action=InboundAction.OPTED_OUT,
    )
    return EventType(INBOUND_EVENT, "An inbound message arrived (mobile originated)", inbound_payload(sample))
