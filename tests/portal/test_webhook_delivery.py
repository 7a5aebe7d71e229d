"""The delivery engine: fan-out after commit, ordered queues, the retry schedule, 410/429, auto-disable."""

import time
from datetime import timedelta
from urllib.parse import parse_qs

import pytest
from django.db import transaction
from django.utils import timezone
from standardwebhooks.webhooks import Webhook as StandardWebhook

from portal.events import emit
from portal.models import Subscription, Webhook, WebhookDelivery
from portal.webhooks import conf, delivery, fan_out, signing
from portal.webhooks.checks import allow_list_only_in_debug
from tests.support.http_receiver import Reply

SCHEDULE = (10, 100, 1_000, 10_000, 100_000)


@pytest.fixture(autouse=True)
def allow_local(settings):
    settings.WEBHOOK_ALLOWED_CIDRS = ["127.0.0.0/8"]
    settings.WEBHOOK_TIMEOUT_SECONDS = 2.0


class FakeClock:
    def __init__(self):
        self.now = timezone.now()

    def __call__(self):
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@pytest.fixture
def clock(monkeypatch):
    """An injected clock: `timezone.now` returns the fake time everywhere (the engine and auto_now fields)."""
    fake = FakeClock()
    monkeypatch.setattr(timezone, "now", fake)
    return fake


@pytest.fixture
def on_commit(django_capture_on_commit_callbacks):
    """Run emit's after-commit fan-out (tests run inside a transaction that never commits)."""
    return lambda: django_capture_on_commit_callbacks(execute=True)


def make_webhook(account, url, *, events=("sms:message:status",), identity="all", **fields):
    webhook = Webhook.objects.create(account=account, name="hook", uri=url, secret=signing.generate_secret(), **fields)
    for event in events:
        Subscription.objects.create(account=account, webhook=webhook, event=event, identity=identity)
    return webhook


def emit_status(account, on_commit, number: int, identity="ACMEIN", **kwargs):
    with on_commit():
        return emit(account, "sms:message:status", {"id": f"msg-{number}", "status": "DELIVRD"}, identity, **kwargs)


def test_emitted_event_reaches_subscriber_signed_and_verifiable(account, live_http_receiver, on_commit):
    webhook = make_webhook(account, live_http_receiver.url("/in"))
    event = emit_status(account, on_commit, 1)
    (received,) = live_http_receiver.wait_for(1)
    body = StandardWebhook(webhook.secret).verify(received.body, received.headers)
    assert body == {
        "event": "sms:message:status",
        "id": str(event.uid),
        "timestamp": int(event.created_at.timestamp()),
        "payload": {"id": "msg-1", "status": "DELIVRD"},
    }
    assert received.headers["webhook-id"] == str(event.uid)
    assert received.headers["user-agent"].startswith("CPaaS-Portal-Webhooks/")
    assert WebhookDelivery.objects.get().state == "succeeded"


def test_fan_out_matches_identity_all_or_exact_and_explicit_webhook_once(account, other_account, on_commit):
    everything = make_webhook(account, "http://127.0.0.1:9/a")
    only_acme = make_webhook(account, "http://127.0.0.1:9/b", identity="ACMEIN")
    only_other_sender = make_webhook(account, "http://127.0.0.1:9/c", identity="OTHER")
    other_event = make_webhook(account, "http://127.0.0.1:9/d", events=("sms:unsubscription",))
    inactive = make_webhook(account, "http://127.0.0.1:9/e", status=Webhook.Status.INACTIVE)
    explicit = make_webhook(account, "http://127.0.0.1:9/f", events=())
    foreign = make_webhook(other_account, "http://127.0.0.1:9/g")
    event = emit(account, "sms:message:status", {}, identity="ACMEIN", webhook_id=explicit.uid)
    assert event.webhook_uid == str(explicit.uid)
    assert fan_out.matching_webhook_ids(event) == sorted([everything.pk, only_acme.pk, explicit.pk])
    for named, expected in ((everything, [everything.pk, only_acme.pk]), (foreign, [everything.pk, only_acme.pk])):
        event.webhook_uid = str(named.uid)
        assert fan_out.matching_webhook_ids(event) == sorted(expected)
    event.webhook_uid = ""
    assert only_other_sender.pk not in fan_out.matching_webhook_ids(event)
    assert {other_event.pk, inactive.pk}.isdisjoint(fan_out.matching_webhook_ids(event))


def test_no_delivery_when_the_emitting_transaction_rolls_back(account, live_http_receiver, on_commit):
    make_webhook(account, live_http_receiver.url())
    with on_commit(), pytest.raises(RuntimeError), transaction.atomic():
        emit(account, "sms:message:status", {}, "ACMEIN")
        raise RuntimeError("the send failed")
    assert not WebhookDelivery.objects.exists()
    assert live_http_receiver.requests == []


def test_unknown_event_is_refused(account):
    with pytest.raises(ValueError, match="unknown event"):
        emit(account, "sms:nonsense", {})


def test_retry_schedule_same_event_id_then_failed(account, live_http_receiver, on_commit, clock):
    live_http_receiver.default = Reply(500)
    make_webhook(account, live_http_receiver.url())
    start = clock.now
    event = emit_status(account, on_commit, 1)
    item = WebhookDelivery.objects.get()
    due_times = []
    for expected_count, delay in enumerate(SCHEDULE, start=1):
        item.refresh_from_db()
        assert (item.state, item.attempt_count) == ("pending", expected_count)
        due_times.append(item.next_attempt_at - start)
        clock.advance(delay - 1)
        assert delivery.sweep() == []
        clock.advance(1)
        assert len(delivery.sweep()) == 1
    item.refresh_from_db()
    assert (item.state, item.attempt_count, item.next_attempt_at) == ("failed", 6, None)
    assert [t.total_seconds() for t in due_times] == [10, 110, 1_110, 11_110, 111_110]
    assert len(item.attempts) == 6 and all(a["status"] == 500 for a in item.attempts)
    assert {r.headers["webhook-id"] for r in live_http_receiver.requests} == {str(event.uid)}
    assert len(live_http_receiver.requests) == 6


def test_sweep_is_idempotent_through_a_worker_crash(account, live_http_receiver, on_commit, clock):
    """A worker that claimed a queue and died: nobody sends while its lease lives; afterwards exactly once."""
    live_http_receiver.respond(500)
    webhook = make_webhook(account, live_http_receiver.url())
    emit_status(account, on_commit, 1)
    clock.advance(10)
    crashed_token = delivery.claim(webhook.pk)
    assert crashed_token
    assert delivery.sweep() == [] and delivery.sweep() == []
    clock.advance(conf.setting("WEBHOOK_LEASE_SECONDS") + 1)
    assert delivery.sweep() == [webhook.pk]
    assert delivery.sweep() == []
    assert delivery.run_queue(webhook.pk, crashed_token) == 0
    assert len(live_http_receiver.requests) == 2
    assert WebhookDelivery.objects.get().state == "succeeded"


def test_receiver_down_then_up_gets_every_event_once_in_order(account, live_http_receiver, on_commit, clock):
    webhook = make_webhook(account, live_http_receiver.url())
    live_http_receiver.stop()
    events = [emit_status(account, on_commit, number) for number in range(6)]
    rows = list(WebhookDelivery.objects.filter(webhook=webhook).order_by("id"))
    assert [row.attempt_count for row in rows] == [1, 0, 0, 0, 0, 0]
    clock.advance(10)
    delivery.sweep()
    assert [row.attempt_count for row in WebhookDelivery.objects.order_by("id")] == [2, 0, 0, 0, 0, 0]
    live_http_receiver.start()
    live_http_receiver.respond(503)
    clock.advance(100)
    delivery.sweep()
    assert len(live_http_receiver.requests) == 1
    clock.advance(1_000)
    delivery.sweep()
    received = live_http_receiver.requests
    assert [r.headers["webhook-id"] for r in received] == [str(events[0].uid)] + [str(e.uid) for e in events]
    assert set(WebhookDelivery.objects.values_list("state", flat=True)) == {"succeeded"}
    assert [r.json()["payload"]["id"] for r in received[1:]] == [f"msg-{n}" for n in range(6)]


def test_410_disables_the_webhook_and_fails_what_waits(account, live_http_receiver, on_commit, clock):
    webhook = make_webhook(account, live_http_receiver.url())
    live_http_receiver.respond(500)
    emit_status(account, on_commit, 1)
    emit_status(account, on_commit, 2)
    live_http_receiver.respond(410)
    clock.advance(10)
    delivery.sweep()
    webhook.refresh_from_db()
    assert (webhook.status, webhook.disabled_reason) == (0, "gone")
    assert list(WebhookDelivery.objects.order_by("id").values_list("state", flat=True)) == ["failed", "failed"]
    emit_status(account, on_commit, 3)
    assert len(live_http_receiver.requests) == 2


def test_429_retry_after_postpones_beyond_the_schedule(account, live_http_receiver, on_commit, clock):
    live_http_receiver.respond(Reply(429, headers={"Retry-After": "500"}))
    make_webhook(account, live_http_receiver.url())
    emit_status(account, on_commit, 1)
    item = WebhookDelivery.objects.get()
    assert item.next_attempt_at == clock.now + timedelta(seconds=500)
    clock.advance(10)
    assert delivery.sweep() == []


def test_webhook_failing_for_the_configured_period_is_disabled(account, live_http_receiver, on_commit, clock, settings):
    settings.WEBHOOK_DISABLE_AFTER_SECONDS = 100
    live_http_receiver.default = Reply(500)
    webhook = make_webhook(account, live_http_receiver.url())
    emit_status(account, on_commit, 1)
    clock.advance(10)
    delivery.sweep()
    webhook.refresh_from_db()
    assert webhook.is_active and webhook.failing_since is not None
    clock.advance(100)
    delivery.sweep()
    webhook.refresh_from_db()
    assert (webhook.status, webhook.disabled_reason) == (0, "failing")


def test_success_clears_the_failing_period(account, live_http_receiver, on_commit, clock):
    live_http_receiver.respond(500)
    webhook = make_webhook(account, live_http_receiver.url())
    emit_status(account, on_commit, 1)
    clock.advance(10)
    delivery.sweep()
    webhook.refresh_from_db()
    assert webhook.failing_since is None and webhook.last_success_at == clock.now


def test_timeout_is_a_failed_attempt(account, live_http_receiver, on_commit):
    live_http_receiver.respond(Reply(200, delay=1.0))
    make_webhook(account, live_http_receiver.url(), timeout_seconds=0.2)
    emit_status(account, on_commit, 1)
    item = WebhookDelivery.objects.get()
    assert item.state == "pending" and "No answer within 0.2 s" in item.error


def test_redirect_is_a_failed_attempt(account, live_http_receiver, on_commit):
    live_http_receiver.respond(Reply(301, headers={"Location": "http://127.0.0.1:1/"}))
    make_webhook(account, live_http_receiver.url())
    emit_status(account, on_commit, 1)
    item = WebhookDelivery.objects.get()
    assert item.last_status_code == 301 and "not followed" in item.error
    assert len(live_http_receiver.requests) == 1


def test_send_time_ssrf_check_refuses_without_connecting(account, live_http_receiver, on_commit, settings):
    make_webhook(account, live_http_receiver.url())
    settings.WEBHOOK_ALLOWED_CIDRS = []
    emit_status(account, on_commit, 1)
    item = WebhookDelivery.objects.get()
    assert item.error.startswith("Refused:") and "loopback" in item.error
    assert live_http_receiver.requests == []


def test_rotation_overlap_ends(account, live_http_receiver, on_commit, clock):
    from portal.webhooks.services import rotate_secret

    webhook = make_webhook(account, live_http_receiver.url())
    old = webhook.secret
    new = rotate_secret(webhook)
    assert webhook.signing_secrets() == [new, old]
    clock.advance(24 * 3600 + 1)
    assert webhook.signing_secrets() == [new]


def test_customized_get_with_url_encoded_placeholders(account, live_http_receiver, on_commit):
    make_webhook(
        account,
        live_http_receiver.url("/ack/receive?id={{id}}&mobile={{mobile}}&status={{status}}"),
        kind=Webhook.Kind.CUSTOM,
        custom_headers={"Authorization": "Bearer {{custom}}"},
        custom_params={"message_status": "{{status}}"},
    )
    with on_commit():
        emit(account, "sms:message:status", {"id": "a b&c", "mobile": "+91 98", "status": "DELIVRD", "custom": "t0k"})
    (received,) = live_http_receiver.wait_for(1)
    assert received.method == "GET" and received.body == b""
    assert received.query == {
        "id": ["a b&c"],
        "mobile": ["+91 98"],
        "status": ["DELIVRD"],
        "message_status": ["DELIVRD"],
    }
    assert received.headers["authorization"] == "Bearer t0k"
    assert received.headers["webhook-signature"].startswith("v1,")


@pytest.mark.parametrize(
    ("body_type", "fields", "expected_type"),
    [
        ("form", {"custom_form": {"message_id": "{{id}}", "state": "{{status}}"}}, "application/x-www-form-urlencoded"),
        ("raw", {"custom_body": '{"ref": "{{id}}", "ok": true}'}, "application/json"),
    ],
)
def test_customized_post_bodies(account, live_http_receiver, on_commit, body_type, fields, expected_type):
    make_webhook(
        account,
        live_http_receiver.url("/ack"),
        kind=Webhook.Kind.CUSTOM,
        custom_method="POST",
        custom_body_type=body_type,
        **fields,
    )
    with on_commit():
        emit(account, "sms:message:status", {"id": "m-1", "status": "UNDELIV"})
    (received,) = live_http_receiver.wait_for(1)
    assert received.headers["content-type"] == expected_type
    if body_type == "form":
        assert parse_qs(received.text) == {"message_id": ["m-1"], "state": ["UNDELIV"]}
    else:
        assert received.json() == {"ref": "m-1", "ok": True}


def test_many_events_keep_creation_order_per_webhook(account, live_http_receiver, on_commit):
    webhook = make_webhook(account, live_http_receiver.url())
    for number in range(20):
        emit_status(account, on_commit, number)
    received = live_http_receiver.wait_for(20)
    assert [r.json()["payload"]["id"] for r in received] == [f"msg-{n}" for n in range(20)]
    assert webhook.deliveries.filter(state="succeeded").count() == 20


def test_signature_timestamps_are_fresh_on_each_attempt(account, live_http_receiver, on_commit):
    live_http_receiver.respond(500)
    webhook = make_webhook(account, live_http_receiver.url())
    emit_status(account, on_commit, 1)
    time.sleep(1.1)
    WebhookDelivery.objects.update(next_attempt_at=timezone.now())
    delivery.sweep()
    first, second = live_http_receiver.wait_for(2)
    assert first.headers["webhook-id"] == second.headers["webhook-id"]
    assert int(second.headers["webhook-timestamp"]) > int(first.headers["webhook-timestamp"])
    StandardWebhook(webhook.secret).verify(second.body, second.headers)


def test_system_check_refuses_the_allow_list_without_debug(settings):
    settings.DEBUG = False
    assert [error.id for error in allow_list_only_in_debug()] == ["portal.E100"]
    settings.DEBUG = True
    assert allow_list_only_in_debug() == []
    settings.DEBUG = False
    settings.WEBHOOK_ALLOWED_CIDRS = []
    assert allow_list_only_in_debug() == []


def test_prune_keeps_pending_and_recent_deliveries(account, live_http_receiver, on_commit, clock, settings):
    settings.WEBHOOK_RETENTION_DAYS = 30
    live_http_receiver.respond(200, 500)
    make_webhook(account, live_http_receiver.url())
    emit_status(account, on_commit, 1)
    emit_status(account, on_commit, 2)
    assert list(WebhookDelivery.objects.order_by("id").values_list("state", flat=True)) == ["succeeded", "pending"]
    clock.advance(29 * 86400)
    assert delivery.prune() == 0
    clock.advance(2 * 86400)
    assert delivery.prune() == 1
    assert list(WebhookDelivery.objects.values_list("state", flat=True)) == ["pending"]


def test_events_of_a_rolled_back_savepoint_are_not_delivered(account, live_http_receiver, on_commit):
    make_webhook(account, live_http_receiver.url())
    with on_commit(), transaction.atomic():
        kept = emit(account, "sms:message:status", {"n": 1}, "ACMEIN")
        with pytest.raises(RuntimeError), transaction.atomic():
            emit(account, "sms:message:status", {"n": 2}, "ACMEIN")
            raise RuntimeError("one recipient failed")
    assert list(WebhookDelivery.objects.values_list("event_uid", flat=True)) == [kept.uid]
    assert [r.headers["webhook-id"] for r in live_http_receiver.wait_for(1)] == [str(kept.uid)]
