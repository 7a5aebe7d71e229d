"""The heartbeat task (registered by portal/tasks.py: autodiscovery finds `<app>/tasks.py` only)."""

from celery import shared_task

from portal.ops import heartbeats


@shared_task(name="portal.ops.heartbeat")
def heartbeat() -> None:
    """Run by beat every 15 s on the `default` queue: writes the `beat` heartbeat row /readyz checks."""
    heartbeats.record(heartbeats.BEAT)
