"""Delivery receipts and inbound messages go back as deliver_sm: on any bound session of the system_id (not only
the one that submitted), queued while nobody is bound and delivered on the next bind, never to another account."""

import re
import time
from decimal import Decimal

import pytest

from campaigns.models import Message, SmppReceipt
from campaigns.smpp_gateway.credentials import issue_credential
from contacts.services_inbound import receive_inbound
from tests.campaigns.sending_support import approved_sender, run_sweeps
from tests.support.smpp_gateway import esme, ready_to_send

pytestmark = pytest.mark.django_db(transaction=True)

RECEIPT = re.compile(
    r"^id:(?P<id>\S+) sub:001 dlvrd:(?P<dlvrd>\d{3}) submit date:\d{10} done date:\d{10} stat:(?P<stat>\w+) "
    r"err:(?P<err>\d{3}) text:"
)


@pytest.fixture(autouse=True)
def _setup(settings, account):
    ready_to_send(settings, account, GB="0.04")
    settings.SMS_SIMULATOR_DLR_DELAY_SECONDS = 0


def _short_message(pdu) -> str:
    value = pdu.short_message or b""
    return value.decode() if isinstance(value, bytes) else str(value)


def test_the_receipt_of_a_submit_comes_on_another_session_of_the_system_id(gateway, issued):
    transmitter = esme(gateway.port, "acme", issued.password, mode="transmitter")
    receiver = esme(gateway.port, "acme", issued.password, mode="receiver")
    status, message_id = transmitter.submit("ACMERT", "919876543210", "Your Acme order is ready")
    assert status == 0
    run_sweeps()
    assert Message.objects.get(uid=message_id).state == "delivered"
    (pdu,) = receiver.wait_delivered(1)
    transmitter.close()
    receiver.close()
    receipt = RECEIPT.match(_short_message(pdu))
    assert receipt is not None, _short_message(pdu)
    assert (receipt["id"], receipt["stat"], receipt["dlvrd"], receipt["err"]) == (message_id, "DELIVRD", "001", "000")
    assert pdu.receipted_message_id.decode() == message_id
    assert int(pdu.message_state) == 2  # DELIVERED
    assert pdu.source_addr.decode() == "919876543210"
    assert SmppReceipt.objects.get().state == SmppReceipt.State.DELIVERED


def test_receipts_wait_while_nobody_is_bound_and_go_out_on_the_next_bind(gateway, issued):
    transmitter = esme(gateway.port, "acme", issued.password, mode="transmitter")
    ids = [transmitter.submit("ACMERT", f"91987654321{n}", "Your Acme order is ready")[1] for n in range(3)]
    transmitter.close()
    gateway.wait_closed()
    run_sweeps()
    assert SmppReceipt.objects.filter(state=SmppReceipt.State.PENDING).count() == 3
    receiver = esme(gateway.port, "acme", issued.password, mode="transceiver")
    delivered = receiver.wait_delivered(3)
    time.sleep(0.8)  # the session records the answers on its next round
    receiver.close()
    assert sorted(pdu.receipted_message_id.decode() for pdu in delivered) == sorted(ids)
    deadline = time.monotonic() + 5
    while SmppReceipt.objects.filter(state=SmppReceipt.State.DELIVERED).count() < 3 and time.monotonic() < deadline:
        time.sleep(0.1)
    assert SmppReceipt.objects.filter(state=SmppReceipt.State.DELIVERED).count() == 3


def test_a_failure_only_receipt_is_not_sent_for_a_delivered_message(gateway, issued):
    client = esme(gateway.port, "acme", issued.password)
    status, _ = client.submit("ACMERT", "919876543210", "Hello", registered_delivery=2)
    client.close()
    gateway.wait_closed()
    run_sweeps()
    assert status == 0 and not SmppReceipt.objects.exists()


def test_inbound_messages_reach_the_account_and_never_another_account(gateway, issued, account, other_account):
    other = issue_credential(other_account, system_id="other")
    mine = esme(gateway.port, "acme", issued.password, mode="receiver")
    theirs = esme(gateway.port, "other", other.password, mode="receiver")
    receive_inbound(account, from_number="+919876543210", to="ACMERT", text="Is my order ready?")
    (pdu,) = mine.wait_delivered(1)
    assert _short_message(pdu) == "Is my order ready?"
    assert pdu.source_addr.decode() == "919876543210"
    theirs.read(1.5)
    mine.close()
    theirs.close()
    assert theirs.delivered == []
    assert SmppReceipt.objects.filter(credential=other.credential).count() == 0


def test_another_accounts_receipts_never_reach_a_session(gateway, issued, other_account):
    other = issue_credential(other_account, system_id="other")
    approved_sender(other_account, "OTHER")
    other_account.balance = Decimal("5")
    other_account.save()
    theirs = esme(gateway.port, "other", other.password)
    mine = esme(gateway.port, "acme", issued.password, mode="receiver")
    status, message_id = theirs.submit("OTHER", "919876543299", "Hello from Other")
    assert status == 0
    run_sweeps()
    (pdu,) = theirs.wait_delivered(1)
    mine.read(1.5)
    theirs.close()
    mine.close()
    assert pdu.receipted_message_id.decode() == message_id
    assert mine.delivered == []
