"""A connector's live status, as the staff API and the staff page show it: its bind slots (state, since, last
error, window in use, submits, receipts, msg/s, holder; stale when the holder stopped beating) and its backlog."""

from datetime import timedelta

from django.db.models import Count
from django.utils import timezone

from campaigns.connectors.settings import smpp_settings
from campaigns.models import Connector, ConnectorKind, Message, PendingReceipt, SmppBind
from campaigns.states import MessageState

STALE_BEATS = 3
HEARTBEAT_SECONDS = 5


def bind_row(bind: SmppBind, stale_before) -> dict:
    """One bind slot as the status page and /metrics show it; `stale` when its worker stopped beating."""
    stale = bool(bind.worker) and (bind.heartbeat_at is None or bind.heartbeat_at < stale_before)
    return {
        "slot": bind.slot,
        "state": "stale" if stale else bind.state,
        "mode": bind.mode,
        "since": bind.state_since.isoformat() if bind.state_since else None,
        "last_error": bind.last_error,
        "last_error_at": bind.last_error_at.isoformat() if bind.last_error_at else None,
        "window_in_use": bind.window_in_use,
        "submitted": bind.submitted,
        "receipts": bind.receipts,
        "rate": bind.rate if not stale else 0.0,
        "worker": bind.worker,
        "heartbeat_at": bind.heartbeat_at.isoformat() if bind.heartbeat_at else None,
    }


def connector_status(connector: Connector) -> dict:
    """Binds and counters of one connector (binds are empty for kinds without sessions)."""
    binds = []
    if connector.kind == ConnectorKind.SMPP:
        settings = smpp_settings(connector)
        stale_before = timezone.now() - timedelta(seconds=STALE_BEATS * HEARTBEAT_SECONDS)
        rows = SmppBind.objects.filter(connector=connector, slot__lt=settings.binds).order_by("slot")
        binds = [bind_row(bind, stale_before) for bind in rows]
    open_states = [MessageState.QUEUED, MessageState.SENT, MessageState.UNKNOWN]
    counts = dict(
        Message.objects.filter(connector=connector, state__in=open_states)
        .order_by()
        .values_list("state")
        .annotate(n=Count("id"))
    )
    return {
        "id": str(connector.uid),
        "name": connector.name,
        "kind": connector.kind,
        "is_active": connector.is_active,
        "binds": binds,
        "bound": sum(1 for bind in binds if bind["state"] == "bound"),
        "rate": round(sum(bind["rate"] for bind in binds), 1),
        "window_in_use": sum(bind["window_in_use"] for bind in binds),
        "queued": counts.get(MessageState.QUEUED, 0),
        "awaiting_report": counts.get(MessageState.SENT, 0),
        "unknown": counts.get(MessageState.UNKNOWN, 0),
        "pending_receipts": PendingReceipt.objects.filter(connector=connector).count(),
    }
