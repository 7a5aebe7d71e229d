"""Verify figures of an account for the Verify page: conversion and time-to-verify per window, codes per day and
a histogram of the time from send to a successful check (verified_at - created_at). Counted in the database."""

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import Count, DurationField, ExpressionWrapper, F, Q
from django.db.models.functions import TruncDate

from campaigns.models import Verification, VerifyStatus
from campaigns.verify.limits import conversion
from portal.accounts import zone_of

DAYS_CHARTED = 14
WINDOWS = (("Last 24 hours", timedelta(hours=24)), ("Last 7 days", timedelta(days=7)))
# (label, upper bound in seconds, exclusive; None: no bound)
BUCKETS = (
    ("<10s", 10),
    ("10-30s", 30),
    ("30-60s", 60),
    ("1-2 min", 120),
    ("2-5 min", 300),
    (">5 min", None),
)


@dataclass(frozen=True)
class Summary:
    """One window: codes sent, codes verified, and the median and 90th percentile time to verify."""

    label: str
    sent: int
    verified: int
    median: timedelta | None
    p90: timedelta | None

    @property
    def rate(self) -> float | None:
        return self.verified / self.sent if self.sent else None


def nearest_rank(count: int, fraction: float) -> int:
    """The 0-based index of the `fraction` percentile of `count` sorted values (nearest-rank method)."""
    return max(0, math.ceil(fraction * count) - 1)


def duration_label(value: timedelta | None) -> str:
    """`8.4 s`, `42 s`, `3 min 5 s`, or `—` for none."""
    if value is None:
        return "—"
    seconds = value.total_seconds()
    if seconds < 10:
        return f"{seconds:.1f} s"
    if seconds < 60:
        return f"{round(seconds)} s"
    minutes, rest = divmod(round(seconds), 60)
    return f"{minutes} min {rest} s" if rest else f"{minutes} min"


def bar_height(value: int, peak: int) -> int:
    """A bar's height in percent of the tallest one."""
    return round(100 * value / peak) if peak else 0


def verified_durations(account, since: datetime, until: datetime):
    """The verified requests created in [since, until), each annotated with `took` (verified_at - created_at)."""
    took = ExpressionWrapper(F("verified_at") - F("created_at"), output_field=DurationField())
    return Verification.objects.filter(
        account=account, created_at__gte=since, created_at__lt=until, status=VerifyStatus.VERIFIED
    ).annotate(took=took)


def percentile(durations, count: int, fraction: float) -> timedelta | None:
    if not count:
        return None
    return durations.order_by("took").values_list("took", flat=True)[nearest_rank(count, fraction)]


def summary(account, label: str, since: datetime, until: datetime) -> Summary:
    sent, verified = conversion(account.pk, since, until)
    durations = verified_durations(account, since, until)
    median, p90 = percentile(durations, verified, 0.5), percentile(durations, verified, 0.9)
    return Summary(label, sent, verified, median, p90)


def summaries(account, now: datetime) -> list[Summary]:
    return [summary(account, label, now - span, now) for label, span in WINDOWS]


def histogram(account, since: datetime, until: datetime) -> list[dict]:
    """Verified requests per time-to-verify bucket: `{label, count, height}` in BUCKETS order."""
    conditions, lower = {}, timedelta(0)
    for index, (_, upper) in enumerate(BUCKETS):
        bound = Q(took__gte=lower) if upper is None else Q(took__gte=lower, took__lt=timedelta(seconds=upper))
        conditions[f"bucket_{index}"] = Count("id", filter=bound)
        lower = timedelta(seconds=upper or 0)
    totals = verified_durations(account, since, until).aggregate(**conditions)
    counts = [totals[f"bucket_{index}"] for index in range(len(BUCKETS))]
    peak = max(counts, default=0)
    return [
        {"label": label, "count": count, "height": bar_height(count, peak)}
        for (label, _), count in zip(BUCKETS, counts, strict=True)
    ]


def daily(account, now: datetime, days: int = DAYS_CHARTED) -> list[dict]:
    """Codes sent and verified per day of the account's time zone, the last `days` days up to today (oldest
    first, days without codes included): `{day, sent, verified, sent_height, verified_height}`."""
    zone = zone_of(account)
    today = now.astimezone(zone).date()
    first = today - timedelta(days=days - 1)
    since = datetime.combine(first, datetime.min.time(), tzinfo=zone)
    rows = (
        Verification.objects.filter(account=account, created_at__gte=since, created_at__lte=now)
        .annotate(day=TruncDate("created_at", tzinfo=zone))
        .order_by()
        .values("day")
        .annotate(sent=Count("id"), verified=Count("id", filter=Q(status=VerifyStatus.VERIFIED)))
    )
    by_day = {row["day"]: (row["sent"], row["verified"]) for row in rows}
    peak = max((sent for sent, _ in by_day.values()), default=0)
    chart = []
    for offset in range(days):
        day = first + timedelta(days=offset)
        sent, verified = by_day.get(day, (0, 0))
        chart.append(
            {
                "day": day,
                "sent": sent,
                "verified": verified,
                "sent_height": bar_height(sent, peak),
                "verified_height": bar_height(verified, peak),
            }
        )
    return chart
