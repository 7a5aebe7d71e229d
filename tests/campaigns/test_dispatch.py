"""Preparation and the outbox on the default database: rendering, encoding, pricing, opt-outs, money, states."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.db.models import Count
from django.utils import timezone

from campaigns.models import BalanceTransaction, Campaign, Message, SimulatorSubmission
from campaigns.sending import outbox, reports, timing
from campaigns.sending.errors import Reason
from campaigns.sending.lifecycle import schedule_campaign
from campaigns.sending.planning import Draft, Rejection, build_spec, plan_message
from campaigns.states import CampaignState, MessageState
from contacts.models import Contact, Tag, Unsubscriber
from portal.models import AccountStatus
from tests.campaigns.sending_support import approved_sender, approved_template, campaign_for, prices, run_sweeps

pytestmark = pytest.mark.django_db

IN_DAYTIME = datetime(2026, 11, 23, 6, 0, tzinfo=UTC)  # 11:30 IST


@pytest.fixture(autouse=True)
def _fast_reports(settings):
    settings.SMS_SIMULATOR_DLR_DELAY_SECONDS = 0
    settings.SMS_INDIA_PROMOTIONAL_HOLD = False


@pytest.fixture
def sender(account):
    prices(IN="0.01", GB="0.04")
    return approved_sender(account)


@pytest.mark.parametrize(
    ("body", "contact", "mapping", "message_type", "text", "encoding", "parts", "cost"),
    [
        (
            "Hi {{name}}, 20% off at Acme today",
            {"first_name": "Asha"},
            {"name": {"source": "first_name"}},
            "A",
            "Hi Asha, 20% off at Acme today",
            "GSM-7",
            1,
            "0.01",
        ),
        (
            "Hi {{name}}, offer at Acme",
            {"first_name": ""},
            {"name": {"source": "first_name", "default": "friend"}},
            "A",
            "Hi friend, offer at Acme",
            "GSM-7",
            1,
            "0.01",
        ),
        (
            "Dear {{name}}, see you at Acme",
            {"first_name": "O'Brien & <Co>"},
            {"name": {"source": "first_name"}},
            "A",
            "Dear O'Brien & <Co>, see you at Acme",
            "GSM-7",
            1,
            "0.01",
        ),
        (
            "Hi {{city}} fans, Acme sale",
            {"attributes": {"city": "Pune"}},
            {"city": {"source": "attributes.city"}},
            "A",
            "Hi Pune fans, Acme sale",
            "GSM-7",
            1,
            "0.01",
        ),
        (
            "नमस्ते {{name}}, Acme ऑफ़र",
            {"first_name": "Ravi"},
            {"name": {"source": "first_name"}},
            "A",
            "नमस्ते Ravi, Acme ऑफ़र",
            "UCS-2",
            1,
            "0.01",
        ),
        ("Hello {{first_name}} from Acme", {"first_name": "Zoë"}, {}, "U", "Hello Zoë from Acme", "UCS-2", 1, "0.01"),
        (
            "Price {{amount}} € at Acme ✓",
            {"attributes": {"amount": "10"}},
            {},
            "N",
            "Price 10 € at Acme ?",
            "GSM-7",
            1,
            "0.01",
        ),
        (
            "Acme: " + "x" * 160 + " {{first_name}}",
            {"first_name": "A"},
            {},
            "A",
            "Acme: " + "x" * 160 + " A",
            "GSM-7",
            2,
            "0.02",
        ),
        (
            "Acme 😀 " + "y" * 70 + "{{first_name}}",
            {"first_name": "B"},
            {},
            "A",
            "Acme 😀 " + "y" * 70 + "B",
            "UCS-2",
            2,
            "0.02",
        ),
    ],
)
def test_plan_renders_encodes_and_prices_each_contact(
    account, sender, body, contact, mapping, message_type, text, encoding, parts, cost
):
    template = approved_template(account, sender, body)
    spec = build_spec(account, sender=sender, body=body, template=template, message_type=message_type, mapping=mapping)
    draft = plan_message(spec, "+919876543210", "IN", contact)
    assert isinstance(draft, Draft)
    assert draft.body == text
    assert (draft.encoding.encoding, draft.encoding.parts) == (encoding, parts)
    assert draft.cost == Decimal(cost)
    assert draft.country == "IN"
    assert draft.india_promotional is True


def test_plan_refuses_long_variables_too_many_parts_and_unpriced_countries(account, sender):
    template = approved_template(account, sender, "Acme: your code {{code}} " + "z" * 150)
    spec = build_spec(account, sender=sender, body=template.body, template=template, max_units=1)
    assert plan_message(spec, "+919876543210", "IN", values={"code": "1" * 31}).reason == Reason.VARIABLE_TOO_LONG
    assert plan_message(spec, "+919876543210", "IN", values={"code": "1"}).reason == Reason.TOO_MANY_PARTS
    spec.max_units = 2
    assert plan_message(spec, "+12025550123", "US", values={"code": "1"}).reason == Reason.NO_PRICE


def test_free_text_to_india_must_match_an_approved_template(account, sender):
    approved_template(account, sender, "Dear {{name}}, your Acme order {{order}} is ready")
    spec = build_spec(account, sender=sender, body="Dear {{name}}, your Acme order {{order}} is ready")
    matched = plan_message(spec, "+919876543210", "IN", values={"name": "Asha", "order": "A1"})
    assert isinstance(matched, Draft) and matched.template_id is not None
    assert matched.variables == {"name": "Asha", "order": "A1"}
    spec = build_spec(account, sender=sender, body="Buy now at Acme!!")
    rejected = plan_message(spec, "+919876543210", "IN")
    assert isinstance(rejected, Rejection) and rejected.reason == Reason.NO_TEMPLATE_MATCH


def test_batches_release_in_steps_and_india_promotional_hours():
    start = datetime(2026, 1, 1, tzinfo=UTC)
    assert timing.batch_release_time(start, 9, 10, 15) == start
    assert timing.batch_release_time(start, 10, 10, 15) == start + timedelta(minutes=15)
    assert timing.batch_release_time(start, 25, 10, 15) == start + timedelta(minutes=30)
    assert timing.in_india_promotional_hours(datetime(2026, 1, 1, 3, 30, tzinfo=UTC))  # 09:00 IST
    assert not timing.in_india_promotional_hours(datetime(2026, 1, 1, 3, 29, tzinfo=UTC))  # 08:59 IST
    assert timing.in_india_promotional_hours(datetime(2026, 1, 1, 15, 29, tzinfo=UTC))  # 20:59 IST
    assert not timing.in_india_promotional_hours(datetime(2026, 1, 1, 15, 30, tzinfo=UTC))  # 21:00 IST


def _running_campaign(account, sender, numbers, admin_user, **fields):
    template = approved_template(account, sender, "Hi {{first_name}}, Acme sale today", name=f"T{len(numbers)}")
    campaign = campaign_for(account, sender, template, numbers=numbers, **fields)
    schedule_campaign(campaign, actor=admin_user)
    return campaign


def test_campaign_sends_once_per_number_and_drops_each_opt_out_type(account, sender, admin_user):
    account.balance = Decimal("10")
    account.save()
    numbers = [f"+9198765432{i:02d}" for i in range(10)]
    Unsubscriber.objects.create(account=account, receiver=numbers[0], type="all")
    Unsubscriber.objects.create(account=account, receiver=numbers[1], type="sender", value="acmert")
    Unsubscriber.objects.create(account=account, receiver=numbers[2], type="product", value="MKT")
    Unsubscriber.objects.create(account=account, receiver=numbers[3], type="sender", value="OTHER")
    campaign = _running_campaign(account, sender, [*numbers, numbers[5], "12"], admin_user)
    run_sweeps()
    campaign.refresh_from_db()
    assert campaign.state == CampaignState.COMPLETED
    assert campaign.suppressed_by_reason == {"all": 1, "sender": 1, "product": 1}
    assert campaign.rejected_by_reason == {Reason.INVALID_NUMBER: 1}
    sent = set(SimulatorSubmission.objects.values_list("recipient", flat=True))
    assert sent == set(numbers[3:])
    assert Message.objects.filter(campaign=campaign, state=MessageState.DELIVERED).count() == 7
    account.refresh_from_db()
    assert account.balance == Decimal("9.93")


def test_tag_opt_out_suppresses_only_campaigns_targeting_that_tag(account, sender, admin_user):
    account.balance = Decimal("10")
    account.save()
    vip = Tag.objects.create(account=account, name="vip")
    for n in range(3):
        contact = Contact.objects.create(account=account, phone=f"+91987654330{n}", first_name=f"C{n}")
        contact.tags.add(vip)
    Unsubscriber.objects.create(account=account, receiver="+919876543300", type="tag", value="VIP")
    template = approved_template(account, sender, "Hi {{first_name}}, Acme VIP night", name="vip")
    tagged = Campaign.objects.create(
        account=account, sender=sender, template=template, name="VIP", audience={"tags": ["vip"]}
    )
    by_number = campaign_for(account, sender, template, numbers=["+919876543300"], name="direct")
    schedule_campaign(tagged, actor=admin_user)
    schedule_campaign(by_number, actor=admin_user)
    run_sweeps()
    tagged.refresh_from_db()
    assert tagged.suppressed_by_reason == {"tag": 1}
    assert tagged.recipients_count == 2
    assert Message.objects.get(campaign=by_number).state == MessageState.DELIVERED
    assert Message.objects.filter(campaign=tagged, recipient="+919876543301").get().body == "Hi C1, Acme VIP night"


def test_opt_out_after_preparation_is_honoured_at_send_time(account, sender, admin_user):
    account.balance = Decimal("10")
    account.save()
    campaign = _running_campaign(account, sender, ["+919876543210", "+919876543211"], admin_user)
    campaign.refresh_from_db()
    from campaigns.sending.lifecycle import start_campaign

    start_campaign(campaign.pk)
    Unsubscriber.objects.create(account=account, receiver="+919876543211", type="all")
    run_sweeps()
    message = Message.objects.get(campaign=campaign, recipient="+919876543211")
    assert (message.state, message.error_code, message.debited) == (MessageState.REJECTED, "456", False)
    assert not SimulatorSubmission.objects.filter(recipient="+919876543211").exists()


def test_simulated_outcomes_reach_final_states_with_codes(account, sender, admin_user):
    account.balance = Decimal("10")
    account.save()
    numbers = ["+919876540000", "+919876540021", "+919876549999", "+919876549998", "+919876549997"]
    campaign = _running_campaign(account, sender, numbers, admin_user)
    for _ in range(8):
        run_sweeps(rounds=1)
        Message.objects.filter(state=MessageState.QUEUED).update(not_before=timezone.now())
    states = dict(Message.objects.filter(campaign=campaign).values_list("recipient", "state"))
    codes = dict(Message.objects.filter(campaign=campaign).values_list("recipient", "error_code"))
    assert states == {
        "+919876540000": MessageState.UNDELIVERED,
        "+919876540021": MessageState.EXPIRED,
        "+919876549999": MessageState.REJECTED,
        "+919876549998": MessageState.DELIVERED,
        "+919876549997": MessageState.FAILED,
    }
    assert codes["+919876540000"] == "001" and codes["+919876549999"] == "404"
    account.refresh_from_db()
    assert account.balance == Decimal("9.97")  # rejected and failed messages are refunded
    campaign.refresh_from_db()
    assert campaign.state == CampaignState.COMPLETED


def test_insufficient_balance_pauses_the_campaign_and_never_goes_negative(account, sender, admin_user):
    account.balance = Decimal("0.035")
    account.save()
    campaign = _running_campaign(account, sender, [f"+9198765432{i:02d}" for i in range(6)], admin_user)
    run_sweeps()
    campaign.refresh_from_db()
    account.refresh_from_db()
    assert campaign.state == CampaignState.PAUSED
    assert campaign.state_reason.startswith("6 Insufficient funds")
    assert account.balance == Decimal("0.005")
    assert Message.objects.filter(campaign=campaign, state=MessageState.DELIVERED).count() == 3
    assert BalanceTransaction.objects.filter(account=account, kind="debit").count() == 1


def test_india_promotional_messages_wait_for_0900_ist(account, sender, admin_user, settings, monkeypatch):
    settings.SMS_INDIA_PROMOTIONAL_HOLD = True
    account.balance = Decimal("10")
    account.save()
    night = datetime(2026, 11, 23, 17, 0, tzinfo=UTC)  # 22:30 IST
    monkeypatch.setattr(timezone, "now", lambda: night)
    campaign = _running_campaign(account, sender, ["+919876543210", "+447400123456"], admin_user)
    run_sweeps(rounds=1)
    states = dict(Message.objects.filter(campaign=campaign).values_list("country", "state"))
    assert states == {"IN": MessageState.QUEUED, "GB": MessageState.DELIVERED}
    monkeypatch.setattr(timezone, "now", lambda: night + timedelta(hours=11))  # 09:30 IST
    run_sweeps(rounds=1)
    assert Message.objects.get(campaign=campaign, country="IN").state == MessageState.DELIVERED


def test_throttle_limits_each_release(account, sender, admin_user):
    account.balance = Decimal("10")
    account.save()
    campaign = _running_campaign(
        account, sender, [f"+9198765432{i:02d}" for i in range(12)], admin_user, throttle_per_second=5
    )
    from campaigns.sending.lifecycle import start_campaign

    start_campaign(campaign.pk)
    assert outbox.dispatch_once(account.pk, campaign.pk) == 5
    assert outbox.dispatch_once(account.pk, campaign.pk) == 0  # the next second's share waits
    Campaign.objects.filter(pk=campaign.pk).update(throttle_until=None)
    assert outbox.dispatch_once(account.pk, campaign.pk) == 5


def test_expired_claim_is_taken_again_without_charging_twice(account, sender, admin_user):
    account.balance = Decimal("10")
    account.save()
    campaign = _running_campaign(account, sender, ["+919876543210"], admin_user)
    from campaigns.sending.lifecycle import start_campaign

    start_campaign(campaign.pk)
    claim = outbox.claim_batch(account.pk, campaign.pk)
    assert claim is not None and outbox.claim_batch(account.pk, campaign.pk) is None  # leased
    Message.objects.update(claimed_until=timezone.now() - timedelta(seconds=1))  # the worker died
    again = outbox.claim_batch(account.pk, campaign.pk)
    outbox.record_results(again, outbox.send_claimed(again))
    outbox.record_results(claim, outbox.send_claimed(claim))  # the old worker's late answer changes nothing
    message = Message.objects.get()
    assert message.state == MessageState.SENT and message.attempts == 2
    account.refresh_from_db()
    assert account.balance == Decimal("9.99")
    assert SimulatorSubmission.objects.get().duplicates == 1


def test_delivery_reports_only_move_forward_and_repeat_harmlessly(account, sender, admin_user):
    from portal.models import Event

    account.balance = Decimal("10")
    account.save()
    campaign = _running_campaign(account, sender, ["+919876543210"], admin_user)
    from campaigns.sending.lifecycle import start_campaign

    start_campaign(campaign.pk)
    message = Message.objects.get()
    claim = outbox.claim_batch(account.pk, campaign.pk)
    results = outbox.send_claimed(claim)
    reports.apply_delivery_report(message.uid, "000", source="test")  # before the submit answer is recorded
    outbox.record_results(claim, results)
    run_sweeps(rounds=1)
    reports.apply_delivery_report(message.uid, "000", source="test")
    reports.apply_delivery_report(message.uid, "001", source="test")  # late, out of order
    message.refresh_from_db()
    assert message.state == MessageState.DELIVERED
    assert message.connector_message_id.startswith("sim-")
    assert message.reports.count() == 4  # three from the test, one from the simulator
    assert message.reports.filter(applied=True).count() == 1
    statuses = [e.payload["state"] for e in Event.objects.filter(name="sms:message:status").order_by("id")]
    assert statuses == ["delivered"]


def test_batches_get_release_times_and_only_the_first_leaves_now(account, sender, admin_user):
    from campaigns.sending.lifecycle import start_campaign

    account.balance = Decimal("10")
    account.save()
    numbers = [f"+9198765432{i:02d}" for i in range(5)]
    campaign = _running_campaign(account, sender, numbers, admin_user, batch_size=2, batch_interval_minutes=10)
    start_campaign(campaign.pk)
    times = sorted(Message.objects.filter(campaign=campaign).values_list("not_before", flat=True))
    assert [int((t - times[0]).total_seconds() // 60) for t in times] == [0, 0, 10, 10, 20]
    assert outbox.dispatch_once(account.pk, campaign.pk) == 2
    assert outbox.dispatch_once(account.pk, campaign.pk) == 0


def test_outbox_sweep_starts_no_second_run_in_a_held_slot(account, sender, admin_user):
    from django.core.cache import cache

    from campaigns import tasks

    campaign = _running_campaign(account, sender, ["+919876543210"], admin_user)
    from campaigns.sending.lifecycle import start_campaign

    start_campaign(campaign.pk)
    cache.add("campaigns:slot:outbox-0", 1, timeout=60)
    assert tasks.sweep_outbox() == 0
    cache.delete("campaigns:slot:outbox-0")
    account.balance = Decimal("1")
    account.save()
    assert tasks.sweep_outbox() == 1  # eager in tests: the run sends at once and frees its slot
    assert Message.objects.get().state != MessageState.QUEUED
    assert cache.get("campaigns:slot:outbox-0") is None


def test_free_text_takes_the_matched_templates_type_for_the_india_hold(account, sender):
    approved_template(account, sender, "Dear {{name}}, your Acme order {{order}} is ready", template_type="SI")
    approved_template(account, sender, "Acme sale: {{pct}} off today. To opt-out, send STOP", name="Promo")
    spec = build_spec(account, sender=sender, body="x")
    assert plan_message(spec, "+919876543210", "IN", values={}).reason == Reason.NO_TEMPLATE_MATCH
    service_text = build_spec(account, sender=sender, body="Dear A, your Acme order 7 is ready")
    promo_text = build_spec(account, sender=sender, body="Acme sale: 20% off today. To opt-out, send STOP")
    assert plan_message(service_text, "+919876543210", "IN").india_promotional is False
    assert plan_message(promo_text, "+919876543210", "IN").india_promotional is True


def test_a_preparation_that_raises_marks_the_campaign_failed(account, sender, admin_user, monkeypatch):
    from campaigns.sending import lifecycle

    campaign = _running_campaign(account, sender, ["+919876543210"], admin_user)

    def broken(_campaign):
        raise ValueError("audience definition is broken")

    monkeypatch.setattr(lifecycle, "prepare_campaign", broken)
    with pytest.raises(ValueError):
        lifecycle.start_campaign(campaign.pk)
    campaign.refresh_from_db()
    assert campaign.state == CampaignState.FAILED
    assert campaign.state_reason == "Preparation failed: audience definition is broken"


def test_a_dispatched_batch_records_its_status_events_in_one_insert_per_webhook_id(
    account, sender, monkeypatch, django_capture_on_commit_callbacks
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from campaigns.sending.direct import SendRequest, send_messages
    from portal.models import Event, Webhook, WebhookDelivery
    from portal.webhooks import delivery

    account.balance = Decimal("10")
    account.save()
    approved_template(account, sender, "Your Acme code is {{code}}", template_type="SI")
    hooks = [
        Webhook.objects.create(account=account, name=f"h{i}", uri="https://example.com/h", secret="s") for i in (1, 2)
    ]
    monkeypatch.setattr(delivery, "kick", lambda ids: None)

    def dispatch_queries(sends: list[tuple[Webhook, list[str]]]) -> list[str]:
        for hook, numbers in sends:
            text = "Your Acme code is 1234"
            send_messages(account, SendRequest(sender=sender, recipients=numbers, text=text, webhook_id=str(hook.uid)))
        with django_capture_on_commit_callbacks(execute=True), CaptureQueriesContext(connection) as queries:
            assert outbox.dispatch_once(account.pk, None) == sum(len(numbers) for _, numbers in sends)
        return [query["sql"] for query in queries.captured_queries]

    one = dispatch_queries([(hooks[0], ["9876543200"])])
    three = dispatch_queries([(hooks[0], ["9876543210", "9876543211"]), (hooks[1], ["9876543212"])])
    assert len(three) <= len(one)  # a batch of events costs no more statements than one event
    assert sum(1 for sql in three if sql.startswith(f'INSERT INTO "{Event._meta.db_table}"')) <= 1
    assert Event.objects.filter(name="sms:message:status").count() == 4
    by_hook = dict(WebhookDelivery.objects.values_list("webhook__name").annotate(n=Count("id")))
    assert by_hook == {"h1": 3, "h2": 1}


def test_preparation_refuses_empty_and_too_long_variable_values_per_recipient(account, sender, admin_user, settings):
    settings.TEMPLATE_VARIABLE_MAX_LENGTH = 10
    account.balance = Decimal("10")
    account.save()
    vip = Tag.objects.create(account=account, name="vip")
    for phone, name in [("+919876543201", "Asha"), ("+919876543202", ""), ("+919876543203", "Bartholomew")]:
        Contact.objects.create(account=account, phone=phone, first_name=name).tags.add(vip)
    template = approved_template(account, sender, "Hi {{name}}, DemoMart sale today")
    campaign = campaign_for(account, sender, template, variable_mapping={})
    campaign.audience = {"tags": ["vip"]}
    campaign.save()
    schedule_campaign(campaign, actor=admin_user)
    run_sweeps()
    campaign.refresh_from_db()
    assert campaign.variable_mapping == {"name": {"source": "first_name", "default": ""}}
    assert list(Message.objects.filter(campaign=campaign).values_list("body", flat=True)) == [
        "Hi Asha, DemoMart sale today"
    ]
    assert campaign.rejected_by_reason == {Reason.VARIABLE_EMPTY: 1, Reason.VARIABLE_TOO_LONG: 1}


def test_a_suspended_accounts_queued_messages_wait_until_it_is_resumed(account, sender, admin_user):
    account.balance = Decimal("10")
    account.save()
    numbers = [f"+9198765433{i:02d}" for i in range(3)]
    campaign = _running_campaign(account, sender, numbers, admin_user)
    account.status = AccountStatus.INACTIVE
    account.save(update_fields=["status"])
    run_sweeps(rounds=2)
    assert not SimulatorSubmission.objects.exists()
    assert outbox.outbox_sources() == []
    account.status = AccountStatus.ACTIVE
    account.save(update_fields=["status"])
    run_sweeps()
    assert set(SimulatorSubmission.objects.values_list("recipient", flat=True)) == set(numbers)
    campaign.refresh_from_db()
    assert campaign.state == CampaignState.COMPLETED


class WorkerKilled(Exception):
    pass


def test_a_worker_killed_mid_claim_leaves_only_its_last_chunk_to_be_handed_over_again(account, sender, admin_user):
    account.balance = Decimal("10")
    account.save()
    numbers = [f"+9198765434{i:02d}" for i in range(25)]
    campaign = _running_campaign(account, sender, numbers, admin_user)
    from campaigns.sending.lifecycle import start_campaign

    start_campaign(campaign.pk)
    claim = outbox.claim_batch(account.pk, campaign.pk)
    recorded = []

    def record_then_die(claim, results):
        if len(recorded) == 2:
            raise WorkerKilled
        outbox.record_results(claim, results)
        recorded.append(len(results))

    with pytest.raises(WorkerKilled):
        outbox.send_claimed(claim, chunk_size=10, record=record_then_die)
    assert recorded == [10, 10]
    assert Message.objects.filter(campaign=campaign, state=MessageState.SENT).count() == 20
    Message.objects.filter(state=MessageState.QUEUED).update(claimed_until=timezone.now() - timedelta(seconds=1))
    run_sweeps()
    assert Message.objects.filter(campaign=campaign, state=MessageState.DELIVERED).count() == 25
    assert sum(SimulatorSubmission.objects.values_list("duplicates", flat=True)) == 5
