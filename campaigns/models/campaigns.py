"""Campaigns and sending: connectors, prices, campaigns, the message outbox, delivery reports, balance moves."""

import uuid
from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q

from campaigns.states import CampaignState, MessageState, MessageType, SmartDeliveryState
from portal.secrets_at_rest import EncryptedTextField, decrypt
from portal.tenancy import AccountQuerySet, AccountScopedModel

__all__ = [
    "BalanceTransaction",
    "BalanceTransactionKind",
    "Campaign",
    "Connector",
    "ConnectorKind",
    "DeliveryReport",
    "Message",
    "Price",
    "SimulatorSubmission",
]


# Smart Delivery limits (the model's validators, the wizard's fields and the API's schema take them from here)
SMART_TEST_SIZE_MAX = 10_000
SMART_WAIT_MINUTES_MAX = 1440
SMART_TEST_NUMBERS_MAX = 100


class ConnectorKind(models.TextChoices):
    SIMULATOR = "simulator", "Simulator"
    HTTP = "http", "HTTP API"
    SMPP = "smpp", "SMPP 3.4"


class Connector(models.Model):
    """A route to an upstream, configured by platform staff; `uid` is the opaque id in callback URLs."""

    uid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    name = models.CharField(max_length=80, unique=True)
    kind = models.CharField(max_length=20, choices=ConnectorKind.choices, default=ConnectorKind.SIMULATOR)
    config = models.JSONField(default=dict, blank=True, help_text="Kind-specific settings; see campaigns/connectors.")
    secret = EncryptedTextField(
        max_length=200,
        blank=True,
        help_text="The upstream password (SMPP bind, HTTP {{password}}): write-only, encrypted at rest.",
    )
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return f"{self.name} ({self.kind})"


class Price(models.Model):
    """Price of one SMS part to a country for a service. `account` empty: the platform list; set: an override."""

    account = models.ForeignKey("portal.Account", on_delete=models.CASCADE, null=True, blank=True, related_name="+")
    country = models.CharField(max_length=2, help_text="ISO 3166 alpha-2.")
    service = models.CharField(max_length=3, help_text="Product code, e.g. ENT, MKT.")
    price = models.DecimalField(max_digits=10, decimal_places=5)
    currency = models.CharField(max_length=3, default="EUR")
    status = models.PositiveSmallIntegerField(default=1, choices=[(1, "Active"), (0, "Inactive")])
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["country", "service"]
        constraints = [
            models.UniqueConstraint(
                fields=["country", "service"], condition=Q(account__isnull=True), name="unique_platform_price"
            ),
            models.UniqueConstraint(
                fields=["account", "country", "service"],
                condition=Q(account__isnull=False),
                name="unique_account_price",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.country} {self.service} {self.price} {self.currency}"


class Campaign(AccountScopedModel):
    """A send of one text (free or from an approved template) to an audience, now or scheduled, in batches."""

    name = models.CharField(max_length=120)
    sender = models.ForeignKey("campaigns.Sender", on_delete=models.PROTECT, related_name="campaigns")
    template = models.ForeignKey(
        "campaigns.Template", on_delete=models.PROTECT, null=True, blank=True, related_name="campaigns"
    )
    text = models.TextField(blank=True, help_text="Free text (with {{variables}}) when no template is used.")
    message_type = models.CharField(max_length=1, choices=MessageType.choices, default=MessageType.AUTO)
    flash = models.BooleanField(default=False, help_text="Class 0: shown at once, not stored on the phone.")
    destination_port = models.PositiveIntegerField(
        null=True,
        blank=True,
        validators=[MaxValueValidator(65535)],
        help_text="Destination application port of every message (UDH / SMPP destination_port TLV)",
    )
    max_units = models.PositiveSmallIntegerField(null=True, blank=True, help_text="Refuse messages over N parts.")
    audience = models.JSONField(
        default=dict, blank=True, help_text='{"groups": [ids], "segments": [ids], "tags": [names], "numbers": [...]}'
    )
    variable_mapping = models.JSONField(
        default=dict, blank=True, help_text='{"name": {"source": "first_name", "default": "Customer"}}'
    )
    start_at = models.DateTimeField(null=True, blank=True, help_text="Empty: as soon as it is started.")
    batch_size = models.PositiveIntegerField(null=True, blank=True, help_text="Recipients per batch.")
    batch_interval_minutes = models.PositiveIntegerField(null=True, blank=True, help_text="Minutes between batches.")
    throttle_per_second = models.PositiveIntegerField(null=True, blank=True, help_text="Messages per second at most.")
    connector = models.ForeignKey(Connector, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    webhook_id = models.CharField(max_length=64, blank=True)
    track_links = models.BooleanField(default=False, help_text="Shorten every URL of the text per recipient.")
    smart_link_url = models.URLField(max_length=2000, blank=True, help_text="Where {{smart_link}} leads.")
    state = models.CharField(max_length=12, choices=CampaignState.choices, default=CampaignState.DRAFT, db_index=True)
    state_reason = models.CharField(max_length=200, blank=True)
    recipients_count = models.PositiveIntegerField(default=0, help_text="Message rows created.")
    suppressed_count = models.PositiveIntegerField(default=0)
    suppressed_by_reason = models.JSONField(default=dict, blank=True)
    rejected_count = models.PositiveIntegerField(default=0, help_text="Recipients refused during preparation.")
    rejected_by_reason = models.JSONField(default=dict, blank=True)
    estimated_cost = models.DecimalField(max_digits=14, decimal_places=4, default=Decimal("0"))
    throttle_until = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    api_token = models.ForeignKey(
        "portal.ApiToken",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        help_text="The API token that created the campaign; its spending caps apply to the campaign's messages.",
    )
    scheduled_at = models.DateTimeField(null=True, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    smart_delivery = models.BooleanField(
        default=False,
        help_text="Send to a test batch first; release the rest only when few of it got DLT rejections.",
    )
    smart_test_size = models.PositiveIntegerField(
        default=10,
        validators=[MinValueValidator(1), MaxValueValidator(SMART_TEST_SIZE_MAX)],
        help_text="Recipients of the test batch, picked at random (when no test numbers are given).",
    )
    smart_test_numbers = models.JSONField(
        default=list,
        blank=True,
        help_text="The test batch: these numbers (E.164, recipients of the campaign too) instead of random ones.",
    )
    smart_wait_minutes = models.PositiveIntegerField(
        default=15,
        validators=[MinValueValidator(1), MaxValueValidator(SMART_WAIT_MINUTES_MAX)],
        help_text="Minutes after the test batch has left before it is judged.",
    )
    smart_max_reject_percent = models.PositiveSmallIntegerField(
        default=0,
        validators=[MaxValueValidator(100)],
        help_text="The rest is cancelled when more than this % of the test batch got DLT rejections.",
    )
    smart_state = models.CharField(max_length=8, choices=SmartDeliveryState.choices, blank=True)
    smart_checked_at = models.DateTimeField(null=True, blank=True, help_text="When the test batch was judged.")
    smart_result = models.JSONField(default=dict, blank=True, help_text="The test batch's counts and the verdict.")
    smart_test_ids = models.JSONField(default=list, blank=True, editable=False, help_text="Test batch message ids.")

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["state", "start_at"], name="campaign_state_start"),
            # the Smart Delivery sweep: campaigns whose test batch is to be picked or judged
            models.Index(
                fields=["smart_state"],
                condition=Q(smart_delivery=True) & Q(smart_state__in=["", SmartDeliveryState.PENDING]),
                name="campaign_smart_open",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def body(self) -> str:
        return self.template.body if self.template_id else self.text

    @property
    def sending_audience(self) -> dict:
        """The audience preparation walks: a Smart Delivery campaign's test numbers are recipients too."""
        audience = self.audience or {}
        if not (self.smart_delivery and self.smart_test_numbers):
            return audience
        numbers = list(audience.get("numbers") or [])
        return {**audience, "numbers": numbers + [n for n in self.smart_test_numbers if n not in numbers]}


class MessageQuerySet(AccountQuerySet):
    def outbox(self):
        return self.filter(state=MessageState.QUEUED)


class Message(AccountScopedModel):
    """One SMS to one recipient: the outbox row and its history. At most one per (campaign, recipient)."""

    # The (account, recipient) and (account, created_at) indexes lead with the account: no index of its own.
    account = models.ForeignKey("portal.Account", on_delete=models.CASCADE, related_name="+", db_index=False)
    campaign = models.ForeignKey(
        Campaign, on_delete=models.CASCADE, null=True, blank=True, related_name="messages", db_index=False
    )
    group_id = models.UUIDField(help_text="The API send, or the campaign's public id, the message belongs to.")
    recipient = models.CharField(max_length=16, help_text="E.164 with +.")
    country = models.CharField(max_length=2, blank=True)
    sender = models.ForeignKey(
        "campaigns.Sender", on_delete=models.SET_NULL, null=True, blank=True, related_name="+", db_index=False
    )
    sender_name = models.CharField(max_length=15)
    service = models.CharField(max_length=3, blank=True)
    body = models.TextField(help_text="The text as stored and shown (a Verify code masked).")
    sealed_body = models.TextField(
        blank=True,
        default="",
        db_default="",
        editable=False,
        help_text="Encrypted text as sent when `body` is masked; erased once the message has left.",
    )
    message_type = models.CharField(max_length=1, choices=MessageType.choices, default=MessageType.AUTO)
    encoding = models.CharField(max_length=5, default="GSM-7")
    units = models.PositiveIntegerField(default=0)
    parts = models.PositiveSmallIntegerField(default=1)
    flash = models.BooleanField(default=False, help_text="Class 0: shown at once, not stored on the phone.")
    destination_port = models.PositiveIntegerField(
        null=True,
        blank=True,
        validators=[MaxValueValidator(65535)],
        help_text="Destination application port (UDH / SMPP destination_port TLV)",
    )
    template = models.ForeignKey(
        "campaigns.Template", on_delete=models.SET_NULL, null=True, blank=True, related_name="+", db_index=False
    )
    variables = models.JSONField(default=dict, blank=True)
    price = models.DecimalField(max_digits=10, decimal_places=5, default=Decimal("0"))
    cost = models.DecimalField(max_digits=12, decimal_places=5, default=Decimal("0"))
    debited = models.BooleanField(default=False, help_text="The cost has been taken from the balance.")
    api_token = models.ForeignKey(
        "portal.ApiToken",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,
        db_constraint=False,  # a new constraint would scan the outbox table under a lock; SET_NULL is Django's
        help_text="The API token of the send or campaign (its spending caps apply).",
    )
    custom_id = models.CharField(max_length=100, blank=True)
    meta = models.JSONField(default=dict, blank=True)
    webhook_id = models.CharField(max_length=64, blank=True)
    india_promotional = models.BooleanField(default=False, help_text="Held outside the Indian promotional hours.")
    connector = models.ForeignKey(
        Connector, on_delete=models.SET_NULL, null=True, blank=True, related_name="+", db_index=False
    )
    connector_message_id = models.CharField(max_length=100, blank=True)
    state = models.CharField(max_length=12, choices=MessageState.choices, default=MessageState.QUEUED)
    error_code = models.CharField(max_length=8, blank=True)
    error_detail = models.CharField(max_length=300, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    not_before = models.DateTimeField(help_text="Not released before this time (schedule, batch, backoff).")
    claimed_until = models.DateTimeField(null=True, blank=True)
    claim_token = models.UUIDField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    done_at = models.DateTimeField(null=True, blank=True)

    objects = MessageQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["campaign", "recipient"], name="unique_campaign_recipient"),
        ]
        indexes = [
            models.Index(
                fields=["campaign", "not_before", "id"], condition=Q(state="queued"), name="message_outbox_order"
            ),
            models.Index(fields=["campaign", "state"], name="message_campaign_state"),
            models.Index(fields=["account", "recipient"], name="message_account_recipient"),
            models.Index(fields=["account", "-created_at"], name="message_account_recent"),
            models.Index(fields=["claim_token"], condition=Q(claim_token__isnull=False), name="message_claimed"),
            # API sends only: a campaign's messages are found through the campaign (its uid is their group id)
            models.Index(fields=["group_id"], condition=Q(campaign__isnull=True), name="message_api_group"),
            models.Index(fields=["account", "custom_id"], condition=~Q(custom_id=""), name="message_custom_id"),
            # delivery reports that name the upstream's id (SMPP receipts)
            models.Index(
                fields=["connector", "connector_message_id"],
                condition=~Q(connector_message_id=""),
                name="message_upstream_id",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.recipient} {self.state}"

    def outgoing_text(self) -> str:
        """The text a connector sends: the sealed text when the stored body is masked, else the body."""
        return decrypt(self.sealed_body, label="a sealed message text") if self.sealed_body else self.body


class DeliveryReport(AccountScopedModel):
    """A delivery report as received from a connector (kept even when it does not change the message)."""

    message = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="reports")
    code = models.CharField(max_length=8, blank=True)
    status = models.CharField(max_length=30, blank=True)
    state = models.CharField(max_length=12, choices=MessageState.choices)
    applied = models.BooleanField(default=False, help_text="Moved the message forward.")
    source = models.CharField(max_length=30, blank=True)
    raw = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.code} {self.status}"


class BalanceTransactionKind(models.TextChoices):
    CREDIT = "credit", "Credit"
    DEBIT = "debit", "Debit"
    REFUND = "refund", "Refund"


class BalanceTransaction(AccountScopedModel):
    """A move of the account balance: credits by platform staff, debits per claimed batch, refunds."""

    kind = models.CharField(max_length=10, choices=BalanceTransactionKind.choices)
    amount = models.DecimalField(max_digits=14, decimal_places=5, help_text="Positive adds, negative takes.")
    balance_after = models.DecimalField(max_digits=14, decimal_places=4)
    messages = models.PositiveIntegerField(default=0)
    campaign = models.ForeignKey(Campaign, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    note = models.CharField(max_length=200, blank=True)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True)
    api_token = models.ForeignKey(
        "portal.ApiToken",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,
        help_text="Debits: the API token whose messages were charged (spending caps count these rows).",
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            # spending caps: what was charged since the start of a day or month (campaigns.sending.caps)
            models.Index(
                fields=["account", "created_at"],
                include=["messages", "amount"],
                condition=Q(kind="debit"),
                name="balance_debits_by_account",
            ),
            models.Index(
                fields=["api_token", "created_at"],
                include=["messages", "amount"],
                condition=Q(kind="debit", api_token__isnull=False),
                name="balance_debits_by_token",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.amount}"


class SimulatorSubmission(models.Model):
    """What the simulator connector accepted: one row per message id, duplicates only counted."""

    message_uid = models.UUIDField(unique=True)
    connector = models.ForeignKey(Connector, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    recipient = models.CharField(max_length=16, db_index=True)
    dlr_code = models.CharField(max_length=3)
    flash = models.BooleanField(default=False)
    destination_port = models.PositiveIntegerField(null=True, blank=True)
    duplicates = models.PositiveIntegerField(default=0)
    report_due_at = models.DateTimeField()
    reported_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [
            models.Index(fields=["report_due_at"], condition=Q(reported_at__isnull=True), name="simulator_due"),
        ]

    def __str__(self) -> str:
        return f"{self.recipient} → {self.dlr_code}"
