import pytest

from campaigns.encoding import (
    GSM7,
    PORT_IE_BYTES,
    UCS2,
    analyze,
    is_gsm,
    non_gsm_characters,
    part_capacity,
    to_gsm_lossy,
)
from campaigns.sending.planning import encode
from campaigns.states import MessageType


@pytest.mark.parametrize(
    ("text", "encoding", "units", "parts"),
    [
        ("", GSM7, 0, 0),
        ("a" * 160, GSM7, 160, 1),
        ("a" * 161, GSM7, 161, 2),
        ("a" * 306, GSM7, 306, 2),
        ("a" * 307, GSM7, 307, 3),
        ("€" * 80, GSM7, 160, 1),
        ("€" * 81, GSM7, 162, 2),
        ("a" * 158 + "[", GSM7, 160, 1),
        ("a" * 159 + "^", GSM7, 161, 2),
        ("a" * 152 + "{" + "a" * 152, GSM7, 306, 3),
        ("a" * 151 + "{" + "a" * 153, GSM7, 306, 2),
        ("é" * 70, GSM7, 70, 1),
        ("ç" * 70, UCS2, 70, 1),
        ("ç" * 71, UCS2, 71, 2),
        ("ç" * 134, UCS2, 134, 2),
        ("ç" * 135, UCS2, 135, 3),
        ("😀" * 35, UCS2, 70, 1),
        ("😀" * 36, UCS2, 72, 2),
        ("a" * 66 + "😀" + "a" * 5, UCS2, 73, 2),
        ("a" * 67 + "😀", UCS2, 69, 1),
        ("a" * 66 + "😀" + "a" * 66, UCS2, 134, 3),
        ("a" * 65 + "😀" + "a" * 67, UCS2, 134, 2),
        ("नमस्ते", UCS2, 6, 1),
        ("`", UCS2, 1, 1),
    ],
)
def test_encoding_units_and_parts(text, encoding, units, parts):
    result = analyze(text)
    assert (result.encoding, result.units, result.parts) == (encoding, units, parts)
    assert result.characters == len(text)


@pytest.mark.parametrize(
    ("units_text", "per_part"),
    [("a" * 160, 160), ("a" * 161, 153), ("ç" * 70, 70), ("ç" * 71, 67)],
)
def test_capacity_per_part(units_text, per_part):
    assert analyze(units_text).per_part == per_part


def test_boundaries_153_154_and_67_68():
    assert analyze("a" * 153 * 2).parts == 2
    assert analyze("a" * (153 * 2 + 1)).parts == 3
    assert analyze("ç" * 67 * 2).parts == 2
    assert analyze("ç" * (67 * 2 + 1)).parts == 3


def test_remaining_units_in_last_part():
    assert analyze("a" * 150).remaining == 10
    assert analyze("a" * 165).remaining == 306 - 165


@pytest.mark.parametrize("char", list("^{}\\[~]|€\f"))
def test_every_extension_character_takes_two_septets(char):
    result = analyze(char)
    assert (result.encoding, result.units) == (GSM7, 2)


def test_gsm_detection_and_non_gsm_characters():
    assert is_gsm("Hello @ £5 Ø ¿")
    assert not is_gsm("Hello “world”")
    assert non_gsm_characters("a“b”c“") == ["“", "”"]


def test_lossy_conversion_replaces_each_non_gsm_character_with_question_mark():
    assert to_gsm_lossy("Price: 5€ “ok” 😀 ç") == "Price: 5€ ?ok? ? ?"
    assert is_gsm(to_gsm_lossy("नमस्ते 😀"))


@pytest.mark.parametrize(
    ("encoding", "multipart", "udh_bytes", "capacity"),
    [
        (GSM7, False, 0, 160),
        (GSM7, True, 0, 153),
        (UCS2, False, 0, 70),
        (UCS2, True, 0, 67),
        (GSM7, False, PORT_IE_BYTES, 152),
        (GSM7, True, PORT_IE_BYTES, 146),
        (UCS2, False, PORT_IE_BYTES, 66),
        (UCS2, True, PORT_IE_BYTES, 64),
    ],
)
def test_part_capacity_is_what_the_user_data_header_leaves_of_140_octets(encoding, multipart, udh_bytes, capacity):
    assert part_capacity(encoding, multipart, udh_bytes) == capacity


@pytest.mark.parametrize(
    ("text", "parts", "per_part"),
    [
        ("a" * 152, 1, 152),
        ("a" * 153, 2, 146),
        ("a" * 292, 2, 146),
        ("a" * 293, 3, 146),
        ("a" * 150 + "€", 1, 152),
        ("a" * 145 + "€" + "a" * 146, 3, 146),
        ("ç" * 66, 1, 66),
        ("ç" * 67, 2, 64),
        ("ç" * 128, 2, 64),
        ("ç" * 129, 3, 64),
        ("a" * 63 + "😀" + "a" * 63, 3, 64),
    ],
)
def test_a_port_element_shrinks_every_part(text, parts, per_part):
    result = analyze(text, udh_bytes=PORT_IE_BYTES)
    assert (result.parts, result.per_part) == (parts, per_part)


def test_forced_ucs2_counts_a_gsm_text_in_ucs2_units():
    result = analyze("a" * 70 + "€", force_ucs2=True)
    assert (result.encoding, result.units, result.parts, result.per_part) == (UCS2, 71, 2, 67)
    assert analyze("", force_ucs2=True).parts == 0


@pytest.mark.parametrize(
    ("message_type", "port", "encoding", "parts"),
    [
        (MessageType.AUTO, None, GSM7, 1),
        (MessageType.AUTO, 5000, GSM7, 2),
        (MessageType.AUTO, 0, GSM7, 2),
        (MessageType.UNICODE, None, UCS2, 3),
        (MessageType.UNICODE, 5000, UCS2, 3),
    ],
)
def test_send_encoding_counts_the_port_for_every_send_type(message_type, port, encoding, parts):
    text, result = encode("a" * 155, message_type, port)
    assert (text, result.encoding, result.parts) == ("a" * 155, encoding, parts)
