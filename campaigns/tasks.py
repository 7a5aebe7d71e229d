"""Thin Celery tasks of the campaigns app: they take ids and call the sending core. All are idempotent.

Sweep-started runs of the outbox and of the connectors' held reports take a slot in the cache while they run,
so a busy period never queues more runs than slots (with a shared cache such as Redis; with a per-process cache
the leases still keep parallel runs safe).
"""

from celery import shared_task
from django.core.cache import cache
from django.utils import timezone

from campaigns import routing
from campaigns.conf import setting
from campaigns.replies import send_queued_replies
from campaigns.sending import lifecycle, outbox, reports, smart_delivery
from campaigns.smpp_gateway import tasks as smpp_gateway_tasks  # noqa: F401  (its beat tasks, registered here)
from campaigns.verify import limits, progress


def _slot_key(name: str) -> str:
    return f"campaigns:slot:{name}"


def _start_in_slot(task, name: str) -> bool:
    if cache.add(_slot_key(name), 1, timeout=setting("SMS_OUTBOX_TASK_SECONDS") + 5):
        task.delay(name)
        return True
    return False


def _release_slot(name: str | None) -> None:
    if name is not None:
        cache.delete(_slot_key(name))


@shared_task(name="campaigns.start_campaign")
def start_campaign(campaign_id: int) -> bool:
    """Prepare a due campaign; a Smart Delivery campaign's test batch is picked at once (else by the sweep)."""
    started = lifecycle.start_campaign(campaign_id)
    if started:
        smart_delivery.start_test_batch(campaign_id)
    return started


@shared_task(name="campaigns.sweep_due_campaigns")
def sweep_due_campaigns() -> int:
    """Beat: scheduled campaigns whose time has come (and abandoned preparations) are started."""
    ids = lifecycle.due_campaign_ids()
    for campaign_id in ids:
        start_campaign.delay(campaign_id)
    return len(ids)


@shared_task(name="campaigns.dispatch_outbox")
def dispatch_outbox(slot: str | None = None) -> int:
    """Release due messages to the connectors for a while (claims are leased, so parallel runs are safe)."""
    try:
        return outbox.run_outbox()
    finally:
        _release_slot(slot)


@shared_task(name="campaigns.deliver_simulated_reports")
def deliver_simulated_reports(slot: str | None = None) -> int:
    """The delivery reports connectors hold that are due (the simulator's)."""
    try:
        return reports.ingest_all_due_receipts()
    finally:
        _release_slot(slot)


@shared_task(name="campaigns.sweep_outbox")
def sweep_outbox() -> int:
    """Beat: settle cancellations, complete finished campaigns, start the held reports, fan out dispatchers."""
    lifecycle.settle_all_cancelled()
    lifecycle.finish_campaigns()
    _start_in_slot(deliver_simulated_reports, "reports")
    slots = min(outbox.due_batches(), setting("SMS_OUTBOX_PARALLELISM"))
    return sum(_start_in_slot(dispatch_outbox, f"outbox-{index}") for index in range(slots))


@shared_task(name="campaigns.release_expired_leases")
def release_expired_leases() -> int:
    """Beat: claims of crashed workers whose lease has expired are dropped so the messages go out again."""
    return outbox.release_expired_claims()


@shared_task(name="campaigns.send_inbound_replies")
def send_inbound_replies() -> int:
    """Beat: confirmation replies to inbound stop words that are queued."""
    return send_queued_replies()


@shared_task(name="campaigns.expire_unknown_submits")
def expire_unknown_submits() -> int:
    """Beat: SMPP submits whose answer was lost and that no delivery report settled in time become expired."""
    return reports.expire_unknown_submits()


@shared_task(name="campaigns.reroute_stranded")
def reroute_stranded() -> int:
    """Beat: queued messages of an SMPP connector with no bound session for a minute move to their route's next
    connector (when the route has one)."""
    return routing.reroute_stranded()


@shared_task(name="campaigns.smart_delivery_sweep")
def smart_delivery_sweep() -> dict:
    """Beat: Smart Delivery test batches picked for prepared campaigns; due ones judged (rest released or cancelled)."""
    return smart_delivery.sweep()


@shared_task(name="campaigns.verify_sweep")
def verify_sweep() -> dict:
    return progress.sweep()


@shared_task(name="campaigns.verify_conversion_alarms")
def verify_conversion_alarms() -> int:
    return limits.raise_conversion_alarms(timezone.now())
