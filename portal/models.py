"""Core models: accounts (tenants), memberships with roles, API tokens, audit trail and events."""

import hashlib
import hmac
import secrets
import uuid
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db import models
from django.utils import timezone

from portal.ip_lists import ip_allowed
from portal.roles import Role
from portal.tenancy import AccountQuerySet


class EntityType(models.TextChoices):
    BANK = "bank", "Bank"
    ENTERPRISE = "enterprise", "Enterprise"
    GOVERNMENT = "government", "Government"
    OTHER = "other", "Other"


class AccountStatus(models.TextChoices):
    ACTIVE = "active", "Active"
    INACTIVE = "inactive", "Inactive"


class SpendingCaps(models.Model):
    """Caps on what may be charged per day and per month (messages and money); empty: no cap.

    The rule that enforces them is `campaigns.sending.caps` (days and months in the account's time zone)."""

    daily_message_cap = models.PositiveIntegerField(
        null=True, blank=True, help_text="Messages charged per day at most; empty: no cap."
    )
    monthly_message_cap = models.PositiveIntegerField(
        null=True, blank=True, help_text="Messages charged per calendar month at most; empty: no cap."
    )
    daily_spend_cap = models.DecimalField(
        max_digits=14,
        decimal_places=4,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal("0"))],
        help_text="Money charged per day at most (account currency); empty: no cap.",
    )
    monthly_spend_cap = models.DecimalField(
        max_digits=14,
        decimal_places=4,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal("0"))],
        help_text="Money charged per calendar month at most (account currency); empty: no cap.",
    )

    class Meta:
        abstract = True


SPENDING_CAP_FIELDS = ("daily_message_cap", "monthly_message_cap", "daily_spend_cap", "monthly_spend_cap")


class Account(SpendingCaps):
    """A customer of the platform: everything else belongs to exactly one account."""

    uid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    name = models.CharField(max_length=120)
    slug = models.SlugField(max_length=60, unique=True)
    default_country = models.CharField(
        max_length=2, default="IN", help_text="ISO 3166 alpha-2 country used to parse numbers without a country code."
    )
    time_zone = models.CharField(max_length=64, default="Asia/Kolkata")
    entity_type = models.CharField(max_length=20, choices=EntityType.choices, default=EntityType.ENTERPRISE)
    status = models.CharField(max_length=10, choices=AccountStatus.choices, default=AccountStatus.ACTIVE)
    balance = models.DecimalField(max_digits=14, decimal_places=4, default=Decimal("0"))
    currency = models.CharField(max_length=3, default="EUR")
    mobile_secure = models.BooleanField(
        default=False, help_text="Mask the last 4 digits of phone numbers in the UI and in reports."
    )
    hide_msg = models.BooleanField(default=False, help_text="Hide message bodies in the UI and in reports.")
    brand_names = models.JSONField(
        default=list, blank=True, help_text="Brand names that DLT templates are expected to mention."
    )
    dlt_telemarketer_id = models.CharField(
        max_length=40,
        blank=True,
        verbose_name="DLT telemarketer id (TM ID)",
        help_text="India: sent as the TM_ID TLV on SMPP routes to IN; empty uses the connector's.",
    )
    cta_short_domain_whitelisted = models.BooleanField(
        default=False,
        verbose_name="Short-link domain whitelisted as a CTA",
        help_text="India: the smart-link short domain is whitelisted on the DLT portal (templates with links stop "
        "warning).",
    )
    api_read_rate_per_minute = models.PositiveIntegerField(
        null=True, blank=True, help_text="Overrides the default API read limit per token (requests per minute)."
    )
    api_write_rate_per_second = models.PositiveIntegerField(
        null=True, blank=True, help_text="Overrides the default API write limit per token (requests per second)."
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def is_active(self) -> bool:
        return self.status == AccountStatus.ACTIVE

    def clean(self) -> None:
        import zoneinfo

        try:
            zoneinfo.ZoneInfo(self.time_zone)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            raise ValidationError({"time_zone": f"Unknown time zone {self.time_zone!r}."}) from None
        self.default_country = (self.default_country or "").upper()


class Membership(models.Model):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships")
    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=20, choices=Role.choices, default=Role.VIEWER)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "account"], name="unique_membership")]
        ordering = ["account__name"]

    def __str__(self) -> str:
        return f"{self.user} in {self.account} ({self.role})"


TOKEN_PREFIX_LENGTH = 8
TOKEN_SECRET_BYTES = 32


def hash_token_secret(raw_token: str) -> str:
    """Keyed HMAC-SHA256 of a raw token: the database never holds the token itself."""
    key = settings.API_TOKEN_PEPPER.encode()
    return hmac.new(key, raw_token.encode(), hashlib.sha256).hexdigest()


class ApiTokenQuerySet(AccountQuerySet):
    def usable(self):
        now = timezone.now()
        return self.filter(is_active=True).filter(models.Q(expires_at__isnull=True) | models.Q(expires_at__gt=now))


class ApiToken(SpendingCaps):
    """A bearer token for the API. Raw value `cp_<prefix>_<secret>` is shown once; only its HMAC is stored."""

    uid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="api_tokens")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=100)
    prefix = models.CharField(max_length=TOKEN_PREFIX_LENGTH, unique=True, editable=False)
    token_hash = models.CharField(max_length=64, editable=False)
    read_only = models.BooleanField(default=False)
    allowed_ips = models.JSONField(default=list, blank=True, help_text="IPs and CIDRs; empty allows any address.")
    expires_at = models.DateTimeField(null=True, blank=True)
    is_active = models.BooleanField(default=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    last_used_ip = models.GenericIPAddressField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    objects = ApiTokenQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @property
    def display_prefix(self) -> str:
        return f"cp_{self.prefix}_"

    @property
    def is_expired(self) -> bool:
        return self.expires_at is not None and self.expires_at <= timezone.now()

    @property
    def state(self) -> str:
        if not self.is_active:
            return "revoked"
        return "expired" if self.is_expired else "active"

    def matches(self, raw_token: str) -> bool:
        return hmac.compare_digest(self.token_hash, hash_token_secret(raw_token))

    def allows_ip(self, ip: str | None) -> bool:
        return ip_allowed(self.allowed_ips, ip)

    @staticmethod
    def new_raw_token() -> tuple[str, str]:
        """A fresh (prefix, raw token) pair."""
        prefix = secrets.token_hex(TOKEN_PREFIX_LENGTH // 2)
        return prefix, f"cp_{prefix}_{secrets.token_urlsafe(TOKEN_SECRET_BYTES)}"


class AuditEvent(models.Model):
    """Who did what to which object, with the state before and after."""

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="audit_events", null=True)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True)
    actor_label = models.CharField(max_length=150, blank=True)
    verb = models.CharField(max_length=60, db_index=True)
    object_type = models.CharField(max_length=60, db_index=True)
    object_id = models.CharField(max_length=64, db_index=True)
    object_repr = models.CharField(max_length=200, blank=True)
    before = models.JSONField(null=True, blank=True)
    after = models.JSONField(null=True, blank=True)
    at = models.DateTimeField(default=timezone.now, db_index=True)

    objects = AccountQuerySet.as_manager()

    class Meta:
        ordering = ["-at", "-id"]

    def __str__(self) -> str:
        return f"{self.actor_label or 'system'} {self.verb} {self.object_type} {self.object_repr}"


class Event(models.Model):
    """An event emitted by the product (a delivery report, an opt-out…), fanned out to webhooks."""

    uid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="events")
    name = models.CharField(max_length=80, db_index=True)
    identity = models.CharField(max_length=64, blank=True, help_text="Sender or number the event is about.")
    payload = models.JSONField(default=dict)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    webhook_uid = models.CharField(max_length=64, blank=True, help_text="A webhook named explicitly by the emitter.")
    fanned_out_at = models.DateTimeField(
        null=True, blank=True, help_text="When its webhook deliveries were created (empty: not yet)."
    )

    objects = AccountQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["created_at"], condition=models.Q(fanned_out_at__isnull=True), name="event_unfanned")
        ]

    def __str__(self) -> str:
        return f"{self.name} {self.uid}"


class Notification(models.Model):
    """A message for one user shown in the UI (e.g. a decision on a template they wrote)."""

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="notifications")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications")
    text = models.CharField(max_length=300)
    link = models.CharField(max_length=300, blank=True)
    level = models.CharField(max_length=10, default="info")
    read_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = AccountQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.text


from portal.models_cleanup import *  # noqa: E402, F403  (CleanupBatch, CleanupRow)
from portal.models_exports import *  # noqa: E402, F403  (Export)
from portal.models_ops import *  # noqa: E402, F403  (Heartbeat)
from portal.models_security import *  # noqa: E402, F403  (LoginLockout)
from portal.models_webhooks import *  # noqa: E402, F403  (Webhook, Subscription, WebhookDelivery)
