"""Connectors hand messages to upstreams: `connector_for(connector_row)` gives the implementation."""

from campaigns.connectors.base import BaseConnector, ConnectorResult, DeliveryReceipt, Outcome
from campaigns.connectors.http import HttpConnector
from campaigns.connectors.simulator import SimulatorConnector

REGISTRY: dict[str, type[BaseConnector]] = {
    SimulatorConnector.kind: SimulatorConnector,
    HttpConnector.kind: HttpConnector,
}

__all__ = ["REGISTRY", "BaseConnector", "ConnectorResult", "DeliveryReceipt", "Outcome", "connector_for"]


def connector_for(connector) -> BaseConnector:
    """The implementation for a Connector row (None: the simulator with default settings)."""
    if connector is None:
        return SimulatorConnector()
    try:
        implementation = REGISTRY[connector.kind]
    except KeyError:
        raise ValueError(f"unknown connector kind {connector.kind!r}") from None
    return implementation(connector.config, connector=connector)
