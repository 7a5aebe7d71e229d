"""The SMPP client connector against a real SMPP server this project did not write (node-smpp, npm's `smpp`):
binds, what goes on the wire (data_coding, UDH, TON/NPI, the India DLT TLVs), answers and receipts, inbound
messages, throttling, enquire_link, and a server killed mid-window (nothing lost, nothing submitted twice)."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from campaigns.models import Connector, DeliveryReport, Message, PendingReceipt, Route, RouteStep, SmppBind
from campaigns.sending.reports import expire_unknown_submits
from campaigns.states import MessageState
from contacts.models import InboundMessage, Unsubscriber
from portal.models import Event
from tests.campaigns.sending_support import approved_sender, approved_template, prices
from tests.support.smpp_peer import running_peer
from tests.support.smpp_worker_thread import running_smpp_worker, wait_until

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.postgres]

UCS2_TEXT = "Ваш код 4711"
LONG_TEXT = "Acme sale! " + "x" * 300  # GSM-7, 311 characters: 3 parts of 153


@pytest.fixture(autouse=True)
def _setup(settings, account):
    settings.SMS_INDIA_PROMOTIONAL_HOLD = False
    prices(IN="0.01", GB="0.04")
    prices("ENT", IN="0.01", GB="0.04")
    account.balance = Decimal("50")
    account.dlt_telemarketer_id = "1702123456789012345"
    account.save()


@pytest.fixture
def peer():
    with running_peer() as server:
        yield server


@pytest.fixture
def uk_sender(account):
    return approved_sender(account, name="ACMEUK", country="GB")


def smpp_connector(peer, password="secret", **config) -> Connector:
    settings = {
        "host": "127.0.0.1",
        "port": peer.port,
        "system_id": "test",
        "window": 10,
        "enquire_link_seconds": 5,
        "reconnect_min_seconds": 0.2,
        "reconnect_max_seconds": 1,
        "response_timeout_seconds": 3,
    }
    connector = Connector.objects.create(name="Upstream", kind="smpp", config=settings | config, secret=password)
    route = Route.objects.create()
    RouteStep.objects.create(route=route, connector=connector)
    return connector


def send(client, to, text="Your Acme code is 4711", sender="ACMEUK", **options):
    body = {"sender": sender, "to": to, "message": text} | options
    response = client.post("/api/v2/sms/send", body, format="json")
    assert response.status_code == 201, response.json()
    return response.json()["data"]


def states() -> dict[str, str]:
    return dict(Message.objects.values_list("recipient", "state"))


def test_a_bad_password_is_refused_and_shown_on_the_bind(peer):
    connector = smpp_connector(peer, password="wrong")
    with running_smpp_worker([connector]):
        bind = wait_until(
            lambda: SmppBind.objects.filter(connector=connector).exclude(last_error="").first(), message="bind error"
        )
    assert "0x0000000E" in bind.last_error
    assert bind.state != "bound"
    assert not [b for b in peer.binds() if b.get("accepted")]


def test_gsm_text_is_submitted_with_addresses_and_receipt_request_and_gets_delivered(api, uk_sender, peer):
    connector = smpp_connector(peer)
    with running_smpp_worker([connector]):
        data = send(api(), ["+447400123456"])
        wait_until(lambda: states() == {"+447400123456": MessageState.DELIVERED}, message="delivered")
    (submit,) = peer.pdus("submit_sm")
    assert (submit["source_addr_ton"], submit["source_addr_npi"], submit["source_addr"]) == (5, 0, "ACMEUK")
    assert (submit["dest_addr_ton"], submit["dest_addr_npi"], submit["destination_addr"]) == (1, 1, "447400123456")
    assert (submit["data_coding"], submit["registered_delivery"]) == (0, 1)
    assert bytes.fromhex(submit["short_message"]) == b"Your Acme code is 4711"
    message = Message.objects.get()
    assert str(message.uid) == data["messages"][0]["message_id"] if "messages" in data else True
    assert message.connector_message_id == submit["message_id"]
    assert DeliveryReport.objects.get().source == "smpp"
    status = SmppBind.objects.get(connector=connector)
    assert status.submitted >= 1 and status.receipts >= 1


def test_ucs2_and_three_part_messages_carry_data_coding_and_concatenation_headers(api, uk_sender, peer):
    connector = smpp_connector(peer)
    with running_smpp_worker([connector]):
        send(api(), ["+447400123456"], UCS2_TEXT)
        send(api(), ["+447400123457"], LONG_TEXT)
        wait_until(lambda: set(states().values()) == {MessageState.DELIVERED}, message="both delivered")
    by_number = {}
    for pdu in peer.pdus("submit_sm"):
        by_number.setdefault(pdu["destination_addr"], []).append(pdu)
    (ucs2,) = by_number["447400123456"]
    assert ucs2["data_coding"] == 8
    assert bytes.fromhex(ucs2["short_message"]).decode("utf-16-be") == UCS2_TEXT
    parts = by_number["447400123457"]
    assert len(parts) == 3 == Message.objects.get(recipient="+447400123457").parts
    headers = [bytes.fromhex(p["short_message"])[:6] for p in parts]
    assert {h[:3] for h in headers} == {b"\x05\x00\x03"} and len({h[3] for h in headers}) == 1
    assert [(h[4], h[5]) for h in headers] == [(3, 1), (3, 2), (3, 3)]
    assert all(p["esm_class"] & 0x40 for p in parts)
    text = b"".join(bytes.fromhex(p["short_message"])[6:] for p in parts).decode("ascii")
    assert text == LONG_TEXT


def test_india_routes_carry_the_dlt_tlvs_and_others_do_not(api, account, uk_sender, peer):
    sender = approved_sender(account, name="ACMEIN", country="IN", service="ENT")
    sender.entity_id = "1201159100000012345"
    sender.save()
    template = approved_template(account, sender, "Your Acme OTP is {{code}}", "SI", name="OTP")
    template.dlt_template_id = "1207161234567890123"
    template.save()
    connector = smpp_connector(peer)
    with running_smpp_worker([connector]):
        body = {"alias": template.alias, "data": {"code": "4711"}, "to": "9876543210"}
        assert api().post("/api/v2/sms/send/template", body, format="json").status_code == 201
        send(api(), ["+447400123456"])
        wait_until(lambda: len(peer.pdus("submit_sm")) == 2, message="two submits")
    by_number = {pdu["destination_addr"]: pdu for pdu in peer.pdus("submit_sm")}
    india = {
        tlv["tag"]: bytes.fromhex(tlv["value"]).rstrip(b"\0").decode() for tlv in by_number["919876543210"]["tlvs"]
    }
    assert india[0x1400] == "1201159100000012345"
    assert india[0x1401] == "1207161234567890123"
    assert india[0x1402] == "1702123456789012345"
    assert not [tlv for tlv in by_number["447400123456"]["tlvs"] if 0x1400 <= tlv["tag"] <= 0x1402]


def test_receipts_map_to_states_and_codes(api, uk_sender, peer):
    connector = smpp_connector(peer)
    numbers = ["+447400120000", "+447400120021", "+447400120777", "+447400120001"]
    with running_smpp_worker([connector]):
        send(api(), numbers)
        wait_until(lambda: not {MessageState.QUEUED, MessageState.SENT} & set(states().values()), message="all final")
    found = {m.recipient: (m.state, m.error_code) for m in Message.objects.all()}
    assert found["+447400120000"] == (MessageState.UNDELIVERED, "001")
    assert found["+447400120021"] == (MessageState.EXPIRED, "021")
    assert found["+447400120777"] == (MessageState.REJECTED, "777")
    assert found["+447400120001"] == (MessageState.DELIVERED, "")


def test_a_receipt_before_the_submit_answer_still_settles_the_message(api, uk_sender, peer):
    peer.configure(dlr_before_resp=True, resp_delay_ms=300)
    connector = smpp_connector(peer)
    with running_smpp_worker([connector]):
        send(api(), ["+447400123456", "+447400123457"])
        wait_until(lambda: set(states().values()) == {MessageState.DELIVERED}, message="delivered")
    assert not PendingReceipt.objects.exists()
    assert set(Message.objects.values_list("connector_message_id", flat=True)) == {
        pdu["message_id"] for pdu in peer.pdus("submit_sm")
    }


def test_an_inbound_stop_opts_the_number_out_and_reaches_the_webhooks(api, account, uk_sender, peer):
    connector = smpp_connector(peer)
    with running_smpp_worker([connector]):
        send(api(), ["+447400123456"])
        wait_until(lambda: states() == {"+447400123456": MessageState.DELIVERED}, message="delivered")
        peer.send_mo(**{"from": "447400123456", "to": "ACMEUK", "text": "STOP"})
        peer.send_mo(**{"from": "447400123456", "to": "ACMEUK", "text": "Hello " + "y" * 300, "parts": 3})
        wait_until(lambda: InboundMessage.objects.count() == 2, message="two inbound messages")
    stop = InboundMessage.objects.get(text="STOP")
    assert (stop.account, stop.from_number, stop.to, stop.action) == (account, "+447400123456", "ACMEUK", "opted_out")
    assert Unsubscriber.objects.filter(account=account, receiver="+447400123456").exists()
    long = InboundMessage.objects.exclude(text="STOP").get()
    assert (long.parts, long.text) == (3, "Hello " + "y" * 300)
    assert Event.objects.filter(account=account, name="sms:message:in").count() == 2


def test_throttling_answers_slow_the_bind_and_the_message_still_goes_once(api, uk_sender, peer):
    peer.configure(throttle_next=3)
    connector = smpp_connector(peer)
    with running_smpp_worker([connector]):
        send(api(), ["+447400123456"])
        wait_until(lambda: states() == {"+447400123456": MessageState.DELIVERED}, timeout=30, message="delivered")
    assert peer.stats()["throttled"] == 3
    accepted = [pdu for pdu in peer.pdus("submit_sm") if pdu.get("status", 0) == 0]
    assert len(accepted) == 1


def test_a_permanent_error_rejects_the_message_with_the_seed_code_and_refunds(api, account, uk_sender, peer):
    peer.configure(reject_next={"count": 1, "status": 0x0B})
    connector = smpp_connector(peer)
    with running_smpp_worker([connector]):
        send(api(), ["+447400123456"])
        wait_until(lambda: states() == {"+447400123456": MessageState.REJECTED}, message="rejected")
    message = Message.objects.get()
    assert message.error_code == "404" and "ESME_RINVDSTADR" in message.error_detail
    account.refresh_from_db()
    assert account.balance == Decimal("50")


def test_enquire_link_keeps_an_idle_bind_up(peer):
    connector = smpp_connector(peer, enquire_link_seconds=1)
    with running_smpp_worker([connector]):
        wait_until(lambda: peer.stats()["enquire_links"] >= 3, timeout=10, message="enquire_links")
        assert SmppBind.objects.get(connector=connector).state == "bound" or wait_until(
            lambda: SmppBind.objects.get(connector=connector).state == "bound", message="bound"
        )
    assert len([b for b in peer.binds() if b.get("accepted")]) == 1


def test_a_server_killed_mid_window_loses_nothing_and_submits_nothing_twice(api, uk_sender, peer):
    peer.configure(hold_resps=True)
    connector = smpp_connector(peer, window=50)
    numbers = [f"+4474001{index:05d}" for index in range(30)]
    with running_smpp_worker([connector]):
        send(api(), numbers)
        wait_until(lambda: len(peer.pdus("submit_sm")) == 30, message="30 submits on the wire")
        peer.stop()
        wait_until(lambda: set(states().values()) == {MessageState.UNKNOWN}, message="submits unknown")
        peer.restart()
        wait_until(lambda: peer.binds(), message="rebound")
        for number in numbers[:10]:
            peer.send_receipt(**{"id": f"lost-{number[-5:]}", "from": number.lstrip("+"), "stat": "DELIVRD"})
        wait_until(
            lambda: list(states().values()).count(MessageState.DELIVERED) == 10, message="10 reconciled by receipts"
        )
        send(api(), ["+447400199999"])
        wait_until(lambda: states()["+447400199999"] == MessageState.DELIVERED, message="new message after restart")
    assert [pdu["destination_addr"] for pdu in peer.pdus("submit_sm")] == ["447400199999"]
    expire_unknown_submits(timezone.now() + timedelta(hours=49))
    found = list(states().values())
    assert (found.count(MessageState.DELIVERED), found.count(MessageState.EXPIRED)) == (11, 20)
    assert Message.objects.filter(state=MessageState.EXPIRED, error_code="021").count() == 20
