"""Dashboard cards of the campaigns app: today's sends and delivery rate (the balance card is the portal's)."""

import zoneinfo
from datetime import datetime, time

from django.db.models import Count, Q
from django.urls import reverse
from django.utils import timezone

from campaigns.models import Campaign, Message
from campaigns.states import FAILED_MESSAGE_STATES, CampaignState, MessageState


def _today_start(account) -> datetime:
    zone = zoneinfo.ZoneInfo(account.time_zone)
    return datetime.combine(timezone.now().astimezone(zone).date(), time.min, tzinfo=zone)


def cards(account) -> list[dict]:
    today = Message.objects.filter(account=account, created_at__gte=_today_start(account)).aggregate(
        total=Count("id"),
        delivered=Count("id", filter=Q(state=MessageState.DELIVERED)),
        failed=Count("id", filter=Q(state__in=FAILED_MESSAGE_STATES)),
    )
    finished = today["delivered"] + today["failed"]
    rate = f"{100 * today['delivered'] / finished:.1f}%" if finished else None
    running = Campaign.objects.filter(account=account, state=CampaignState.RUNNING).count()
    messages_url = reverse("campaigns:message_list")
    return [
        {
            "label": "Messages today",
            "value": today["total"],
            "detail": f"{running} campaign{'s' if running != 1 else ''} running",
            "empty_hint": "Nothing sent today.",
            "url": messages_url,
            "link_label": "Message log",
        },
        {
            "label": "Delivery rate today",
            "value": rate,
            "detail": f"{today['delivered']} delivered, {today['failed']} failed",
            "empty_hint": "No delivery reports today.",
            "url": reverse("campaigns:campaign_list"),
            "link_label": "Campaigns",
        },
    ]
