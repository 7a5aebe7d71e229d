"""The SMPP test peer (node-smpp) against SMPP clients this project did not write: smpplib, and smpp.pdu3's codec
for what smpplib cannot send (vendor TLVs)."""

import io
import socket
import ssl
import struct

import pytest
import smpplib.client
import smpplib.exceptions
from smpp.pdu import operations, pdu_types
from smpp.pdu.pdu_encoding import PDUEncoder

from tests.support.smpp_peer import running_peer
from tests.support.tls import self_signed_certificate

UCS2 = pdu_types.DataCoding(pdu_types.DataCodingScheme.RAW, 8)


@pytest.fixture(scope="module")
def _running():
    with running_peer(dlr_delay_ms=20) as peer:
        yield peer


@pytest.fixture
def peer(_running):
    _running.reset()
    _running.configure(dlr_delay_ms=20)
    return _running


def smpplib_client(peer, timeout: float = 5, **options) -> smpplib.client.Client:
    smpp = smpplib.client.Client(peer.host, peer.port, timeout=timeout, allow_unknown_opt_params=True, **options)
    smpp.connect()
    return smpp


def transceiver(peer, timeout: float = 5) -> smpplib.client.Client:
    smpp = smpplib_client(peer, timeout)
    smpp.bind_transceiver(system_id="test", password="secret", system_type="CPAAS")
    return smpp


@pytest.fixture
def client(peer):
    """smpplib bound as a transceiver."""
    smpp = transceiver(peer)
    yield smpp
    smpp.disconnect()


class RawClient:
    """smpp.pdu3's encoder on a plain socket, for PDUs smpplib cannot build."""

    def __init__(self, peer):
        self.socket = socket.create_connection((peer.host, peer.port), timeout=5)
        self.encoder = PDUEncoder()

    def send(self, pdu) -> None:
        self.socket.sendall(self.encoder.encode(pdu))

    def read_bytes(self) -> bytes:
        header = self._exact(4)
        return header + self._exact(struct.unpack(">L", header)[0] - 4)

    def read(self):
        return self.encoder.decode(io.BytesIO(self.read_bytes()))

    def _exact(self, size: int) -> bytes:
        data = b""
        while len(data) < size:
            chunk = self.socket.recv(size - len(data))
            assert chunk, "the peer closed the connection"
            data += chunk
        return data


def test_binds_are_checked_and_recorded(peer):
    for system_id, password, status in [("test", "wrong", 0x0E), ("nobody", "secret", 0x0F)]:
        smpp = smpplib_client(peer)
        with pytest.raises(smpplib.exceptions.PDUError) as refused:
            smpp.bind_transceiver(system_id=system_id, password=password)
        assert refused.value.args[1] == status
        smpp.disconnect()
    smpp = smpplib_client(peer)
    smpp.bind_transmitter(system_id="test", password="secret", system_type="CPAAS", address_range="44*")
    smpp.unbind()
    smpp.disconnect()
    binds = peer.binds()
    assert [(b["mode"], b["system_id"], b["status"], b["accepted"]) for b in binds] == [
        ("transceiver", "test", 0x0E, False),
        ("transceiver", "nobody", 0x0F, False),
        ("transmitter", "test", 0, True),
    ]
    assert binds[2] | {"system_type": "CPAAS", "interface_version": 0x34, "address_range": "44*"} == binds[2]
    assert peer.stats()["unbinds"] == 1


def test_a_ucs2_submit_with_vendor_tlvs_is_recorded_field_by_field(peer):
    raw = RawClient(peer)
    raw.send(operations.BindTransmitter(seqNum=1, system_id="test", password="secret", system_type=""))
    assert raw.read().status == pdu_types.CommandStatus.ESME_ROK
    submit = operations.SubmitSM(
        seqNum=7,
        source_addr_ton=pdu_types.AddrTon.ALPHANUMERIC,
        source_addr="ACMEIN",
        dest_addr_ton=pdu_types.AddrTon.INTERNATIONAL,
        dest_addr_npi=pdu_types.AddrNpi.ISDN,
        destination_addr="919876543210",
        registered_delivery=pdu_types.RegisteredDelivery(
            pdu_types.RegisteredDeliveryReceipt.NO_SMSC_DELIVERY_RECEIPT_REQUESTED
        ),
        data_coding=UCS2,
        short_message="Код 4711".encode("utf-16-be"),
        sar_msg_ref_num=0x1234,
        sar_total_segments=2,
        sar_segment_seqnum=1,
        destination_port=5000,
        custom_tlvs=[
            (0x1400, None, "COctetString", "1201159100000012345"),
            (0x1401, None, "COctetString", "1207161234567890"),
        ],
    )
    raw.send(submit)
    answer = raw.read()
    raw.socket.close()
    assert (answer.seqNum, answer.status) == (7, pdu_types.CommandStatus.ESME_ROK)
    message_id = answer.params["message_id"].decode()
    assert len(message_id) == 8 and int(message_id, 16)

    (pdu,) = peer.pdus("submit_sm")
    assert (
        pdu
        | {
            "command": "submit_sm",
            "sequence_number": 7,
            "source_addr_ton": 5,
            "source_addr": "ACMEIN",
            "dest_addr_ton": 1,
            "dest_addr_npi": 1,
            "destination_addr": "919876543210",
            "data_coding": 8,
            "registered_delivery": 0,
            "short_message": "Код 4711".encode("utf-16-be").hex(),
            "sar_msg_ref_num": 0x1234,
            "sar_total_segments": 2,
            "sar_segment_seqnum": 1,
            "message_id": message_id,
            "status": 0,
        }
        == pdu
    )
    vendor = {tlv["tag"]: bytes.fromhex(tlv["value"]) for tlv in pdu["vendor_tlvs"]}
    assert vendor == {0x1400: b"1201159100000012345\0", 0x1401: b"1207161234567890\0"}
    assert {tlv["tag"] for tlv in pdu["tlvs"]} == {0x020B, 0x020C, 0x020E, 0x020F, 0x1400, 0x1401}
    assert pdu["session"] == peer.binds()[0]["session"]


def test_a_receipt_follows_a_submit_that_asked_for_one(peer, client):
    client.send_message(
        source_addr_ton=5,
        source_addr="ACMEUK",
        dest_addr_ton=1,
        dest_addr_npi=1,
        destination_addr="447400120000",
        short_message=b"Your code is 4711",
        registered_delivery=1,
    )
    answer = client.read_pdu()
    assert (answer.command, answer.status) == ("submit_sm_resp", 0)
    received = []
    client.set_message_received_handler(lambda pdu: received.append(pdu))  # then answers ESME_ROK
    client.read_once()
    (receipt,) = received
    assert (receipt.command, receipt.esm_class) == ("deliver_sm", 0x04)
    text = receipt.short_message.decode()
    assert text.startswith(f"id:{answer.message_id.decode()} sub:001 dlvrd:000 submit date:")
    assert " stat:UNDELIV err:001 text:Your code is 4711" in text
    assert (receipt.receipted_message_id, receipt.message_state) == (answer.message_id, 5)
    assert (receipt.source_addr, receipt.destination_addr) == (b"447400120000", b"ACMEUK")
    stats = peer.wait_for(lambda: (s := peer.stats())["deliver_sm_resp"] and s)
    assert (stats["receipts_sent"], stats["deliver_sm_resp_statuses"]) == (1, {"0": 1})


def test_receipts_go_round_robin_over_the_receiving_binds(peer, client):
    other = transceiver(peer)
    for number in ("447400120001", "447400120002"):
        client.send_message(source_addr="ACME", destination_addr=number, short_message=b"hi", registered_delivery=1)
        assert client.read_pdu().status == 0
    receipts = peer.wait_for(lambda: len(found := peer.deliveries()) == 2 and found)
    other.disconnect()
    assert {receipt["session"] for receipt in receipts} == {bind["session"] for bind in peer.binds()}
    assert {receipt["kind"] for receipt in receipts} == {"receipt"}


def test_held_answers_and_dropped_sessions(peer):
    peer.configure(hold_resps=True)
    client = transceiver(peer, timeout=0.3)
    client.send_message(source_addr="ACME", destination_addr="447400123456", short_message=b"hi")
    peer.wait_for(1)
    with pytest.raises(socket.timeout):
        client.read_pdu()
    assert peer.close_sessions() == 1
    with pytest.raises(smpplib.exceptions.ConnectionError):
        client.read_pdu()
    assert peer.stats()["held"] == 1
    client.disconnect()


def test_throttle_next_answers_0x58_then_accepts(peer, client):
    peer.configure(throttle_next=1, id_format="dec")
    statuses = []
    for _ in range(2):
        client.send_message(source_addr="ACME", destination_addr="447400123456", short_message=b"hi")
        statuses.append(client.read_pdu())
    assert [pdu.status for pdu in statuses] == [0x58, 0]
    assert statuses[1].message_id.isdigit()
    assert peer.stats()["throttled"] == 1
    assert [pdu["status"] for pdu in peer.pdus("submit_sm")] == [0x58, 0]


def test_mo_arrives_as_deliver_sm_whole_or_in_parts(peer, client):
    peer.send_mo(**{"from": "447400123456", "to": "ACMEUK", "text": "STOP"})
    whole = client.read_pdu()
    assert (whole.command, whole.esm_class, whole.short_message, whole.source_addr) == (
        "deliver_sm",
        0,
        b"STOP",
        b"447400123456",
    )
    peer.send_mo(**{"from": "447400123456", "to": "ACMEUK", "text": "Привет мир", "data_coding": 8, "parts": 2})
    parts = [client.read_pdu() for _ in range(2)]
    assert {part.esm_class for part in parts} == {0x40}
    udhs = [part.short_message[:6] for part in parts]
    assert [udh[:3] for udh in udhs] == [b"\x05\x00\x03"] * 2 and udhs[0][3] == udhs[1][3]
    assert [udh[4:] for udh in udhs] == [b"\x02\x01", b"\x02\x02"]
    assert b"".join(part.short_message[6:] for part in parts).decode("utf-16-be") == "Привет мир"


def test_unknown_commands_and_unreadable_bodies_get_generic_nack(peer):
    raw = RawClient(peer)
    raw.socket.sendall(struct.pack(">LLLL", 16, 0x00000015, 0, 1))
    assert struct.unpack(">LLLL", raw.read_bytes()) == (16, 0x80000015, 0, 1)
    raw.socket.sendall(struct.pack(">LLLL", 16, 0x000001FF, 0, 2))
    assert struct.unpack(">LLLL", raw.read_bytes()) == (16, 0x80000000, 0x03, 2)
    body = b"\0\x05\x00ACME\0\x01\x01447400000001\0\x00\x00\x00" + struct.pack(">HHB", 0x020A, 1, 1)  # int16 in 1 octet
    raw.socket.sendall(struct.pack(">LLLL", 16 + len(body), 0x00000103, 0, 3) + body)
    assert struct.unpack(">LLLL", raw.read_bytes()) == (16, 0x80000000, 0xC0, 3)
    raw.socket.close()
    assert (peer.stats()["enquire_links"], peer.stats()["generic_nacks_sent"]) == (1, 2)
    assert [(pdu["command"], pdu["status"]) for pdu in peer.pdus()] == [("unknown", 0x03), ("malformed", 0xC0)]


def test_tls_and_a_restart_on_the_same_port(tmp_path):
    cert, key = self_signed_certificate(tmp_path, "localhost")
    with running_peer(tls_cert=cert, tls_key=key) as peer:
        context = ssl.create_default_context(cafile=str(cert))
        context.check_hostname = False
        for _ in range(2):
            smpp = smpplib_client(peer, ssl_context=context)
            smpp.bind_transceiver(system_id="test", password="secret")
            smpp.disconnect()
            port = peer.port
            peer.restart()
            assert peer.port == port
        assert peer.binds() == []
