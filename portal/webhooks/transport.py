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


def _read_excerpt(response: http.client.HTTPResponse) -> str:
    data = response.read(EXCERPT_BYTES)
    return data.decode("utf-8", errors="replace")


def _error_for_status(status: int, location: str | None) -> str:
    if 200 <= status < 300:
        return ""
    if 300 <= status < 400:
        return f"HTTP {status}: redirect to {location or '(no Location)'} not followed"
    return f"HTTP {status}"


def send(
    request: OutgoingRequest,
    *,
    timeout: float | None = None,
    policy: ssrf.Policy | None = None,
    resolver: ssrf.Resolver | None = None,
    ssl_context: ssl.SSLContext | None = None,
) -> AttemptResult:
    """Make one attempt. Never raises for network trouble: the result carries the error."""
    timeout = clamp_timeout(timeout)
    started = time.monotonic()

    def elapsed_ms() -> int:
        return int((time.monotonic() - started) * 1000)

    try:
        target = ssrf.check_url(request.url, policy=policy, resolver=resolver)
    except ssrf.UnsafeURL as exc:
        return AttemptResult(status_code=None, duration_ms=elapsed_ms(), error=f"Refused: {exc}")
    headers = {"User-Agent": USER_AGENT, **request.headers}
    connection = ssrf.connection_for(target, timeout, ssl_context)
    try:
        connection.request(request.method, target.request_target, body=request.body or None, headers=headers)
        address = connection.sock.getpeername()[0]
        connection.sock.settimeout(max(timeout - (time.monotonic() - started), MIN_TIMEOUT))
        response = connection.getresponse()
        excerpt = _read_excerpt(response)
    except TimeoutError:
        return AttemptResult(status_code=None, duration_ms=elapsed_ms(), error=f"No answer within {timeout:g} s")
    except (OSError, http.client.HTTPException) as exc:
        return AttemptResult(status_code=None, duration_ms=elapsed_ms(), error=f"Connection failed: {exc}")
    finally:
        connection.close()
    status = response.status
    return AttemptResult(
        status_code=status,
        response_excerpt=excerpt,
        duration_ms=elapsed_ms(),
        error=_error_for_status(status, response.getheader("Location")),
        retry_after=parse_retry_after(response.getheader("Retry-After")) if status in (429, 503) else None,
        address=address,
    )
