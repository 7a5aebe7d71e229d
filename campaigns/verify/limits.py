"""Who may be sent a code now: the account's countries, sends per number and per account, and the SMS pumping
guard (a destination prefix with too many sends is paused and the admins told; a low conversion rate alarms).

Per-number counts are exact (the caller holds the number's lock); the per-account rate is a fixed-window counter
in the shared cache (Redis in production).
"""

from datetime import datetime, timedelta

from django.db import IntegrityError, transaction
from django.urls import reverse

from campaigns.conf import setting
from campaigns.models import Verification, VerifyPrefixPause, VerifySettings, VerifyStatus
from portal.counters import count_hit
from portal.notify import notify_admins
from portal.service_errors import ServiceError

PREFIX_DIGITS = 6


def prefix_of(e164: str) -> str:
    """`+` and the first 6 digits: the unit the pumping guard counts (a number range of one operator)."""
    return e164[: PREFIX_DIGITS + 1]


def allowed_countries(config: VerifySettings) -> list[str]:
    return [code.upper() for code in config.allowed_countries or []] or [config.account.default_country.upper()]


def check_country(config: VerifySettings, country: str) -> None:
    allowed = allowed_countries(config)
    if country.upper() not in allowed:
        raise ServiceError(
            f"Verify may not send to {country or 'this country'}: the account allows {', '.join(allowed)} "
            "(Verify settings → allowed countries).",
            field="to",
        )


def check_number_rate(config: VerifySettings, e164: str, now: datetime) -> None:
    """At most `sends_per_number_per_hour` codes to one number (the caller holds the number's lock)."""
    recent = Verification.objects.filter(account=config.account, to=e164, created_at__gt=now - timedelta(hours=1))
    if recent.count() >= config.sends_per_number_per_hour:
        raise ServiceError(
            f"Too many codes sent to {e164}: at most {config.sends_per_number_per_hour} per hour.",
            code=ServiceError.RATE_LIMITED,
        )


def check_account_rate(config: VerifySettings, now: datetime) -> None:
    if count_hit(f"verify:sends:{config.account_id}", 60, now.timestamp()) > config.sends_per_account_per_minute:
        raise ServiceError(
            f"Too many Verify sends: the account allows {config.sends_per_account_per_minute} per minute.",
            code=ServiceError.RATE_LIMITED,
        )


def check_prefix(config: VerifySettings, prefix: str, now: datetime) -> None:
    """Refuse a paused prefix; pause one that had `prefix_limit` sends in the window (and tell the admins)."""
    pause = VerifyPrefixPause.objects.filter(account=config.account, prefix=prefix).first()
    if pause is not None and pause.until > now:
        raise _paused(prefix, pause.until)
    since = now - timedelta(minutes=setting("VERIFY_PREFIX_WINDOW_MINUTES"))
    if pause is not None:  # sends before a pause ended (or was lifted) do not count again
        since = max(since, pause.until)
    sends = Verification.objects.filter(account=config.account, prefix=prefix, created_at__gt=since).count()
    if sends < config.prefix_limit:
        return
    until = now + timedelta(minutes=setting("VERIFY_PREFIX_PAUSE_MINUTES"))
    if _pause(config, prefix, until, sends):
        notify_admins(
            config.account,
            f"Verify paused sends to {prefix}… until {until:%H:%M} UTC: {sends} codes in "
            f"{setting('VERIFY_PREFIX_WINDOW_MINUTES')} minutes looks like SMS pumping. Lift it on the Verify page.",
            link=reverse("campaigns:verify"),
            level="warning",
        )
    raise _paused(prefix, until)


def lift_pause(pause: VerifyPrefixPause, now: datetime) -> None:
    """End a pause now; the prefix's window starts again from here (the sends that caused it do not count)."""
    VerifyPrefixPause.objects.filter(pk=pause.pk).update(until=now, updated_at=now)


def _pause(config: VerifySettings, prefix: str, until: datetime, sends: int) -> bool:
    """Store the pause; True when it is new (an expired one is renewed)."""
    try:
        with transaction.atomic():
            updated = VerifyPrefixPause.objects.filter(account=config.account, prefix=prefix).update(
                until=until, sends=sends
            )
            if not updated:
                VerifyPrefixPause.objects.create(account=config.account, prefix=prefix, until=until, sends=sends)
    except IntegrityError:
        return False
    return True


def _paused(prefix: str, until: datetime) -> ServiceError:
    return ServiceError(
        f"Verify sends to {prefix}… are paused until {until:%Y-%m-%d %H:%M} UTC (unusual traffic to this prefix).",
        code=ServiceError.RATE_LIMITED,
    )


def check_send(config: VerifySettings, e164: str, country: str, now: datetime) -> None:
    """The limits on sending a code to `e164` now but the per-number one: country, paused or busy prefix (a new
    pause is recorded and told even though the send is refused, so call it outside the send's transaction),
    account rate. `check_number_rate` runs under the number's lock."""
    check_country(config, country)
    check_prefix(config, prefix_of(e164), now)
    check_account_rate(config, now)


def check_token_rate(token_id: int | None, now: datetime) -> None:
    """Checks per API token per minute (guessing across many requests)."""
    if token_id is None:
        return
    if count_hit(f"verify:checks:{token_id}", 60, now.timestamp()) > setting("VERIFY_CHECKS_PER_TOKEN_PER_MINUTE"):
        raise ServiceError("Too many code checks with this token; wait a minute.", code=ServiceError.RATE_LIMITED)


def conversion(account_id: int, since: datetime, until: datetime) -> tuple[int, int]:
    """(codes sent, codes verified) among the requests created in [since, until)."""
    window = Verification.objects.filter(account_id=account_id, created_at__gte=since, created_at__lt=until)
    return window.count(), window.filter(status=VerifyStatus.VERIFIED).count()


def raise_conversion_alarms(now: datetime) -> int:
    """Tell the admins of each account whose last hour converted under VERIFY_CONVERSION_ALARM_RATE (once an hour;
    requests younger than their expiry are not counted yet)."""
    alarms = 0
    active = Verification.objects.filter(created_at__gte=now - timedelta(hours=25)).values("account_id")
    for config in VerifySettings.objects.filter(account_id__in=active).select_related("account"):
        if config.conversion_alarm_sent_at and config.conversion_alarm_sent_at > now - timedelta(hours=1):
            continue
        until = now - timedelta(seconds=config.expiry_seconds)
        sent, verified = conversion(config.account_id, until - timedelta(hours=1), until)
        if sent < setting("VERIFY_CONVERSION_MIN_SENDS") or verified / sent >= setting("VERIFY_CONVERSION_ALARM_RATE"):
            continue
        notify_admins(
            config.account,
            f"Verify conversion is {verified / sent:.0%} ({verified} of {sent} codes checked in the last hour): "
            "codes sent but never used can mean SMS pumping. Review the Verify page and its allowed countries.",
            link=reverse("campaigns:verify"),
            level="warning",
        )
        VerifySettings.objects.filter(pk=config.pk).update(conversion_alarm_sent_at=now)
        alarms += 1
    return alarms
