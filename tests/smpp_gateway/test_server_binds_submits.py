"""The SMPP gateway over a real connection, with smpplib (a client this project did not write): binds and their
refusals, submits as API sends (GSM, UCS-2, long, refusals with their command_status), throughput and window."""

import time
from decimal import Decimal

import pytest
import smpplib.consts

from campaigns.models import Message, SmppBindFailure, SmppSession
from campaigns.smpp_gateway import statuses
from campaigns.smpp_gateway.credentials import update_credential
from contacts.models import Unsubscriber
from portal.accounts import suspend_account
from tests.support.smpp_gateway import bind_status, dlt_sender_and_template, esme, ready_to_send, running_gateway

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _setup(settings, account):
    ready_to_send(settings, account, GB="0.04")


def test_bind_then_submit_is_an_api_send_answered_with_the_message_id(gateway, issued, account):
    client = esme(gateway.port, "acme", issued.password)
    status, message_id = client.submit("ACMERT", "919876543210", "Your Acme order is ready")
    client.close()
    assert status == 0
    message = Message.objects.get(uid=message_id)
    assert (message.account_id, message.recipient, message.sender_name) == (account.pk, "+919876543210", "ACMERT")
    assert message.body == "Your Acme order is ready"
    assert message.meta["smpp_credential"] == issued.credential.pk and message.meta["smpp_receipt"] == 1
    account.refresh_from_db()
    assert account.balance == Decimal("4.99")


def test_ucs2_and_long_messages_arrive_whole(gateway, issued):
    client = esme(gateway.port, "acme", issued.password)
    unicode_status, unicode_id = client.submit("ACMERT", "919876543210", "नमस्ते, your order is ready")
    long_text = "Acme: " + "your order is packed and on its way. " * 8
    long_status, long_id = client.submit("ACMERT", "919876543211", long_text)
    client.close()
    assert (unicode_status, long_status) == (0, 0)
    assert Message.objects.get(uid=unicode_id).body == "नमस्ते, your order is ready"
    long_message = Message.objects.get(uid=long_id)
    assert (long_message.body, long_message.parts) == (long_text, 2)
    assert Message.objects.count() == 2


def test_bind_refusals_have_their_command_status_and_are_recorded(gateway, issued, account):
    assert bind_status(gateway.port, "nobody", "x") == statuses.INVALID_SYSTEM_ID.number
    assert bind_status(gateway.port, "acme", "wrong") == statuses.INVALID_PASSWORD.number
    update_credential(issued.credential, {"allowed_ips": ["10.0.0.0/8"]})
    assert bind_status(gateway.port, "acme", issued.password) == statuses.BIND_FAILED.number
    update_credential(issued.credential, {"allowed_ips": ["127.0.0.1"], "bind_limit": 1})
    first = esme(gateway.port, "acme", issued.password)
    assert bind_status(gateway.port, "acme", issued.password) == statuses.BIND_FAILED.number
    first.close()
    gateway.wait_closed()  # the session row is gone before the test writes
    suspend_account(account, reason="test")
    assert bind_status(gateway.port, "acme", issued.password) == statuses.BIND_FAILED.number
    reasons = list(SmppBindFailure.objects.order_by("id").values_list("reason", flat=True))
    assert reasons[0] == "unknown system_id" and reasons[1] == "wrong password"
    assert "not in the credential's IP list" in reasons[2] and "bind limit reached" in reasons[3]
    assert reasons[4] == "the account is suspended"
    assert SmppBindFailure.objects.filter(account=account).count() == 4


def test_a_bound_session_is_registered_and_removed_on_unbind(gateway, issued):
    client = esme(gateway.port, "acme", issued.password, mode="transmitter")
    session = SmppSession.objects.get()
    assert (session.bind_type, session.credential_id, session.address.startswith("127.0.0.1:")) == (
        "transmitter",
        issued.credential.pk,
        True,
    )
    client.close()
    for _ in range(50):
        if not SmppSession.objects.exists():
            break
        time.sleep(0.05)
    assert not SmppSession.objects.exists()


def test_submit_refusals_answer_the_documented_command_status(gateway, issued, account):
    Unsubscriber.objects.create(account=account, receiver="+919876543219", type="all")
    client = esme(gateway.port, "acme", issued.password)
    results = {
        "unknown sender": client.submit("NOSUCH", "919876543210", "Hello")[0],
        "invalid number": client.submit("ACMERT", "12", "Hello")[0],
        "opted out": client.submit("ACMERT", "919876543219", "Hello")[0],
        "no price": client.submit("ACMERT", "12025550123", "Hello")[0],
    }
    client.close()
    assert results == {
        "unknown sender": statuses.INVALID_SOURCE.number,
        "invalid number": statuses.INVALID_DESTINATION.number,
        "opted out": statuses.OPTED_OUT.number,
        "no price": statuses.COUNTRY_NOT_ALLOWED.number,
    }
    assert not Message.objects.exists()


def test_india_text_matching_no_template_is_452_and_the_dlt_tlvs_are_checked(gateway, issued, account, settings):
    settings.SMS_TEMPLATE_MATCH_COUNTRIES = ("IN",)
    _, template = dlt_sender_and_template(account)
    client = esme(gateway.port, "acme", issued.password)
    unmatched = client.submit("ACMEIN", "919876543210", "Free text")[0]
    matched, message_id = client.submit("ACMEIN", "919876543211", "Your code is 4321")
    client.close()
    assert unmatched == statuses.NO_TEMPLATE_MATCH.number
    assert matched == 0
    assert Message.objects.get(uid=message_id).template_id == template.pk


def test_a_receiver_bind_cannot_submit_and_throughput_is_enforced(gateway, issued):
    receiver = esme(gateway.port, "acme", issued.password, mode="receiver")
    receiver.client.state = smpplib.consts.SMPP_CLIENT_STATE_BOUND_TRX  # smpplib itself refuses; a lax client would not
    sequences = receiver.send("ACMERT", "919876543210", "Hello")
    receiver.wait_answers(sequences)
    assert receiver.answers[sequences[0]][0] == statuses.INVALID_BIND_STATUS.number
    receiver.close()
    gateway.wait_closed()  # the gateway has ended the session: its writes are done before the test's own
    update_credential(issued.credential, {"throughput": 2, "window": 50})
    client = esme(gateway.port, "acme", issued.password)
    sequences = [client.send("ACMERT", f"91987654{n:04d}", "Hello")[0] for n in range(6)]
    client.wait_answers(sequences)
    codes = [client.answers[sequence][0] for sequence in sequences]
    client.close()
    assert codes[:2] == [0, 0] and statuses.THROTTLED.number in codes[2:]
    assert Message.objects.count() == codes.count(0)


def test_insufficient_balance_is_the_seeds_code(gateway, issued, account):
    account.balance = Decimal("0")
    account.save()
    client = esme(gateway.port, "acme", issued.password)
    status, _ = client.submit("ACMERT", "919876543210", "Hello")
    client.close()
    assert status == statuses.INSUFFICIENT_BALANCE.number == 0x40B
    assert not Message.objects.exists()


def test_data_coding_the_gateway_cannot_read_is_refused(gateway, issued):
    client = esme(gateway.port, "acme", issued.password)
    status, _ = client.submit("ACMERT", "919876543210", "Hello", data_coding=smpplib.consts.SMPP_ENCODING_BINARY)
    client.close()
    assert status == statuses.INVALID_DATA_CODING.number


def throttled_after(client, count: int) -> list[int]:
    sequences = [client.send("ACMERT", f"91987655{n:04d}", "Hello")[0] for n in range(count)]
    client.wait_answers(sequences)
    return [client.answers[sequence][0] for sequence in sequences]


def test_two_servers_split_a_credentials_throughput_by_where_its_sessions_are(gateway, issued):
    update_credential(issued.credential, {"throughput": 4, "window": 50, "bind_limit": 2})
    with running_gateway() as second:
        first_client = esme(gateway.port, "acme", issued.password)
        second_client = esme(second.port, "acme", issued.password)  # the second of 2 sessions: half of 4/s
        assert throttled_after(second_client, 6).count(0) == 2
        first_client.close()
        gateway.wait_closed()
        second.call(second.server.beat())  # its heartbeat: now it holds every session of the credential
        time.sleep(1.1)  # the bucket refills
        assert throttled_after(second_client, 8).count(0) == 4
        second_client.close()
