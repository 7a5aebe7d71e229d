"""The `smpp` connector kind: its binds live in `manage.py smpp_worker`, which claims and submits its messages."""

from campaigns.connectors.base import BaseConnector, ConnectorResult


class SmppConnector(BaseConnector):
    kind = "smpp"
    runs_in_own_process = True

    def send(self, message) -> ConnectorResult:
        """Never called by the Celery outbox (it leaves this kind alone); a stray call retries later."""
        return ConnectorResult.retry("SMPP messages are submitted by the smpp_worker process")
