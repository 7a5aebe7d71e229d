"""Rows the SMPP server writes (bound sessions, refused binds), made directly for the page and API tests."""

from datetime import timedelta

from django.utils import timezone

from campaigns.models import SmppBindFailure, SmppSession

ESME_RINVPASWD = 0x0E


def bound_session(credential, *, seen_seconds_ago: float = 0, **fields) -> SmppSession:
    """A session of `credential` its server last touched `seen_seconds_ago`."""
    now = timezone.now()
    values = {
        "server": "test-host:1",
        "address": "127.0.0.1:40001",
        "bind_type": SmppSession.BindType.TRANSCEIVER,
        "bound_at": now - timedelta(minutes=5),
        "last_seen_at": now - timedelta(seconds=seen_seconds_ago),
    }
    return SmppSession.objects.create(account=credential.account, credential=credential, **(values | fields))


def bind_failure(account, system_id: str, *, address: str = "203.0.113.9", **fields) -> SmppBindFailure:
    values = {"reason": "Wrong password.", "command_status": ESME_RINVPASWD}
    return SmppBindFailure.objects.create(account=account, system_id=system_id, address=address, **(values | fields))
