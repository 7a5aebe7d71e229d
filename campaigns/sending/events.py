"""The `sms:message:status` event: one payload builder for live events and for the customized-webhook test event.

`campaigns.apps` registers the event type with a sample built here from an unsaved message, so the placeholders a
customized webhook may use, the test event it receives and every live event have the same fields.

The payload carries the seed's delivery-report fields (BICS "Receive DLR Updates"): `status` in the seed's words
(`DELIVRD`…, `dlr_codes.STATE_STATUSES`) beside our own lower-case `state`; `credits` (the cost, 4 decimals) and
`units` (the parts billed); `sent_time` (accepted from the client), `submit_time` (handed to the operator) and
`deliv_time` (the final report), as `YYYY-MM-DD HH:MM:SS` in the account's time zone or empty; `cid` and `custom`
(the send's custom id, which `GET /sms/dlr?cid=` finds), `custom1`/`custom2` (from the message's meta); the country
(`location`, `location_code`) and the region and provider phonenumbers knows for the number
(`contacts.phone_places`).
"""

import json
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, tzinfo
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.utils import timezone

from campaigns import dlr_codes
from campaigns.models import Message
from campaigns.states import MessageState
from contacts.phone_places import country_name, place_of
from portal.accounts import zone_of
from portal.events import EventItem, emit_many
from portal.webhooks.registry import EventType

STATUS_EVENT = "sms:message:status"
# Products built on messages (Verify) follow their messages' states: each listener gets every changed message,
# in the transaction that changed them. Registered in their AppConfig.ready.
_STATUS_LISTENERS: list[Callable[[list[Message]], None]] = []


def listen_to_statuses(listener: Callable[[list[Message]], None]) -> None:
    if listener not in _STATUS_LISTENERS:
        _STATUS_LISTENERS.append(listener)


CREDITS_PLACES = Decimal("0.0001")
META_FIELDS = ("custom1", "custom2")


def status_payload(message: Message, *, zone: tzinfo | None = None) -> dict:
    """The `sms:message:status` payload of one message (times in `zone`, else the account's time zone)."""
    zone = zone or zone_of(message.account)
    place = place_of(message.recipient)
    return {
        "id": str(message.uid),
        "mobile": message.recipient,
        "sender": message.sender_name,
        "status": dlr_codes.seed_status(message.state),
        "state": message.state,
        "code": message.error_code,
        "description": dlr_codes.describe(message.error_code) or message.error_detail,
        "credits": str(message.cost.quantize(CREDITS_PLACES)),
        "units": message.parts,
        "sent_time": _seed_time(message.created_at, zone),
        "submit_time": _seed_time(message.sent_at, zone),
        "deliv_time": _seed_time(message.done_at, zone),
        "cid": message.custom_id,
        "custom": message.custom_id,
        **{name: _meta_text(message.meta, name) for name in META_FIELDS},
        "location": country_name(message.country),
        "location_code": message.country.lower(),
        "region": place.region,
        "region_code": place.region_code,
        "provider": place.provider,
        "provider_code": place.provider_code,
        "group_id": str(message.group_id),
        "parts": message.parts,
        "cost": str(message.cost),
        "connector_id": message.connector_message_id,
        "timestamp": timezone.now().isoformat(),
    }


def _seed_time(moment: datetime | None, zone: tzinfo) -> str:
    """`YYYY-MM-DD HH:MM:SS` in `zone` (isoformat cut to the seconds: a third of strftime's cost)."""
    return moment.astimezone(zone).isoformat(" ", "seconds")[:19] if moment else ""


def _meta_text(meta, name: str) -> str:
    """A text value of the message's meta (`custom1`, `custom2`); other JSON as compact JSON, absent as empty."""
    value = meta.get(name) if isinstance(meta, dict) else None
    if value is None:
        return ""
    return value if isinstance(value, str) else json.dumps(value, separators=(",", ":"))


def emit_statuses(messages: list[Message]) -> None:
    """`sms:message:status` for each message (its webhook_id honoured): one bulk insert per account; then the
    status listeners."""
    by_account: dict[int, list[Message]] = {}
    for message in messages:
        by_account.setdefault(message.account_id, []).append(message)
    for group in by_account.values():
        account = group[0].account
        zone = zone_of(account)
        items = [EventItem(status_payload(m, zone=zone), m.sender_name, m.webhook_id or None) for m in group]
        emit_many(account, STATUS_EVENT, items)
    for listener in _STATUS_LISTENERS:
        listener(messages)


SAMPLE_ZONE = ZoneInfo("Asia/Kolkata")


def sample_message() -> Message:
    """A delivered message as a test event shows it (never saved)."""
    return Message(
        uid=uuid.UUID("b34e35ad-fe34-4a8b-977c-b21cd76cd7d6"),
        group_id=uuid.UUID("5f0c3c1e-7d43-4b7e-9f51-2a2a9f0c1d11"),
        recipient="+918921269000",
        country="IN",
        sender_name="ACMEIN",
        state=MessageState.DELIVERED,
        error_code=dlr_codes.DELIVERED,
        custom_id="9882",
        meta={"custom1": "campaign-3344", "custom2": "new-camp"},
        parts=2,
        cost=Decimal("0.0400"),
        connector_message_id="1234444",
        created_at=datetime(2021, 4, 9, 10, 57, 35, tzinfo=UTC),
        sent_at=datetime(2021, 4, 9, 10, 57, 39, tzinfo=UTC),
        done_at=datetime(2021, 4, 9, 10, 57, 51, tzinfo=UTC),
    )


def status_event_type() -> EventType:
    return EventType(
        STATUS_EVENT,
        "Message status changed (delivery report)",
        sample_payload=status_payload(sample_message(), zone=SAMPLE_ZONE),
        customizable=True,
    )
