"""Lanes of the outbox: which connectors' messages a claimer takes.

The Celery outbox sends through every connector but the kinds that live in their own process
(`runs_in_own_process`: SMPP binds); each `smpp_worker` claims its connector's messages only. The lanes never
overlap, and both use the same claims and leases.
"""

from dataclasses import dataclass
from datetime import datetime

from django.db.models import Q, QuerySet

from campaigns.connectors import own_process_kinds
from campaigns.models import Campaign, Connector, Message
from campaigns.states import CampaignState, MessageState
from portal.models import AccountStatus


@dataclass(frozen=True)
class Lane:
    connector_id: int | None = None  # None: the Celery lane

    def messages(self, queryset: QuerySet) -> QuerySet:
        if self.connector_id is not None:
            return queryset.filter(connector_id=self.connector_id)
        held = list(Connector.objects.filter(kind__in=own_process_kinds()).values_list("pk", flat=True))
        return queryset.exclude(connector_id__in=held) if held else queryset

    def sources(self, now: datetime) -> list[tuple[int, int | None]]:
        """(account id, campaign id or None for API sends) that may have messages of this lane to release; a
        suspended account's messages wait (they leave when it is resumed)."""
        due = self.messages(Message.objects.filter(state=MessageState.QUEUED, not_before__lte=now)).order_by()
        api = (
            due.filter(campaign__isnull=True, account__status=AccountStatus.ACTIVE)
            .values_list("account_id", flat=True)
            .distinct()
        )
        campaigns = Campaign.objects.filter(state=CampaignState.RUNNING, account__status=AccountStatus.ACTIVE).filter(
            Q(throttle_until__isnull=True) | Q(throttle_until__lte=now)
        )
        if self.connector_id is not None:
            campaigns = campaigns.filter(pk__in=due.filter(campaign__isnull=False).values("campaign_id"))
        campaign_sources = campaigns.order_by("throttle_until", "pk").values_list("account_id", "pk")
        return [(account_id, None) for account_id in api] + list(campaign_sources)


CELERY_LANE = Lane()
