"""/healthz answers without asking anything; /readyz names the check that fails: database, broker, migrations,
the beat heartbeat, the outbox and webhook backlogs."""

import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from datetime import timedelta

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.db import connection
from django.db.migrations.loader import MigrationLoader
from django.db.migrations.recorder import MigrationRecorder
from django.utils import timezone
from django_celery_beat.models import PeriodicTask

from campaigns.models import Campaign
from campaigns.states import CampaignState
from portal.models import Heartbeat, Webhook, WebhookDelivery
from portal.ops import broker, health, heartbeats
from portal.ops.tasks import heartbeat
from portal.queues import ALL_QUEUES, DEFAULT
from tests.campaigns.sending_support import approved_sender
from tests.portal.exports_support import message
from tests.support.services import require_postgres
from tests.support.worker import ROOT, WorkerProcess

ALL_CHECKS = {"database", "broker", "migrations", "beat", "outbox_backlog", "webhook_backlog"}


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def readyz(client) -> tuple[int, dict]:
    response = client.get("/readyz")
    assert "no-store" in response["Cache-Control"]
    return response.status_code, response.json()


def failing(body: dict) -> set[str]:
    return {name for name, result in body["checks"].items() if not result["ok"]}


@pytest.fixture
def beating(db):
    heartbeat.delay()


def queued(account, **fields):
    return message(account, state="queued", not_before=timezone.now() - timedelta(seconds=1), **fields)


def webhook(account) -> Webhook:
    return Webhook.objects.create(account=account, name="Hook", uri="https://hooks.example/in", secret="whsec_x")


def delivery(hook: Webhook, **fields) -> WebhookDelivery:
    values = {"event_uid": uuid.uuid4(), "event_name": "sms.status", "payload": {}, "next_attempt_at": timezone.now()}
    return WebhookDelivery.objects.create(account=hook.account, webhook=hook, **(values | fields))


def test_healthz_is_liveness_and_asks_nothing(client, settings):
    """No `db` fixture: pytest-django fails any query; the broker named is down."""
    settings.CELERY_BROKER_URL = f"redis://127.0.0.1:{closed_port()}/0"
    response = client.get("/healthz")
    assert (response.status_code, response.json()) == (200, {"status": "ok"})
    assert "no-store" in response["Cache-Control"]


def test_the_probes_answer_over_plain_http_when_the_rest_redirects_to_https(client, beating, settings):
    settings.SECURE_SSL_REDIRECT = True
    assert client.get("/accounts/login/").status_code == 301
    assert [client.get(path).status_code for path in ("/healthz", "/readyz", "/metrics")] == [200, 200, 200]


def test_the_heartbeat_task_writes_one_row_it_keeps_fresh(db):
    heartbeat.delay()
    first = Heartbeat.objects.get(name=heartbeats.BEAT).beat_at
    heartbeat.delay()
    row = Heartbeat.objects.get(name=heartbeats.BEAT)
    assert row.beat_at >= first and timezone.now() - row.beat_at < timedelta(seconds=5)


def test_readyz_is_200_when_every_check_passes(client, beating):
    status, body = readyz(client)
    assert status == 200, body
    assert body["status"] == "ok" and set(body["checks"]) == ALL_CHECKS and body["skipped"] == []
    assert body["checks"]["migrations"]["unapplied"] == 0
    assert all(isinstance(result["ms"], float) for result in body["checks"].values())


def test_a_stale_heartbeat_fails_the_beat_check_only(client, db, settings):
    heartbeats.record(heartbeats.BEAT, at=timezone.now() - timedelta(seconds=121))
    status, body = readyz(client)
    assert (status, body["status"], failing(body)) == (503, "unavailable", {"beat"})
    assert body["checks"]["beat"]["age_seconds"] >= 121 and body["checks"]["beat"]["max_age"] == 120
    settings.READY_BEAT_MAX_AGE_SECONDS = 300
    assert readyz(client)[0] == 200


def test_no_heartbeat_at_all_says_what_to_start(client, db):
    status, body = readyz(client)
    assert (status, failing(body)) == (503, {"beat"})
    assert "beat and a default worker" in body["checks"]["beat"]["error"]


def test_a_skipped_check_is_left_out_and_an_unknown_name_is_refused(client, db, settings):
    settings.READY_CHECKS_SKIP = ["beat"]
    status, body = readyz(client)
    assert (status, body["skipped"]) == (200, ["beat"]) and "beat" not in body["checks"]
    settings.READY_CHECKS_SKIP = ["beats"]
    with pytest.raises(ImproperlyConfigured, match="beats"):
        client.get("/readyz")


def test_an_outbox_backlog_over_the_threshold_fails_readiness(client, beating, account, settings):
    settings.READY_OUTBOX_BACKLOG_MAX = 2
    for number in range(2):
        queued(account, recipient=f"+91987654321{number}")
    sender = approved_sender(account)
    campaign = Campaign.objects.create(account=account, sender=sender, name="Paused", state=CampaignState.PAUSED)
    queued(account, recipient="+919876543219", campaign=campaign)  # held by its campaign: not waiting
    message(account, recipient="+919876543218", state="queued", not_before=timezone.now() + timedelta(hours=1))
    assert readyz(client)[0] == 200
    queued(account, recipient="+919876543217", claimed_until=timezone.now() + timedelta(seconds=30))
    status, body = readyz(client)
    assert (status, failing(body)) == (503, {"outbox_backlog"})
    assert body["checks"]["outbox_backlog"] | {"ms": 0} == {"ok": False, "waiting": 3, "max": 2, "ms": 0}


def test_a_webhook_backlog_over_the_threshold_fails_readiness(client, beating, account, settings):
    settings.READY_WEBHOOK_BACKLOG_MAX = 1
    hook = webhook(account)
    delivery(hook)
    delivery(hook, next_attempt_at=timezone.now() + timedelta(minutes=5))  # a retry later: not due
    delivery(hook, state=WebhookDelivery.State.FAILED, next_attempt_at=None)
    assert readyz(client)[0] == 200
    delivery(hook)
    status, body = readyz(client)
    assert (status, failing(body)) == (503, {"webhook_backlog"})
    assert (body["checks"]["webhook_backlog"]["waiting"], body["checks"]["webhook_backlog"]["max"]) == (2, 1)


def test_an_unreachable_broker_fails_readiness_at_once(client, beating, settings):
    settings.CELERY_BROKER_URL = f"redis://127.0.0.1:{closed_port()}/0"
    started = time.monotonic()
    status, body = readyz(client)
    assert time.monotonic() - started < 3
    assert (status, failing(body)) == (503, {"broker"})
    assert body["checks"]["broker"]["error"]


def test_an_unapplied_migration_fails_readiness(client, beating):
    (latest,) = MigrationLoader(None).graph.leaf_nodes("portal")
    MigrationRecorder(connection).record_unapplied(*latest)
    status, body = readyz(client)
    assert (status, failing(body)) == (503, {"migrations"})
    assert body["checks"]["migrations"]["first_unapplied"] == [".".join(latest)]


def test_the_database_checks_are_not_run_when_the_database_is_down(client, beating, monkeypatch):
    def unreachable(now):
        raise ConnectionError("connection refused")

    monkeypatch.setattr(health, "check_database", unreachable)
    status, body = readyz(client)
    assert (status, failing(body)) == (503, ALL_CHECKS - {"broker"})
    assert body["checks"]["database"]["error"] == "connection refused"
    assert body["checks"]["migrations"]["error"].startswith("Not run")


@pytest.mark.redis
def test_beat_and_a_default_worker_keep_the_heartbeat_fresh(client, transactional_db, redis_broker, tmp_path):
    """The real processes: beat (its database scheduler, loaded from portal/celery_schedule.py) and a worker of
    the `default` queue only; the heartbeat row appears and the beat check passes."""
    require_postgres()
    worker = WorkerProcess(redis_broker, concurrency=1, queues=DEFAULT)
    log_path = tmp_path / "beat.log"
    with open(log_path, "wb") as log:
        beat = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "portal", "beat", "-l", "INFO"],
            cwd=ROOT,
            env=worker.env(),
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    worker.start()
    try:
        deadline = time.monotonic() + 90
        while not Heartbeat.objects.filter(name=heartbeats.BEAT).exists():
            assert beat.poll() is None, log_path.read_text(errors="replace")[-3000:]
            assert time.monotonic() < deadline, worker.log()[-3000:] + log_path.read_text(errors="replace")[-3000:]
            time.sleep(0.5)
    finally:
        os.killpg(beat.pid, signal.SIGTERM)
        beat.wait(timeout=15)
        worker.stop()
        with broker.broker_connection() as connection:  # what beat sent to the queues nobody consumed here
            for queue in ALL_QUEUES:
                connection.default_channel.queue_purge(queue)
    assert readyz(client)[1]["checks"]["beat"]["ok"] is True
    assert PeriodicTask.objects.get(name="ops-heartbeat").expire_seconds == 15  # a late beat expires
