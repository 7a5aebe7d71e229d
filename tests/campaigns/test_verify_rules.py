"""Verify's rules through the service and the outbox: failover, SMS pumping guard, opt-out scopes, the code never
stored or logged in clear, and the sealed text handed to a real HTTP upstream."""

import io
import logging
import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.utils import timezone

from campaigns.connectors.base import Outcome
from campaigns.connectors.http import HttpConnector
from campaigns.models import Campaign, Message, Verification, VerifyPrefixPause, VerifySettings
from campaigns.sending.lifecycle import schedule_campaign, start_campaign
from campaigns.sending.outbox import dispatch_once, outbox_sources
from campaigns.verify import codes, limits, progress
from campaigns.verify.service import VerifyRequest, start
from contacts.models import Unsubscriber
from portal.models import Notification
from portal.service_errors import ServiceError
from tests.campaigns.sending_support import approved_sender, approved_template, campaign_for, prices, run_sweeps

pytestmark = pytest.mark.django_db

UNDELIVERABLE = "+919876510000"  # the simulator reports 001 INVALID-SUB for numbers ending in 0000


@pytest.fixture(autouse=True)
def _setup(settings, account, admin_user):
    settings.SMS_SIMULATOR_DLR_DELAY_SECONDS = 0
    prices(service="ENT", IN="0.01")
    account.balance = Decimal("5")
    account.save()


@pytest.fixture
def config(account):
    sender = approved_sender(account, "ACMEOT", service="ENT")
    template = approved_template(account, sender, "Your Acme code is {{code}}", template_type="SI", name="otp")
    return VerifySettings.objects.create(account=account, sender=sender, template=template)


def code_of(message: Message) -> str:
    return re.search(r"\d{4,10}", message.outgoing_text()).group(0)


def test_an_undelivered_first_channel_fails_over_to_the_second_at_once(account, config):
    channels = [{"channel": "sms"}, {"channel": "flash"}]
    verification, _ = start(account, VerifyRequest(to=UNDELIVERABLE, channels=channels))
    run_sweeps(2)
    verification.refresh_from_db()
    attempts = list(verification.attempts.values_list("channel", "state"))
    assert attempts == [("sms", "undelivered"), ("flash", "undelivered")]
    flash_message = verification.attempts.get(position=1).message
    assert flash_message.flash is True
    assert (verification.status, verification.sealed_code) == ("failed", "")
    assert "no channel left" in verification.failure_reason


def test_an_undelivered_code_falls_back_after_fallback_seconds(account, config, settings):
    settings.SMS_SIMULATOR_DLR_DELAY_SECONDS = 3600  # the first report never comes in time
    channels = [{"channel": "sms"}, {"channel": "flash"}]
    verification, _ = start(account, VerifyRequest(to="+919876512345", channels=channels, fallback_seconds=10))
    code = code_of(verification.attempts.get().message)
    run_sweeps(1)
    assert progress.fall_back_due(timezone.now()) == 0
    assert progress.fall_back_due(timezone.now() + timedelta(seconds=11)) == 1
    verification.refresh_from_db()
    assert verification.channel_index == 1
    first, second = (a.message for a in verification.attempts.order_by("position"))
    assert first.sealed_body == ""  # erased once it left
    assert code_of(second) == code  # the same code on every channel
    assert progress.check(account, verification.uid, code).status == "success"


def test_a_busy_prefix_is_paused_and_the_admins_told(account, config):
    VerifySettings.objects.filter(pk=config.pk).update(prefix_limit=3, sends_per_number_per_hour=10)
    for last in range(3):
        start(account, VerifyRequest(to=f"+91987651000{last + 1}"))
    with pytest.raises(ServiceError, match="paused") as refused:
        start(account, VerifyRequest(to="+919876510009"))
    assert refused.value.code == ServiceError.RATE_LIMITED
    assert VerifyPrefixPause.objects.get(account=account).prefix == "+919876"
    assert Notification.objects.filter(account=account, text__contains="SMS pumping").count() == 1
    with pytest.raises(ServiceError, match="paused"):
        start(account, VerifyRequest(to="+919876510008"))
    assert Notification.objects.filter(account=account, text__contains="SMS pumping").count() == 1
    assert start(account, VerifyRequest(to="+919812340001"))[1] is True  # another prefix still works


def test_a_low_conversion_rate_alarms_once_an_hour(account, config, settings):
    settings.VERIFY_CONVERSION_MIN_SENDS = 3
    VerifySettings.objects.filter(pk=config.pk).update(prefix_limit=100)
    for last in range(4):
        start(account, VerifyRequest(to=f"+91987651200{last}"))
    later = timezone.now() + timedelta(seconds=config.expiry_seconds + 60)
    assert limits.raise_conversion_alarms(later) == 1
    assert limits.raise_conversion_alarms(later + timedelta(minutes=5)) == 0
    assert Notification.objects.filter(text__contains="conversion is 0%").exists()


def test_product_and_tag_opt_outs_do_not_stop_a_code_but_all_and_sender_do(account, config):
    Unsubscriber.objects.create(account=account, receiver="+919876512301", type="product", value="ENT")
    Unsubscriber.objects.create(account=account, receiver="+919876512301", type="tag", value="vip")
    assert start(account, VerifyRequest(to="+919876512301"))[0].status == "sent"
    Unsubscriber.objects.create(account=account, receiver="+919876512302", type="sender", value="ACMEOT")
    with pytest.raises(ServiceError, match="reply START"):
        start(account, VerifyRequest(to="+919876512302"))
    assert Verification.objects.get(to="+919876512302").status == "failed"
    run_sweeps(1)
    assert Message.objects.get(recipient="+919876512301").state == "delivered"  # the release check agrees


def test_the_code_is_in_no_stored_text_and_no_log(account, config, caplog, tmp_path):
    caplog.set_level(logging.DEBUG)
    verification, _ = start(account, VerifyRequest(to="+919876512345"))
    message = Message.objects.get(meta__verify_id=str(verification.uid))
    code = code_of(message)
    run_sweeps(2)
    assert progress.check(account, verification.uid, code).status == "success"
    dump = io.StringIO()
    call_command("dumpdata", "campaigns", "portal", "contacts", stdout=dump)
    text = dump.getvalue()
    assert f'"{code}"' not in text and f"code is {code}" not in text
    assert code not in caplog.text
    message.refresh_from_db()
    assert message.sealed_body == "" and message.body == "Your Acme code is " + "*" * len(code)
    assert codes.code_hash(verification.uid, code) == Verification.objects.get(pk=verification.pk).code_hash


def test_insufficient_funds_refuse_the_whole_request(account, config):
    account.balance = Decimal("0")
    account.save()
    with pytest.raises(ServiceError):
        start(account, VerifyRequest(to="+919876512345"))
    assert not Verification.objects.exists()


def test_the_http_connector_sends_the_sealed_text(live_http_receiver, account, config):
    verification, _ = start(account, VerifyRequest(to="+919876512345"))
    message = Message.objects.get(meta__verify_id=str(verification.uid))
    connector = HttpConnector({"url": live_http_receiver.url("/send"), "body": '{"text": "{{text}}"}'})
    assert connector.send(message).outcome == Outcome.ACCEPTED
    received = live_http_receiver.requests[-1].json()["text"]
    assert re.fullmatch(r"Your Acme code is \d{6}", received)
    assert progress.check(account, verification.uid, received[-6:]).status == "success"


def test_codes_are_uniform_digits_of_the_asked_length():
    drawn = {codes.new_code(4) for _ in range(400)}
    assert all(len(code) == 4 and code.isdigit() for code in drawn)
    assert len(drawn) > 300
    with pytest.raises(ValueError):
        codes.new_code(11)


def test_a_code_is_claimed_ahead_of_a_running_campaigns_backlog(account, config, settings):
    settings.SMS_OUTBOX_BATCH_SIZE = 50
    sender = approved_sender(account, "ACMEMK", service="ENT")
    sale = approved_template(account, sender, "Your Acme order has shipped", template_type="SI", name="shipped")
    campaign = campaign_for(account, sender, sale, numbers=[f"+9198765{i:05d}" for i in range(200)])
    schedule_campaign(campaign, send_now=True)
    start_campaign(campaign.pk)
    backlog = Message.objects.filter(campaign=campaign)  # due an hour before the code, still queued
    backlog.update(state="queued", not_before=timezone.now() - timedelta(hours=1), claim_token=None)
    Campaign.objects.filter(pk=campaign.pk).update(state="running")
    verification, _ = start(account, VerifyRequest(to="+919812345678"))
    assert backlog.filter(state="queued").count() == 200
    first_source = outbox_sources()[0]
    assert first_source == (account.pk, None)
    dispatch_once(*first_source)
    code_message = verification.attempts.get().message
    code_message.refresh_from_db()
    assert code_message.state == "sent"
    assert Message.objects.filter(campaign=campaign, state="queued").count() == 200


def test_a_lifted_pause_holds_the_sends_before_it_do_not_count_again(account, config):
    VerifySettings.objects.filter(pk=config.pk).update(prefix_limit=2, sends_per_number_per_hour=10)
    start(account, VerifyRequest(to="+919876510001"))
    start(account, VerifyRequest(to="+919876510002"))
    with pytest.raises(ServiceError, match="paused"):
        start(account, VerifyRequest(to="+919876510003"))
    limits.lift_pause(VerifyPrefixPause.objects.get(account=account), timezone.now())
    assert start(account, VerifyRequest(to="+919876510003"))[1] is True
    assert start(account, VerifyRequest(to="+919876510004"))[1] is True
    with pytest.raises(ServiceError, match="paused"):  # a new burst pauses it again
        start(account, VerifyRequest(to="+919876510005"))
