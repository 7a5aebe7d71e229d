"""The balance never goes below zero when several workers release several campaigns of one account at once."""

import threading
from decimal import Decimal

import pytest
from django.db import connection
from django.db.models import Sum

from campaigns.models import BalanceTransaction, Campaign, Message
from campaigns.sending.lifecycle import schedule_campaign, start_campaign
from campaigns.sending.outbox import run_outbox
from campaigns.states import CampaignState, MessageState
from tests.campaigns.sending_support import approved_sender, approved_template, campaign_for, prices

WORKERS = 4
PER_CAMPAIGN = 400
REFUSED_PER_CAMPAIGN = 30
PRICE = Decimal("0.01")


def _release_in_parallel() -> None:
    errors = []

    def work():
        try:
            run_outbox(seconds=60)
        except Exception as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=work) for _ in range(WORKERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors, errors


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_campaigns_never_overdraw_the_balance(account, admin_user, settings):
    settings.SMS_INDIA_PROMOTIONAL_HOLD = False
    settings.SMS_OUTBOX_BATCH_SIZE = 37
    settings.SMS_SIMULATOR_DLR_DELAY_SECONDS = 3600
    prices(service="ENT", GB=str(PRICE))
    affordable = 523
    account.balance = PRICE * affordable
    account.save()
    sender = approved_sender(account, name="ACME", country="GB", service="ENT")
    template = approved_template(account, sender, "Hi {{first_name}}, your Acme order is ready", template_type="T")
    campaigns = []
    for index in range(3):
        numbers = [f"+447911{index}{n:04d}5" for n in range(PER_CAMPAIGN)]
        numbers += [f"+4479{index}{n:03d}9999" for n in range(REFUSED_PER_CAMPAIGN)]  # refused, then refunded
        campaign = campaign_for(account, sender, template, numbers=numbers, name=f"C{index}")
        schedule_campaign(campaign, actor=admin_user)
        start_campaign(campaign.pk)
        campaigns.append(campaign)

    _release_in_parallel()

    account.refresh_from_db()
    initial = PRICE * affordable
    paid = Message.objects.filter(account=account, debited=True)
    assert account.balance >= 0
    assert account.balance < PRICE  # everything affordable was sent
    assert account.balance == initial - paid.aggregate(total=Sum("cost"))["total"]
    moves = BalanceTransaction.objects.filter(account=account).aggregate(total=Sum("amount"))["total"]
    assert initial + moves == account.balance
    assert Message.objects.filter(state=MessageState.SENT).count() == paid.count()
    assert Message.objects.filter(state=MessageState.REJECTED, debited=False).count() > 0
    states = set(Campaign.objects.filter(pk__in=[c.pk for c in campaigns]).values_list("state", flat=True))
    assert CampaignState.PAUSED in states
    assert all(
        c.state_reason.startswith("6 Insufficient funds") for c in Campaign.objects.filter(state=CampaignState.PAUSED)
    )
