"""Connectors hand messages to upstreams: `connector_for(connector_row)` gives the implementation."""

from campaigns.connectors.base import BaseConnector, ConnectorResult, DeliveryReceipt, Outcome, UpstreamReceipt
from campaigns.connectors.http import HttpConnector
from campaigns.connectors.simulator import SimulatorConnector
from campaigns.connectors.smpp.connector import SmppConnector

REGISTRY: dict[str, type[BaseConnector]] = {
    SimulatorConnector.kind: SimulatorConnector,
    HttpConnector.kind: HttpConnector,
    SmppConnector.kind: SmppConnector,
}

__all__ = [
    "REGISTRY",
    "BaseConnector",
    "ConnectorResult",
    "DeliveryReceipt",
    "Outcome",
    "UpstreamReceipt",
    "connector_for",
    "own_process_kinds",
]


def connector_for(connector) -> BaseConnector:
    """The implementation for a Connector row (None: the simulator with default settings)."""
    if connector is None:
        return SimulatorConnector()
    try:
        implementation = REGISTRY[connector.kind]
    except KeyError:
        raise ValueError(f"unknown connector kind {connector.kind!r}") from None
    return implementation(connector.config, connector=connector)


def own_process_kinds() -> list[str]:
    """Connector kinds whose messages a protocol process (`smpp_worker`) sends, not the Celery outbox."""
    return [kind for kind, implementation in REGISTRY.items() if implementation.runs_in_own_process]
