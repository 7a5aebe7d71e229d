"""The `verify:status` event (sent, delivered, verified, expired, failed, cancelled): one payload builder for live
events and the sample a webhook's test shows. The code is never in it."""

import uuid
from datetime import timedelta

from django.utils import timezone

from campaigns.models import Verification, VerifyStatus
from portal.events import emit
from portal.webhooks.registry import EventType

STATUS_EVENT = "verify:status"


def status_payload(verification: Verification, channel: dict | None = None, message_id: str = "") -> dict:
    channel = verification.channel if channel is None else channel
    return {
        "id": str(verification.uid),
        "status": verification.status,
        "to": verification.to,
        "reference": verification.reference,
        "foreign_id": verification.foreign_id,
        "channel": channel.get("channel", ""),
        "message_id": message_id,
        "reason": verification.failure_reason,
        "expire_at": verification.expire_at.isoformat() if verification.expire_at else None,
        "timestamp": timezone.now().isoformat(),
    }


def emit_status(verification: Verification, message_id: str = "") -> None:
    emit(verification.account, STATUS_EVENT, status_payload(verification, message_id=message_id), verification.to)


def sample_verification() -> Verification:
    """A verified request as a test event shows it (never saved)."""
    return Verification(
        uid=uuid.UUID("7f1c6a2e-3b8d-4f0a-9c51-0d2e4b6a8c10"),
        to="+918921269000",
        status=VerifyStatus.VERIFIED,
        reference="signup-4411",
        foreign_id="user-981",
        channels=[{"channel": "sms"}],
        expire_at=timezone.now() + timedelta(minutes=10),
    )


def status_event_type() -> EventType:
    return EventType(
        STATUS_EVENT,
        "A one-time code was sent, delivered, verified, expired, failed or cancelled",
        sample_payload=status_payload(sample_verification(), message_id="b34e35ad-fe34-4a8b-977c-b21cd76cd7d6"),
    )
