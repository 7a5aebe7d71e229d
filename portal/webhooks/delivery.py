"""The delivery engine: fan-out of events to webhooks, per-webhook queues, attempts, retries, auto-disable.

Each webhook's pending deliveries form a queue sent strictly in creation order: only the oldest pending
delivery (the head) is attempted, and the ones behind it wait while it is scheduled for a retry. A worker
owns a queue through a lease on the Webhook row (claimed with a conditional UPDATE, renewed before it could
run out), so two workers never send the same queue; a crashed worker's lease simply expires. The beat sweep
claims the queues whose head is due with `select_for_update(skip_locked=True)` and enqueues one task per
queue; it is idempotent (a queue with a live lease is skipped). A queue run keeps its HTTP connection alive
and writes successes in small batches. Times come from an injectable clock (`timezone.now` by default).
Only `Webhook.objects.sending()` queues are claimed: a webhook waiting for its challenge handshake
(portal.webhooks.verification) gets its deliveries all the same, held pending until it is verified.
"""

import json
import logging
import time
import uuid
from collections.abc import Callable
from contextlib import contextmanager
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import Min, Q
from django.db.models.functions import Coalesce
from django.utils import timezone

from portal.audit import record
from portal.models import Event, Webhook, WebhookDelivery
from portal.models_webhooks import MAX_ATTEMPT_LOG
from portal.webhooks import alerts, conf, custom, registry, signing, transport

logger = logging.getLogger("portal.webhooks")
Clock = Callable[[], datetime]
PENDING, SUCCEEDED, FAILED = WebhookDelivery.State.values
ACTIVE = Webhook.Status.ACTIVE
REQUEST_EXCERPT_CHARS = 4000
WINDOW = 50  # pending deliveries read at once from the head of a queue
SUCCESS_STAMP_INTERVAL = timedelta(seconds=1)
LEASE_CHECK_INTERVAL = timedelta(seconds=1)
SUCCESS_BATCH = 25
SUCCESS_FLUSH_SECONDS = 0.5
RECORDED_FIELDS = [
    "attempt_count",
    "attempts",
    "last_attempt_at",
    "last_status_code",
    "request_excerpt",
    "response_excerpt",
    "duration_ms",
    "error",
    "state",
    "next_attempt_at",
    "updated_at",
]


def envelope(event: Event) -> dict:
    """The JSON body of every delivery of this event."""
    return {
        "event": event.name,
        "id": str(event.uid),
        "timestamp": int(event.created_at.timestamp()),
        "payload": event.payload,
    }


def body_bytes(payload: dict) -> bytes:
    return json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode()


# Queue ownership -----------------------------------------------------------------------------------------


def _lease_free(now: datetime) -> Q:
    return Q(lease_until__isnull=True) | Q(lease_until__lt=now)


def _lease_end(now: datetime) -> datetime:
    return now + timedelta(seconds=float(conf.setting("WEBHOOK_LEASE_SECONDS")))


def claim(webhook_id: int, now: datetime | None = None) -> str | None:
    """Take the webhook's queue if nobody holds it; returns the lease token."""
    now = now or timezone.now()
    token = uuid.uuid4().hex
    updated = (
        Webhook.objects.sending()
        .filter(pk=webhook_id)
        .filter(_lease_free(now))
        .update(lease_token=token, lease_until=_lease_end(now))
    )
    return token if updated else None


@contextmanager
def relaxed_durability():
    """A transaction whose commit does not wait for the disk on PostgreSQL (`synchronous_commit off`).

    For attempt records and lease renewals only: if the database crashed right after such a commit, the
    delivery would be sent again with the same event id (at least once), never lost."""
    with transaction.atomic():
        connection = transaction.get_connection()
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL synchronous_commit TO OFF")
        yield


def renew(webhook_id: int, token: str, now: datetime) -> bool:
    with relaxed_durability():
        updated = Webhook.objects.sending().filter(pk=webhook_id, lease_token=token).update(lease_until=_lease_end(now))
    return bool(updated)


def release(webhook_id: int, token: str) -> None:
    Webhook.objects.filter(pk=webhook_id, lease_token=token).update(lease_token="", lease_until=None)


def enqueue(webhook_id: int, token: str) -> None:
    from portal.webhooks.tasks import deliver_webhook

    deliver_webhook.delay(webhook_id, token)


def kick(webhook_ids, now: datetime | None = None) -> None:
    """Start a task for each idle queue; a busy queue's worker picks the new deliveries up itself."""
    for webhook_id in webhook_ids:
        token = claim(webhook_id, now)
        if token:
            enqueue(webhook_id, token)


def head_of_queue(webhook_id: int) -> WebhookDelivery | None:
    return WebhookDelivery.objects.filter(webhook_id=webhook_id, state=PENDING).order_by("id").first()


def due_webhook_ids(now: datetime):
    """Webhooks whose oldest pending delivery is due."""
    heads = WebhookDelivery.objects.filter(state=PENDING).values("webhook_id").annotate(head=Min("id")).values("head")
    return WebhookDelivery.objects.filter(id__in=heads, next_attempt_at__lte=now).values("webhook_id")


def sweep(now: datetime | None = None, limit: int = 200) -> list[int]:
    """Beat: claim the idle queues whose head is due and enqueue one task each. Safe to run concurrently."""
    now = now or timezone.now()
    claimed: list[tuple[int, str]] = []
    with transaction.atomic():
        candidates = list(
            Webhook.objects.sending()
            .filter(pk__in=due_webhook_ids(now))
            .filter(_lease_free(now))
            .select_for_update(skip_locked=True)
            .order_by("pk")
            .values_list("pk", flat=True)[:limit]
        )
        for webhook_id in candidates:
            token = claim(webhook_id, now)
            if token:
                claimed.append((webhook_id, token))
    for webhook_id, token in claimed:
        enqueue(webhook_id, token)
    return [webhook_id for webhook_id, _ in claimed]


def holds_lease(webhook_id: int, token: str) -> bool:
    return Webhook.objects.sending().filter(pk=webhook_id, lease_token=token).exists()


def run_queue(webhook_id: int, token: str, *, clock: Clock | None = None, batch: int | None = None) -> int:
    """Send the webhook's due deliveries in order while holding the lease; returns the number of attempts.

    The lease is renewed (a write) only when it could run out during the next attempt; at most every
    LEASE_CHECK_INTERVAL a read checks it is still ours and the webhook still active (a user may disable it).
    Successes are written in small batches, always before the queue is read again or let go."""
    clock = clock or timezone.now
    successes = SuccessLog()
    with transport.ConnectionPool() as pool:
        try:
            return _drain(webhook_id, token, clock, batch or int(conf.setting("WEBHOOK_TASK_BATCH")), pool, successes)
        finally:
            successes.flush()


def _drain(
    webhook_id: int, token: str, clock: Clock, batch: int, pool: transport.ConnectionPool, successes: "SuccessLog"
) -> int:
    margin = timedelta(seconds=transport.MAX_TIMEOUT + 5)
    attempts = 0
    while True:
        successes.flush()
        now = clock()
        if not renew(webhook_id, token, now):
            return attempts
        lease_ends, checked_at = _lease_end(now), now
        window = list(WebhookDelivery.objects.filter(webhook_id=webhook_id, state=PENDING).order_by("id")[:WINDOW])
        if not window or window[0].next_attempt_at > now:
            release(webhook_id, token)
            head = head_of_queue(webhook_id)  # a delivery created while we were releasing
            if head is None or head.next_attempt_at > now or not (token := claim(webhook_id, now)):
                return attempts
            continue
        if attempts >= batch:
            enqueue(webhook_id, token)
            return attempts
        webhook = Webhook.objects.get(pk=webhook_id)
        for item in window:
            now = clock()
            if item.next_attempt_at > now:
                break
            if lease_ends - now < margin:
                if not renew(webhook_id, token, now):
                    return attempts
                lease_ends, checked_at = _lease_end(now), now
            elif now - checked_at >= LEASE_CHECK_INTERVAL:
                if not holds_lease(webhook_id, token):
                    return attempts
                checked_at = now
            attempts += 1
            if not attempt(webhook, item, clock=clock, pool=pool, successes=successes):
                successes.flush()
                release(webhook_id, token)
                return attempts


# One attempt ---------------------------------------------------------------------------------------------


def template_values(delivery: WebhookDelivery) -> dict:
    """Values for the placeholders of a customized webhook (a test event uses the sample delivery report)."""
    payload = delivery.payload.get("payload") or {}
    if not registry.get(delivery.event_name).customizable:
        payload = {**registry.get("sms:message:status").sample_payload, **payload}
    return {"event": delivery.event_name, "event_id": str(delivery.event_uid), **payload}


def build_request(webhook: Webhook, delivery: WebhookDelivery, now: datetime) -> transport.OutgoingRequest:
    """The signed HTTP request of one attempt (a fresh webhook-timestamp, the same webhook-id every time)."""
    msg_id, timestamp = str(delivery.event_uid), int(now.timestamp())
    if not webhook.is_custom:
        body = body_bytes(delivery.payload)
        headers = {"Content-Type": "application/json"}
        headers.update(signing.auth_headers(webhook, msg_id, timestamp, body, now))
        return transport.OutgoingRequest("POST", webhook.uri, headers, body)
    values = template_values(delivery)
    url = custom.render_url(webhook.uri, webhook.custom_params, values)
    headers = custom.render_headers(webhook.custom_headers, values)
    body = b""
    if webhook.custom_method == Webhook.Method.POST:
        body, content_type = custom.render_body(
            webhook.custom_body_type, webhook.custom_body, webhook.custom_form, values
        )
        if not any(key.lower() == "content-type" for key in headers):
            headers["Content-Type"] = content_type
    headers.update(signing.auth_headers(webhook, msg_id, timestamp, body, now))
    return transport.OutgoingRequest(webhook.custom_method, url, headers, body)


def _shown_header(name: str, value: str) -> str:
    """Header values as the delivery log shows them: credentials hidden."""
    return f"{value.partition(' ')[0]} (hidden)" if name.lower() == "authorization" else value


def describe_request(request: transport.OutgoingRequest) -> str:
    lines = [f"{request.method} {request.url}"]
    lines += [f"{key}: {_shown_header(key, value)}" for key, value in request.headers.items()]
    text = "\n".join(lines) + "\n\n" + request.body.decode("utf-8", errors="replace")
    return text[:REQUEST_EXCERPT_CHARS]


def attempt(
    webhook: Webhook,
    delivery: WebhookDelivery,
    *,
    clock: Clock | None = None,
    retries: bool = True,
    pool: transport.ConnectionPool | None = None,
    successes: "SuccessLog | None" = None,
) -> bool:
    """Send one attempt and record it. True when the queue may go on to the next delivery."""
    clock = clock or timezone.now
    request = build_request(webhook, delivery, clock())
    timeout = webhook.timeout_seconds or float(conf.setting("WEBHOOK_TIMEOUT_SECONDS"))
    result = transport.send(request, timeout=timeout, policy=conf.policy(), pool=pool)
    return record_attempt(webhook, delivery, request, result, clock(), retries=retries, successes=successes)


def _next_delay(attempt_count: int, result: transport.AttemptResult) -> float | None:
    schedule = conf.retry_schedule()
    if attempt_count > len(schedule):
        return None
    delay = schedule[attempt_count - 1]
    return max(delay, result.retry_after) if result.retry_after is not None else delay


def record_attempt(
    webhook: Webhook,
    delivery: WebhookDelivery,
    request: transport.OutgoingRequest,
    result: transport.AttemptResult,
    now: datetime,
    *,
    retries: bool = True,
    successes: "SuccessLog | None" = None,
) -> bool:
    """Store the outcome, schedule the retry or finish the delivery (a final failure notifies the account's admins,
    portal.webhooks.alerts; a test event sent without retries does not), and react to 410 and long failure."""
    delivery.attempt_count += 1
    delivery.attempts = [
        *delivery.attempts,
        {
            "at": now.isoformat(),
            "status": result.status_code,
            "duration_ms": result.duration_ms,
            "error": result.error[:200],
        },
    ][-MAX_ATTEMPT_LOG:]
    delivery.last_attempt_at = now
    delivery.last_status_code = result.status_code
    delivery.request_excerpt = describe_request(request)
    delivery.response_excerpt = result.response_excerpt
    delivery.duration_ms = result.duration_ms
    delivery.error = result.error[:500]
    if result.succeeded:
        delivery.state, delivery.next_attempt_at, delivery.updated_at = SUCCEEDED, None, now
        if successes is not None:
            successes.add(webhook, delivery, now)
        else:
            write_successes(webhook, [delivery], now)
        return True
    delay = _next_delay(delivery.attempt_count, result) if retries and result.status_code != 410 else None
    if delay is None:
        delivery.state, delivery.next_attempt_at = FAILED, None
    else:
        delivery.state, delivery.next_attempt_at = PENDING, now + timedelta(seconds=delay)
    with transaction.atomic():
        delivery.save(update_fields=RECORDED_FIELDS)
        if delivery.state == FAILED and retries:
            alerts.delivery_failed(webhook, delivery)
    Webhook.objects.filter(pk=webhook.pk).update(last_failure_at=now, failing_since=Coalesce("failing_since", now))
    if result.status_code == 410:
        disable(webhook, Webhook.DisabledReason.GONE, now=now)
        return False
    failing_since = Webhook.objects.filter(pk=webhook.pk).values_list("failing_since", flat=True).first()
    webhook.failing_since, webhook.last_failure_at = failing_since, now
    limit = timedelta(seconds=float(conf.setting("WEBHOOK_DISABLE_AFTER_SECONDS")))
    if retries and failing_since is not None and now - failing_since >= limit:
        disable(webhook, Webhook.DisabledReason.FAILING, now=now)
        return False
    return delivery.state == FAILED


def write_successes(webhook: Webhook, deliveries: list[WebhookDelivery], now: datetime) -> None:
    """Store succeeded attempts in one transaction and stamp the webhook's last success (at most once a second)."""
    stale = webhook.last_success_at is None or now - webhook.last_success_at >= SUCCESS_STAMP_INTERVAL
    with relaxed_durability():
        for delivery in deliveries:
            delivery.save(update_fields=RECORDED_FIELDS)
        if webhook.failing_since is not None or stale:
            Webhook.objects.filter(pk=webhook.pk).update(last_success_at=now, failing_since=None)
            webhook.last_success_at, webhook.failing_since = now, None


class SuccessLog:
    """Succeeded attempts of one queue run, written SUCCESS_BATCH at a time (or after SUCCESS_FLUSH_SECONDS).

    If the worker dies before a flush, those deliveries are sent again with the same event id (at least once)."""

    def __init__(self):
        self.pending: list[WebhookDelivery] = []
        self.webhook: Webhook | None = None
        self.last_at: datetime | None = None
        self.first_added = 0.0

    def add(self, webhook: Webhook, delivery: WebhookDelivery, now: datetime) -> None:
        if not self.pending:
            self.first_added = time.monotonic()
        self.pending.append(delivery)
        self.webhook, self.last_at = webhook, now
        if len(self.pending) >= SUCCESS_BATCH or time.monotonic() - self.first_added >= SUCCESS_FLUSH_SECONDS:
            self.flush()

    def flush(self) -> None:
        if self.pending:
            write_successes(self.webhook, self.pending, self.last_at)
            self.pending = []


def prune(now: datetime | None = None) -> int:
    """Delete finished deliveries older than the retention period; pending ones are never deleted."""
    now = now or timezone.now()
    cutoff = now - timedelta(days=float(conf.setting("WEBHOOK_RETENTION_DAYS")))
    deleted, _ = WebhookDelivery.objects.filter(state__in=[SUCCEEDED, FAILED], created_at__lt=cutoff).delete()
    return deleted


def disable(webhook: Webhook, reason: str, *, now: datetime | None = None, actor=None) -> int:
    """Switch the webhook off and fail its pending deliveries (they can be redelivered after a restore)."""
    now = now or timezone.now()
    label = Webhook.DisabledReason(reason).label
    with transaction.atomic():
        Webhook.objects.filter(pk=webhook.pk).update(
            status=Webhook.Status.INACTIVE, disabled_reason=reason, disabled_at=now, lease_token="", lease_until=None
        )
        failed = WebhookDelivery.objects.filter(webhook_id=webhook.pk, state=PENDING).update(
            state=FAILED, next_attempt_at=None, error=f"Not sent: webhook disabled ({label})."
        )
        webhook.status, webhook.disabled_reason, webhook.disabled_at = Webhook.Status.INACTIVE, reason, now
        record(webhook.account, actor, "webhook.disabled", webhook, after={"reason": reason, "pending_failed": failed})
    if reason in (Webhook.DisabledReason.GONE, Webhook.DisabledReason.FAILING):
        logger.warning("webhook %s disabled: %s", webhook.uid, label)
    return failed
