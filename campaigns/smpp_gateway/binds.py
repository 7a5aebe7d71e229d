"""Binds of the SMPP gateway, and the registry of bound sessions every server process shares (PostgreSQL rows, so
a bind limit holds across processes and machines, and receipts find a session of their system_id anywhere).

A refused bind is recorded (`SmppBindFailure`, with the account when the system_id is known) and answered with
the status of `statuses`; an address with repeated failures waits longer for each answer (`failure_delay`).
"""

from dataclasses import dataclass
from datetime import timedelta

from django.db import close_old_connections, transaction
from django.db.models import Count
from django.utils import timezone

from campaigns.models import SmppBindFailure, SmppCredential, SmppSession
from campaigns.smpp_gateway import statuses
from campaigns.smpp_gateway.statuses import Status
from campaigns.smpp_gateway.sweeps import live_sessions
from portal.models import AccountStatus

SYSTEM_TYPES = {"", "smpp"}
FAILURE_WINDOW = timedelta(minutes=10)
FREE_FAILURES = 3  # failures from one address in the window before answers slow down
MAX_FAILURE_DELAY = 10.0


class BindRefused(Exception):
    def __init__(self, status: Status, reason: str):
        super().__init__(reason)
        self.status, self.reason = status, reason


@dataclass(frozen=True)
class BindRequest:
    system_id: str
    password: str
    system_type: str
    bind_type: str  # transmitter / receiver / transceiver
    interface_version: int
    ip: str
    address: str  # ip:port
    tls: bool


@dataclass(frozen=True)
class Bound:
    credential_id: int
    account_id: int
    system_id: str
    session_uid: str
    throughput: int
    window: int
    sessions_bound: int  # live sessions of the credential on every server, this one included


def failure_delay(ip: str) -> float:
    """Seconds to wait before answering a bind from `ip`: 0 for the first few failures in 10 minutes, then
    doubling up to 10 s (slows password guessing without locking the customer out)."""
    close_old_connections()
    since = timezone.now() - FAILURE_WINDOW
    failures = SmppBindFailure.objects.filter(address=ip, created_at__gte=since).count()
    if failures < FREE_FAILURES:
        return 0.0
    return min(2.0 ** (failures - FREE_FAILURES), MAX_FAILURE_DELAY)


def bind(request: BindRequest, server: str) -> Bound:
    """Check the credentials and register the session; raises `BindRefused` (recorded) when refused."""
    close_old_connections()
    credential = SmppCredential.objects.select_related("account").filter(system_id=request.system_id).first()
    try:
        _check(request, credential)
        return _register(request, credential, server)
    except BindRefused as refused:
        SmppBindFailure.objects.create(
            account=credential.account if credential is not None else None,
            system_id=request.system_id[:64],
            address=request.ip,
            reason=refused.reason[:200],
            command_status=refused.status.number,
        )
        raise


def _check(request: BindRequest, credential: SmppCredential | None) -> None:
    if credential is None:
        raise BindRefused(statuses.INVALID_SYSTEM_ID, "unknown system_id")
    if not credential.check_password(request.password):
        raise BindRefused(statuses.INVALID_PASSWORD, "wrong password")
    if request.system_type.lower() not in SYSTEM_TYPES:
        raise BindRefused(statuses.INVALID_SYSTEM_TYPE, f"system_type {request.system_type!r} (use smpp)")
    if not credential.is_active:
        raise BindRefused(statuses.BIND_FAILED, "the credential is deactivated")
    if credential.account.status != AccountStatus.ACTIVE:
        raise BindRefused(statuses.BIND_FAILED, "the account is suspended")
    if not credential.allows_ip(request.ip):
        raise BindRefused(statuses.BIND_FAILED, f"address {request.ip} is not in the credential's IP list")


def _register(request: BindRequest, credential: SmppCredential, server: str) -> Bound:
    """The session row, written while the credential row is locked, so two processes binding at once cannot both
    take the last place under the bind limit."""
    now = timezone.now()
    with transaction.atomic():
        SmppCredential.objects.select_for_update().filter(pk=credential.pk).first()
        live = live_sessions(now).filter(credential=credential).count()
        if live >= credential.bind_limit:
            raise BindRefused(statuses.BIND_FAILED, f"bind limit reached ({credential.bind_limit} sessions bound)")
        session = SmppSession.objects.create(
            account_id=credential.account_id,
            credential=credential,
            server=server[:120],
            address=request.address[:64],
            bind_type=request.bind_type,
            tls=request.tls,
            interface_version=request.interface_version,
            bound_at=now,
            last_seen_at=now,
        )
        SmppCredential.objects.filter(pk=credential.pk).update(last_bound_at=now)
    return Bound(
        credential_id=credential.pk,
        account_id=credential.account_id,
        system_id=credential.system_id,
        session_uid=str(session.uid),
        throughput=credential.throughput,
        window=credential.window,
        sessions_bound=live + 1,
    )


@dataclass(frozen=True)
class SessionFigures:
    uid: str
    credential_id: int
    submitted: int
    refused: int
    delivered: int
    rate: float


def touch_sessions(figures: list[SessionFigures]) -> dict[int, int]:
    """The server's heartbeat: its sessions are alive, with their counters and submit rate. Answers the live
    sessions of each of their credentials on every server (for the server's share of the throughput)."""
    close_old_connections()
    now = timezone.now()
    for item in figures:
        SmppSession.objects.filter(uid=item.uid).update(
            last_seen_at=now,
            submitted=item.submitted,
            refused=item.refused,
            delivered=item.delivered,
            rate=round(item.rate, 2),
            updated_at=now,
        )
    credential_ids = {item.credential_id for item in figures}
    counted = live_sessions(now).filter(credential_id__in=credential_ids).values("credential_id")
    return dict(counted.annotate(bound=Count("pk")).values_list("credential_id", "bound"))


def end_session(uid: str) -> None:
    close_old_connections()
    SmppSession.objects.filter(uid=uid).delete()
