"""Periodic work run by celery beat (loaded into django-celery-beat's database scheduler at start)."""

BEAT_SCHEDULE: dict[str, dict] = {}
