"""Writes on webhooks and subscriptions: each in a transaction with its audit row."""

from dataclasses import dataclass
from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from portal.audit import record
from portal.models import Account, Event, Subscription, Webhook, WebhookDelivery
from portal.service_errors import ServiceError
from portal.webhooks import conf, delivery, registry, signing, tasks

PENDING, SUCCEEDED, FAILED = WebhookDelivery.State.values
AUDITED_FIELDS = ("name", "uri", "kind", "status", "timeout_seconds", "custom_method", "send_bearer")
HELD = "Verify the webhook first: it receives nothing until its endpoint answers the challenge handshake."


class WebhookInactive(Exception):
    """The action needs an active webhook."""


@dataclass(frozen=True)
class CreatedWebhook:
    webhook: Webhook
    secret: str


def snapshot(webhook: Webhook) -> dict:
    return {field: getattr(webhook, field) for field in AUDITED_FIELDS}


@transaction.atomic
def create_webhook(account: Account, cleaned: dict, *, secret: str, acting_user=None) -> CreatedWebhook:
    """Create from validated fields; `secret` is already in whsec_ form. The secret is returned once."""
    webhook = Webhook(account=account, secret=secret, **cleaned)
    if webhook.status == Webhook.Status.INACTIVE:
        webhook.disabled_reason, webhook.disabled_at = Webhook.DisabledReason.MANUAL, timezone.now()
    webhook.reset_verification()
    webhook.save()
    record(account, acting_user, "webhook.created", webhook, after=snapshot(webhook))
    if webhook.is_held:
        _start_handshake(webhook)
    return CreatedWebhook(webhook=webhook, secret=secret)


def _start_handshake(webhook: Webhook) -> None:
    """After commit: the seed's initial challenge request for a new validation key or URL (portal.webhooks.verify);
    without a key any held deliveries leave."""
    if webhook.is_held:
        transaction.on_commit(lambda: tasks.verify_webhook_handshake.delay(webhook.pk), robust=True)
    else:
        _restart_queue(webhook)


def update_webhook(webhook: Webhook, cleaned: dict, *, acting_user=None) -> Webhook:
    """Apply validated fields; switching the status runs the same path as disable/restore. A new validation key,
    or a new URL of a webhook that has one, needs a new handshake."""
    before = snapshot(webhook)
    new_status = cleaned.pop("status", webhook.status)
    reverify = cleaned.get("token", webhook.token) != webhook.token or (
        webhook.token and cleaned.get("uri", webhook.uri) != webhook.uri
    )
    with transaction.atomic():
        for field, value in cleaned.items():
            setattr(webhook, field, value)
        fields = [*cleaned, *(webhook.reset_verification() if reverify else [])]
        webhook.save(update_fields=[*fields, "updated_at"])
        record(webhook.account, acting_user, "webhook.updated", webhook, before=before, after=snapshot(webhook))
        if reverify:
            _start_handshake(webhook)
    if new_status != webhook.status:
        if new_status == Webhook.Status.ACTIVE:
            restore_webhook(webhook, acting_user=acting_user)
        else:
            delivery.disable(webhook, Webhook.DisabledReason.MANUAL, actor=acting_user)
    return webhook


def delete_webhook(webhook: Webhook, *, acting_user=None) -> None:
    """Soft delete: the webhook becomes inactive (restorable) and its pending deliveries fail."""
    delivery.disable(webhook, Webhook.DisabledReason.DELETED, actor=acting_user)


@transaction.atomic
def restore_webhook(webhook: Webhook, *, acting_user=None) -> Webhook:
    Webhook.objects.filter(pk=webhook.pk).update(
        status=Webhook.Status.ACTIVE, disabled_reason="", disabled_at=None, failing_since=None
    )
    webhook.refresh_from_db()
    record(webhook.account, acting_user, "webhook.restored", webhook, after=snapshot(webhook))
    return webhook


@transaction.atomic
def rotate_secret(webhook: Webhook, *, new_secret: str | None = None, acting_user=None) -> str:
    """A new secret signs from now on; the old one keeps signing too during the overlap window."""
    overlap = timedelta(seconds=float(conf.setting("WEBHOOK_SECRET_OVERLAP_SECONDS")))
    secret = new_secret or signing.generate_secret()
    webhook.previous_secret, webhook.previous_secret_expires_at = webhook.secret, timezone.now() + overlap
    webhook.secret = secret
    webhook.save(update_fields=["secret", "previous_secret", "previous_secret_expires_at", "updated_at"])
    record(webhook.account, acting_user, "webhook.secret_rotated", webhook, after={"overlap_until": str(overlap)})
    return secret


def send_test_event(webhook: Webhook, *, acting_user=None) -> WebhookDelivery:
    """Send a `webhook:ping` to this webhook now (one attempt, no retries) and return its delivery."""
    if webhook.is_held:
        raise ServiceError(HELD)
    event = Event.objects.create(
        account=webhook.account, name="webhook:ping", payload=dict(registry.get("webhook:ping").sample_payload)
    )
    test = WebhookDelivery.objects.create(
        account=webhook.account,
        webhook=webhook,
        event_uid=event.uid,
        event_name=event.name,
        payload=delivery.envelope(event),
    )
    delivery.attempt(webhook, test, retries=False)
    return test


def _restart_queue(webhook: Webhook) -> None:
    transaction.on_commit(lambda: delivery.kick([webhook.pk]), robust=True)


@transaction.atomic
def redeliver(item: WebhookDelivery, *, acting_user=None) -> WebhookDelivery:
    """Send a delivery again with the same event id and a fresh retry schedule."""
    if not item.webhook.is_active:
        raise WebhookInactive("Restore the webhook before redelivering.")
    item.state, item.attempt_count, item.next_attempt_at, item.error = PENDING, 0, timezone.now(), ""
    item.save(update_fields=["state", "attempt_count", "next_attempt_at", "error", "updated_at"])
    record(item.account, acting_user, "webhook.redelivered", item.webhook, after={"event_id": str(item.event_uid)})
    _restart_queue(item.webhook)
    return item


@transaction.atomic
def redeliver_failed(webhook: Webhook, *, acting_user=None) -> int:
    """Queue every failed delivery of the webhook again, in their original order."""
    if not webhook.is_active:
        raise WebhookInactive("Restore the webhook before redelivering.")
    count = WebhookDelivery.objects.filter(webhook=webhook, state=FAILED).update(
        state=PENDING, attempt_count=0, next_attempt_at=timezone.now(), error=""
    )
    record(webhook.account, acting_user, "webhook.redelivered", webhook, after={"failed_requeued": count})
    _restart_queue(webhook)
    return count


@transaction.atomic
def create_subscription(account: Account, *, webhook: Webhook, event: str, identity: str, acting_user=None):
    subscription = Subscription.objects.create(account=account, webhook=webhook, event=event, identity=identity)
    record(account, acting_user, "subscription.created", subscription, after={"event": event, "identity": identity})
    return subscription


@transaction.atomic
def update_subscription(subscription: Subscription, *, acting_user=None, **changes) -> Subscription:
    before = {"event": subscription.event, "identity": subscription.identity, "webhook": str(subscription.webhook.uid)}
    for field, value in changes.items():
        setattr(subscription, field, value)
    subscription.save()
    after = {"event": subscription.event, "identity": subscription.identity, "webhook": str(subscription.webhook.uid)}
    record(subscription.account, acting_user, "subscription.updated", subscription, before=before, after=after)
    return subscription


@transaction.atomic
def delete_subscription(subscription: Subscription, *, acting_user=None) -> None:
    record(subscription.account, acting_user, "subscription.deleted", subscription)
    subscription.delete()
