"""Readiness: may this instance take traffic? The checks /readyz runs, each answering {"ok": bool, ...details}.

`database` (SELECT 1), `broker` (one connection attempt), `migrations` (none of the code's migrations unapplied),
`beat` (the heartbeat is younger than READY_BEAT_MAX_AGE_SECONDS) and a check per backlog of the probes
(`outbox_backlog`, `webhook_backlog`: at most READY_*_BACKLOG_MAX rows waiting). READY_CHECKS_SKIP leaves checks
out by name. When the database check fails, the checks that read it are reported failed without running (each
would only wait for the database again).
"""

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from portal.ops import broker, heartbeats, probes

MAX_LISTED = 10
ERROR_LENGTH = 200


@dataclass(frozen=True)
class Check:
    name: str
    run: Callable[[datetime], dict]
    needs_database: bool = True


@dataclass(frozen=True)
class Readiness:
    checks: dict[str, dict]
    skipped: list[str]

    @property
    def ready(self) -> bool:
        return all(result["ok"] for result in self.checks.values())

    def as_json(self) -> dict:
        return {"status": "ok" if self.ready else "unavailable", "checks": self.checks, "skipped": self.skipped}


def check_database(now: datetime) -> dict:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return {"ok": True, "vendor": connection.vendor}


def check_broker(now: datetime) -> dict:
    return broker.check_broker()


def check_migrations(now: datetime) -> dict:
    executor = MigrationExecutor(connection)
    plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
    unapplied = [f"{migration.app_label}.{migration.name}" for migration, _backwards in plan]
    return {"ok": not unapplied, "unapplied": len(unapplied), "first_unapplied": unapplied[:MAX_LISTED]}


def check_beat(now: datetime) -> dict:
    limit = settings.READY_BEAT_MAX_AGE_SECONDS
    age = heartbeats.age_seconds(heartbeats.BEAT, now)
    if age is None:
        return {"ok": False, "error": "No heartbeat yet: are beat and a default worker running?", "max_age": limit}
    return {"ok": age <= limit, "age_seconds": round(age, 1), "max_age": limit}


def backlog_check(backlog: probes.Backlog) -> Check:
    def run(now: datetime) -> dict:
        limit = getattr(settings, backlog.setting)
        waiting = backlog.count(limit + 1, now)  # counted up to one past the limit
        return {"ok": waiting <= limit, "waiting": waiting, "max": limit}

    return Check(backlog.check, run)


def all_checks() -> list[Check]:
    return [
        Check("database", check_database, needs_database=False),
        Check("broker", check_broker, needs_database=False),
        Check("migrations", check_migrations),
        Check("beat", check_beat),
        *[backlog_check(backlog) for backlog in probes.backlogs()],
    ]


def _run(check: Check, now: datetime) -> dict:
    started = time.perf_counter()
    try:
        result = check.run(now)
    except Exception as exc:
        result = {"ok": False, "error": str(exc)[:ERROR_LENGTH] or type(exc).__name__}
    return {**result, "ms": round((time.perf_counter() - started) * 1000, 1)}


def readiness(now: datetime | None = None) -> Readiness:
    """Run the checks; the database connection goes back (to the pool, or closed) at the end, not kept."""
    now = now or timezone.now()
    checks = all_checks()
    skipped = set(settings.READY_CHECKS_SKIP)
    unknown = skipped - {check.name for check in checks}
    if unknown:
        known = ", ".join(check.name for check in checks)
        raise ImproperlyConfigured(f"READY_CHECKS_SKIP names unknown checks {sorted(unknown)} (known: {known})")
    results = {}
    try:
        for check in checks:
            if check.name in skipped:
                continue
            if check.needs_database and not results.get("database", {"ok": True})["ok"]:
                results[check.name] = {"ok": False, "error": "Not run: the database is unreachable."}
                continue
            results[check.name] = _run(check, now)
    finally:
        if not connection.in_atomic_block:
            connection.close()
    return Readiness(results, sorted(skipped))
