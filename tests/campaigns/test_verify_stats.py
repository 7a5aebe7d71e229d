"""Verify figures: conversion and time-to-verify per window, codes per day, the time-to-verify histogram."""

from datetime import UTC, datetime, timedelta

import pytest

from campaigns.models import Verification, VerifyStatus
from campaigns.verify import stats

pytestmark = pytest.mark.django_db

NOW = datetime(2025, 3, 10, 12, 0, tzinfo=UTC)


def verification(account, *, age: timedelta, took: float | None = None, status=None) -> Verification:
    """A request created `age` before NOW; verified `took` seconds after it was sent when given."""
    created = NOW - age
    item = Verification.objects.create(
        account=account,
        to="+919876512345",
        prefix="+919876",
        code_hash="x",
        expire_at=created + timedelta(minutes=10),
        status=status or (VerifyStatus.VERIFIED if took is not None else VerifyStatus.SENT),
        verified_at=created + timedelta(seconds=took) if took is not None else None,
    )
    Verification.objects.filter(pk=item.pk).update(created_at=created)
    return item


def test_nearest_rank_and_duration_labels():
    assert [stats.nearest_rank(10, 0.5), stats.nearest_rank(10, 0.9), stats.nearest_rank(1, 0.9)] == [4, 8, 0]
    assert stats.nearest_rank(3, 0.5) == 1
    labels = [stats.duration_label(timedelta(seconds=s)) for s in (4.25, 42.4, 120, 185)]
    assert labels == ["4.2 s", "42 s", "2 min", "3 min 5 s"]
    assert stats.duration_label(None) == "—"


def test_summaries_count_conversion_and_percentiles_per_window(account):
    for seconds in (5, 12, 20, 40, 70, 90, 150, 200, 400, 30):
        verification(account, age=timedelta(hours=2), took=seconds)
    verification(account, age=timedelta(hours=3))
    verification(account, age=timedelta(days=3), took=600)
    verification(account, age=timedelta(days=3), status=VerifyStatus.EXPIRED)
    verification(account, age=timedelta(days=8), took=1)

    day, week = stats.summaries(account, NOW)
    assert (day.label, day.sent, day.verified) == ("Last 24 hours", 11, 10)
    assert day.rate == pytest.approx(10 / 11)
    assert (day.median, day.p90) == (timedelta(seconds=40), timedelta(seconds=200))
    assert (week.sent, week.verified, week.p90) == (13, 11, timedelta(seconds=400))


def test_an_empty_window_has_no_rate_nor_times(account, other_account):
    verification(other_account, age=timedelta(hours=1), took=3)
    day, _ = stats.summaries(account, NOW)
    assert (day.sent, day.rate, day.median, day.p90) == (0, None, None, None)
    assert all(
        bar["count"] == 0 and bar["height"] == 0 for bar in stats.histogram(account, NOW - timedelta(days=7), NOW)
    )


def test_histogram_buckets_time_to_verify(account):
    for seconds in (1, 9.9, 10, 29, 30, 59, 60, 119, 120, 299, 300, 3000, 4000):
        verification(account, age=timedelta(hours=1), took=seconds)
    bars = stats.histogram(account, NOW - timedelta(days=7), NOW)
    assert [(bar["label"], bar["count"]) for bar in bars] == [
        ("<10s", 2),
        ("10-30s", 2),
        ("30-60s", 2),
        ("1-2 min", 2),
        ("2-5 min", 2),
        (">5 min", 3),
    ]
    assert [bar["height"] for bar in bars] == [67, 67, 67, 67, 67, 100]


def test_daily_has_fourteen_days_in_the_accounts_time_zone(account):
    # Asia/Kolkata is UTC+5:30: 20:00 UTC on March 9 is March 10 there
    verification(account, age=timedelta(hours=16), took=5)
    verification(account, age=timedelta(hours=16))
    verification(account, age=timedelta(days=13, hours=1))
    verification(account, age=timedelta(days=20))
    chart = stats.daily(account, NOW)
    assert len(chart) == 14
    assert (chart[0]["day"].isoformat(), chart[-1]["day"].isoformat()) == ("2025-02-25", "2025-03-10")
    assert (chart[-1]["sent"], chart[-1]["verified"], chart[-1]["sent_height"], chart[-1]["verified_height"]) == (
        2,
        1,
        100,
        50,
    )
    assert chart[0]["sent"] == 1
    assert sum(day["sent"] for day in chart) == 3
