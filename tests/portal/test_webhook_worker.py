"""Webhook queues through a real Celery worker on Redis and PostgreSQL, across a worker crash (CI runs it)."""

import time

import pytest

from portal.celery import app
from portal.events import emit
from portal.models import Subscription, Webhook, WebhookDelivery
from portal.webhooks import delivery, signing
from tests.support.worker import WorkerProcess


def wait_until(condition, timeout: float = 60.0, sweep: bool = False) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached in time")
        if sweep:
            delivery.sweep()  # what beat does every few seconds
        time.sleep(0.3)


@pytest.mark.postgres
@pytest.mark.redis
def test_receiver_down_and_worker_crash_still_every_event_once_in_order(
    transactional_db, redis_broker, account, live_http_receiver, monkeypatch
):
    monkeypatch.setitem(app.conf, "task_always_eager", False)
    monkeypatch.setenv("WEBHOOK_ALLOWED_CIDRS", "127.0.0.0/8")
    monkeypatch.setenv("WEBHOOK_RETRY_SCHEDULE", "3,3,3,3,3")
    webhook = Webhook.objects.create(
        account=account, name="crm", uri=live_http_receiver.url("/in"), secret=signing.generate_secret()
    )
    Subscription.objects.create(account=account, webhook=webhook, event="sms:message:status")
    live_http_receiver.stop()
    worker = WorkerProcess(redis_broker, concurrency=2).start()
    try:
        events = [emit(account, "sms:message:status", {"n": n}, identity="ACMEIN") for n in range(5)]
        head = WebhookDelivery.objects.filter(webhook=webhook).order_by("id")
        wait_until(lambda: head.first().attempt_count >= 1)
        worker.restart()
        live_http_receiver.start()
        wait_until(lambda: not WebhookDelivery.objects.filter(state="pending").exists(), sweep=True)
    finally:
        worker.stop()
    received = live_http_receiver.requests
    assert [r.headers["webhook-id"] for r in received] == [str(event.uid) for event in events]
    assert [r.json()["payload"]["n"] for r in received] == [0, 1, 2, 3, 4]
    assert set(WebhookDelivery.objects.values_list("state", flat=True)) == {"succeeded"}
    for request in received:
        signing_check = request.headers["webhook-signature"]
        assert signing_check == signing.signature_header(
            [webhook.secret], request.headers["webhook-id"], int(request.headers["webhook-timestamp"]), request.body
        )
