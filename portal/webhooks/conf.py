"""Webhook settings with their defaults; each can be set in Django settings or in the environment."""

import os

from django.conf import settings

from portal.webhooks import ssrf

DEFAULTS = {
    # Seconds to wait for a 2xx answer (seed: 3 s); a webhook may set its own, up to 30 s.
    "WEBHOOK_TIMEOUT_SECONDS": 3.0,
    # Delays before the retries of a failed delivery (seed: 10 s, 100 s, 1,000 s, 10,000 s, 100,000 s).
    "WEBHOOK_RETRY_SCHEDULE": (10, 100, 1_000, 10_000, 100_000),
    # A webhook whose attempts have all failed for this long is disabled (and its admins see a banner).
    "WEBHOOK_DISABLE_AFTER_SECONDS": 5 * 24 * 3600,
    # After a secret rotation the previous secret keeps signing for this long.
    "WEBHOOK_SECRET_OVERLAP_SECONDS": 24 * 3600,
    # A worker owns a webhook's queue for this long per claim (renewed per attempt); a crash frees it after.
    "WEBHOOK_LEASE_SECONDS": 60,
    # Finished (succeeded or failed) deliveries are kept this many days in the delivery log.
    "WEBHOOK_RETENTION_DAYS": 30,
    # Deliveries one task sends before handing the queue to a fresh task.
    "WEBHOOK_TASK_BATCH": 500,
    # Development/tests only: networks (CIDRs) and ports webhooks may reach although not public.
    "WEBHOOK_ALLOWED_CIDRS": (),
    "WEBHOOK_ALLOWED_PORTS": (),
}
LIST_SETTINGS = {"WEBHOOK_RETRY_SCHEDULE", "WEBHOOK_ALLOWED_CIDRS", "WEBHOOK_ALLOWED_PORTS"}


def setting(name: str):
    """Django settings first, then the environment (comma-separated lists), then the default."""
    if hasattr(settings, name):
        return getattr(settings, name)
    raw = os.environ.get(name)
    if raw is None:
        return DEFAULTS[name]
    if name in LIST_SETTINGS:
        items = [item.strip() for item in raw.split(",") if item.strip()]
        return tuple(float(item) for item in items) if name == "WEBHOOK_RETRY_SCHEDULE" else tuple(items)
    return type(DEFAULTS[name])(raw)


def policy() -> ssrf.Policy:
    """The SSRF policy: nothing but public addresses unless the allow-list names more."""
    return ssrf.Policy.from_strings(setting("WEBHOOK_ALLOWED_CIDRS"), setting("WEBHOOK_ALLOWED_PORTS"))


def retry_schedule() -> tuple[float, ...]:
    return tuple(float(delay) for delay in setting("WEBHOOK_RETRY_SCHEDULE"))
