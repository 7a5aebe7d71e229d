"""What every connector implements: `send(message) -> ConnectorResult`.

A connector hands one message to an upstream (an SMSC, an HTTP API, the simulator) with the message's public
id as idempotency key. It never raises for an answer from the upstream: the result says accepted, rejected
(permanent: the message fails) or retry (transient: the outbox tries again later with backoff). An exception
(network down, bug) is treated as transient by the outbox.

Besides its text a message carries two delivery options every connector must honour or refuse, never drop:
`flash` (a class-0 message, shown at once and not stored) and `destination_port` (an application port, None
when none). The HTTP connector offers them as the `{{flash}}` and `{{port}}` placeholders; an SMPP connector
(issue 15) maps flash to data_coding message class 0 and the port to the destination_port TLV (or, in the
message itself, the 16-bit application port element of the UDH, which planning counts in every part).

Connectors never import the sending engine: what they learn later (delivery reports) they describe as
`DeliveryReceipt`s, which the engine's one ingestion entry point (`campaigns.sending.reports`) applies, whether
they come from an HTTP callback, an upstream's own protocol or the simulator's `take_due_receipts`.
"""

import uuid
from dataclasses import dataclass, field
from enum import StrEnum

from django.urls import reverse

from campaigns.conf import setting


class Outcome(StrEnum):
    ACCEPTED = "accepted"
    REJECTED = "rejected"
    RETRY = "retry"
    UNKNOWN = "unknown"  # handed over, but the answer was lost with the connection: never resubmitted


@dataclass(frozen=True)
class ConnectorResult:
    outcome: Outcome
    connector_message_id: str = ""
    error_code: str = ""
    detail: str = ""
    raw: dict = field(default_factory=dict)
    connector_down: bool = False  # a transient failure of the upstream itself: the route's next connector may help

    @classmethod
    def accepted(cls, connector_message_id: str, **kwargs) -> "ConnectorResult":
        return cls(Outcome.ACCEPTED, connector_message_id, **kwargs)

    @classmethod
    def rejected(cls, error_code: str, detail: str, **kwargs) -> "ConnectorResult":
        return cls(Outcome.REJECTED, error_code=error_code, detail=detail, **kwargs)

    @classmethod
    def retry(cls, detail: str, **kwargs) -> "ConnectorResult":
        return cls(Outcome.RETRY, detail=detail, **kwargs)

    @classmethod
    def unknown(cls, detail: str, connector_message_id: str = "", **kwargs) -> "ConnectorResult":
        return cls(Outcome.UNKNOWN, connector_message_id, detail=detail, **kwargs)


@dataclass(frozen=True)
class DeliveryReceipt:
    """One delivery report as received: the message's public id, the seed code, where it came from."""

    message_uid: uuid.UUID | str
    code: str
    source: str = ""
    status: str = ""
    raw: dict = field(default_factory=dict)
    state: str | None = None


@dataclass(frozen=True)
class UpstreamReceipt:
    """A delivery report that names the message by the upstream's id (an SMPP receipt), with the number it is
    about in E.164 (to settle a message whose submit answer was lost)."""

    upstream_id: str
    code: str
    state: str | None
    handset: str = ""
    status: str = ""
    raw: dict = field(default_factory=dict)


class BaseConnector:
    """Subclasses set `kind` and implement `send`; `config` is the Connector row's JSON configuration."""

    kind = ""
    # Long-lived connections (SMPP binds) live in their own process, which claims this kind's messages itself;
    # the Celery outbox leaves them alone.
    runs_in_own_process = False

    def __init__(self, config: dict | None = None, *, connector=None):
        self.config = dict(config or {})
        self.connector = connector

    def send(self, message) -> ConnectorResult:
        raise NotImplementedError

    def send_many(self, messages: list) -> list[ConnectorResult]:
        """Results in the order of `messages`; connectors with a batch upstream override this."""
        return [self.send(message) for message in messages]

    @classmethod
    def take_due_receipts(cls, limit: int) -> list[DeliveryReceipt]:
        """Delivery reports this kind of connector holds that are due now, marked as handed over (the caller's
        transaction covers both, so a crash loses none). Upstreams that call back over HTTP hold none."""
        return []

    def callback_url(self, message) -> str:
        """Where the upstream posts this message's delivery report (opaque ids only)."""
        if self.connector is None:
            return ""
        path = reverse(
            "campaigns-api:dlr_callback", kwargs={"connector_id": self.connector.uid, "message_id": message.uid}
        )
        return setting("SMS_CALLBACK_BASE_URL").rstrip("/") + path
