"""The Celery app: `celery -A portal worker` and `celery -A portal beat`."""

import os

from celery import Celery
from celery.signals import worker_process_init

from portal.forking import forget_inherited_connections

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")

app = Celery("portal")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


def beat_schedule() -> dict:
    from portal.celery_schedule import BEAT_SCHEDULE

    return BEAT_SCHEDULE


app.conf.beat_schedule = beat_schedule()


@worker_process_init.connect
def _forget_inherited_connections(**kwargs) -> None:
    """A prefork child starts with its own database connections (portal/forking.py)."""
    forget_inherited_connections()
