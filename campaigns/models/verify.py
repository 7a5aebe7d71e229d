"""Verify: one-time codes sent to a number and checked by the client (BICS "Send/Verify OTP", Boomware Verify).

A code is never stored in clear: `code_hash` is a keyed HMAC (checks compare in constant time) and `sealed_code`
an encrypted copy kept only while another channel may still need to send it, erased when the request is final.
"""

from django.db import models
from django.db.models import Q

from portal.tenancy import AccountScopedModel

__all__ = [
    "Verification",
    "VerifyAttempt",
    "VerifyChannel",
    "VerifyPrefixPause",
    "VerifyRepeat",
    "VerifySettings",
    "VerifyStatus",
]


class VerifyStatus(models.TextChoices):
    SENT = "sent", "Sent"
    DELIVERED = "delivered", "Delivered"
    VERIFIED = "verified", "Verified"
    EXPIRED = "expired", "Expired"
    FAILED = "failed", "Failed"
    CANCELLED = "cancelled", "Cancelled"


LIVE_STATUSES = (VerifyStatus.SENT, VerifyStatus.DELIVERED)


class VerifyChannel(models.TextChoices):
    SMS = "sms", "SMS"
    FLASH = "flash", "Flash SMS"


class VerifyRepeat(models.TextChoices):
    REUSE = "reuse", "Answer with the live request (no new SMS)"
    REFUSE = "refuse", "Refuse until the live request ends"


def default_channels() -> list:
    return [{"channel": VerifyChannel.SMS}]


class VerifySettings(AccountScopedModel):
    """An account's Verify defaults and limits (one row per account, created on first use)."""

    account = models.OneToOneField("portal.Account", on_delete=models.CASCADE, related_name="verify_settings")
    sender = models.ForeignKey(
        "campaigns.Sender", on_delete=models.SET_NULL, null=True, blank=True, related_name="+", help_text="Default."
    )
    template = models.ForeignKey(
        "campaigns.Template",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        help_text="Approved template with {{code}}; needed for India (DLT).",
    )
    text = models.CharField(
        max_length=300,
        default="{{code}} is your verification code. It expires in {{minutes}} minutes.",
        help_text="Text when no template is used; must contain {{code}}.",
    )
    code_length = models.PositiveSmallIntegerField(default=6)
    expiry_seconds = models.PositiveIntegerField(default=600)
    channels = models.JSONField(default=default_channels, blank=True, help_text="Ordered channels (failover).")
    fallback_seconds = models.PositiveIntegerField(default=60, help_text="Next channel after this long undelivered.")
    allowed_countries = models.JSONField(
        default=list, blank=True, help_text="ISO codes Verify may send to; empty: the account's country only."
    )
    on_repeat = models.CharField(max_length=6, choices=VerifyRepeat.choices, default=VerifyRepeat.REUSE)
    sends_per_number_per_hour = models.PositiveIntegerField(default=5)
    sends_per_account_per_minute = models.PositiveIntegerField(default=300)
    prefix_limit = models.PositiveIntegerField(
        default=20, help_text="Sends to one 6-digit prefix per window before that prefix is paused."
    )
    conversion_alarm_sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "Verify settings"
        verbose_name_plural = "Verify settings"

    def __str__(self) -> str:
        return f"Verify settings of {self.account_id}"


class Verification(AccountScopedModel):
    """One code sent to one number, through one or more channels, checked at most once successfully."""

    to = models.CharField(max_length=16, help_text="E.164 with +.")
    country = models.CharField(max_length=2, blank=True)
    prefix = models.CharField(max_length=7, help_text="+ and the first 6 digits (pumping velocity).")
    status = models.CharField(max_length=10, choices=VerifyStatus.choices, default=VerifyStatus.SENT)
    failure_reason = models.CharField(max_length=200, blank=True)
    code_hash = models.CharField(max_length=64, editable=False)
    sealed_code = models.TextField(blank=True, editable=False)
    code_length = models.PositiveSmallIntegerField(default=6)
    channels = models.JSONField(default=list, help_text="The channels to try, in order.")
    channel_index = models.PositiveSmallIntegerField(default=0, help_text="The channel in use.")
    fallback_seconds = models.PositiveIntegerField(default=60)
    next_fallback_at = models.DateTimeField(null=True, blank=True)
    failed_checks = models.PositiveSmallIntegerField(default=0)
    reference = models.CharField(max_length=100, blank=True)
    foreign_id = models.CharField(max_length=100, blank=True)
    ip = models.GenericIPAddressField(null=True, blank=True, help_text="The end user's address, as the client gave it.")
    language = models.CharField(max_length=10, blank=True)
    api_token = models.ForeignKey(
        "portal.ApiToken", on_delete=models.SET_NULL, null=True, blank=True, related_name="+", db_index=False
    )
    expire_at = models.DateTimeField()
    verified_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["account", "to", "created_at"], name="verify_account_to"),
            models.Index(fields=["account", "prefix", "created_at"], name="verify_account_prefix"),
            models.Index(fields=["account", "-created_at"], name="verify_account_recent"),
            models.Index(
                fields=["expire_at"], condition=Q(status__in=["sent", "delivered"]), name="verify_live_expiry"
            ),
            models.Index(
                fields=["next_fallback_at"], condition=Q(next_fallback_at__isnull=False), name="verify_fallback_due"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.to} ({self.status})"

    @property
    def is_live(self) -> bool:
        return self.status in LIVE_STATUSES

    @property
    def channel(self) -> dict:
        return self.channels[self.channel_index] if self.channel_index < len(self.channels) else {}


class VerifyAttempt(models.Model):
    """One channel tried for a verification: the message it sent (or why it could not), and its state."""

    verification = models.ForeignKey(Verification, on_delete=models.CASCADE, related_name="attempts")
    position = models.PositiveSmallIntegerField()
    channel = models.CharField(max_length=10, choices=VerifyChannel.choices)
    sender_name = models.CharField(max_length=15, blank=True)
    message = models.ForeignKey("campaigns.Message", on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    state = models.CharField(max_length=12, help_text="The message's state, or `refused`.")
    detail = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["verification", "position"]
        constraints = [
            models.UniqueConstraint(fields=["verification", "position"], name="unique_verify_attempt_position")
        ]

    def __str__(self) -> str:
        return f"{self.channel} #{self.position}"


class VerifyPrefixPause(AccountScopedModel):
    """A destination prefix Verify does not send to until `until` (too many sends to it: likely SMS pumping)."""

    prefix = models.CharField(max_length=7)
    until = models.DateTimeField()
    sends = models.PositiveIntegerField(default=0, help_text="Sends in the window that triggered the pause.")

    class Meta:
        ordering = ["-created_at"]
        constraints = [models.UniqueConstraint(fields=["account", "prefix"], name="unique_verify_prefix_pause")]

    def __str__(self) -> str:
        return f"{self.prefix} until {self.until:%Y-%m-%d %H:%M}"
