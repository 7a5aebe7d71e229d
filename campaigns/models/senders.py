"""Sender IDs ("headers"): the name a message appears to come from, approved by compliance before use."""

from django.conf import settings
from django.db import models

from portal.tenancy import AccountQuerySet, AccountScopedModel

__all__ = ["Sender", "SenderStatus", "Service"]


class Service(models.TextChoices):
    """SMS products (rules.md "Products / services")."""

    ENT = "ENT", "SMS A2P Enterprise"
    BNK = "BNK", "SMS A2P Banking"
    MKT = "MKT", "SMS A2P Marketing"
    GMS = "GMS", "Global mobile number (SMS)"
    A2P = "A2P", "SMS A2P"
    DIR = "DIR", "SMS A2P Direct"


class SenderStatus(models.IntegerChoices):
    PENDING = 0, "Pending"
    APPROVED = 1, "Approved"
    REJECTED = 2, "Rejected"


class SenderQuerySet(AccountQuerySet):
    def approved(self):
        return self.filter(status=SenderStatus.APPROVED)

    def pending(self):
        return self.filter(status=SenderStatus.PENDING)


class Sender(AccountScopedModel):
    """A sender ID. The name never changes after creation; approval is required before any use."""

    name = models.CharField(max_length=15)
    country_code = models.CharField(max_length=2, help_text="ISO 3166 alpha-2 country, e.g. IN.")
    service = models.CharField(max_length=3, choices=Service.choices, default=Service.ENT)
    entity_id = models.CharField(
        max_length=30, blank=True, verbose_name="DLT entity id (PE ID)", help_text="Required for India (IN)."
    )
    status = models.PositiveSmallIntegerField(choices=SenderStatus.choices, default=SenderStatus.PENDING)
    reason = models.TextField(blank=True, help_text="Why the sender was rejected.")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    reviewed_at = models.DateTimeField(null=True, blank=True)

    objects = SenderQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["account", "name", "country_code"], name="unique_sender_per_country")
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.country_code})"

    @property
    def is_approved(self) -> bool:
        return self.status == SenderStatus.APPROVED
