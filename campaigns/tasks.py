"""Thin Celery tasks of the campaigns app: they take ids and call dispatch/sending. All are idempotent."""

from celery import shared_task


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
def dispatch_outbox() -> int:
    """Release due messages to the connectors for a while (claims are leased, so parallel runs are safe)."""
    from campaigns.dispatch import run_outbox

    return run_outbox()


@shared_task(name="campaigns.sweep_outbox")
def sweep_outbox() -> int:
    """Beat: settle cancellations, complete finished campaigns, start the simulator's reports, fan out dispatchers."""
    from campaigns.conf import setting
    from campaigns.dispatch import due_batches, finish_campaigns
    from campaigns.sending import settle_all_cancelled

    settle_all_cancelled()
    finish_campaigns()
    deliver_simulated_reports.delay()
    workers = min(due_batches(), setting("SMS_OUTBOX_PARALLELISM"))
    for _ in range(workers):
        dispatch_outbox.delay()
    return workers


@shared_task(name="campaigns.release_expired_leases")
def release_expired_leases() -> int:
    """Beat: claims of crashed workers whose lease has expired are dropped so the messages go out again."""
    from campaigns.dispatch import release_expired_claims

    return release_expired_claims()


@shared_task(name="campaigns.deliver_simulated_reports")
def deliver_simulated_reports() -> int:
    """The simulator connector's delivery reports that are due."""
    from campaigns.connectors.simulator import deliver_all_due_reports

    return deliver_all_due_reports()
