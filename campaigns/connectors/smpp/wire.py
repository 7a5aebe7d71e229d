"""What a message becomes in submit_sm: data_coding, and its segments with their user data headers; and the
text of a short message coming back (MO, receipts).

The split follows `campaigns.encoding` exactly, so a message goes out in the parts the customer paid for: GSM-7
160/153 septets, UCS-2 70/67 units, both less the 16-bit port element when the message has a destination port
(152/146, 66/64); an escape pair or a surrogate pair never straddles two segments. The split is the same in
every long-message mode: with SAR TLVs or a `destination_port` TLV the SMSC builds those headers itself, so the
room they take is kept free. Long messages go as UDH concatenation (default), SAR TLVs, or one
`message_payload`. GSM-7 is sent unpacked (one septet per octet, the SMPP norm) unless `gsm_packed`.
Latin-1 (data_coding 3, one octet per character: 140/134) is used for a UCS-2 text that Latin-1 can carry when
the connector allows it; it never needs more segments than UCS-2.
"""

from dataclasses import dataclass

from campaigns import encoding as sms

DC_GSM, DC_IA5, DC_LATIN1, DC_BINARY, DC_UCS2 = 0x00, 0x01, 0x03, 0x04, 0x08
DC_GSM_FLASH, DC_UCS2_FLASH = 0x10, 0x18  # general data coding group, message class 0
ESC = 0x1B
CR = 0x0D
UDHI = 0x40
LONG_MESSAGE_MODES = ("udh", "sar", "payload")
MAX_SEGMENTS = 255  # the concatenation element counts parts in one octet

_GSM_CODE = {char: code if code < ESC else code + 1 for code, char in enumerate(sms.GSM_BASIC)}
_GSM_EXTENSION_CODE = {"\f": 0x0A, "^": 0x14, "{": 0x28, "}": 0x29, "\\": 0x2F, "[": 0x3C, "~": 0x3D, "]": 0x3E}
_GSM_EXTENSION_CODE |= {"|": 0x40, "€": 0x65}
_GSM_CHAR = {code: char for char, code in _GSM_CODE.items()}
_GSM_EXTENSION_CHAR = {code: char for char, code in _GSM_EXTENSION_CODE.items()}
_QUESTION = _GSM_CODE["?"]

# data_coding 0x00-0x0F (SMPP 3.4 §5.2.19) → Python codec; 0 is the SMSC default alphabet, taken as GSM 03.38
_SMPP_CODECS = {DC_GSM: "gsm", DC_IA5: "latin-1", 0x02: "latin-1", DC_LATIN1: "latin-1", DC_BINARY: "latin-1"}
_SMPP_CODECS |= {0x06: "iso8859-5", 0x07: "iso8859-8", DC_UCS2: "utf-16-be"}
_GSM_DCS_ALPHABETS = ("gsm", "latin-1", "utf-16-be", "latin-1")  # GSM 03.38 §4 alphabet bits: 7-bit, 8-bit, UCS-2


@dataclass(frozen=True)
class Segment:
    short_message: bytes
    esm_class: int
    sar: tuple[int, int, int] | None = None  # reference, total, sequence (sar_* TLVs)


@dataclass(frozen=True)
class WireMessage:
    data_coding: int
    segments: tuple[Segment, ...]
    message_payload: bytes | None = None
    destination_port: int | None = None  # set when the port goes as a TLV, not in the UDH


@dataclass(frozen=True)
class DecodedText:
    text: str
    concat: tuple[int, int, int] | None = None  # reference, total, sequence


def gsm_septets(text: str) -> list[int]:
    """GSM 03.38 codes of a text, extension characters as ESC + code; others become `?`."""
    codes = []
    for char in text:
        if char in _GSM_EXTENSION_CODE:
            codes += [ESC, _GSM_EXTENSION_CODE[char]]
        else:
            codes.append(_GSM_CODE.get(char, _QUESTION))
    return codes


def pack_septets(septets: list[int], fill_bits: int = 0) -> bytes:
    """Septets packed into octets (GSM 03.38 §6.1.2.1.1), after `fill_bits` zero bits (alignment after a UDH).
    When 7 bits would be left over in the last octet they carry CR, so no receiver reads them as a trailing `@`
    (§6.1.2.3.1: SMPP carries no septet count)."""
    value, bits, out = 0, fill_bits, bytearray()
    for septet in septets:
        value |= (septet & 0x7F) << bits
        bits += 7
        while bits >= 8:
            out.append(value & 0xFF)
            value >>= 8
            bits -= 8
    if bits == 1:
        value |= CR << 1
    if bits:
        out.append(value & 0xFF)
    return bytes(out)


def encode_message(
    text: str,
    encoding: str,
    *,
    flash: bool = False,
    destination_port: int | None = None,
    long_messages: str = "udh",
    gsm_packed: bool = False,
    latin1: bool = False,
    reference: int = 0,
) -> WireMessage:
    """The data_coding and segments of one message as planned (`encoding` "GSM-7" or "UCS-2", see the module
    docstring). `reference` numbers the concatenated parts (its low 8 bits in the UDH, 16 bits in SAR)."""
    if long_messages not in LONG_MESSAGE_MODES:
        raise ValueError(f"long_messages must be one of {', '.join(LONG_MESSAGE_MODES)}")
    if encoding not in (sms.GSM7, sms.UCS2):
        raise ValueError(f"unknown encoding {encoding!r}")
    gsm = encoding == sms.GSM7
    port_bytes = sms.PORT_IE_BYTES if destination_port is not None else 0
    if gsm:
        data_coding = DC_GSM_FLASH if flash else DC_GSM
        units = [gsm_septets(char) for char in text]
        single, multi = (sms.part_capacity(sms.GSM7, multipart, port_bytes) for multipart in (False, True))
    elif latin1 and not flash and _is_latin1(text):
        data_coding = DC_LATIN1
        units = [[octet] for octet in text.encode("latin-1")]
        single, multi = (sms.USER_DATA_OCTETS - _header_octets(port_bytes, multipart) for multipart in (False, True))
    else:
        data_coding = DC_UCS2_FLASH if flash else DC_UCS2
        units = [list(char.encode("utf-16-be")) for char in text]
        single, multi = (2 * sms.part_capacity(sms.UCS2, multipart, port_bytes) for multipart in (False, True))
    tlv_port = destination_port if long_messages != "udh" else None
    packed = gsm and gsm_packed
    if long_messages == "payload":
        flat = [unit for char in units for unit in char]
        payload = pack_septets(flat) if packed else bytes(flat)
        return WireMessage(data_coding, (Segment(b"", 0),), payload, tlv_port)
    chunks = _split(units, single, multi)
    segments = tuple(
        _segment(chunk, sequence, len(chunks), long_messages, destination_port, reference, packed)
        for sequence, chunk in enumerate(chunks, start=1)
    )
    return WireMessage(data_coding, segments, None, tlv_port)


def _header_octets(port_bytes: int, multipart: bool) -> int:
    elements = port_bytes + (sms.CONCAT_IE_BYTES if multipart else 0)
    return sms.UDH_LENGTH_BYTES + elements if elements else 0


def _split(units: list[list[int]], single: int, multi: int) -> list[list[int]]:
    """Per-character unit lists in parts: one part of up to `single` units, else parts of up to `multi`, never
    splitting a character (the planner's rule, `campaigns.encoding`)."""
    if sum(len(unit) for unit in units) <= single:
        return [[u for unit in units for u in unit]]
    parts, current = [], []
    for unit in units:
        if len(current) + len(unit) > multi:
            parts.append(current)
            current = []
        current += unit
    parts.append(current)
    if len(parts) > MAX_SEGMENTS:
        raise ValueError(f"{len(parts)} parts: at most {MAX_SEGMENTS} can be concatenated")
    return parts


def _segment(
    chunk: list[int], sequence: int, total: int, mode: str, port: int | None, reference: int, packed: bool
) -> Segment:
    elements, sar = b"", None
    if mode == "udh":
        if port is not None:
            elements += b"\x05\x04" + port.to_bytes(2, "big") + b"\x00\x00"
        if total > 1:
            elements += bytes([0x00, 0x03, reference & 0xFF, total, sequence])
    elif total > 1:
        sar = (reference & 0xFFFF, total, sequence)
    header = bytes([len(elements)]) + elements if elements else b""
    body = pack_septets(chunk, (7 - len(header) * 8 % 7) % 7) if packed else bytes(chunk)
    return Segment(header + body, UDHI if header else 0, sar)


def _is_latin1(text: str) -> bool:
    try:
        text.encode("latin-1")
    except UnicodeEncodeError:
        return False
    return True


def decode_short_message(data: bytes, data_coding: int, *, has_udh: bool) -> DecodedText:
    """The text of an inbound short message (or receipt), and its concatenation element if any (8- or 16-bit
    reference). GSM 03.38 is read unpacked, as SMPP carries it; IA5 (1) is ASCII; octet data is read as
    Latin-1; an unknown data_coding as UTF-8 with replacement."""
    concat = None
    if has_udh and data:
        length = data[0]
        concat = _concat_of(data[1 : 1 + length])
        data = data[1 + length :]
    codec = _codec(data_coding)
    if codec == "gsm":
        return DecodedText(gsm_text(data), concat)
    return DecodedText(data.decode(codec, "replace"), concat)


def _codec(data_coding: int) -> str:
    if data_coding <= 0x0F:
        return _SMPP_CODECS.get(data_coding, "utf-8")
    group = data_coding >> 4
    if group <= 0x3:  # general data coding (0x20: compressed, read as octets)
        return "latin-1" if data_coding & 0x20 else _GSM_DCS_ALPHABETS[(data_coding >> 2) & 0x3]
    if group in (0xC, 0xD):  # message waiting indication, GSM 7-bit
        return "gsm"
    if group == 0xE:  # message waiting indication, UCS-2
        return "utf-16-be"
    if group == 0xF:  # data coding / message class: 7-bit or 8-bit
        return "latin-1" if data_coding & 0x04 else "gsm"
    return "utf-8"


def gsm_text(data: bytes) -> str:
    """Unpacked GSM 03.38 octets as text: an ESC pair as its extension character, an ESC before a code the
    extension table lacks as that code's basic character, ESC ESC as a space (§6.2.1.1)."""
    out, escaped = [], False
    for octet in data:
        code = octet & 0x7F
        if escaped:
            out.append(" " if code == ESC else _GSM_EXTENSION_CHAR.get(code) or _GSM_CHAR[code])
            escaped = False
        elif code == ESC:
            escaped = True
        else:
            out.append(_GSM_CHAR[code])
    return "".join(out)


def _concat_of(header: bytes) -> tuple[int, int, int] | None:
    index = 0
    while index + 2 <= len(header):
        element, length = header[index], header[index + 1]
        value = header[index + 2 : index + 2 + length]
        if element == 0x00 and length == 3 and len(value) == 3:
            return value[0], value[1], value[2]
        if element == 0x08 and length == 4 and len(value) == 4:
            return int.from_bytes(value[:2], "big"), value[2], value[3]
        index += 2 + length
    return None
