"""Production start-up checks (`manage.py check --deploy`, run by `bin/serve` before anything starts).

Django's own deploy checks cover the security headers and cookies; these add what a production process set of this
portal needs: settings given explicitly rather than the development defaults (SECRET_KEY and ALLOWED_HOSTS from
the environment), and the shared services that let several machines work together (PostgreSQL, a Redis broker and
cache).
"""

import os

from django.conf import settings
from django.core.checks import Error, Warning, register

MIN_SECRET_KEY_LENGTH = 50
MIN_SECRET_KEY_UNIQUE_CHARACTERS = 5


def _is_set(name: str) -> bool:
    return bool(os.environ.get(name, "").strip())


def _secret_key_errors() -> list[Error]:
    key = settings.SECRET_KEY
    if not _is_set("SECRET_KEY"):
        return [
            Error(
                "SECRET_KEY is not set in the environment (the generated var/secret_key is for development only)",
                hint="Set SECRET_KEY to a random value of 50 or more characters, the same on every machine.",
                id="portal.E001",
            )
        ]
    weak = (
        len(key) < MIN_SECRET_KEY_LENGTH
        or len(set(key)) < MIN_SECRET_KEY_UNIQUE_CHARACTERS
        or key.startswith("django-insecure-")
    )
    if weak:
        return [
            Error(
                "SECRET_KEY is unsafe: it needs 50 or more characters of 5 or more different ones",
                hint='python -c "import secrets; print(secrets.token_urlsafe(64))"',
                id="portal.E002",
            )
        ]
    return []


@register("portal", deploy=True)
def production_settings(app_configs=None, **kwargs):
    problems: list = []
    if settings.DEBUG:
        problems.append(Error("DEBUG is on", hint="Unset DEBUG (or DEBUG=0) in production.", id="portal.E003"))
    problems += _secret_key_errors()
    if not _is_set("ALLOWED_HOSTS") or not settings.ALLOWED_HOSTS:
        problems.append(
            Error(
                "ALLOWED_HOSTS is not set in the environment",
                hint="Set ALLOWED_HOSTS to the host names the portal answers on, comma-separated.",
                id="portal.E004",
            )
        )
    if settings.DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql":
        problems.append(
            Error(
                "DATABASE_URL is not PostgreSQL: SQLite serves one machine only",
                hint="DATABASE_URL=postgres://user:password@host:5432/name",
                id="portal.E006",
            )
        )
    if not settings.CELERY_BROKER_URL.startswith(("redis://", "rediss://")):
        problems.append(
            Error(
                "CELERY_BROKER_URL is not Redis: the embedded file broker serves one machine only",
                hint="CELERY_BROKER_URL=redis://host:6379/0",
                id="portal.E007",
            )
        )
    if not settings.CACHE_URL.startswith(("redis://", "rediss://")):
        problems.append(
            Warning(
                "CACHE_URL is not Redis: rate limits and login lock-outs are counted per process",
                hint="CACHE_URL=redis://host:6379/1",
                id="portal.W001",
            )
        )
    return problems
