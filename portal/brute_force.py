"""Brute-force protection: failed attempts counted per client address, and per-user lock-outs after failed passwords.

Address counters live in Django's cache in fixed windows, one budget per scope (the login form, API tokens, inbound
tokens); with Redis every process shares them, with the local-memory cache each process counts alone. Lock-outs are
`LoginLockout` rows: one ends by itself at `locked_until`, attempts during it are refused unchecked and never extend
it, and a password reset or an unlock ends it at once. No HTTP here: callers pass the client address and answer a
`Refusal` with a 429 and its `retry_after`.
"""

import hashlib
import math
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.db import transaction
from django.urls import reverse

from portal.audit import record
from portal.models import Account, LoginLockout
from portal.notify import notify_admins

LOGIN, API, INBOUND = "login", "api", "inbound"
TOO_MANY_ATTEMPTS, LOCKED_OUT = "too_many_attempts", "locked_out"
LOCKED_VERB, UNLOCKED_VERB = "login.locked_out", "login.unlocked"


def clock() -> float:
    """Seconds since the epoch; tests replace it to move time."""
    return time.time()


def now() -> datetime:
    return datetime.fromtimestamp(clock(), tz=UTC)


@dataclass(frozen=True)
class Refusal:
    """An attempt refused without being checked: why, and in how many seconds to try again."""

    reason: str
    retry_after: int
    message: str


def in_words(seconds: int) -> str:
    if seconds < 90:
        return f"{seconds} second{'s' if seconds != 1 else ''}"
    return f"{math.ceil(seconds / 60)} minutes"


# --- per client address ----------------------------------------------------------------------------------


def _address_window() -> int:
    return max(1, settings.BRUTE_FORCE_ADDRESS_WINDOW_MINUTES) * 60


def _address_key(scope: str, address: str, window_index: int) -> str:
    digest = hashlib.sha256((address or "").encode()).hexdigest()[:32]
    return f"bruteforce:{scope}:{digest}:{window_index}"


def address_refusal(scope: str, address: str) -> Refusal | None:
    """A refusal while `address` has used up its failed attempts in `scope` for the current window."""
    limit, window = settings.BRUTE_FORCE_ADDRESS_LIMIT, _address_window()
    if not limit:
        return None
    moment = clock()
    index = int(moment // window)
    if cache.get(_address_key(scope, address, index), 0) < limit:
        return None
    wait = max(1, math.ceil((index + 1) * window - moment))
    message = f"Too many failed attempts from your address; try again in {in_words(wait)}."
    return Refusal(TOO_MANY_ATTEMPTS, wait, message)


def address_failed(scope: str, address: str) -> None:
    """Count one failed attempt from `address` in `scope`."""
    window = _address_window()
    key = _address_key(scope, address, int(clock() // window))
    if cache.add(key, 1, timeout=window + 1):
        return
    try:
        cache.incr(key)
    except ValueError:
        cache.set(key, 1, timeout=window + 1)


# --- per user ----------------------------------------------------------------------------------------------


def user_named(username: str | None):
    """The user a login form names (looked up as Django's ModelBackend does), or None."""
    if not username:
        return None
    model = get_user_model()
    try:
        return model._default_manager.get_by_natural_key(username)
    except model.DoesNotExist:
        return None


def _lockout_refusal(lockout: LoginLockout, moment: datetime) -> Refusal:
    wait = max(1, math.ceil((lockout.locked_until - moment).total_seconds()))
    message = (
        f"This account is locked after too many failed passwords; try again in {in_words(wait)}, "
        "or reset your password."
    )
    return Refusal(LOCKED_OUT, wait, message)


def lockout_refusal(user) -> Refusal | None:
    """A refusal while `user` is locked out, whatever password comes with the attempt."""
    moment = now()
    lockout = LoginLockout.objects.locked(moment).filter(user=user).first()
    return None if lockout is None else _lockout_refusal(lockout, moment)


def password_failed(user, address: str) -> Refusal | None:
    """Count a wrong password for `user`; the one that reaches BRUTE_FORCE_USER_FAILURES within the window locks
    the user out for BRUTE_FORCE_LOCKOUT_MINUTES (audited, the accounts' admins notified) and gets a refusal."""
    limit = settings.BRUTE_FORCE_USER_FAILURES
    if not limit:
        return None
    moment = now()
    LoginLockout.objects.get_or_create(user=user)
    with transaction.atomic():
        lockout = LoginLockout.objects.select_for_update().select_related("user").get(user=user)
        if lockout.is_locked(moment):
            return _lockout_refusal(lockout, moment)
        window = timedelta(minutes=settings.BRUTE_FORCE_USER_WINDOW_MINUTES)
        started = lockout.window_started_at
        if lockout.locked_until is not None or started is None or moment - started >= window:
            lockout.failures, lockout.window_started_at, lockout.locked_until = 0, moment, None
        lockout.failures += 1
        lockout.last_failure_at, lockout.last_address = moment, (address or "")[:64]
        if lockout.failures < limit:
            lockout.save()
            return None
        lockout.locked_until = moment + timedelta(minutes=settings.BRUTE_FORCE_LOCKOUT_MINUTES)
        lockout.save()
        _announce(lockout)
    return _lockout_refusal(lockout, moment)


def password_succeeded(user) -> None:
    """A correct password outside a lock-out: the failures so far are forgotten."""
    LoginLockout.objects.filter(user=user).exclude(locked_until__gt=now()).delete()


def unlock(user, *, actor, via: str, account: Account | None = None) -> bool:
    """End `user`'s lock-out and forget their failures; True (and audited) when a lock-out was running.

    The audit row goes to `account` (an account admin's unlock) or to every account of the user."""
    lockout = LoginLockout.objects.filter(user=user).first()
    if lockout is None:
        return False
    running = lockout.is_locked(now())
    lockout.delete()
    if running:
        before = {"failures": lockout.failures, "locked_until": lockout.locked_until.isoformat()}
        for target in [account] if account is not None else _accounts_of(user):
            record(target, actor, UNLOCKED_VERB, user, before=before, after={"via": via})
    return running


def running_lockouts(account: Account, user_ids) -> dict:
    """The running lock-outs of members of `account` among `user_ids`, by user id."""
    rows = LoginLockout.objects.locked(now()).filter(user_id__in=list(user_ids), user__memberships__account=account)
    return {row.user_id: row for row in rows}


def _accounts_of(user) -> list:
    """The user's accounts, or [None] (a platform-wide audit row) for a user without any."""
    return list(Account.objects.filter(memberships__user=user)) or [None]


def _announce(lockout: LoginLockout) -> None:
    user = lockout.user
    after = {
        "failures": lockout.failures,
        "locked_until": lockout.locked_until.isoformat(),
        "address": lockout.last_address,
    }
    accounts = _accounts_of(user)
    for account in accounts:
        record(account, None, LOCKED_VERB, user, after=after)
    text = (
        f"{user.get_username()} is locked out for {settings.BRUTE_FORCE_LOCKOUT_MINUTES} minutes after "
        f"{lockout.failures} failed passwords (the last from {lockout.last_address or 'an unknown address'})."
    )
    link = reverse("portal:member_list")
    for account in accounts:
        if account is not None:
            notify_admins(account, text, link=link, level="warning")
