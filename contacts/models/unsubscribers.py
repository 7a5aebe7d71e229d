"""Opt-outs (unsubscribers), inbound messages and the per-account opt-out settings."""

from django.conf import settings
from django.db import models
from django.db.models.functions import Lower

from contacts.keywords import DEFAULT_START_WORDS, DEFAULT_STOP_WORDS
from portal.tenancy import AccountScopedModel

__all__ = [
    "InboundAction",
    "InboundMessage",
    "InboundSettings",
    "OptOutScope",
    "ReplyStatus",
    "Unsubscriber",
    "UnsubscriberSource",
    "UnsubscriberType",
]

DEFAULT_CONFIRMATION_TEXT = "You have been unsubscribed and will receive no more messages. Reply START to resubscribe."


class UnsubscriberType(models.TextChoices):
    ALL = "all", "All messages"
    DND = "dnd", "DND registry (promotional messages)"
    SENDER = "sender", "Sender"
    PRODUCT = "product", "Product"
    TAG = "tag", "Tag"


VALUELESS_TYPES = ("all", "dnd")  # scopes with no sender, product or tag value


class UnsubscriberSource(models.TextChoices):
    MANUAL = "manual", "Manual"
    API = "api", "API"
    IMPORT = "import", "Import"
    INBOUND_KEYWORD = "inbound_keyword", "Inbound keyword"
    CAMPAIGN_LINK = "campaign_link", "Campaign link"


class Unsubscriber(AccountScopedModel):
    """A number that must not receive messages: all of them, those of one sender, product or tag, or (`dnd`, a
    DND/NCPR preference registry entry) promotional ones.

    `value` is '' for types `all` and `dnd` (so the unique constraint holds) and compared case-insensitively.
    """

    receiver = models.CharField(max_length=20, help_text="E.164 with +.")
    country = models.CharField(max_length=2, blank=True, help_text="ISO 3166 alpha-2 of the receiver.")
    type = models.CharField(max_length=10, choices=UnsubscriberType.choices, default=UnsubscriberType.ALL)
    value = models.CharField(max_length=100, blank=True, default="", help_text="Sender name, product code or tag.")
    source = models.CharField(max_length=20, choices=UnsubscriberSource.choices, default=UnsubscriberSource.MANUAL)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                "account", "receiver", "type", Lower("value"), name="unique_unsubscriber_per_account"
            ),
            models.CheckConstraint(
                condition=(
                    models.Q(type__in=VALUELESS_TYPES, value="")
                    | (~models.Q(type__in=VALUELESS_TYPES) & ~models.Q(value=""))
                ),
                name="unsubscriber_value_matches_type",
            ),
        ]
        indexes = [models.Index(fields=["account", "receiver"], name="unsubscriber_account_receiver")]

    def __str__(self) -> str:
        return f"{self.receiver} ({self.scope_label})"

    @property
    def scope_label(self) -> str:
        if self.type == UnsubscriberType.ALL:
            return "all messages"
        if self.type == UnsubscriberType.DND:
            return "promotional messages (DND registry)"
        return f"{self.get_type_display().lower()} {self.value}"


class InboundAction(models.TextChoices):
    NONE = "none", "No keyword"
    OPTED_OUT = "opted_out", "Opted out"
    ALREADY_OPTED_OUT = "already_opted_out", "Already opted out"
    OPTED_IN = "opted_in", "Opt-out removed"
    NOTHING_TO_REMOVE = "nothing_to_remove", "No keyword opt-out to remove"
    INVALID_NUMBER = "invalid_number", "Sender number invalid"
    FORWARDED = "forwarded", "Forwarded by a keyword route"
    AUTO_REPLIED = "auto_replied", "Answered by a keyword route"


class ReplyStatus(models.TextChoices):
    NONE = "", "No reply"
    QUEUED = "queued", "Queued"
    SENT = "sent", "Sent"
    FAILED = "failed", "Failed"


class InboundMessage(AccountScopedModel):
    """An SMS received from a handset (mobile originated), stored once per provider id."""

    from_number = models.CharField(max_length=32, help_text="E.164 when it could be parsed, else as received.")
    to = models.CharField(max_length=32, blank=True, help_text="The sender ID or number the handset wrote to.")
    text = models.TextField(blank=True)
    received_at = models.DateTimeField(db_index=True)
    parts = models.PositiveSmallIntegerField(default=1)
    provider_id = models.CharField(max_length=100, blank=True)
    keyword = models.CharField(max_length=40, blank=True, help_text="The stop or start word matched.")
    action = models.CharField(max_length=20, choices=InboundAction.choices, default=InboundAction.NONE)
    reply_text = models.CharField(max_length=480, blank=True, help_text="Confirmation reply to send, if any.")
    reply_status = models.CharField(max_length=10, choices=ReplyStatus.choices, default=ReplyStatus.NONE, blank=True)
    reply_detail = models.CharField(max_length=300, blank=True, help_text="The reply's message id, or why it failed.")
    number = models.ForeignKey(
        "contacts.InboundNumber",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="messages",
        help_text="The account's number that received it.",
    )
    keyword_route = models.ForeignKey(
        "contacts.KeywordRoute", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["-received_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["account", "provider_id"],
                condition=~models.Q(provider_id=""),
                name="unique_inbound_provider_id_per_account",
            )
        ]

    def __str__(self) -> str:
        return f"{self.from_number} → {self.to}: {self.text[:40]}"


class OptOutScope(models.TextChoices):
    ALL = "all", "Every message from this account"
    SENDER = "sender", "Only the sender the reply was sent to"


def default_stop_words() -> list[str]:
    return list(DEFAULT_STOP_WORDS)


def default_start_words() -> list[str]:
    return list(DEFAULT_START_WORDS)


class InboundSettings(AccountScopedModel):
    """How an account handles inbound STOP/START, and the token its connector posts inbound messages with."""

    account = models.OneToOneField("portal.Account", on_delete=models.CASCADE, related_name="inbound_settings")
    stop_words = models.JSONField(default=default_stop_words, blank=True)
    start_words = models.JSONField(default=default_start_words, blank=True)
    scope = models.CharField(max_length=10, choices=OptOutScope.choices, default=OptOutScope.ALL)
    send_confirmation = models.BooleanField(default=False, help_text="Reply to a STOP with the confirmation text.")
    confirmation_text = models.CharField(max_length=480, default=DEFAULT_CONFIRMATION_TEXT, blank=True)
    reply_sender = models.CharField(
        max_length=20,
        blank=True,
        help_text="Approved sender ID of confirmation replies when the number written to is not one of ours.",
    )
    token_prefix = models.CharField(max_length=16, unique=True, null=True, blank=True, editable=False)
    token_hash = models.CharField(max_length=64, blank=True, editable=False)
    token_rotated_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        verbose_name = "opt-out settings"
        verbose_name_plural = "opt-out settings"

    def __str__(self) -> str:
        return f"Opt-out settings of {self.account}"

    @property
    def has_token(self) -> bool:
        return bool(self.token_prefix)
