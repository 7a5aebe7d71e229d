"""Fixed-window counters in the shared cache (Redis in production): the API rate limits and Verify's."""

from django.core.cache import cache


def count_hit(name: str, window_seconds: int, now: float) -> int:
    """Count one hit of `name` in the current window of `window_seconds` and return the window's count."""
    key = f"{name}:{window_seconds}:{int(now // window_seconds)}"
    cache.add(key, 0, timeout=window_seconds + 1)
    try:
        return cache.incr(key)
    except ValueError:  # the key expired between add and incr
        cache.set(key, 1, timeout=window_seconds + 1)
        return 1
