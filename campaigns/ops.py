"""Operational probes of the campaigns app (collected by portal.ops.probes): the outbox backlog /readyz bounds,
and the outbox, SMPP bind and SMPP gateway gauges of /metrics."""

from datetime import datetime, timedelta

from django.db.models import Count, Q

from campaigns.connectors.settings import smpp_settings
from campaigns.connectors.status import HEARTBEAT_SECONDS, STALE_BEATS, bind_row
from campaigns.models import BindState, Campaign, Message, SmppBind, SmppReceipt, SmppSession
from campaigns.sending.smpp_store import smpp_connectors
from campaigns.smpp_gateway.sweeps import live_sessions
from campaigns.states import CampaignState, MessageState
from portal.ops.probes import Backlog, Gauge

STALE = "stale"  # the bind's holder stopped beating (connectors.status)
BIND_STATES = (*BindState.values, STALE)


def queue_conditions(now: datetime) -> dict[str, Q]:
    """The queued messages split by what the outbox does with them now (each message in exactly one)."""
    unclaimed_due = Q(claimed_until__isnull=True, not_before__lte=now)
    releasable = Q(campaign__isnull=True) | Q(campaign__state=CampaignState.RUNNING)
    return {
        "due": unclaimed_due & releasable,
        "held_by_campaign": unclaimed_due & ~releasable,
        "scheduled": Q(claimed_until__isnull=True, not_before__gt=now),
        "claimed": Q(claimed_until__gte=now),
        "lease_expired": Q(claimed_until__lt=now),
    }


def outbox_backlog(limit: int, now: datetime) -> int:
    """Queued messages due now of API sends and running campaigns, claimed or not (not handed to a connector
    yet): an index-only count on the outbox's partial index, `message_outbox_order`."""
    running = Campaign.objects.filter(state=CampaignState.RUNNING).values("pk")
    due = Message.objects.filter(state=MessageState.QUEUED, not_before__lte=now).filter(
        Q(campaign__isnull=True) | Q(campaign_id__in=running)
    )
    return due.order_by().values("pk")[:limit].count()


def outbox_gauge(now: datetime) -> Gauge:
    counts = (
        Message.objects.filter(state=MessageState.QUEUED)
        .order_by()
        .aggregate(**{name: Count("pk", filter=condition) for name, condition in queue_conditions(now).items()})
    )
    return Gauge(
        "portal_outbox_messages",
        "Queued messages by what the outbox does with them now (due, held_by_campaign, scheduled, claimed, "
        "lease_expired).",
        ("state",),
        {(name,): n for name, n in counts.items()},
    )


def smpp_binds_gauge(now: datetime) -> Gauge:
    """Bind slots of each active SMPP connector by state; a slot no worker has taken yet counts as unbound."""
    stale_before = now - timedelta(seconds=STALE_BEATS * HEARTBEAT_SECONDS)
    values = {}
    for connector in smpp_connectors():
        slots = smpp_settings(connector).binds
        states = dict.fromkeys(BIND_STATES, 0)
        rows = list(SmppBind.objects.filter(connector=connector, slot__lt=slots))
        for bind in rows:
            states[bind_row(bind, stale_before)["state"]] += 1
        states[BindState.UNBOUND] += slots - len(rows)
        values.update({(connector.name, state): n for state, n in states.items()})
    return Gauge(
        "portal_smpp_binds",
        "Bind slots of the active SMPP connectors by state (stale: the holding worker stopped beating).",
        ("connector", "state"),
        values,
    )


def smpp_gateway_sessions_gauge(now: datetime) -> Gauge:
    """Customers' sessions bound to the SMPP gateway now, on every server, by bind type."""
    counts = dict(
        live_sessions(now).order_by().values("bind_type").annotate(n=Count("pk")).values_list("bind_type", "n")
    )
    return Gauge(
        "portal_smpp_gateway_sessions",
        "Customers' sessions bound to the SMPP gateway now (all servers), by bind type.",
        ("bind_type",),
        {(bind_type,): counts.get(bind_type, 0) for bind_type in SmppSession.BindType.values},
    )


def smpp_gateway_receipts_gauge(now: datetime) -> Gauge:
    """Receipts and MO waiting for a bound session of their system_id (no session bound: they pile up)."""
    pending = SmppReceipt.objects.filter(state=SmppReceipt.State.PENDING).order_by()
    counts = dict(pending.values("kind").annotate(n=Count("pk")).values_list("kind", "n"))
    return Gauge(
        "portal_smpp_gateway_pending",
        "Receipts and inbound messages waiting to go out as deliver_sm on the SMPP gateway, by kind.",
        ("kind",),
        {(kind,): counts.get(kind, 0) for kind in SmppReceipt.Kind.values},
    )


BACKLOGS = [Backlog("outbox_backlog", "READY_OUTBOX_BACKLOG_MAX", outbox_backlog)]
GAUGES = [outbox_gauge, smpp_binds_gauge, smpp_gateway_sessions_gauge, smpp_gateway_receipts_gauge]
