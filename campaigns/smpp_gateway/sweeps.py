"""Housekeeping of the SMPP gateway's rows, run by beat: receipts nobody collected in time expire, finished
receipts and old bind failures go, and the sessions of server processes that died (their `last_seen_at` stopped
moving) are removed so they no longer count against the bind limit or show on the page."""

from datetime import datetime, timedelta

from django.db.models import Count, Q
from django.utils import timezone

from campaigns.models import SmppBindFailure, SmppReceipt, SmppSession
from campaigns.smpp_gateway.conf import setting

FINISHED = (SmppReceipt.State.DELIVERED, SmppReceipt.State.EXPIRED)


def stale_cutoff(now: datetime | None = None) -> datetime:
    """A session last seen before this belongs to a dead server process."""
    return (now or timezone.now()) - timedelta(seconds=setting("SMPP_SESSION_STALE_SECONDS"))


def live_sessions(now: datetime | None = None):
    """Sessions bound now: their server touched them within `SMPP_SESSION_STALE_SECONDS`."""
    return SmppSession.objects.filter(last_seen_at__gte=stale_cutoff(now))


def with_sessions_bound(credentials):
    """Credentials annotated with `sessions_bound`: their live sessions on every server (the page, the API)."""
    bound_now = Q(sessions__last_seen_at__gte=stale_cutoff())
    return credentials.annotate(sessions_bound=Count("sessions", filter=bound_now))


def expire_receipts(now: datetime | None = None) -> int:
    """Pending receipts past their `expire_at` that no session holds in flight become expired."""
    now = now or timezone.now()
    idle = Q(lease_until__isnull=True) | Q(lease_until__lt=now)
    return (
        SmppReceipt.objects.filter(state=SmppReceipt.State.PENDING, expire_at__lte=now)
        .filter(idle)
        .update(state=SmppReceipt.State.EXPIRED, session="", lease_until=None, updated_at=now)
    )


def purge_finished_receipts(now: datetime | None = None) -> int:
    """Delivered and expired receipts older than `SMPP_RECEIPT_KEEP_DAYS` are deleted."""
    cutoff = (now or timezone.now()) - timedelta(days=setting("SMPP_RECEIPT_KEEP_DAYS"))
    deleted, _ = SmppReceipt.objects.filter(state__in=FINISHED, created_at__lt=cutoff).delete()
    return deleted


def drop_stale_sessions(now: datetime | None = None) -> int:
    deleted, _ = SmppSession.objects.filter(last_seen_at__lt=stale_cutoff(now)).delete()
    return deleted


def prune_bind_failures(now: datetime | None = None) -> int:
    """Bind failures older than `SMPP_BIND_FAILURE_KEEP_DAYS` (30) are deleted."""
    cutoff = (now or timezone.now()) - timedelta(days=setting("SMPP_BIND_FAILURE_KEEP_DAYS"))
    deleted, _ = SmppBindFailure.objects.filter(created_at__lt=cutoff).delete()
    return deleted
