"""What a message becomes in submit_sm: data_coding, and its segments with their user data headers.

The split follows `campaigns.encoding` exactly (the parts the customer paid for): GSM-7 160/153 septets, UCS-2
70/67 units, both less the 16-bit port element when the message has a destination port; an escape pair or a
surrogate pair never straddles two segments. Long messages go as UDH concatenation (default), SAR TLVs, or one
`message_payload`. GSM-7 is sent unpacked (one septet per octet, the SMPP norm) unless `gsm_packed`.
"""

from dataclasses import dataclass

from campaigns import encoding as sms

DC_GSM, DC_LATIN1, DC_BINARY, DC_UCS2 = 0x00, 0x03, 0x04, 0x08
DC_GSM_FLASH, DC_UCS2_FLASH = 0x10, 0x18  # general data coding, message class 0
ESC = 0x1B
UDHI = 0x40
_GSM_CODE = {char: code if code < ESC else code + 1 for code, char in enumerate(sms.GSM_BASIC)}
_GSM_EXTENSION_CODE = {"\f": 0x0A, "^": 0x14, "{": 0x28, "}": 0x29, "\\": 0x2F, "[": 0x3C, "~": 0x3D, "]": 0x3E}
_GSM_EXTENSION_CODE |= {"|": 0x40, "€": 0x65}
_GSM_CHAR = {code: char for char, code in _GSM_CODE.items()}
_GSM_EXTENSION_CHAR = {code: char for char, code in _GSM_EXTENSION_CODE.items()}


@dataclass(frozen=True)
class Segment:
    short_message: bytes
    esm_class: int
    sar: tuple[int, int, int] | None = None  # reference, total, sequence


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
            codes.append(_GSM_CODE.get(char, _GSM_CODE["?"]))
    return codes


def pack_septets(septets: list[int], fill_bits: int = 0) -> bytes:
    """Septets packed into octets (GSM 03.38 §6.1.2.1.1), after `fill_bits` zero bits (alignment after a UDH)."""
    value, bits, out = 0, fill_bits, bytearray()
    for septet in septets:
        value |= (septet & 0x7F) << bits
        bits += 7
        while bits >= 8:
            out.append(value & 0xFF)
            value >>= 8
            bits -= 8
    if bits:
        out.append(value & 0xFF)
    return bytes(out)


def _chunks(units: list[list[int]], capacity: int) -> list[list[int]]:
    """Group per-character unit lists into parts of at most `capacity` units, never splitting a character."""
    parts, current = [], []
    for unit in units:
        if len(current) + len(unit) > capacity:
            parts.append(current)
            current = []
        current += unit
    if current or not parts:
        parts.append(current)
    return parts


def _gsm_units(text: str) -> list[list[int]]:
    return [gsm_septets(char) for char in text]


def _ucs2_units(text: str) -> list[list[int]]:
    return [list(char.encode("utf-16-be")) for char in text]


def _udh(elements: list[bytes]) -> bytes:
    body = b"".join(elements)
    return bytes([len(body)]) + body if body else b""


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
    """The data_coding and segments of one message (see the module docstring)."""
    gsm = encoding == sms.GSM7
    if not gsm and latin1 and not flash and _is_latin1(text):
        return _latin1_message(text, destination_port, long_messages, reference)
    data_coding = (DC_GSM_FLASH if flash else DC_GSM) if gsm else (DC_UCS2_FLASH if flash else DC_UCS2)
    units = _gsm_units(text) if gsm else _ucs2_units(text)
    port_in_udh = destination_port is not None and long_messages == "udh"
    tlv_port = destination_port if destination_port is not None and not port_in_udh else None
    if long_messages == "payload":
        flat = [u for unit in units for u in unit]
        payload = pack_septets(flat) if gsm and gsm_packed else bytes(flat)
        return WireMessage(data_coding, (Segment(b"", 0),), payload, tlv_port)
    port_bytes = sms.PORT_IE_BYTES if port_in_udh else 0
    analysis = sms.analyze(sms.to_gsm_lossy(text) if gsm else text, udh_bytes=port_bytes, force_ucs2=not gsm)
    width = 1 if gsm else 2
    capacity = analysis.per_part * width
    chunks = _chunks(units, capacity)
    total = len(chunks)
    port_element = [b"\x05\x04" + destination_port.to_bytes(2, "big") + b"\x00\x00"] if port_in_udh else []
    segments = []
    for sequence, chunk in enumerate(chunks, start=1):
        elements = list(port_element)
        sar = None
        if total > 1 and long_messages == "udh":
            elements.append(bytes([0x00, 0x03, reference & 0xFF, total, sequence]))
        elif total > 1:
            sar = (reference & 0xFFFF, total, sequence)
        header = _udh(elements)
        if gsm and gsm_packed:
            fill = (7 - (len(header) * 8) % 7) % 7 if header else 0
            body = pack_septets(chunk, fill)
        else:
            body = bytes(chunk)
        segments.append(Segment(header + body, UDHI if header else 0, sar))
    return WireMessage(data_coding, tuple(segments), None, tlv_port)


def _is_latin1(text: str) -> bool:
    try:
        text.encode("latin-1")
    except UnicodeEncodeError:
        return False
    return True


def _latin1_message(text: str, port: int | None, long_messages: str, reference: int) -> WireMessage:
    """data_coding 3: one octet per character, 140 in one segment, 134 per segment when concatenated."""
    raw = text.encode("latin-1")
    if long_messages == "payload":
        return WireMessage(DC_LATIN1, (Segment(b"", 0),), raw, port)
    port_in_udh = port is not None and long_messages == "udh"
    port_element = [b"\x05\x04" + port.to_bytes(2, "big") + b"\x00\x00"] if port_in_udh else []
    tlv_port = port if port is not None and not port_in_udh else None
    room = sms.USER_DATA_OCTETS - (len(_udh(port_element)))
    if len(raw) <= room:
        header = _udh(port_element)
        return WireMessage(DC_LATIN1, (Segment(header + raw, UDHI if header else 0),), None, tlv_port)
    concat_element = [bytes(sms.CONCAT_IE_BYTES)] if long_messages == "udh" else []
    per_part = sms.USER_DATA_OCTETS - len(_udh([*port_element, *concat_element]))
    chunks = [raw[i : i + per_part] for i in range(0, len(raw), per_part)]
    segments = []
    for sequence, chunk in enumerate(chunks, start=1):
        elements = list(port_element)
        sar = None
        if long_messages == "udh":
            elements.append(bytes([0x00, 0x03, reference & 0xFF, len(chunks), sequence]))
        else:
            sar = (reference & 0xFFFF, len(chunks), sequence)
        header = _udh(elements)
        segments.append(Segment(header + chunk, UDHI if header else 0, sar))
    return WireMessage(DC_LATIN1, tuple(segments), None, tlv_port)


def decode_short_message(data: bytes, data_coding: int, *, has_udh: bool) -> DecodedText:
    """The text of an inbound short message (or receipt), and its concatenation element if any."""
    concat = None
    if has_udh and data:
        length = data[0]
        concat = _concat_of(data[1 : 1 + length])
        data = data[1 + length :]
    scheme = data_coding & 0x0F if data_coding & 0xF0 in (0x10, 0xF0) else data_coding
    if data_coding & 0xF0 == 0x10:
        scheme = {0x00: DC_GSM, 0x04: DC_BINARY, 0x08: DC_UCS2}.get(data_coding & 0x0C, DC_GSM)
    if scheme in (DC_GSM, 0x01):
        return DecodedText(gsm_text(data), concat)
    if scheme == DC_UCS2:
        return DecodedText(data.decode("utf-16-be", "replace"), concat)
    if scheme in (DC_LATIN1, DC_BINARY):
        return DecodedText(data.decode("latin-1"), concat)
    return DecodedText(data.decode("utf-8", "replace"), concat)


def gsm_text(data: bytes) -> str:
    """Unpacked GSM 03.38 octets as text (an ESC pair as its extension character)."""
    out, escaped = [], False
    for code in data:
        if escaped:
            out.append(_GSM_EXTENSION_CHAR.get(code, " "))
            escaped = False
        elif code == ESC:
            escaped = True
        else:
            out.append(_GSM_CHAR.get(code & 0x7F, "?"))
    return "".join(out)


def _concat_of(header: bytes) -> tuple[int, int, int] | None:
    index = 0
    while index + 2 <= len(header):
        element, length = header[index], header[index + 1]
        value = header[index + 2 : index + 2 + length]
        if element == 0x00 and length == 3:
            return value[0], value[1], value[2]
        if element == 0x08 and length == 4:
            return int.from_bytes(value[:2], "big"), value[2], value[3]
        index += 2 + length
    return None
