"""States of campaigns and messages, and which transitions move forward."""

from django.db import models


class CampaignState(models.TextChoices):
    DRAFT = "draft", "Draft"
    SCHEDULED = "scheduled", "Scheduled"
    PREPARING = "preparing", "Preparing"
    RUNNING = "running", "Running"
    PAUSED = "paused", "Paused"
    COMPLETED = "completed", "Completed"
    CANCELLED = "cancelled", "Cancelled"
    FAILED = "failed", "Failed"


class MessageState(models.TextChoices):
    QUEUED = "queued", "Queued"
    SENT = "sent", "Sent"
    UNKNOWN = "unknown", "Submit unknown"
    DELIVERED = "delivered", "Delivered"
    UNDELIVERED = "undelivered", "Undelivered"
    REJECTED = "rejected", "Rejected"
    EXPIRED = "expired", "Expired"
    FAILED = "failed", "Failed"
    CANCELLED = "cancelled", "Cancelled"


class SmartDeliveryState(models.TextChoices):
    """A Smart Delivery campaign's test batch: sent and waiting to be judged, then passed or failed ("" before)."""

    PENDING = "pending", "Test batch sent, waiting"
    PASSED = "passed", "Passed: the rest released"
    FAILED = "failed", "Failed: the rest cancelled"


class MessageType(models.TextChoices):
    NORMAL = "N", "Normal (GSM-7, other characters become ?)"
    UNICODE = "U", "Unicode"
    AUTO = "A", "Auto-detect"


FINAL_MESSAGE_STATES = frozenset(
    {
        MessageState.DELIVERED,
        MessageState.UNDELIVERED,
        MessageState.REJECTED,
        MessageState.EXPIRED,
        MessageState.FAILED,
        MessageState.CANCELLED,
    }
)
FAILED_MESSAGE_STATES = frozenset(FINAL_MESSAGE_STATES - {MessageState.DELIVERED, MessageState.CANCELLED})
OPEN_CAMPAIGN_STATES = frozenset({CampaignState.SCHEDULED, CampaignState.PREPARING, CampaignState.RUNNING})
ENDED_CAMPAIGN_STATES = frozenset({CampaignState.COMPLETED, CampaignState.CANCELLED, CampaignState.FAILED})

# "unknown": handed to an upstream whose answer was lost with the connection; never resubmitted (no duplicate to
# the handset), settled by its delivery report or, after a timeout, as expired.
_RANK = {MessageState.QUEUED: 0, MessageState.SENT: 1, MessageState.UNKNOWN: 1}


def message_rank(state: str) -> int:
    """0 queued, 1 sent (or submit unknown), 2 any final state: a state only ever moves to a higher rank."""
    return _RANK.get(state, 2)


def states_before(state: str) -> list[str]:
    """Message states from which `state` is a forward move."""
    return [candidate for candidate in MessageState.values if message_rank(candidate) < message_rank(state)]
