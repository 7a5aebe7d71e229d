"""Beat tasks of the SMPP gateway (registered through `campaigns.tasks`); thin and idempotent."""

from celery import shared_task

from campaigns.smpp_gateway import sweeps


@shared_task(name="campaigns.smpp_expire_receipts")
def smpp_expire_receipts() -> int:
    """Beat: receipts and inbound messages no session collected within their TTL become expired."""
    return sweeps.expire_receipts()


@shared_task(name="campaigns.smpp_drop_stale_sessions")
def smpp_drop_stale_sessions() -> int:
    """Beat: session rows of server processes that stopped touching them are removed."""
    return sweeps.drop_stale_sessions()


@shared_task(name="campaigns.smpp_prune")
def smpp_prune() -> dict:
    """Beat: finished receipts and bind failures past their keeping time are deleted."""
    return {"receipts": sweeps.purge_finished_receipts(), "bind_failures": sweeps.prune_bind_failures()}
