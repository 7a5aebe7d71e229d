"""Thin Celery tasks of the campaigns app: they take ids and call dispatch/sending. All are idempotent.

Sweep-started runs of the outbox and of the simulator's reports hold a slot in the cache while they run, so
a busy period never queues more runs than slots (with a shared cache such as Redis; with a per-process cache
the leases still keep parallel runs safe).
"""

from celery import shared_task
from django.core.cache import cache


def _slot_key(name: str) -> str:
    return f"campaigns:slot:{name}"


def _start_in_slot(task, name: str) -> bool:
    from campaigns.conf import setting

    if cache.add(_slot_key(name), 1, timeout=setting("SMS_OUTBOX_TASK_SECONDS") + 5):
        task.delay(name)
        return True
    return False


def _release_slot(name: str | None) -> None:
    if name is not None:
        cache.delete(_slot_key(name))


@shared_task(name="campaigns.start_campaign")
def start_campaign(campaign_id: int) -> bool:
    from campaigns.sending import start_campaign as start

    return start(campaign_id)


@shared_task(name="campaigns.sweep_due_campaigns")
def sweep_due_campaigns() -> int:
    """Beat: scheduled campaigns whose time has come (and abandoned preparations) are started."""
    from campaigns.sending import due_campaign_ids

    ids = due_campaign_ids()
    for campaign_id in ids:
        start_campaign.delay(campaign_id)
    return len(ids)


@shared_task(name="campaigns.dispatch_outbox")
def dispatch_outbox(slot: str | None = None) -> int:
    """Release due messages to the connectors for a while (claims are leased, so parallel runs are safe)."""
    from campaigns.dispatch import run_outbox

    try:
        return run_outbox()
    finally:
        _release_slot(slot)


@shared_task(name="campaigns.deliver_simulated_reports")
def deliver_simulated_reports(slot: str | None = None) -> int:
    """The simulator connector's delivery reports that are due."""
    from campaigns.connectors.simulator import deliver_all_due_reports

    try:
        return deliver_all_due_reports()
    finally:
        _release_slot(slot)


@shared_task(name="campaigns.sweep_outbox")
def sweep_outbox() -> int:
    """Beat: settle cancellations, complete finished campaigns, start the simulator's reports, fan out dispatchers."""
    from campaigns.conf import setting
    from campaigns.dispatch import due_batches, finish_campaigns
    from campaigns.sending import settle_all_cancelled

    settle_all_cancelled()
    finish_campaigns()
    _start_in_slot(deliver_simulated_reports, "reports")
    slots = min(due_batches(), setting("SMS_OUTBOX_PARALLELISM"))
    return sum(_start_in_slot(dispatch_outbox, f"outbox-{index}") for index in range(slots))


@shared_task(name="campaigns.release_expired_leases")
def release_expired_leases() -> int:
    """Beat: claims of crashed workers whose lease has expired are dropped so the messages go out again."""
    from campaigns.dispatch import release_expired_claims

    return release_expired_claims()


@shared_task(name="campaigns.send_inbound_replies")
def send_inbound_replies() -> int:
    """Beat: confirmation replies to inbound stop words that are queued."""
    from campaigns.replies import send_queued_replies

    return send_queued_replies()
