"""Spending caps: the rule (periods, admission, precheck) and the real sending path stopping at a cap."""

import threading
import zoneinfo
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.utils import timezone

from campaigns.models import BalanceTransaction, Message
from campaigns.sending import caps
from campaigns.sending.lifecycle import resume_campaign, schedule_campaign, start_campaign
from campaigns.sending.outbox import run_outbox
from campaigns.states import CampaignState, MessageState
from portal.caps import set_caps
from portal.models import AuditEvent, Notification
from tests.campaigns.sending_support import approved_sender, approved_template, campaign_for, prices, run_sweeps

pytestmark = pytest.mark.django_db

KOLKATA = zoneinfo.ZoneInfo("Asia/Kolkata")


@pytest.fixture(autouse=True)
def _setup(settings, account):
    settings.SMS_SIMULATOR_DLR_DELAY_SECONDS = 0
    settings.SMS_INDIA_PROMOTIONAL_HOLD = False
    settings.SMS_OUTBOX_BATCH_SIZE = 3  # several claims per campaign: the cap holds across batches
    prices(IN="0.01", GB="0.04")
    account.balance = Decimal("10")
    account.save()


@pytest.fixture
def sender(account):
    return approved_sender(account)


def _debit(account, messages: int, amount: str, *, at=None, api_token=None) -> BalanceTransaction:
    row = BalanceTransaction.objects.create(
        account=account,
        kind="debit",
        amount=-Decimal(amount),
        balance_after=account.balance,
        messages=messages,
        api_token=api_token,
    )
    if at is not None:
        BalanceTransaction.objects.filter(pk=row.pk).update(created_at=at)
    return row


def _campaign(account, sender, admin_user, count: int):
    template = approved_template(account, sender, "Hi {{first_name}}, Acme sale today", name=f"T{count}")
    campaign = campaign_for(account, sender, template, numbers=[f"+9198765432{i:02d}" for i in range(count)])
    schedule_campaign(campaign, actor=admin_user)
    return campaign


def test_periods_start_at_midnight_and_on_the_first_in_the_accounts_zone(account):
    periods = caps.Periods.of(account, datetime(2026, 3, 31, 20, 0, tzinfo=UTC))  # 01:30 on 1 April in IST
    assert periods.day_start == datetime(2026, 4, 1, tzinfo=KOLKATA)
    assert periods.day_end == datetime(2026, 4, 2, tzinfo=KOLKATA)
    assert periods.month_start == datetime(2026, 4, 1, tzinfo=KOLKATA)
    assert periods.month_end == datetime(2026, 5, 1, tzinfo=KOLKATA)


def test_a_day_with_a_clock_change_is_23_hours_long(account):
    account.time_zone = "Europe/London"
    periods = caps.Periods.of(account, datetime(2026, 3, 29, 12, 0, tzinfo=UTC))  # clocks go forward at 01:00
    assert periods.day_end.astimezone(UTC) - periods.day_start.astimezone(UTC) == timedelta(hours=23)


def test_usage_counts_this_periods_debits_only(account, api):
    token = api().token
    now = timezone.now()
    periods = caps.Periods.of(account, now)
    _debit(account, 2, "0.02")
    _debit(account, 5, "0.05", api_token=token)
    _debit(account, 7, "0.07", at=periods.day_start - timedelta(seconds=1))  # yesterday
    _debit(account, 9, "0.09", at=periods.month_start - timedelta(seconds=1))  # last month
    BalanceTransaction.objects.create(account=account, kind="refund", amount=Decimal("0.01"), balance_after=0)
    account_usage = caps.summary(account, account, now)
    assert account_usage["daily_message_cap"]["used"] == 7
    assert account_usage["daily_spend_cap"]["used"] == Decimal("0.07")
    token_usage = caps.summary(token, account, now)
    assert token_usage["daily_message_cap"]["used"] == 5
    expected_month = 14 if periods.day_start != periods.month_start else 7
    assert account_usage["monthly_message_cap"]["used"] == expected_month


def test_admit_keeps_order_and_a_token_cap_holds_only_that_tokens_messages(account, api):
    token, other = api().token, api("marketer").token
    token.daily_message_cap = 1
    token.save()
    account.daily_spend_cap = Decimal("0.05")
    account.save()
    _debit(account, 2, "0.02")
    batch = [
        Message(pk=1, account=account, cost=Decimal("0.01"), api_token=token),
        Message(pk=2, account=account, cost=Decimal("0.01"), api_token=token),  # token cap
        Message(pk=3, account=account, cost=Decimal("0.01"), api_token=other),
        Message(pk=4, account=account, cost=Decimal("0.04"), api_token=other),  # account spend cap: 0.04 > 0.01
        Message(pk=5, account=account, cost=Decimal("0.01"), api_token=None),  # the account cap stays closed
    ]
    check = caps.CapCheck.for_batch(account, batch, timezone.now())
    assert [check.admit(message) for message in batch] == [True, False, True, False, False]
    assert [(limit.holder, limit.kind.field) for limit in check.hits] == [
        (token, "daily_message_cap"),
        (account, "daily_spend_cap"),
    ]
    assert check.held_by[5].holder == account


def test_precheck_names_the_cap_its_usage_and_the_reset(account):
    account.monthly_message_cap = 10
    account.save()
    _debit(account, 8, "0.08")
    assert caps.precheck(account, None, 2, Decimal("0.02")) is None
    limit = caps.precheck(account, None, 3, Decimal("0.03"))
    assert limit.kind.field == "monthly_message_cap"
    text = limit.refusal(3, Decimal("0.03"))
    assert text.startswith("Monthly message cap of 10 reached: 8 charged this month and this send needs 3;")
    assert "(Asia/Kolkata) or when an account admin raises it" in text


def test_campaign_pauses_at_the_daily_message_cap_with_exactly_n_charged(account, sender, admin_user):
    account.daily_message_cap = 4
    account.save()
    campaign = _campaign(account, sender, admin_user, 10)
    run_sweeps()
    campaign.refresh_from_db()
    account.refresh_from_db()
    assert campaign.state == CampaignState.PAUSED
    assert campaign.state_reason.startswith("Daily message cap of 4 reached; resume the campaign after it resets at ")
    assert campaign.state_reason.endswith("(Asia/Kolkata) or once an account admin raises it.")
    assert Message.objects.filter(campaign=campaign, debited=True).count() == 4
    assert Message.objects.filter(campaign=campaign, state=MessageState.DELIVERED).count() == 4
    assert Message.objects.filter(campaign=campaign, state=MessageState.QUEUED, debited=False).count() == 6
    assert account.balance == Decimal("9.96")

    notices = Notification.objects.filter(account=account, user=admin_user, level="warning")
    assert [n.text.split(";")[0] for n in notices] == ["Daily message cap of 4 reached"]
    assert notices[0].link == "/settings/account/"
    resume_campaign(campaign, actor=admin_user)  # nothing reset, nothing raised: it pauses again, no new notice
    run_sweeps()
    campaign.refresh_from_db()
    assert campaign.state == CampaignState.PAUSED
    assert Message.objects.filter(campaign=campaign, debited=True).count() == 4
    assert notices.count() == 1
    assert AuditEvent.objects.filter(verb="spending_cap.reached").count() == 1

    set_caps(account, {"daily_message_cap": 20}, actor=admin_user)
    resume_campaign(campaign, actor=admin_user)
    run_sweeps()
    campaign.refresh_from_db()
    assert campaign.state == CampaignState.COMPLETED
    assert Message.objects.filter(campaign=campaign, state=MessageState.DELIVERED).count() == 10


def test_monthly_spend_cap_counts_earlier_charges_of_the_month(account, sender, admin_user):
    periods = caps.Periods.of(account, timezone.now())
    _debit(account, 3, "0.03", at=periods.month_start)  # this month
    _debit(account, 50, "0.50", at=periods.month_start - timedelta(seconds=1))  # last month: not counted
    account.monthly_spend_cap = Decimal("0.05")
    account.save()
    campaign = _campaign(account, sender, admin_user, 5)
    run_sweeps()
    campaign.refresh_from_db()
    assert Message.objects.filter(campaign=campaign, debited=True).count() == 2
    assert campaign.state == CampaignState.PAUSED
    assert campaign.state_reason.startswith("Monthly spend cap of 0.05 EUR reached;")


def test_campaign_created_with_a_token_counts_against_the_tokens_cap(api, account, sender):
    client = api()
    client.token.daily_message_cap = 2
    client.token.save()
    template = approved_template(account, sender, "Hi {{first_name}}, Acme sale today")
    body = {
        "name": "Token sale",
        "sender": sender.name,
        "template": str(template.uid),
        "audience": {"numbers": [f"+9198765432{i:02d}" for i in range(5)]},
        "variable_mapping": {"first_name": {"default": "Sam"}},
    }
    response = client.post("/api/v2/campaigns", body, format="json")
    assert response.status_code == 201, response.json()
    campaign_id = response.json()["data"]["id"]
    assert client.post(f"/api/v2/campaigns/{campaign_id}/schedule", {"time": "now"}, format="json").status_code == 200
    run_sweeps()
    data = client.get(f"/api/v2/campaigns/{campaign_id}").json()["data"]
    assert data["state"] == CampaignState.PAUSED
    assert data["state_reason"].startswith(f"API token “{client.token.name}”: daily message cap of 2 reached;")
    assert Message.objects.filter(api_token=client.token, debited=True).count() == 2
    assert BalanceTransaction.objects.filter(api_token=client.token, kind="debit").count() == 1


def test_token_cap_refuses_an_api_send_up_front_and_at_release(api, account, sender, admin_user):
    approved_template(account, sender, "Hi {{name}}, your Acme order {{order}} is ready", template_type="SI")
    client, other = api("marketer"), api("marketer")
    client.token.daily_message_cap = 2
    client.token.save()

    def send(api_client, numbers):
        body = {"sender": "ACMERT", "to": numbers, "message": "Hi A, your Acme order 1 is ready"}
        return api_client.post("/api/v2/sms/send", body, format="json")

    too_many = send(client, ["9876543210", "9876543211", "9876543212"])
    assert too_many.status_code == 409
    assert too_many.json()["status"] == "error"
    assert too_many.json()["message"].startswith(
        f"API token “{client.token.name}”: daily message cap of 2 reached: 0 charged today and this send needs 3;"
    )
    assert not Message.objects.exists()

    quote = client.post(
        "/api/v2/sms/pricing/quote",
        {
            "sender": "ACMERT",
            "to": ["9876543210"] * 1 + ["9876543211", "9876543212"],
            "message": "Hi A, your Acme order 1 is ready",
        },
        format="json",
    ).json()["data"]
    assert quote["sufficient"] is True and quote["within_caps"] is False and "daily message cap of 2" in quote["cap"]

    # both pass the precheck (nothing charged yet); the release charges two and rejects the third with 463
    assert send(client, ["9876543210", "9876543211"]).status_code == 201
    assert send(client, ["9876543213"]).status_code == 201
    run_sweeps()
    assert Message.objects.filter(api_token=client.token, debited=True).count() == 2
    held = Message.objects.get(recipient="+919876543213")
    assert (held.state, held.error_code, held.debited) == (MessageState.REJECTED, "463", False)
    assert "daily message cap of 2 reached" in held.error_detail

    again = send(client, ["9876543214"])
    assert again.status_code == 409 and "2 charged today" in again.json()["message"]
    assert Notification.objects.filter(user=admin_user, level="warning").count() == 1  # once per cap and day
    assert send(other, ["9876543214"]).status_code == 201  # another token of the account is not capped


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_workers_never_charge_past_a_cap(account, admin_user, settings):
    settings.SMS_OUTBOX_BATCH_SIZE = 37
    settings.SMS_SIMULATOR_DLR_DELAY_SECONDS = 3600
    account.daily_message_cap = 301
    account.save()
    sender = approved_sender(account, name="ACME", country="GB", service="ENT")
    prices(service="ENT", GB="0.01")
    template = approved_template(account, sender, "Hi {{first_name}}, your Acme order is ready", template_type="T")
    for index in range(3):
        numbers = [f"+447911{index}{n:04d}5" for n in range(200)]
        campaign = campaign_for(account, sender, template, numbers=numbers, name=f"C{index}")
        schedule_campaign(campaign, actor=admin_user)
        start_campaign(campaign.pk)

    errors = []

    def work():
        try:
            run_outbox(seconds=60)
        except Exception as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=work) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors, errors
    assert Message.objects.filter(account=account, debited=True).count() == 301
    debits = BalanceTransaction.objects.filter(account=account, kind="debit")
    assert sum(debits.values_list("messages", flat=True)) == 301
    assert Notification.objects.filter(account=account, level="warning").count() == 1
