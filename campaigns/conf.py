"""Sending settings with their defaults; override any of them in Django settings or the environment.

Precedence: a Django setting of the same name, then an environment variable (parsed like the default: numbers,
booleans "1"/"0", comma-separated tuples), then the default below.
"""

import os

from django.conf import settings

DEFAULTS = {
    # Promotional (P, legacy SE) messages to India only leave between these IST hours.
    "SMS_INDIA_PROMOTIONAL_HOLD": True,
    "SMS_INDIA_PROMOTIONAL_HOURS": (9, 21),
    # Outbox: messages claimed per batch, the claim lease, and retries of transient connector errors.
    "SMS_OUTBOX_BATCH_SIZE": 500,
    "SMS_OUTBOX_LEASE_SECONDS": 60,
    "SMS_OUTBOX_TASK_SECONDS": 20,
    "SMS_OUTBOX_PARALLELISM": 2,
    "SMS_RETRY_MAX_ATTEMPTS": 5,
    "SMS_RETRY_BASE_SECONDS": 5,
    "SMS_RETRY_MAX_SECONDS": 900,
    # Scheduling windows (seed: up to 30 days ahead, cancellable until 5 minutes before).
    "SMS_SCHEDULE_MAX_DAYS": 30,
    "SMS_CANCEL_CUTOFF_MINUTES": 5,
    # A start time this many seconds in the past still counts as "now" (the time it took to submit the form).
    "SMS_SCHEDULE_PAST_GRACE_SECONDS": 60,
    # Simulator connector: seconds between acceptance and its delivery report.
    "SMS_SIMULATOR_DLR_DELAY_SECONDS": 2.0,
    # Absolute base of the delivery report callback URLs handed to upstream connectors.
    "SMS_CALLBACK_BASE_URL": "http://127.0.0.1:8000",
    # Countries whose operators refuse text matching no approved template of the sender (DLT: 452).
    "SMS_TEMPLATE_MATCH_COUNTRIES": ("IN",),
    # A preparation not heard from for this long (crashed worker) is started again.
    "SMS_PREPARE_LEASE_SECONDS": 300,
    # Preparation: Message rows written per bulk insert.
    "SMS_PREPARE_CHUNK_SIZE": 5000,
    # Preparation on PostgreSQL: threads (each with a connection) writing chunks while the next are rendered.
    "SMS_PREPARE_WRITERS": 2,
    # Smart links: the short host's base URL (codes are served under its path), the code length (base62), and a
    # MaxMind DB (.mmdb) file for the country of a visit (empty: no place recorded).
    "SHORT_LINK_BASE_URL": "http://127.0.0.1:8000/l",
    "SHORT_LINK_CODE_LENGTH": 8,
    "SHORT_LINK_GEOIP_DATABASE": "",
    # A visit is written once its 302 has been sent (the phone does not wait for it); off: before answering.
    "SHORT_LINK_RECORD_AFTER_ANSWER": True,
    # Verify: wrong checks before a code is dead; checks per API token per minute.
    "VERIFY_MAX_CHECKS": 5,
    "VERIFY_CHECKS_PER_TOKEN_PER_MINUTE": 600,
    # Verify pumping guard: sends to one 6-digit prefix counted over this window; a prefix over the account's
    # limit is paused this long. Conversion alarm: at least this many sends in the last hour, under this rate.
    "VERIFY_PREFIX_WINDOW_MINUTES": 10,
    "VERIFY_PREFIX_PAUSE_MINUTES": 60,
    "VERIFY_CONVERSION_MIN_SENDS": 50,
    "VERIFY_CONVERSION_ALARM_RATE": 0.2,
}


def _from_env(raw: str, default):
    if isinstance(default, bool):
        return raw.strip().lower() in {"1", "true", "yes", "on"}
    if isinstance(default, tuple):
        items = [item.strip() for item in raw.split(",") if item.strip()]
        return tuple(type(default[0])(item) for item in items) if default else tuple(items)
    return type(default)(raw)


def setting(name: str):
    if hasattr(settings, name):
        return getattr(settings, name)
    default = DEFAULTS[name]
    raw = os.environ.get(name)
    return default if raw is None else _from_env(raw, default)
