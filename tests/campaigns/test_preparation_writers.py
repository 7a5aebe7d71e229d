"""Preparation on PostgreSQL writes chunks on several writer threads: every message once, errors surface."""

import pytest

from campaigns.models import Campaign, Message
from campaigns.sending import preparation
from campaigns.states import CampaignState
from tests.campaigns.sending_support import approved_sender, approved_template, campaign_for, prices

RECIPIENTS = 1_000


def _preparing_campaign(account) -> Campaign:
    prices(service="ENT", GB="0.01")
    sender = approved_sender(account, name="ACME", country="GB", service="ENT")
    template = approved_template(account, sender, "Hi {{first_name}}, your Acme order is ready", template_type="T")
    numbers = [f"+4479112{n:05d}" for n in range(RECIPIENTS)]
    campaign = campaign_for(account, sender, template, numbers=numbers + numbers[:50])
    Campaign.objects.filter(pk=campaign.pk).update(state=CampaignState.PREPARING)
    return Campaign.objects.select_related("account", "sender", "template").get(pk=campaign.pk)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_chunks_written_by_three_threads_give_one_message_per_recipient(account, settings):
    settings.SMS_PREPARE_CHUNK_SIZE = 37
    settings.SMS_PREPARE_WRITERS = 3
    campaign = _preparing_campaign(account)
    preparation.prepare_campaign(campaign)
    campaign.refresh_from_db()
    assert campaign.state == CampaignState.RUNNING
    assert campaign.recipients_count == RECIPIENTS
    recipients = list(Message.objects.filter(campaign=campaign).values_list("recipient", flat=True))
    assert len(recipients) == len(set(recipients)) == RECIPIENTS


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_failing_writer_thread_fails_the_preparation(account, settings, monkeypatch):
    settings.SMS_PREPARE_CHUNK_SIZE = 100
    settings.SMS_PREPARE_WRITERS = 2
    campaign = _preparing_campaign(account)
    written = []
    original = preparation.write_messages

    def fail_on_the_third_chunk(defaults, now, rows, short_links=()):
        written.append(len(rows))
        if len(written) == 3:
            raise RuntimeError("disk full")
        original(defaults, now, rows, short_links)

    monkeypatch.setattr(preparation, "write_messages", fail_on_the_third_chunk)
    with pytest.raises(RuntimeError, match="disk full"):
        preparation.prepare_campaign(campaign)
    assert Message.objects.filter(campaign=campaign).count() <= RECIPIENTS - 100
    assert Campaign.objects.get(pk=campaign.pk).state == CampaignState.PREPARING
