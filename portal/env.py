"""Typed readers for settings taken from the environment. A bad value stops start-up with a clear message."""

import os
import secrets
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlparse

from django.core.exceptions import ImproperlyConfigured

TRUE_WORDS = {"1", "true", "yes", "on"}
FALSE_WORDS = {"0", "false", "no", "off", ""}


def env_str(name: str, default: str = "") -> str:
    return os.environ.get(name, default)


def env_bool(name: str, default: bool = False) -> bool:
    raw = os.environ.get(name)
    if raw is None:
        return default
    value = raw.strip().lower()
    if value in TRUE_WORDS:
        return True
    if value in FALSE_WORDS:
        return False
    raise ImproperlyConfigured(f"{name} must be a boolean (1/0, true/false, yes/no, on/off), got {raw!r}")


def env_int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be an integer, got {raw!r}") from None


def env_list(name: str, default: list[str]) -> list[str]:
    raw = os.environ.get(name)
    if raw is None:
        return default
    return [item.strip() for item in raw.split(",") if item.strip()]


def database_from_url(url: str, *, pool: int = 0, pool_timeout: int = 5, conn_max_age: int = 0) -> dict:
    """Turn `sqlite:///path`, `postgres://user:pass@host:port/name` into a Django DATABASES entry; PostgreSQL
    connections as `postgres_connections` sets them."""
    parsed = urlparse(url)
    if parsed.scheme == "sqlite":
        path = unquote(parsed.path)
        if path.startswith("//"):
            path = path[1:]
        elif path.startswith("/"):
            path = path[1:] or ":memory:"
        return {"ENGINE": "django.db.backends.sqlite3", "NAME": path or ":memory:"}
    if parsed.scheme in {"postgres", "postgresql", "pgsql"}:
        options = {key: values[-1] for key, values in parse_qs(parsed.query).items()}
        return {
            "ENGINE": "django.db.backends.postgresql",
            "NAME": unquote(parsed.path.lstrip("/")),
            "USER": unquote(parsed.username or ""),
            "PASSWORD": unquote(parsed.password or ""),
            "HOST": parsed.hostname or "",
            "PORT": str(parsed.port or ""),
            "CONN_HEALTH_CHECKS": True,
            **postgres_connections(options, pool=pool, pool_timeout=pool_timeout, conn_max_age=conn_max_age),
        }
    raise ImproperlyConfigured(f"DATABASE_URL scheme {parsed.scheme!r} is not supported (use sqlite or postgres)")


def postgres_connections(options: dict, *, pool: int, pool_timeout: int, conn_max_age: int) -> dict:
    """At most `pool` connections per process, from psycopg's pool (a request waits up to `pool_timeout` seconds
    for a free one, then fails); with `pool` 0, one connection per thread, closed after each request unless
    `conn_max_age` keeps it (only for servers that reuse their threads)."""
    if pool < 0:
        raise ImproperlyConfigured(f"DB_POOL must be 0 (no pool) or more, got {pool}")
    if pool_timeout <= 0:
        raise ImproperlyConfigured(f"DB_POOL_TIMEOUT must be a number of seconds above 0, got {pool_timeout}")
    if conn_max_age < 0:
        raise ImproperlyConfigured(f"DB_CONN_MAX_AGE must be 0 or more seconds, got {conn_max_age}")
    if pool == 0:
        return {"CONN_MAX_AGE": conn_max_age, "OPTIONS": options}
    if conn_max_age:
        raise ImproperlyConfigured("DB_CONN_MAX_AGE must be 0 with DB_POOL: the pool keeps the connections")
    sizes = {"min_size": 1, "max_size": pool, "timeout": pool_timeout}
    return {"CONN_MAX_AGE": 0, "OPTIONS": {**options, "pool": sizes}}


def secret_key_from(var_dir: Path) -> str:
    """SECRET_KEY from the environment, else from var/secret_key, generated there on first run."""
    value = os.environ.get("SECRET_KEY")
    if value:
        return value
    key_file = var_dir / "secret_key"
    if key_file.exists():
        return key_file.read_text().strip()
    var_dir.mkdir(parents=True, exist_ok=True)
    value = secrets.token_urlsafe(64)
    key_file.write_text(value)
    key_file.chmod(0o600)
    return value
