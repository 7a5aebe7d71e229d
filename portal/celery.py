"""The Celery app: `celery -A portal worker` and `celery -A portal beat`."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")

app = Celery("portal")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


def beat_schedule() -> dict:
    from portal.celery_schedule import BEAT_SCHEDULE

    return BEAT_SCHEDULE


app.conf.beat_schedule = beat_schedule()
