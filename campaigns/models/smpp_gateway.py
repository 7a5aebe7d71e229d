"""The SMPP gateway for customers: the credentials an account's applications (ESMEs) bind with, the registry of
bound sessions (shared by every server process on every machine), bind failures, and the receipts (DLRs and MO)
waiting to go out as `deliver_sm` on any bound session of their system_id.
"""

from django.conf import settings
from django.contrib.auth.hashers import check_password, make_password
from django.db import models
from django.db.models import Q

from portal.ip_lists import ip_allowed
from portal.tenancy import AccountScopedModel

__all__ = ["SmppBindFailure", "SmppCredential", "SmppReceipt", "SmppSession"]


class SmppCredential(AccountScopedModel):
    """A system_id/password pair an account's application binds with; the password is stored hashed only."""

    system_id = models.CharField(max_length=16, unique=True, help_text="SMPP system_id (at most 15 characters).")
    password_hash = models.CharField(max_length=128)
    label = models.CharField(max_length=80, blank=True)
    allowed_ips = models.JSONField(default=list, blank=True, help_text="IPs and CIDRs; empty allows any address.")
    bind_limit = models.PositiveSmallIntegerField(default=3, help_text="Sessions bound at once, all servers.")
    throughput = models.PositiveIntegerField(default=50, help_text="Submits per second over all its sessions.")
    window = models.PositiveSmallIntegerField(default=10, help_text="Unanswered deliver_sm per session.")
    is_active = models.BooleanField(default=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    last_bound_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["system_id"]
        verbose_name = "SMPP credential"

    def __str__(self) -> str:
        return self.system_id

    def set_password(self, raw: str) -> None:
        self.password_hash = make_password(raw)

    def check_password(self, raw: str) -> bool:
        return check_password(raw, self.password_hash)

    def allows_ip(self, ip: str | None) -> bool:
        return ip_allowed(self.allowed_ips, ip)


class SmppSession(AccountScopedModel):
    """A session bound now, on some server process; the row goes when it unbinds (a dead process's rows go
    stale: `last_seen_at` stops moving and the sweep removes them)."""

    class BindType(models.TextChoices):
        TRANSMITTER = "transmitter", "Transmitter"
        RECEIVER = "receiver", "Receiver"
        TRANSCEIVER = "transceiver", "Transceiver"

    credential = models.ForeignKey(SmppCredential, on_delete=models.CASCADE, related_name="sessions")
    server = models.CharField(max_length=120, help_text="host:pid of the server process holding it.")
    address = models.CharField(max_length=64, help_text="The client's IP:port.")
    bind_type = models.CharField(max_length=12, choices=BindType.choices)
    tls = models.BooleanField(default=False)
    interface_version = models.PositiveSmallIntegerField(default=0x34)
    bound_at = models.DateTimeField()
    last_seen_at = models.DateTimeField(db_index=True)
    submitted = models.PositiveBigIntegerField(default=0)
    refused = models.PositiveBigIntegerField(default=0)
    delivered = models.PositiveBigIntegerField(default=0, help_text="deliver_sm answered by the client.")
    rate = models.FloatField(default=0, help_text="Submits per second over the last interval.")

    class Meta:
        ordering = ["-bound_at"]
        verbose_name = "SMPP session"

    def __str__(self) -> str:
        return f"{self.credential_id} {self.address} ({self.bind_type})"

    @property
    def receives(self) -> bool:
        return self.bind_type != self.BindType.TRANSMITTER


class SmppBindFailure(models.Model):
    """A refused bind, kept for the account's SMPP page and for slowing repeated failures from one address."""

    account = models.ForeignKey("portal.Account", on_delete=models.CASCADE, null=True, blank=True, related_name="+")
    system_id = models.CharField(max_length=64, help_text="As the client gave it.")
    address = models.GenericIPAddressField()
    reason = models.CharField(max_length=200)
    command_status = models.PositiveIntegerField()
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["address", "created_at"], name="smpp_bindfail_addr")]
        verbose_name = "SMPP bind failure"

    def __str__(self) -> str:
        return f"{self.system_id}@{self.address}: {self.reason}"


class SmppReceipt(AccountScopedModel):
    """A delivery receipt or an inbound message waiting for (or sent as) `deliver_sm` to the credential's
    sessions. Created when a message submitted over SMPP reaches a final state, or an MO arrives for one of the
    account's numbers; kept pending while nobody is bound, until `expire_at`."""

    class Kind(models.TextChoices):
        RECEIPT = "receipt", "Delivery receipt"
        INBOUND = "inbound", "Inbound message"

    class State(models.TextChoices):
        PENDING = "pending", "Pending"
        DELIVERED = "delivered", "Delivered"
        EXPIRED = "expired", "Expired"

    credential = models.ForeignKey(SmppCredential, on_delete=models.CASCADE, related_name="receipts")
    kind = models.CharField(max_length=8, choices=Kind.choices)
    message = models.ForeignKey(
        "campaigns.Message", on_delete=models.CASCADE, null=True, blank=True, related_name="+", db_index=False
    )
    inbound = models.ForeignKey(
        "contacts.InboundMessage", on_delete=models.CASCADE, null=True, blank=True, related_name="+", db_index=False
    )
    source_addr = models.CharField(max_length=21)
    destination_addr = models.CharField(max_length=21)
    short_message = models.TextField(help_text="The receipt text (id:… sub:… stat:…) or the inbound text.")
    tlvs = models.JSONField(default=dict, blank=True, help_text="receipted_message_id, message_state, …")
    state = models.CharField(max_length=10, choices=State.choices, default=State.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    session = models.CharField(max_length=36, blank=True, help_text="uid of the session holding it in flight.")
    lease_until = models.DateTimeField(null=True, blank=True)
    expire_at = models.DateTimeField()
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["id"]
        indexes = [models.Index(fields=["credential", "id"], condition=Q(state="pending"), name="smpp_receipt_pending")]
        constraints = [
            models.UniqueConstraint(
                fields=["message"], condition=Q(kind="receipt"), name="smpp_receipt_once_per_message"
            ),
            models.UniqueConstraint(
                fields=["credential", "inbound"], condition=Q(kind="inbound"), name="smpp_inbound_once"
            ),
        ]
        verbose_name = "SMPP receipt"

    def __str__(self) -> str:
        return f"{self.kind} {self.pk} → {self.credential_id} ({self.state})"
