"""One HTTP attempt of a webhook delivery: SSRF-checked, pinned to the checked address, redirects not followed."""

import http.client
import ssl
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

from portal.webhooks import ssrf

USER_AGENT = "CPaaS-Portal-Webhooks/1.0"
DEFAULT_TIMEOUT = 3.0
MIN_TIMEOUT = 0.1
MAX_TIMEOUT = 30.0
EXCERPT_BYTES = 2048
MAX_RETRY_AFTER = 100_000.0


@dataclass(frozen=True)
class OutgoingRequest:
    method: str
    url: str
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""


@dataclass(frozen=True)
class AttemptResult:
    """What one attempt produced: the status (None when no HTTP answer), a bounded excerpt, timing, error."""

    status_code: int | None
    response_excerpt: str = ""
    duration_ms: int = 0
    error: str = ""
    retry_after: float | None = None
    address: str = ""

    @property
    def succeeded(self) -> bool:
        return not self.error and self.status_code is not None and 200 <= self.status_code < 300


def clamp_timeout(seconds: float | None) -> float:
    """The timeout to use: the default when unset, otherwise within 0.1 to 30 s."""
    if seconds is None:
        return DEFAULT_TIMEOUT
    return min(max(float(seconds), MIN_TIMEOUT), MAX_TIMEOUT)


def parse_retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds to wait from a Retry-After header (delta seconds or an HTTP date), capped; None if absent/bad."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return min(float(value), MAX_RETRY_AFTER)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    seconds = (when - (now or datetime.now(UTC))).total_seconds()
    return min(max(seconds, 0.0), MAX_RETRY_AFTER)


def _error_for_status(status: int, location: str | None) -> str:
    if 200 <= status < 300:
        return ""
    if 300 <= status < 400:
        return f"HTTP {status}: redirect to {location or '(no Location)'} not followed"
    return f"HTTP {status}"


class ConnectionPool:
    """Open connections kept between the attempts of one queue run (HTTP keep-alive), one per checked target.

    A connection is only reused for the same host, port and set of checked addresses."""

    def __init__(self):
        self._connections: dict[tuple, http.client.HTTPConnection] = {}

    @staticmethod
    def key(target: ssrf.Target) -> tuple:
        return (target.scheme, target.host, target.port, target.addresses)

    def take(self, target: ssrf.Target) -> http.client.HTTPConnection | None:
        return self._connections.pop(self.key(target), None)

    def give_back(self, target: ssrf.Target, connection: http.client.HTTPConnection) -> None:
        previous = self._connections.pop(self.key(target), None)
        if previous is not None:
            previous.close()
        self._connections[self.key(target)] = connection

    def close(self) -> None:
        for connection in self._connections.values():
            connection.close()
        self._connections.clear()

    def __enter__(self) -> "ConnectionPool":
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()


@dataclass(frozen=True)
class _Answer:
    status: int
    excerpt: str
    location: str | None
    retry_after: str | None
    address: str
    reusable: bool


def _exchange(connection, target: ssrf.Target, request: OutgoingRequest, headers: dict, deadline: float) -> _Answer:
    connection.request(request.method, target.request_target, body=request.body or None, headers=headers)
    address = connection.sock.getpeername()[0]
    connection.sock.settimeout(max(deadline - time.monotonic(), MIN_TIMEOUT))
    response = connection.getresponse()
    data = response.read(EXCERPT_BYTES)
    return _Answer(
        status=response.status,
        excerpt=data.decode("utf-8", errors="replace"),
        location=response.getheader("Location"),
        retry_after=response.getheader("Retry-After"),
        address=address,
        reusable=response.isclosed() and not response.will_close,
    )


STALE_CONNECTION_ERRORS = (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError)


def send(
    request: OutgoingRequest,
    *,
    timeout: float | None = None,
    policy: ssrf.Policy | None = None,
    resolver: ssrf.Resolver | None = None,
    ssl_context: ssl.SSLContext | None = None,
    pool: ConnectionPool | None = None,
) -> AttemptResult:
    """Make one attempt. Never raises for network trouble: the result carries the error."""
    timeout = clamp_timeout(timeout)
    started = time.monotonic()

    def failure(error: str) -> AttemptResult:
        return AttemptResult(status_code=None, duration_ms=int((time.monotonic() - started) * 1000), error=error)

    try:
        target = ssrf.check_url(request.url, policy=policy, resolver=resolver)
    except ssrf.UnsafeURL as exc:
        return failure(f"Refused: {exc}")
    headers = {"User-Agent": USER_AGENT, **request.headers}
    pooled = pool.take(target) if pool is not None else None
    connection = pooled or ssrf.connection_for(target, timeout, ssl_context)
    try:
        if pooled is not None:
            pooled.sock.settimeout(timeout)
        try:
            answer = _exchange(connection, target, request, headers, started + timeout)
        except STALE_CONNECTION_ERRORS:
            if pooled is None:
                raise
            connection.close()  # the server closed the idle kept-alive connection: one fresh try
            connection = ssrf.connection_for(target, timeout, ssl_context)
            answer = _exchange(connection, target, request, headers, started + timeout)
    except TimeoutError:
        connection.close()
        return failure(f"No answer within {timeout:g} s")
    except (OSError, http.client.HTTPException) as exc:
        connection.close()
        return failure(f"Connection failed: {exc}")
    if pool is not None and answer.reusable:
        pool.give_back(target, connection)
    else:
        connection.close()
    return AttemptResult(
        status_code=answer.status,
        response_excerpt=answer.excerpt,
        duration_ms=int((time.monotonic() - started) * 1000),
        error=_error_for_status(answer.status, answer.location),
        retry_after=parse_retry_after(answer.retry_after) if answer.status in (429, 503) else None,
        address=answer.address,
    )
