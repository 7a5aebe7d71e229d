"""When a message may leave: batches of N every M minutes, the India promotional window, retry backoff, the hold of
a Smart Delivery campaign until its test batch is judged."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from campaigns.conf import setting

INDIA_TIME = ZoneInfo("Asia/Kolkata")
# Far beyond any schedule (30 days) or retry backoff: only the Smart Delivery verdict moves a held message earlier.
SMART_DELIVERY_HOLD = timedelta(days=365)


def batch_release_time(start: datetime, index: int, batch_size: int | None, interval_minutes: int | None) -> datetime:
    """When the `index`-th recipient (0-based) may leave: one batch of `batch_size` every `interval_minutes`."""
    if not batch_size or not interval_minutes:
        return start
    return start + timedelta(minutes=(index // batch_size) * interval_minutes)


def first_release(start: datetime, smart_delivery: bool) -> datetime:
    """When a campaign's first batch may leave: at its start, or held (`SMART_DELIVERY_HOLD` later) for a Smart
    Delivery campaign, whose test batch is then moved to now and the rest once the test batch passed
    (`campaigns.sending.smart_delivery`)."""
    return start + SMART_DELIVERY_HOLD if smart_delivery else start


def in_india_promotional_hours(moment: datetime) -> bool:
    start, end = setting("SMS_INDIA_PROMOTIONAL_HOURS")
    return start <= moment.astimezone(INDIA_TIME).hour < end


def india_hold_active(moment: datetime) -> bool:
    """True when promotional messages to India must wait (outside 09:00-21:00 IST)."""
    return bool(setting("SMS_INDIA_PROMOTIONAL_HOLD")) and not in_india_promotional_hours(moment)


def backoff_seconds(attempts: int) -> int:
    """Wait before the next try of a transient failure: 5 s, 10 s, 20 s, … capped."""
    return min(setting("SMS_RETRY_BASE_SECONDS") * 2 ** max(attempts - 1, 0), setting("SMS_RETRY_MAX_SECONDS"))
