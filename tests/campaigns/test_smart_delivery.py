"""Smart Delivery: a test batch first, then the rest released, or cancelled when DLT refused the test batch."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db.models import F
from django.utils import timezone

from campaigns import tasks
from campaigns.models import BalanceTransaction, Message, SimulatorSubmission
from campaigns.sending import smart_delivery
from campaigns.sending.lifecycle import cancel_campaign, schedule_campaign, start_campaign
from campaigns.sending.timing import SMART_DELIVERY_HOLD
from campaigns.states import CampaignState, MessageState, SmartDeliveryState
from portal.models import AuditEvent, Notification
from tests.campaigns.sending_support import approved_sender, approved_template, campaign_for, prices, run_sweeps

pytestmark = pytest.mark.django_db

CLEAN = [f"+91987{n:03d}1234" for n in range(1, 21)]  # delivered by the simulator
REFUSED = [f"+919876{n:02d}0452" for n in range(1, 21)]  # 452 TEMPLATE-NOT-FOUND from the simulator


@pytest.fixture(autouse=True)
def _setup(settings, account):
    settings.SMS_SIMULATOR_DLR_DELAY_SECONDS = 0
    settings.SMS_INDIA_PROMOTIONAL_HOLD = False
    prices(IN="0.01")
    account.balance = Decimal("5")
    account.save()


@pytest.fixture
def template(account):
    sender = approved_sender(account)
    return approved_template(account, sender, "Hi {{name}}, your Acme order {{order}} is ready", template_type="SI")


def smart_campaign(account, template, numbers, author, **options):
    options = {"smart_delivery": True, "smart_test_size": 3, "smart_wait_minutes": 5, **options}
    campaign = campaign_for(account, template.sender, template, numbers=numbers, created_by=author, **options)
    schedule_campaign(campaign, send_now=True, actor=author)
    return campaign


def send_test_batch(campaign) -> None:
    """Prepare (everything held), pick the test batch, send it and take its reports."""
    assert start_campaign(campaign.pk)
    assert smart_delivery.sweep() == {"started": 1, "judged": 0}
    run_sweeps(rounds=3)
    campaign.refresh_from_db()


def judge_later(minutes: int = 6, now=None) -> dict:
    """`minutes` pass for the messages that left (their send and end times move back), then the sweep runs."""
    delta = timedelta(minutes=minutes)
    Message.objects.filter(sent_at__isnull=False).update(sent_at=F("sent_at") - delta)
    Message.objects.filter(done_at__isnull=False).update(done_at=F("done_at") - delta)
    return smart_delivery.sweep(now)


def test_a_test_batch_refused_by_dlt_cancels_the_rest_refunds_and_notifies(account, template, marketer, admin_user):
    campaign = smart_campaign(account, template, REFUSED, marketer)
    send_test_batch(campaign)
    test_ids = set(campaign.smart_test_ids)
    assert len(test_ids) == 3 and campaign.smart_state == SmartDeliveryState.PENDING
    test = Message.objects.filter(pk__in=test_ids)
    assert {(m.state, m.error_code) for m in test} == {(MessageState.REJECTED, "452")}
    rest = Message.objects.filter(campaign=campaign).exclude(pk__in=test_ids)
    assert rest.count() == 17 and set(rest.values_list("state", flat=True)) == {MessageState.QUEUED}
    assert not SimulatorSubmission.objects.exclude(recipient__in=test.values_list("recipient", flat=True)).exists()

    assert smart_delivery.sweep() == {"started": 0, "judged": 0}  # reports are in, the 5 minutes are not over
    assert judge_later() == {"started": 0, "judged": 1}

    campaign.refresh_from_db()
    assert campaign.state == CampaignState.CANCELLED
    assert campaign.smart_state == SmartDeliveryState.FAILED and campaign.smart_checked_at is not None
    assert campaign.state_reason.startswith("Smart Delivery: 3 of 3 test messages refused by DLT (100.0%")
    assert campaign.smart_result == {
        "test_messages": 3,
        "rejected": 3,
        "rejected_percent": 100.0,
        "rejected_by_code": {"452": 3},
        "delivered": 0,
        "awaiting_report": 0,
        "other_failures": 0,
        "max_reject_percent": 0,
        "verdict": "failed",
        "cancelled": 17,
    }
    assert set(rest.values_list("state", "debited")) == {(MessageState.CANCELLED, False)}
    account.refresh_from_db()
    assert account.balance == Decimal("4.97")  # the 3 test messages left and were charged; the rest never was
    debits = BalanceTransaction.objects.filter(campaign=campaign, kind="debit")
    assert sum(row.messages for row in debits) == 3
    notes = Notification.objects.filter(account=account).order_by("user__email")
    assert {note.user for note in notes} == {marketer, admin_user}
    assert all(note.level == "error" and note.link == f"/campaigns/{campaign.uid}/" for note in notes)
    assert "17 held messages cancelled" in notes[0].text and "452 (3)" in notes[0].text
    verbs = set(AuditEvent.objects.filter(object_id=str(campaign.uid)).values_list("verb", flat=True))
    assert {"campaign.smart_delivery_started", "campaign.smart_delivery_failed", "campaign.cancelled"} <= verbs
    assert judge_later() == {"started": 0, "judged": 0}  # judged once


def test_a_clean_test_batch_releases_the_rest_which_is_then_sent(account, template, marketer):
    campaign = smart_campaign(account, template, CLEAN, marketer)
    send_test_batch(campaign)
    run_sweeps(rounds=2)
    assert Message.objects.filter(campaign=campaign, state=MessageState.DELIVERED).count() == 3
    assert Message.objects.filter(campaign=campaign, state=MessageState.QUEUED).count() == 17

    assert judge_later() == {"started": 0, "judged": 1}
    campaign.refresh_from_db()
    assert campaign.smart_state == SmartDeliveryState.PASSED
    assert campaign.smart_result["released"] == 17 and campaign.smart_result["delivered"] == 3
    assert not Message.objects.filter(campaign=campaign, not_before__gt=timezone.now()).exists()
    run_sweeps()
    campaign.refresh_from_db()
    assert campaign.state == CampaignState.COMPLETED
    assert Message.objects.filter(campaign=campaign, state=MessageState.DELIVERED).count() == 20
    account.refresh_from_db()
    assert account.balance == Decimal("4.80")
    assert not Notification.objects.exists()


def test_the_test_numbers_are_the_test_batch_and_get_the_campaign_too(account, template, marketer):
    test_numbers = ["+919812340452", "+919812349999"]  # one 452, one refused at submit (404: not a DLT code)
    campaign = smart_campaign(
        account, template, CLEAN[:5], marketer, smart_test_numbers=test_numbers, smart_max_reject_percent=50
    )
    send_test_batch(campaign)
    test = Message.objects.filter(pk__in=campaign.smart_test_ids)
    assert set(test.values_list("recipient", flat=True)) == set(test_numbers)
    assert campaign.smart_result == {"test_messages": 2, "held": 5}
    assert judge_later() == {"started": 0, "judged": 1}
    campaign.refresh_from_db()
    result = campaign.smart_result
    assert (result["rejected"], result["rejected_percent"], result["other_failures"]) == (1, 50.0, 1)
    assert campaign.smart_state == SmartDeliveryState.PASSED  # 50% is not more than 50%
    run_sweeps()
    assert Message.objects.filter(campaign=campaign, state=MessageState.DELIVERED).count() == 5


def test_more_rejections_than_the_threshold_fail_and_missing_reports_count_as_not_rejected(
    account, template, marketer, settings
):
    campaign = smart_campaign(account, template, CLEAN, marketer, smart_test_numbers=["+919812340452", "+919812341111"])
    send_test_batch(campaign)
    assert campaign.smart_state == SmartDeliveryState.PENDING
    settings.SMS_SIMULATOR_DLR_DELAY_SECONDS = 3600  # the next campaign's reports do not come in time
    waiting = smart_campaign(account, template, CLEAN, marketer, smart_test_size=4, name="No reports yet")
    send_test_batch(waiting)
    assert set(Message.objects.filter(pk__in=waiting.smart_test_ids).values_list("state", flat=True)) == {"sent"}

    assert judge_later() == {"started": 0, "judged": 2}
    campaign.refresh_from_db()
    waiting.refresh_from_db()
    assert (campaign.smart_state, campaign.state) == (SmartDeliveryState.FAILED, CampaignState.CANCELLED)
    assert campaign.smart_result["rejected_percent"] == 50.0
    assert waiting.smart_state == SmartDeliveryState.PASSED
    assert (waiting.smart_result["awaiting_report"], waiting.smart_result["rejected"]) == (4, 0)


def test_a_test_batch_is_judged_only_minutes_after_its_last_message_left(account, template, marketer, settings):
    settings.SMS_INDIA_PROMOTIONAL_HOLD = True
    settings.SMS_INDIA_PROMOTIONAL_HOURS = (0, 0)  # never inside the hours: the promotional test batch waits
    promo = approved_template(account, template.sender, "Acme sale for {{name}} on order {{order}}", "P", "Promo")
    campaign = smart_campaign(account, promo, CLEAN, marketer)
    send_test_batch(campaign)
    assert Message.objects.filter(pk__in=campaign.smart_test_ids, state=MessageState.QUEUED).count() == 3
    assert judge_later(600) == {"started": 0, "judged": 0}
    settings.SMS_INDIA_PROMOTIONAL_HOLD = False
    run_sweeps(rounds=2)
    assert judge_later(4) == {"started": 0, "judged": 0}
    assert judge_later(2) == {"started": 0, "judged": 1}


def test_the_held_rest_keeps_its_batches_when_released(account, template, marketer):
    campaign = smart_campaign(
        account,
        template,
        CLEAN[:12],
        marketer,
        smart_test_numbers=CLEAN[12:14],  # the last two recipients: the rest is the first 12, in 3 batches
        batch_size=5,
        batch_interval_minutes=10,
    )
    assert start_campaign(campaign.pk)
    held = Message.objects.filter(campaign=campaign)
    limit = timezone.now() + SMART_DELIVERY_HOLD - timedelta(minutes=1)
    assert held.count() == 14 and not held.filter(not_before__lt=limit).exists()  # all held until picked
    assert smart_delivery.sweep()["started"] == 1
    run_sweeps(rounds=2)
    judged_at = timezone.now()
    assert judge_later(now=judged_at)["judged"] == 1
    rest = Message.objects.filter(campaign=campaign, state=MessageState.QUEUED)
    offsets = sorted({round((m.not_before - judged_at).total_seconds() / 60) for m in rest})
    assert offsets == [0, 10, 20] and rest.count() == 12


def test_the_test_batch_is_picked_once_and_at_once_by_the_start_task(account, template, marketer):
    campaign = smart_campaign(account, template, CLEAN, marketer)
    assert tasks.start_campaign(campaign.pk)
    campaign.refresh_from_db()
    assert campaign.smart_state == SmartDeliveryState.PENDING and len(campaign.smart_test_ids) == 3
    assert smart_delivery.start_test_batch(campaign.pk) == 0
    due = Message.objects.filter(campaign=campaign, not_before__lte=timezone.now())
    assert set(due.values_list("pk", flat=True)) == set(campaign.smart_test_ids)


def test_a_campaign_cancelled_while_its_test_batch_waits_is_not_judged(account, template, marketer):
    campaign = smart_campaign(account, template, REFUSED, marketer)
    send_test_batch(campaign)
    cancel_campaign(campaign, actor=marketer)
    assert not Message.objects.filter(campaign=campaign, state=MessageState.QUEUED).exists()
    assert judge_later() == {"started": 0, "judged": 0}
    assert not Notification.objects.exists()


def test_a_campaign_without_smart_delivery_is_untouched(account, template, marketer):
    campaign = campaign_for(account, template.sender, template, numbers=CLEAN[:3], created_by=marketer)
    schedule_campaign(campaign, send_now=True, actor=marketer)
    run_sweeps()
    assert smart_delivery.sweep() == {"started": 0, "judged": 0}
    campaign.refresh_from_db()
    assert (campaign.state, campaign.smart_state) == (CampaignState.COMPLETED, "")


def test_a_campaign_whose_every_message_was_tested_is_judged_after_it_completed(account, template, marketer):
    campaign = smart_campaign(account, template, REFUSED[:2], marketer, smart_test_numbers=REFUSED[:2])
    send_test_batch(campaign)
    assert campaign.state == CampaignState.COMPLETED and campaign.smart_result == {"test_messages": 2, "held": 0}
    assert judge_later() == {"started": 0, "judged": 1}
    campaign.refresh_from_db()
    assert (campaign.state, campaign.smart_state) == (CampaignState.COMPLETED, SmartDeliveryState.FAILED)
    assert campaign.smart_result["cancelled"] == 0
    assert "had no messages held back" in Notification.objects.get(user=marketer).text
