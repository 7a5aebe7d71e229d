"""submit_sm as the codec writes it: source TON/NPI from the sender, the India TLVs, a payload as a raw TLV."""

import pytest

from campaigns.connectors.smpp.pdus import IndiaTlvs, SubmitParams, decode, encode, source_ton_npi, submit_pdus
from campaigns.connectors.smpp.wire import encode_message

TAGS = {"pe_id": 0x1400, "template_id": 0x1401, "tm_id": 0x1402}


@pytest.mark.parametrize(("sender", "ton_npi"), [("ACMEIN", (5, 0)), ("56767", (3, 0)), ("+447400123456", (1, 1))])
def test_source_ton_npi_follow_the_sender(sender, ton_npi):
    assert source_ton_npi(sender) == ton_npi


def frame_of(params, wire) -> bytes:
    (pdu,) = submit_pdus(params, wire)
    pdu.seqNum = 1
    return encode(pdu)


def test_a_payload_submit_carries_the_text_in_message_payload():
    frame = frame_of(
        SubmitParams(sender="ACME", recipient="+447400123456"),
        encode_message("x" * 300, "GSM-7", long_messages="payload"),
    )
    assert bytes.fromhex("0424012c") + b"x" * 300 in frame
    assert decode(frame).params["short_message"] in (b"", None)


def test_india_tlvs_are_written_with_the_configured_tags_and_empty_ones_left_out():
    india = IndiaTlvs(pe_id="1201", template_id="", tm_id="1702")
    frame = frame_of(SubmitParams("ACMEIN", "+919876543210", india=india, tlv_tags=TAGS), encode_message("Hi", "GSM-7"))
    assert bytes.fromhex("14000005") + b"1201\0" in frame
    assert bytes.fromhex("14020005") + b"1702\0" in frame
    assert bytes.fromhex("1401") not in frame
