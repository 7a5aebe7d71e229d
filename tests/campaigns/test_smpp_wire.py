"""campaigns.connectors.smpp.wire: a message's submit_sm segments are exactly the parts the planner counted (what
the customer paid), in every long-message mode, with and without a port; GSM 03.38 bytes against the spec's
table, packing against a known vector; Latin-1; decoding of MO and receipt texts."""

import random

import pytest

from campaigns import encoding
from campaigns.connectors.smpp.wire import (
    DC_GSM,
    DC_GSM_FLASH,
    DC_LATIN1,
    DC_UCS2,
    DC_UCS2_FLASH,
    UDHI,
    DecodedText,
    decode_short_message,
    encode_message,
    gsm_septets,
    gsm_text,
    pack_septets,
)

# 3GPP TS 23.038 §6.2.1, code 0x00 to 0x7F; "\x1b" is the escape to the extension table
SPEC_TABLE = (
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞ\x1bÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
SPEC_EXTENSION = {0x0A: "\f", 0x14: "^", 0x28: "{", 0x29: "}", 0x2F: "\\", 0x3C: "[", 0x3D: "~", 0x3E: "]"}
SPEC_EXTENSION |= {0x40: "|", 0x65: "€"}
GSM_MIX = "abcdefXYZ 0189.,@£$_Δ{}[]~€|^\\\féÄ\n"
WIDE_MIX = "abc XYZ 019 €[éß жЖ Ωй 😀🎉 ä"
MODES = ("udh", "sar", "payload")


def texts(alphabet: str, seed: int, count: int = 300, longest: int = 700) -> list[str]:
    chance = random.Random(seed)
    return ["".join(chance.choices(alphabet, k=chance.randrange(1, longest))) for _ in range(count)]


def planned(text: str, port: int | None = None, force_ucs2: bool = False) -> encoding.SmsEncoding:
    return encoding.analyze(text, udh_bytes=encoding.PORT_IE_BYTES if port is not None else 0, force_ucs2=force_ucs2)


def header_and_body(segment) -> tuple[bytes, bytes]:
    data = segment.short_message
    if not segment.esm_class & UDHI:
        return b"", data
    return data[: data[0] + 1], data[data[0] + 1 :]


def unpack(data: bytes, fill_bits: int) -> list[int]:
    """Septets from packed octets (the reverse of 23.038 §6.1.2.1.1), written independently of the module."""
    bits = "".join(format(octet, "08b")[::-1] for octet in data)[fill_bits:]
    return [int(bits[i : i + 7][::-1], 2) for i in range(0, len(bits) - 6, 7)]


def joined(wire) -> str:
    return "".join(
        decode_short_message(s.short_message, wire.data_coding, has_udh=bool(s.esm_class & UDHI)).text
        for s in wire.segments
    )


# --- segments are the planned parts --------------------------------------------------------------------------


@pytest.mark.parametrize("port", [None, 2948])
@pytest.mark.parametrize("mode", ["udh", "sar"])
@pytest.mark.parametrize(("alphabet", "seed"), [(GSM_MIX, 1), (WIDE_MIX, 2), ("a€", 3), ("a😀", 4), ("x", 5)])
def test_random_texts_go_in_exactly_the_parts_the_planner_counted(alphabet, seed, mode, port):
    for text in texts(alphabet, seed):
        plan = planned(text, port)
        wire = encode_message(text, plan.encoding, destination_port=port, long_messages=mode, reference=seed)
        assert len(wire.segments) == plan.parts, (text, mode, port)
        assert joined(wire) == text


@pytest.mark.parametrize("port", [None, 80])
def test_every_length_of_a_plain_text_matches_the_planner(port):
    for length in range(1, 1400):
        for char in ("a", "ж"):
            text = char * length
            plan = planned(text, port)
            assert len(encode_message(text, plan.encoding, destination_port=port).segments) == plan.parts


@pytest.mark.parametrize(
    ("text", "port", "parts"),
    [
        ("a" * 160, None, 1),
        ("a" * 161, None, 2),
        ("a" * 306, None, 2),
        ("a" * 307, None, 3),
        ("a" * 152, 5000, 1),
        ("a" * 153, 5000, 2),
        ("a" * 292, 5000, 2),
        ("a" * 293, 5000, 3),
        ("ж" * 70, None, 1),
        ("ж" * 71, None, 2),
        ("ж" * 134, None, 2),
        ("ж" * 135, None, 3),
        ("ж" * 66, 5000, 1),
        ("ж" * 67, 5000, 2),
        ("ж" * 128, 5000, 2),
        ("ж" * 129, 5000, 3),
        ("€" * 80, None, 1),
        ("€" * 81, None, 2),
        ("😀" * 35, None, 1),
        ("😀" * 36, None, 2),
    ],
)
def test_part_boundaries(text, port, parts):
    wire = encode_message(text, planned(text, port).encoding, destination_port=port)
    assert len(wire.segments) == parts == planned(text, port).parts


def test_an_escape_pair_moves_whole_to_the_next_segment():
    text = "a" * 152 + "€" + "b" * 10
    wire = encode_message(text, "GSM-7", reference=1)
    bodies = [header_and_body(s)[1] for s in wire.segments]
    assert bodies == [b"a" * 152, b"\x1b\x65" + b"b" * 10]
    for text in texts(GSM_MIX, 6):
        for segment in encode_message(text, "GSM-7").segments:
            assert not header_and_body(segment)[1].endswith(b"\x1b")  # no extension code is 0x1B


def test_a_surrogate_pair_moves_whole_to_the_next_segment():
    text = "a" * 66 + "😀" + "b" * 5
    wire = encode_message(text, "UCS-2", reference=1)
    assert [header_and_body(s)[1].decode("utf-16-be") for s in wire.segments] == ["a" * 66, "😀bbbbb"]
    for text in texts(WIDE_MIX, 7):
        for segment in encode_message(text, "UCS-2").segments:
            header_and_body(segment)[1].decode("utf-16-be")  # strict: a split pair would raise


@pytest.mark.parametrize("port", [None, 5000])
@pytest.mark.parametrize("mode", ["udh", "sar"])
def test_no_segment_exceeds_140_octets_with_the_headers_the_smsc_adds(mode, port):
    port_octets = encoding.PORT_IE_BYTES if port is not None else 0
    for text in texts(GSM_MIX, 8) + texts(WIDE_MIX, 9):
        plan = planned(text, port)
        wire = encode_message(text, plan.encoding, destination_port=port, long_messages=mode)
        elements = port_octets + (encoding.CONCAT_IE_BYTES if len(wire.segments) > 1 else 0)
        header_bits = 8 * (1 + elements) if elements else 0
        for segment in wire.segments:
            header, body = header_and_body(segment)
            assert 8 * len(header) == (header_bits if mode == "udh" else 0)
            gsm = plan.encoding == "GSM-7"  # unpacked septets: the SMSC packs them after the header's fill bits
            body_bits = -header_bits % 7 + 7 * len(body) if gsm else 8 * len(body)
            assert header_bits + body_bits <= 8 * encoding.USER_DATA_OCTETS


# --- headers, SAR, payload --------------------------------------------------------------------------------


def test_udh_concatenation_element_in_every_part():
    wire = encode_message("a" * 400, "GSM-7", reference=0x1234)
    assert [header_and_body(s)[0].hex() for s in wire.segments] == ["050003340301", "050003340302", "050003340303"]
    assert {s.esm_class for s in wire.segments} == {0x40} and {s.sar for s in wire.segments} == {None}
    assert (wire.destination_port, wire.message_payload) == (None, None)


def test_a_port_goes_in_the_header_of_every_part_even_a_single_one():
    single = encode_message("hi", "GSM-7", destination_port=0x0B84)
    assert single.segments[0].short_message == bytes.fromhex("0605040b840000") + b"hi"
    assert single.segments[0].esm_class == 0x40 and single.destination_port is None
    double = encode_message("ж" * 70, "UCS-2", destination_port=5000, reference=9)
    assert [header_and_body(s)[0].hex() for s in double.segments] == [
        "0b0504138800000003090201",
        "0b0504138800000003090202",
    ]


def test_a_single_part_has_no_header_without_a_port():
    wire = encode_message("a" * 160, "GSM-7", reference=5)
    assert wire.segments[0].short_message == b"a" * 160 and wire.segments[0].esm_class == 0


def test_sar_carries_a_16_bit_reference_and_the_port_as_a_tlv():
    wire = encode_message("a" * 300, "GSM-7", destination_port=80, long_messages="sar", reference=0x12345)
    assert [s.sar for s in wire.segments] == [(0x2345, 3, 1), (0x2345, 3, 2), (0x2345, 3, 3)]
    assert wire.destination_port == 80 and {s.esm_class for s in wire.segments} == {0}
    assert [len(s.short_message) for s in wire.segments] == [146, 146, 8]  # room kept for the SMSC's headers
    single = encode_message("hello", "GSM-7", long_messages="sar", destination_port=80)
    assert (single.segments[0].sar, single.segments[0].short_message) == (None, b"hello")


@pytest.mark.parametrize("port", [None, 443])
def test_payload_mode_sends_the_whole_text_in_message_payload(port):
    text = "Ваш код " * 40
    wire = encode_message(text, "UCS-2", long_messages="payload", destination_port=port)
    assert [(s.short_message, s.esm_class, s.sar) for s in wire.segments] == [(b"", 0, None)]
    assert wire.message_payload == text.encode("utf-16-be") and wire.destination_port == port
    gsm = encode_message("€" + "a" * 400, "GSM-7", long_messages="payload")
    assert gsm.message_payload == b"\x1b\x65" + b"a" * 400
    packed = encode_message("hellohello", "GSM-7", long_messages="payload", gsm_packed=True)
    assert packed.message_payload.hex() == "e8329bfd4697d9ec37"


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"long_messages": "split"}, "long_messages"),
        ({"encoding": "binary"}, "encoding"),
        ({"text": "a" * 153 * 256}, "255"),
    ],
)
def test_impossible_requests_are_refused(kwargs, message):
    arguments = {"text": "hi", "encoding": "GSM-7"} | kwargs
    with pytest.raises(ValueError, match=message):
        encode_message(arguments.pop("text"), arguments.pop("encoding"), **arguments)


# --- GSM 03.38 bytes ----------------------------------------------------------------------------------------


def test_gsm_codes_are_the_specs_table():
    for code, char in enumerate(SPEC_TABLE):
        if code != 0x1B:
            assert gsm_septets(char) == [code], char
    for code, char in SPEC_EXTENSION.items():
        assert gsm_septets(char) == [0x1B, code], char
    assert gsm_septets("ж") == [0x3F]
    assert gsm_text(bytes(c for c in range(128) if c != 0x1B)) == SPEC_TABLE.replace("\x1b", "")
    assert gsm_text(bytes(b for code in SPEC_EXTENSION for b in (0x1B, code))) == "".join(SPEC_EXTENSION.values())


def test_unpacked_gsm_on_the_wire():
    wire = encode_message("Hi @£ {x}", "GSM-7")
    assert (wire.data_coding, wire.segments[0].short_message) == (DC_GSM, bytes.fromhex("4869200001201b28781b29"))


def test_packing_matches_the_known_vector_and_pads_seven_spare_bits_with_cr():
    assert pack_septets(gsm_septets("hellohello")).hex() == "e8329bfd4697d9ec37"
    seven = pack_septets(gsm_septets("1234567"))
    assert len(seven) == 7 and seven[-1] >> 1 == 0x0D
    assert unpack(seven, 0) == gsm_septets("1234567\r")
    assert len(pack_septets(gsm_septets("12345678"))) == 7


@pytest.mark.parametrize("port", [None, 5000])
def test_packed_segments_start_on_a_septet_boundary_after_the_header(port):
    for text in texts(GSM_MIX, 10, count=150):
        plan = planned(text, port)
        wire = encode_message(text, "GSM-7", gsm_packed=True, destination_port=port, reference=3)
        unpacked = encode_message(text, "GSM-7", destination_port=port, reference=3)
        assert len(wire.segments) == plan.parts
        for packed, plain in zip(wire.segments, unpacked.segments, strict=True):
            header, body = header_and_body(packed)
            assert header == header_and_body(plain)[0] and len(packed.short_message) <= encoding.USER_DATA_OCTETS
            fill = (7 - len(header) * 8 % 7) % 7
            septets = unpack(body, fill)
            expected = list(header_and_body(plain)[1])
            assert septets in (expected, [*expected, 0x0D])


def test_packed_parts_of_a_long_text():
    wire = encode_message("x" * 200, "GSM-7", gsm_packed=True, reference=1)
    assert [len(s.short_message) for s in wire.segments] == [140, 48]


# --- data codings ---------------------------------------------------------------------------------------------


def test_flash_is_message_class_0():
    assert encode_message("hi", "GSM-7", flash=True).data_coding == DC_GSM_FLASH
    assert encode_message("Ваш", "UCS-2", flash=True).data_coding == DC_UCS2_FLASH
    assert encode_message("Ваш", "UCS-2").data_coding == DC_UCS2


def test_latin1_for_a_ucs2_text_that_latin1_can_carry():
    text = "Grüße, ça coûte 5 £ ¿sí? " * 12
    wire = encode_message(text, "UCS-2", latin1=True, reference=2)
    assert wire.data_coding == DC_LATIN1 and joined(wire) == text
    assert [len(header_and_body(s)[1]) for s in wire.segments] == [134, 134, 32]
    assert len(wire.segments) <= planned(text, force_ucs2=True).parts
    assert encode_message("é" * 140, "UCS-2", latin1=True).segments[0].short_message == b"\xe9" * 140
    with_port = encode_message("é" * 134, "UCS-2", latin1=True, destination_port=1)
    assert [len(header_and_body(s)[1]) for s in with_port.segments] == [128, 6]


@pytest.mark.parametrize(
    ("text", "plan", "kwargs", "data_coding"),
    [
        ("€uro", "UCS-2", {"latin1": True}, DC_UCS2),  # € is not Latin-1
        ("Ваш", "UCS-2", {"latin1": True}, DC_UCS2),
        ("café", "GSM-7", {"latin1": True}, DC_GSM),  # planned GSM-7 stays GSM-7
        ("café", "UCS-2", {}, DC_UCS2),
        ("café", "UCS-2", {"latin1": True, "flash": True}, DC_UCS2_FLASH),  # class 0 needs the GSM coding group
    ],
)
def test_when_latin1_is_not_used(text, plan, kwargs, data_coding):
    assert encode_message(text, plan, **kwargs).data_coding == data_coding


def test_latin1_never_needs_more_segments_than_ucs2():
    for port in (None, 7):
        for text in texts("abcé ÿ¿£ßÆ", 11):
            ucs2 = planned(text, port, force_ucs2=True)
            latin = encode_message(text, "UCS-2", latin1=True, destination_port=port)
            assert latin.data_coding == DC_LATIN1 and len(latin.segments) <= ucs2.parts


@pytest.mark.parametrize("mode", ["udh", "sar"])
def test_unpacked_messages_round_trip(mode):
    for text in texts(GSM_MIX, 12, count=100) + texts(WIDE_MIX, 13, count=100):
        plan = planned(text)
        for latin1 in (False, True):
            assert joined(encode_message(text, plan.encoding, long_messages=mode, latin1=latin1)) == text


# --- decoding ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "data_coding", "text"),
    [
        (bytes.fromhex("4869200001201b281b65"), 0x00, "Hi @£ {€"),
        (b"Hi @_$", 0x01, "Hi @_$"),  # IA5 is ASCII
        (b"caf\xe9", 0x03, "café"),
        (b"\x00\xff", 0x04, "\x00ÿ"),
        ("Ваш 😀".encode("utf-16-be"), 0x08, "Ваш 😀"),
        (b"STOP", 0x10, "STOP"),
        ("Ваш".encode("utf-16-be"), 0x18, "Ваш"),
        (b"\x80\x81", 0x14, "\x80\x81"),
        (b"STOP", 0xF0, "STOP"),
        (b"\xe9", 0xF4, "é"),
        (b"hi", 0xC0, "hi"),
        ("ж".encode("utf-16-be"), 0xE0, "ж"),
        ("Ж".encode("iso8859-5"), 0x06, "Ж"),
        (b"ok\xff", 0x05, "ok\ufffd"),  # JIS: not read, UTF-8 with replacement
        (b"\x1b\x41\x1b\x1b", 0x00, "A "),  # an extension code the table lacks: its basic character; ESC ESC: space
    ],
)
def test_decoding(data, data_coding, text):
    assert decode_short_message(data, data_coding, has_udh=False) == DecodedText(text, None)


@pytest.mark.parametrize(
    ("header", "concat"),
    [
        ("050003aa0302", (0xAA, 3, 2)),
        ("06080412340201", (0x1234, 2, 1)),
        ("0b0504138800000003070302", (7, 3, 2)),  # after a port element
        ("06050413880000", None),  # a port element only
        ("00", None),
    ],
)
def test_inbound_concatenation_headers(header, concat):
    decoded = decode_short_message(bytes.fromhex(header) + b"STOP", 0, has_udh=True)
    assert (decoded.text, decoded.concat) == ("STOP", concat)


def test_encoded_parts_decode_with_their_concatenation():
    wire = encode_message("a" * 400, "GSM-7", destination_port=5, reference=0x77)
    decoded = [decode_short_message(s.short_message, wire.data_coding, has_udh=True) for s in wire.segments]
    assert [d.concat for d in decoded] == [(0x77, 3, 1), (0x77, 3, 2), (0x77, 3, 3)]
    assert "".join(d.text for d in decoded) == "a" * 400
