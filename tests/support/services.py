"""Checks for the real services some tests need: skip without them, fail when the run requires them."""

import os
import socket
from urllib.parse import urlparse

import pytest
from django.conf import settings
from django.db import connection

TRUE_WORDS = {"1", "true", "yes"}


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() in TRUE_WORDS


def services_required() -> bool:
    """Set by .ci/run for its PostgreSQL + Redis pass: there a missing service is a failure, not a skip."""
    return os.environ.get("REQUIRE_SERVICES", "").lower() in TRUE_WORDS


def missing(reason: str, *, required: bool | None = None) -> None:
    """Fail when the run requires the service, skip otherwise (a laptop, or CI's SQLite pass)."""
    if services_required() if required is None else required:
        pytest.fail(f"This run requires the service: {reason}", pytrace=False)
    pytest.skip(reason)


def require_postgres() -> None:
    if connection.vendor != "postgresql":
        missing("needs PostgreSQL: set DATABASE_URL=postgres://postgres@127.0.0.1:5432/cpaas")


def redis_url() -> str | None:
    url = settings.CELERY_BROKER_URL
    return url if url.startswith("redis") else None


def require_redis() -> str:
    url = redis_url()
    if url is None:
        missing("needs Redis: set CELERY_BROKER_URL=redis://127.0.0.1:6379/15")
    parsed = urlparse(url)
    try:
        socket.create_connection((parsed.hostname or "127.0.0.1", parsed.port or 6379), timeout=2).close()
    except OSError as exc:
        missing(f"Redis at {url} is not reachable: {exc}")
    return url
