"""A campaign's figures, counted from its messages: by state, delivery rate, sends per hour, error codes."""

from decimal import Decimal

from django.db.models import Count, Sum
from django.db.models.functions import TruncHour

from campaigns import dlr_codes
from campaigns.models import Campaign, Message
from campaigns.states import ENDED_CAMPAIGN_STATES, FAILED_MESSAGE_STATES, MessageState


def campaign_stats(campaign: Campaign) -> dict:
    """Counts by state, delivery rate, messages per hour and failures by error code (with descriptions)."""
    messages = Message.objects.filter(campaign=campaign)
    by_state = {
        state: (n, cost or Decimal("0"))
        for state, n, cost in messages.order_by().values_list("state").annotate(n=Count("id"), cost=Sum("cost"))
    }
    counts = {state: by_state.get(state, (0, 0))[0] for state in MessageState.values}
    cost = sum((cost for _, cost in by_state.values()), Decimal("0"))
    total = sum(counts.values())
    finished = counts[MessageState.DELIVERED] + sum(counts[s] for s in FAILED_MESSAGE_STATES)
    hourly = list(
        messages.filter(sent_at__isnull=False)
        .annotate(hour=TruncHour("sent_at"))
        .order_by("hour")
        .values("hour")
        .annotate(n=Count("id"))
    )
    errors = messages.exclude(error_code="").order_by().values("error_code").annotate(n=Count("id")).order_by("-n")
    peak = max((row["n"] for row in hourly), default=0)
    return {
        "state": campaign.state,
        "state_reason": campaign.state_reason,
        "total": total,
        "cost": str(cost),
        "counts": counts,
        "in_flight": counts[MessageState.QUEUED] + counts[MessageState.SENT] + counts[MessageState.UNKNOWN],
        "failed": sum(counts[s] for s in FAILED_MESSAGE_STATES),
        "delivery_rate": round(100 * counts[MessageState.DELIVERED] / finished, 1) if finished else None,
        "progress": round(100 * (total - counts[MessageState.QUEUED]) / total, 1) if total else 0,
        "hourly": [
            {"hour": row["hour"].isoformat(), "count": row["n"], "height": round(100 * row["n"] / peak) if peak else 0}
            for row in hourly
        ],
        "errors": [
            {"code": row["error_code"], "count": row["n"], "description": dlr_codes.describe(row["error_code"])}
            for row in errors
        ],
        "ended": campaign.state in ENDED_CAMPAIGN_STATES,
    }
