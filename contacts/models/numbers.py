"""Inbound (virtual) numbers an account owns, and keyword routes for the messages sent to them.

Platform staff assign numbers to accounts; a mobile-originated message to a number belongs to its account. A
keyword route sends messages whose first word is its keyword to one webhook, or answers them with a text.
"""

from django.db import models
from django.db.models import Q
from django.db.models.functions import Upper

from portal.tenancy import AccountScopedModel

__all__ = ["InboundNumber", "KeywordRoute"]


class InboundNumber(AccountScopedModel):
    """A long number (E.164) or short code that receives messages for its account."""

    number = models.CharField(
        max_length=16, unique=True, help_text="E.164 with + (a long number) or short-code digits."
    )
    country = models.CharField(max_length=2, blank=True)
    label = models.CharField(max_length=80, blank=True)
    is_active = models.BooleanField(default=True, help_text="Inactive: its messages no longer reach the account.")

    class Meta:
        ordering = ["number"]

    def __str__(self) -> str:
        return f"{self.number} {self.label}".strip()


class KeywordRoute(AccountScopedModel):
    """Messages whose first word is `keyword` (to `number`, or to any number of the account when empty) go to
    `webhook` as `sms:message:in`, or are answered with `reply_text`."""

    number = models.ForeignKey(
        InboundNumber, on_delete=models.CASCADE, null=True, blank=True, related_name="keyword_routes"
    )
    keyword = models.CharField(max_length=40, help_text="Compared case-insensitively with the message's first word.")
    webhook = models.ForeignKey(
        "portal.Webhook", on_delete=models.CASCADE, null=True, blank=True, related_name="keyword_routes"
    )
    reply_text = models.CharField(max_length=480, blank=True)

    class Meta:
        ordering = ["keyword"]
        constraints = [
            models.UniqueConstraint(
                "account", "number", Upper("keyword"), condition=Q(number__isnull=False), name="unique_number_keyword"
            ),
            models.UniqueConstraint(
                "account", Upper("keyword"), condition=Q(number__isnull=True), name="unique_account_keyword"
            ),
            models.CheckConstraint(
                condition=Q(webhook__isnull=False) | ~Q(reply_text=""), name="keyword_route_has_a_target"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.keyword} → {self.webhook or 'reply'}"
