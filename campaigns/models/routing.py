"""The route table (which connectors carry a message) and what SMPP connections keep in the database.

A route matches a message by country, an optional number prefix and the service; its steps are the connectors to
try in order (failover to the next on a transient connector failure). Routes without a route set are the
platform's table; an account pinned to a route set (`RouteSetMember`) is routed by that set first.
"""

from django.db import models
from django.db.models import Q

from campaigns.models.campaigns import Connector

__all__ = [
    "BindState",
    "PendingReceipt",
    "Route",
    "RouteSet",
    "RouteSetMember",
    "RouteStep",
    "SmppBind",
    "SmppInboundPart",
]


class RouteSet(models.Model):
    """A named route table for the accounts pinned to it (a premium route, a dedicated upstream)."""

    name = models.CharField(max_length=60, unique=True)
    description = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class RouteSetMember(models.Model):
    """An account pinned to a route set (at most one set per account)."""

    account = models.OneToOneField("portal.Account", on_delete=models.CASCADE, related_name="route_set_member")
    route_set = models.ForeignKey(RouteSet, on_delete=models.CASCADE, related_name="members")

    def __str__(self) -> str:
        return f"{self.account} → {self.route_set}"


class Route(models.Model):
    """Country (and optional prefix) and service → ordered connectors. Empty country/service match any."""

    route_set = models.ForeignKey(RouteSet, on_delete=models.CASCADE, null=True, blank=True, related_name="routes")
    country = models.CharField(max_length=2, blank=True, help_text="ISO 3166 alpha-2; empty: any country.")
    prefix = models.CharField(
        max_length=15, blank=True, help_text="Digits the E.164 number starts with after +, e.g. 9198; empty: any."
    )
    service = models.CharField(max_length=3, blank=True, help_text="ENT, MKT, …; empty: any service.")
    is_active = models.BooleanField(default=True)
    note = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["route_set_id", "country", "prefix", "service"]
        constraints = [
            models.UniqueConstraint(
                fields=["country", "prefix", "service"], condition=Q(route_set__isnull=True), name="unique_route"
            ),
            models.UniqueConstraint(
                fields=["route_set", "country", "prefix", "service"],
                condition=Q(route_set__isnull=False),
                name="unique_route_in_set",
            ),
        ]

    def __str__(self) -> str:
        where = "+".join(part for part in (self.country or "*", self.prefix) if part)
        return f"{where} {self.service or '*'}"

    @property
    def connector_list(self) -> list[Connector]:
        """The connectors to try, in order."""
        return [step.connector for step in self.steps.all()]


class RouteStep(models.Model):
    """One connector of a route, tried in `position` order."""

    route = models.ForeignKey(Route, on_delete=models.CASCADE, related_name="steps")
    connector = models.ForeignKey(Connector, on_delete=models.PROTECT, related_name="route_steps")
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["route_id", "position", "id"]
        constraints = [models.UniqueConstraint(fields=["route", "connector"], name="unique_route_connector")]

    def __str__(self) -> str:
        return f"{self.route} #{self.position} {self.connector.name}"


class BindState(models.TextChoices):
    BINDING = "binding", "Binding"
    BOUND = "bound", "Bound"
    UNBOUND = "unbound", "Unbound"


class SmppBind(models.Model):
    """One bind slot of an SMPP connector, held by one worker process under a heartbeat lease.

    A connector allows `binds` slots in all; each `smpp_worker` takes free (or stale) slots up to its own limit,
    so several workers on several machines split a connector's binds. The row is also the bind's live status.
    """

    connector = models.ForeignKey(Connector, on_delete=models.CASCADE, related_name="smpp_binds")
    slot = models.PositiveSmallIntegerField()
    worker = models.CharField(max_length=120, blank=True, help_text="host:pid of the holding smpp_worker.")
    state = models.CharField(max_length=10, choices=BindState.choices, default=BindState.UNBOUND)
    mode = models.CharField(max_length=12, blank=True)
    state_since = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField(max_length=300, blank=True)
    last_error_at = models.DateTimeField(null=True, blank=True)
    window_in_use = models.PositiveIntegerField(default=0)
    submitted = models.PositiveBigIntegerField(default=0)
    receipts = models.PositiveBigIntegerField(default=0)
    rate = models.FloatField(default=0, help_text="Submits per second over the last interval.")
    heartbeat_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["connector_id", "slot"]
        constraints = [models.UniqueConstraint(fields=["connector", "slot"], name="unique_smpp_bind_slot")]

    def __str__(self) -> str:
        return f"{self.connector.name} bind {self.slot} {self.state}"


class PendingReceipt(models.Model):
    """A delivery report whose upstream id matches no message yet: it arrived before the submit's answer was
    stored, or its submit's answer was lost with the connection. Settled as soon as the message is known."""

    connector = models.ForeignKey(Connector, on_delete=models.CASCADE, related_name="+")
    upstream_id = models.CharField(max_length=100)
    handset = models.CharField(max_length=20, blank=True, help_text="The number the report is about.")
    code = models.CharField(max_length=8, blank=True)
    status = models.CharField(max_length=30, blank=True)
    state = models.CharField(max_length=12, blank=True)
    raw = models.JSONField(default=dict, blank=True)
    received_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["received_at", "id"]
        indexes = [models.Index(fields=["connector", "upstream_id"], name="pending_receipt_upstream")]

    def __str__(self) -> str:
        return f"{self.connector_id}:{self.upstream_id} {self.status}"


class SmppInboundPart(models.Model):
    """One part of a multi-part inbound (MO) message, kept until every part of it has arrived (on any bind)."""

    connector = models.ForeignKey(Connector, on_delete=models.CASCADE, related_name="+")
    source = models.CharField(max_length=21)
    destination = models.CharField(max_length=21)
    reference = models.PositiveIntegerField()
    total = models.PositiveSmallIntegerField()
    sequence = models.PositiveSmallIntegerField()
    text = models.TextField()
    received_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["connector", "source", "reference", "total", "sequence"], name="unique_inbound_part"
            )
        ]

    def __str__(self) -> str:
        return f"{self.source} {self.reference} {self.sequence}/{self.total}"
