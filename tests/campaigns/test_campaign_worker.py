"""Exactly once through crashes: a real Celery worker on Redis and PostgreSQL, killed twice mid-campaign."""

import time
from decimal import Decimal

import pytest
from django.db.models import Count

from campaigns.models import Message, SimulatorSubmission
from campaigns.sending.lifecycle import schedule_campaign
from campaigns.states import CampaignState, MessageState
from contacts.models import Contact, ContactTag, Tag, Unsubscriber
from portal.celery import app
from tests.campaigns.sending_support import approved_sender, approved_template, prices

RECIPIENTS = 10_000
OPTED_OUT_EVERY = 97


def _beat() -> None:
    app.send_task("campaigns.sweep_due_campaigns")
    app.send_task("campaigns.sweep_outbox")
    app.send_task("campaigns.release_expired_leases")


def _wait_until(condition, timeout: float, worker) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out; worker log tail:\n{worker.log()[-3000:]}")
        _beat()
        time.sleep(1)


@pytest.mark.postgres
@pytest.mark.redis
def test_campaign_sends_exactly_once_per_recipient_through_two_worker_crashes(
    monkeypatch, account, admin_user, celery_worker
):
    monkeypatch.setitem(app.conf, "task_always_eager", False)
    for name, value in {
        "SMS_OUTBOX_LEASE_SECONDS": "8",
        "SMS_PREPARE_LEASE_SECONDS": "8",
        "SMS_SIMULATOR_DLR_DELAY_SECONDS": "0.5",
        "SMS_OUTBOX_BATCH_SIZE": "200",
    }.items():
        monkeypatch.setenv(name, value)
    celery_worker.restart()  # pick up the environment above
    prices(service="ENT", GB="0.01")
    account.balance = Decimal("1000")
    account.save()
    sender = approved_sender(account, name="ACME", country="GB", service="ENT")
    template = approved_template(account, sender, "Hi {{first_name}}, your Acme code is ready", template_type="T")
    tag = Tag.objects.create(account=account, name="everyone")
    numbers = [f"+447911{n:05d}5" for n in range(RECIPIENTS)]  # no simulator failure suffix: all delivered
    contacts = Contact.objects.bulk_create(
        [Contact(account=account, phone=number, first_name=f"N{i}") for i, number in enumerate(numbers)]
    )
    ContactTag.objects.bulk_create([ContactTag(contact=c, tag=tag) for c in contacts])
    opted_out = set(numbers[::OPTED_OUT_EVERY])
    Unsubscriber.objects.bulk_create([Unsubscriber(account=account, receiver=n, type="all") for n in opted_out])
    eligible = set(numbers) - opted_out

    from campaigns.models import Campaign

    campaign = Campaign.objects.create(
        account=account, sender=sender, template=template, name="Crash test", audience={"tags": ["everyone"]}
    )
    schedule_campaign(campaign, actor=admin_user)

    _wait_until(lambda: SimulatorSubmission.objects.count() > 1500, 180, celery_worker)
    celery_worker.restart()
    _wait_until(lambda: SimulatorSubmission.objects.count() > 5500, 180, celery_worker)
    celery_worker.restart()

    def finished() -> bool:
        campaign.refresh_from_db()
        return (
            campaign.state == CampaignState.COMPLETED
            and not Message.objects.filter(
                campaign=campaign, state__in=[MessageState.QUEUED, MessageState.SENT]
            ).exists()
        )

    _wait_until(finished, 300, celery_worker)

    submitted = list(SimulatorSubmission.objects.values_list("recipient", flat=True))
    assert len(submitted) == len(eligible)
    assert set(submitted) == eligible
    assert not opted_out & set(submitted)
    messages = Message.objects.filter(campaign=campaign)
    assert messages.count() == len(eligible)
    assert not messages.values("recipient").annotate(n=Count("id")).filter(n__gt=1).exists()
    assert messages.filter(state=MessageState.DELIVERED).count() == len(eligible)
    assert campaign.suppressed_by_reason == {"all": len(opted_out)}
    account.refresh_from_db()
    assert account.balance == Decimal("1000") - Decimal("0.01") * len(eligible)
