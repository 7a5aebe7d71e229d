"""Confirmation replies to inbound stop words go out through the API-send path, despite the opt-out they confirm."""

from decimal import Decimal

import pytest

from campaigns.models import Message
from campaigns.replies import send_queued_replies
from campaigns.sending.direct import SendRequest, send_messages
from campaigns.states import MessageState
from contacts.services_inbound import receive_inbound
from contacts.services_unsubscribers import update_settings
from tests.campaigns.sending_support import approved_sender, prices, run_sweeps

pytestmark = pytest.mark.django_db

REPLY = "You will get no more messages from Acme. Reply START to opt back in."


@pytest.fixture(autouse=True)
def _setup(settings, account, admin_user):
    settings.SMS_SIMULATOR_DLR_DELAY_SECONDS = 0
    prices(service="MKT", GB="0.04")
    account.balance = Decimal("5")
    account.save()
    update_settings(account, admin_user, send_confirmation=True, confirmation_text=REPLY)


def test_a_stop_reply_is_sent_from_the_number_written_to_and_reaches_the_opted_out_number(account):
    sender = approved_sender(account, name="ACMEUK", country="GB")
    inbound = receive_inbound(account, from_number="+447400123456", to="acmeuk", text="STOP").message
    assert inbound.reply_status == "queued"
    assert send_queued_replies() == 1
    inbound.refresh_from_db()
    message = Message.objects.get()
    assert (inbound.reply_status, inbound.reply_detail) == ("sent", f"message {message.uid}")
    assert (message.recipient, message.sender_id, message.body) == ("+447400123456", sender.pk, REPLY)
    run_sweeps()
    message.refresh_from_db()
    assert message.state == MessageState.DELIVERED
    assert send_queued_replies() == 0


def test_the_configured_reply_sender_is_used_else_the_reply_fails_with_the_reason(account, admin_user):
    inbound = receive_inbound(account, from_number="+447400123457", to="+447700900000", text="stop").message
    send_queued_replies()
    inbound.refresh_from_db()
    assert inbound.reply_status == "failed"
    assert inbound.reply_detail == "No approved sender to reply from (+447700900000)."
    approved_sender(account, name="ACMEREPLY", country="GB")
    update_settings(account, admin_user, reply_sender="acmereply")
    second = receive_inbound(account, from_number="+447400123458", to="+447700900000", text="STOP").message
    send_queued_replies()
    second.refresh_from_db()
    assert second.reply_status == "sent"
    assert Message.objects.get().sender_name == "ACMEREPLY"


def test_a_client_cannot_mark_its_own_send_as_an_opt_out_confirmation(account):
    sender = approved_sender(account, name="ACMEUK", country="GB")
    request = SendRequest(sender=sender, recipients=["+447400123459"], text="Sale!", meta={"_opt_out_confirmation": 1})
    send_messages(account, request)
    receive_inbound(account, from_number="+447400123459", to="ACMEUK", text="STOP")
    run_sweeps()
    assert Message.objects.get().state == MessageState.REJECTED  # opted out before release
