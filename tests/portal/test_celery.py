"""A task round trip through a real worker process on the Redis broker (CI runs it; laptops skip)."""

import pytest

from portal.celery import app
from tests.support.worker import WorkerProcess


@pytest.mark.redis
def test_task_round_trips_through_a_real_worker(redis_broker, monkeypatch):
    monkeypatch.setitem(app.conf, "task_always_eager", False)
    worker = WorkerProcess(redis_broker, concurrency=1).start()
    try:
        result = app.send_task("portal.ping", args=["hello from the test"])
        assert result.get(timeout=60) == "hello from the test"
    finally:
        worker.stop()


def test_every_beat_entry_names_a_registered_task():
    app.loader.import_default_modules()
    assert app.conf.beat_schedule
    for name, entry in app.conf.beat_schedule.items():
        assert entry["task"] in app.tasks, name
