"""The `sms:message:status` event: one payload builder for live events and for the customized-webhook test event.

`campaigns.apps` registers the event type with a sample built here from an unsaved message, so the placeholders a
customized webhook may use, the test event it receives and every live event have the same fields.
"""

import uuid
from collections.abc import Callable
from decimal import Decimal

from django.utils import timezone

from campaigns import dlr_codes
from campaigns.models import Message
from campaigns.states import MessageState
from portal.events import EventItem, emit_many
from portal.webhooks.registry import EventType

STATUS_EVENT = "sms:message:status"
# Products built on messages (Verify) follow their messages' states: each listener gets every changed message,
# in the transaction that changed them. Registered in their AppConfig.ready.
_STATUS_LISTENERS: list[Callable[[list[Message]], None]] = []


def listen_to_statuses(listener: Callable[[list[Message]], None]) -> None:
    if listener not in _STATUS_LISTENERS:
        _STATUS_LISTENERS.append(listener)


def status_payload(message: Message) -> dict:
    """The `sms:message:status` payload of one message."""
    return {
        "id": str(message.uid),
        "mobile": message.recipient,
        "sender": message.sender_name,
        "status": message.state,
        "code": message.error_code,
        "description": dlr_codes.describe(message.error_code) or message.error_detail,
        "custom": message.custom_id,
        "group_id": str(message.group_id),
        "parts": message.parts,
        "cost": str(message.cost),
        "connector_id": message.connector_message_id,
        "timestamp": timezone.now().isoformat(),
    }


def emit_statuses(messages: list[Message]) -> None:
    """`sms:message:status` for each message (its webhook_id honoured): one bulk insert per account; then the
    status listeners."""
    by_account: dict[int, list[Message]] = {}
    for message in messages:
        by_account.setdefault(message.account_id, []).append(message)
    for group in by_account.values():
        items = [EventItem(status_payload(m), m.sender_name, m.webhook_id or None) for m in group]
        emit_many(group[0].account, STATUS_EVENT, items)
    for listener in _STATUS_LISTENERS:
        listener(messages)


def sample_message() -> Message:
    """A delivered message as a test event shows it (never saved)."""
    return Message(
        uid=uuid.UUID("b34e35ad-fe34-4a8b-977c-b21cd76cd7d6"),
        group_id=uuid.UUID("5f0c3c1e-7d43-4b7e-9f51-2a2a9f0c1d11"),
        recipient="+918921269000",
        sender_name="ACMEIN",
        state=MessageState.DELIVERED,
        error_code=dlr_codes.DELIVERED,
        custom_id="9882",
        parts=2,
        cost=Decimal("0.0400"),
        connector_message_id="1234444",
    )


def status_event_type() -> EventType:
    return EventType(
        STATUS_EVENT,
        "Message status changed (delivery report)",
        sample_payload=status_payload(sample_message()),
        customizable=True,
    )
