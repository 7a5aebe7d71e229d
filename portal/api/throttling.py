"""Per-token rate limits: reads per minute and writes per second, overridable per account."""

import time

from django.conf import settings
from rest_framework.permissions import SAFE_METHODS
from rest_framework.throttling import BaseThrottle

from portal.counters import count_hit


def clock() -> float:
    """Seconds since the epoch; tests replace it to pin the window."""
    return time.time()


class TokenRateThrottle(BaseThrottle):
    """Fixed-window counters in the cache, keyed by token (or by user for browser sessions)."""

    def allow_request(self, request, view) -> bool:
        limit, window = self.limit_for(request)
        if limit is None:
            return True
        now = clock()
        kind = "r" if request.method in SAFE_METHODS else "w"
        count = count_hit(f"throttle:{kind}:{self.identity(request)}", window, now)
        self._wait = (int(now // window) + 1) * window - now
        return count <= limit

    def wait(self):
        return getattr(self, "_wait", 1)

    @staticmethod
    def identity(request) -> str:
        token = getattr(request, "token", None)
        if token is not None:
            return f"t{token.pk}"
        return f"u{request.user.pk}" if request.user and request.user.is_authenticated else "anon"

    @staticmethod
    def limit_for(request) -> tuple[int | None, int]:
        account = getattr(request, "account", None)
        if request.method in SAFE_METHODS:
            limit = getattr(account, "api_read_rate_per_minute", None) or settings.API_READ_RATE_PER_MINUTE
            return limit, 60
        limit = getattr(account, "api_write_rate_per_second", None) or settings.API_WRITE_RATE_PER_SECOND
        return limit, 1
