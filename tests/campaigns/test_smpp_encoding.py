"""The SMPP connector's pure parts: segments exactly as the planner counts (what the customer paid), GSM-7
packing, Latin-1, SAR and payload modes, receipt texts as SMSCs write them, id spellings, command statuses."""

import random

import pytest

from campaigns import dlr_codes, encoding
from campaigns.connectors.smpp.pdus import SubmitParams, decode, encode, submit_pdus
from campaigns.connectors.smpp.receipts import id_variants, parse_receipt, receipt_outcome
from campaigns.connectors.smpp.wire import (
    DC_GSM_FLASH,
    DC_LATIN1,
    DC_UCS2,
    decode_short_message,
    encode_message,
    gsm_septets,
    pack_septets,
)
from campaigns.states import MessageState

ALPHABET = "abcXYZ 09@£{}[]~€|^\\é\n\u0430\u0431\U0001f600"


def joined_text(wire) -> str:
    return "".join(
        decode_short_message(s.short_message, wire.data_coding, has_udh=bool(s.esm_class & 0x40)).text
        for s in wire.segments
    )


@pytest.mark.parametrize("port", [None, 5000])
def test_segments_are_the_parts_the_planner_counted_and_join_back_to_the_text(port):
    chance = random.Random(15)
    for length in range(0, 400, 3):
        text = "".join(chance.choice(ALPHABET) for _ in range(length))
        for sample in (text, text.encode("ascii", "ignore").decode() or "x"):
            planned = encoding.analyze(sample, udh_bytes=encoding.PORT_IE_BYTES if port is not None else 0)
            wire = encode_message(sample, planned.encoding, destination_port=port, reference=7)
            assert len(wire.segments) == max(planned.parts, 1), (sample, port)
            if port is None:
                assert joined_text(wire) == sample


@pytest.mark.parametrize(("length", "parts"), [(160, 1), (161, 2), (306, 2), (307, 3)])
def test_gsm_boundaries(length, parts):
    assert len(encode_message("x" * length, "GSM-7").segments) == parts


def test_an_escape_pair_never_straddles_two_segments():
    wire = encode_message("x" * 152 + "€" + "y" * 10, "GSM-7", reference=1)
    first = wire.segments[0].short_message[6:]
    assert len(first) == 152 and first[-1] != 0x1B


def test_udh_concatenation_and_the_port_element():
    wire = encode_message("x" * 200, "GSM-7", destination_port=5000, reference=0x1234)
    headers = [s.short_message[: s.short_message[0] + 1] for s in wire.segments]
    assert headers == [bytes.fromhex("0b0504138800000003340201"), bytes.fromhex("0b0504138800000003340202")]
    assert all(s.esm_class == 0x40 for s in wire.segments)


def test_sar_and_payload_modes_carry_the_port_as_a_tlv():
    sar = encode_message("x" * 200, "GSM-7", destination_port=80, long_messages="sar", reference=0x1234)
    assert [s.sar for s in sar.segments] == [(0x1234, 2, 1), (0x1234, 2, 2)]
    assert sar.destination_port == 80 and all(s.esm_class == 0 for s in sar.segments)
    payload = encode_message("x" * 200, "GSM-7", long_messages="payload")
    assert (len(payload.segments), payload.segments[0].short_message, payload.message_payload) == (1, b"", b"x" * 200)


def test_gsm_packing_matches_the_spec_vector_and_aligns_after_a_header():
    assert pack_septets(gsm_septets("hellohello")).hex() == "e8329bfd4697d9ec37"
    wire = encode_message("x" * 200, "GSM-7", gsm_packed=True, reference=1)
    assert [len(s.short_message) for s in wire.segments] == [140, 48]


def test_flash_ucs2_and_latin1_data_codings():
    assert encode_message("hi", "GSM-7", flash=True).data_coding == DC_GSM_FLASH
    assert encode_message("Ваш код", "UCS-2").data_coding == DC_UCS2
    latin = encode_message("âb" * 100, "UCS-2", latin1=True)
    assert latin.data_coding == DC_LATIN1 and [len(s.short_message) for s in latin.segments] == [140, 72]
    assert encode_message("âb", "UCS-2", latin1=True, flash=True).data_coding == 0x18  # class 0 needs UCS-2


def test_inbound_concatenation_headers_are_read():
    decoded = decode_short_message(bytes.fromhex("050003aa0302") + b"hello", 0, has_udh=True)
    assert (decoded.text, decoded.concat) == ("hello", (0xAA, 3, 2))


def test_standard_receipt_text_is_parsed():
    text = "id:0A1B2C sub:001 dlvrd:001 submit date:2601021230 done date:260102123145 stat:DELIVRD err:000 text:Hi"
    fields = parse_receipt(text, {})
    assert (fields.upstream_id, fields.stat, fields.err, fields.text) == ("0A1B2C", "DELIVRD", "000", "Hi")
    assert fields.submit_date.isoformat() == "2026-01-02T12:30:00+00:00"
    assert fields.done_date.second == 45
    assert receipt_outcome(fields) == ("000", MessageState.DELIVERED)


def test_tlvs_win_over_the_text_and_give_the_state_when_the_text_has_none():
    fields = parse_receipt("id:1 stat:", {"receipted_message_id": "abc", "message_state": 3})
    assert (fields.upstream_id, fields.stat) == ("abc", "EXPIRED")
    assert receipt_outcome(fields) == ("021", MessageState.EXPIRED)


@pytest.mark.parametrize(
    ("stat", "err", "outcome"),
    [
        ("UNDELIV", "013", ("013", MessageState.UNDELIVERED)),
        ("UNDELIV", "999", ("099", MessageState.UNDELIVERED)),
        ("REJECTD", "777", ("777", MessageState.REJECTED)),
        ("REJECTD", "", ("458", MessageState.REJECTED)),
        ("ENROUTE", "", ("", None)),
        ("ACCEPTD", "000", ("", None)),
    ],
)
def test_receipt_outcomes(stat, err, outcome):
    assert receipt_outcome(parse_receipt(f"id:7 stat:{stat} err:{err}", {})) == outcome


def test_an_id_matches_in_hex_or_decimal():
    assert set(id_variants("255")) >= {"255", "ff"}
    assert set(id_variants("FF")) >= {"FF", "ff", "255"}


@pytest.mark.parametrize(
    ("status", "kind", "code"),
    [(0x58, "throttle", None), (0x14, "throttle", None), (0x08, "transient", None), (0x0B, "permanent", "404")],
)
def test_command_statuses_are_classified_from_the_seed_table(status, kind, code):
    error = dlr_codes.submit_error(status)
    assert error.kind == kind
    if code:
        assert error.code == code


def test_unknown_statuses_vendor_range_is_permanent_others_transient():
    assert dlr_codes.submit_error(0x401).kind == "permanent"
    assert dlr_codes.submit_error(0x99).kind == "transient"


def test_a_payload_submit_encodes_with_the_text_in_message_payload():
    wire = encode_message("x" * 300, "GSM-7", long_messages="payload")
    (pdu,) = submit_pdus(SubmitParams(sender="ACME", recipient="+447400123456"), wire)
    pdu.seqNum = 1
    frame = encode(pdu)
    assert bytes.fromhex("0424012c") + b"x" * 300 in frame
    assert decode(frame).params["short_message"] in (b"", None)
