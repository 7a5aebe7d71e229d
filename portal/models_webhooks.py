"""Webhooks, their event subscriptions, and one delivery row per (event, webhook)."""

from datetime import datetime

from django.db import models
from django.utils import timezone

from portal.secrets_at_rest import EncryptedTextField
from portal.tenancy import AccountQuerySet, AccountScopedModel

__all__ = ["Subscription", "Webhook", "WebhookDelivery", "awaiting_handshake"]

MAX_ATTEMPT_LOG = 20


def awaiting_handshake(via: str = "") -> models.Q:
    """Webhooks with a validation key whose challenge handshake has not succeeded yet: their deliveries are held.
    `via` reaches them from a related model (`"webhook__"` from a delivery)."""
    return models.Q(**{f"{via}verification_required": True, f"{via}verified_at__isnull": True})


class WebhookQuerySet(AccountQuerySet):
    def sending(self):
        """Webhooks whose deliveries may leave: active, and verified when they have a validation key."""
        return self.filter(status=Webhook.Status.ACTIVE).exclude(awaiting_handshake())


class Webhook(AccountScopedModel):
    """An endpoint of the customer that receives signed event deliveries."""

    class Status(models.IntegerChoices):
        ACTIVE = 1, "Active"
        INACTIVE = 0, "Inactive"

    class Kind(models.TextChoices):
        STANDARD = "standard", "Standard (signed JSON POST)"
        CUSTOM = "custom", "Customized (method, URL placeholders, params, headers, body)"

    class DisabledReason(models.TextChoices):
        NONE = "", "—"
        MANUAL = "manual", "Switched off by a user"
        DELETED = "deleted", "Deleted (restorable)"
        GONE = "gone", "The endpoint answered 410 Gone"
        FAILING = "failing", "Every attempt failed for too long"

    class Method(models.TextChoices):
        GET = "GET", "GET"
        POST = "POST", "POST"

    class BodyType(models.TextChoices):
        FORM = "form", "Form data"
        RAW = "raw", "Raw"

    class Verification(models.TextChoices):
        NOT_REQUIRED = "not_required", "Not required (no validation key)"
        PENDING = "pending", "Waiting for the challenge handshake"
        VERIFIED = "verified", "Verified"
        FAILED = "failed", "The challenge handshake failed"

    name = models.CharField(max_length=120)
    uri = models.CharField(max_length=2000, verbose_name="URL")
    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.STANDARD)
    secret = EncryptedTextField(max_length=120, help_text="whsec_… key of the Standard Webhooks signatures.")
    previous_secret = EncryptedTextField(max_length=120, blank=True)
    previous_secret_expires_at = models.DateTimeField(null=True, blank=True)
    status = models.PositiveSmallIntegerField(choices=Status.choices, default=Status.ACTIVE, db_index=True)
    disabled_reason = models.CharField(max_length=10, choices=DisabledReason.choices, blank=True, default="")
    disabled_at = models.DateTimeField(null=True, blank=True)
    token = EncryptedTextField(
        max_length=200, blank=True, help_text="Validation key of the challenge handshake (seed: Webhook Verification)."
    )
    verification_required = models.BooleanField(
        default=False, editable=False, help_text="A validation key is set: deliveries wait for a handshake."
    )
    verified_at = models.DateTimeField(null=True, blank=True, editable=False)
    verification_checked_at = models.DateTimeField(null=True, blank=True, editable=False)
    verification_error = models.CharField(max_length=500, blank=True, editable=False)
    send_bearer = models.BooleanField(
        default=False, help_text="Also send the secret as Authorization: Bearer <secret> (seed), beside the signature."
    )
    timeout_seconds = models.FloatField(null=True, blank=True, help_text="Seconds to wait for a 2xx (default 3).")
    custom_method = models.CharField(max_length=4, choices=Method.choices, default=Method.GET)
    custom_headers = models.JSONField(default=dict, blank=True)
    custom_params = models.JSONField(default=dict, blank=True)
    custom_body_type = models.CharField(max_length=4, choices=BodyType.choices, default=BodyType.FORM)
    custom_body = models.TextField(blank=True, help_text="Raw body with {{placeholders}}.")
    custom_form = models.JSONField(default=dict, blank=True, help_text="Form fields with {{placeholders}}.")
    failing_since = models.DateTimeField(null=True, blank=True)
    last_success_at = models.DateTimeField(null=True, blank=True)
    last_failure_at = models.DateTimeField(null=True, blank=True)
    lease_token = models.CharField(max_length=32, blank=True, editable=False)
    lease_until = models.DateTimeField(null=True, blank=True, editable=False)

    objects = WebhookQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["account", "status"], name="webhook_account_status")]

    def __str__(self) -> str:
        return self.name

    @property
    def is_active(self) -> bool:
        return self.status == self.Status.ACTIVE

    @property
    def is_custom(self) -> bool:
        return self.kind == self.Kind.CUSTOM

    @property
    def is_held(self) -> bool:
        """It has a validation key and no handshake has succeeded yet: its deliveries wait."""
        return self.verification_required and self.verified_at is None

    @property
    def verification(self) -> str:
        if not self.verification_required:
            return self.Verification.NOT_REQUIRED
        if self.verified_at is not None:
            return self.Verification.VERIFIED
        return self.Verification.FAILED if self.verification_error else self.Verification.PENDING

    @property
    def bearer_token(self) -> str:
        """The secret sent as `Authorization: Bearer …` when the webhook asks for it, else empty."""
        return self.secret if self.send_bearer else ""

    def reset_verification(self) -> list[str]:
        """A new validation key or URL: verified again from scratch. Returns the fields it set."""
        self.verification_required = bool(self.token)
        self.verified_at = self.verification_checked_at = None
        self.verification_error = ""
        return ["verification_required", "verified_at", "verification_checked_at", "verification_error"]

    def signing_secrets(self, now: datetime | None = None) -> list[str]:
        """The current secret, plus the previous one while the rotation overlap lasts."""
        now = now or timezone.now()
        secrets_in_use = [self.secret]
        if self.previous_secret and self.previous_secret_expires_at and self.previous_secret_expires_at > now:
            secrets_in_use.append(self.previous_secret)
        return secrets_in_use


class Subscription(AccountScopedModel):
    """Send `event` about `identity` (a sender or number, or `all`) to `webhook`."""

    ALL = "all"

    event = models.CharField(max_length=80)
    identity = models.CharField(max_length=64, default=ALL)
    webhook = models.ForeignKey(Webhook, on_delete=models.CASCADE, related_name="subscriptions")

    class Meta:
        ordering = ["event", "identity"]
        constraints = [
            models.UniqueConstraint(fields=["webhook", "event", "identity"], name="unique_webhook_subscription")
        ]
        indexes = [models.Index(fields=["account", "event", "identity"], name="subscription_match")]

    def __str__(self) -> str:
        return f"{self.event} ({self.identity}) → {self.webhook}"


class WebhookDelivery(AccountScopedModel):
    """One event for one webhook: its attempts, and when the next one is due."""

    class State(models.TextChoices):
        PENDING = "pending", "Pending"
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed"

    webhook = models.ForeignKey(Webhook, on_delete=models.CASCADE, related_name="deliveries")
    event_uid = models.UUIDField(db_index=True, help_text="Sent as webhook-id; the same on every attempt.")
    event_name = models.CharField(max_length=80, db_index=True)
    identity = models.CharField(max_length=64, blank=True)
    payload = models.JSONField(help_text="The body: event, id, timestamp, payload.")
    state = models.CharField(max_length=10, choices=State.choices, default=State.PENDING)
    attempt_count = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    last_status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    request_excerpt = models.TextField(blank=True)
    response_excerpt = models.TextField(blank=True)
    duration_ms = models.PositiveIntegerField(null=True, blank=True)
    error = models.CharField(max_length=500, blank=True)
    attempts = models.JSONField(default=list, blank=True, help_text=f"The last {MAX_ATTEMPT_LOG} attempts.")

    class Meta:
        ordering = ["-id"]
        verbose_name_plural = "webhook deliveries"
        indexes = [
            models.Index(fields=["webhook", "state", "id"], name="delivery_webhook_queue"),
            models.Index(fields=["state", "next_attempt_at"], name="delivery_due"),
        ]

    def __str__(self) -> str:
        return f"{self.event_name} {self.event_uid} → {self.webhook_id} ({self.state})"


from portal.webhooks import checks  # noqa: E402, F401  (registers the webhook system checks)
