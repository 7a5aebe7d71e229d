"""SMS encoding and length: GSM 03.38 (7-bit septets) or UCS-2, and how many parts a text needs.

GSM-7: basic set characters take 1 septet, extension set characters (`^ { } \\ [ ~ ] | €` and form feed) take 2;
one part holds 160 septets, each part of a multipart message 153. Anything outside GSM makes the message UCS-2:
70 units in one part, 67 per part when split; characters outside the Basic Multilingual Plane (emoji) take 2 units.
An escape pair (GSM) or a surrogate pair (UCS-2) is never split across two parts.

Those capacities are what remains of 140 octets after the user data header (UDH): none for a single part,
6 octets (length byte + 5-octet concatenation element) per part of a multipart message. Another information
element (`udh_bytes`, e.g. PORT_IE_BYTES for a 16-bit application port) shrinks every part, even a single one:
capacity = (140 - UDH octets) * 8 // 7 septets, or (140 - UDH octets) // 2 UCS-2 units. With a port: GSM-7
152 / 146, UCS-2 66 / 64.
"""

import re
from dataclasses import dataclass

GSM_BASIC = (
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM_EXTENSION = "\f^{}\\[~]|€"
GSM_CHARACTERS = frozenset(GSM_BASIC + GSM_EXTENSION)

GSM7, UCS2 = "GSM-7", "UCS-2"
USER_DATA_OCTETS = 140
UDH_LENGTH_BYTES = 1  # UDHL, present whenever there is a header
CONCAT_IE_BYTES = 5  # IEI 0x00, length 3, reference, total, sequence
PORT_IE_BYTES = 6  # IEI 0x05, length 4, destination port, origin port (16-bit application port addressing)


def part_capacity(encoding: str, multipart: bool, udh_bytes: int = 0) -> int:
    """Septets (GSM-7) or UTF-16 units (UCS-2) one part holds, with `udh_bytes` of information elements
    besides the concatenation element (which a multipart message adds)."""
    elements = udh_bytes + (CONCAT_IE_BYTES if multipart else 0)
    octets = USER_DATA_OCTETS - (UDH_LENGTH_BYTES + elements if elements else 0)
    return octets * 8 // 7 if encoding == GSM7 else octets // 2


MAX_PORT = 65535
PORT_ERROR = "Give the port as a whole number from 0 to 65535, or leave it empty."


def parse_port(value) -> int | None:
    """A destination application port from a client: a whole number 0-65535, as a number or ASCII digits (the
    BICS seed sends it as a string, "3908"); None or "" for no port. Anything else raises ValueError(PORT_ERROR)."""
    text = "" if value is None else str(value).strip()
    if text == "":
        return None
    if isinstance(value, bool) or not (text.isascii() and text.isdigit()) or int(text) > MAX_PORT:
        raise ValueError(PORT_ERROR)
    return int(text)


GSM_SINGLE_PART, GSM_MULTI_PART = part_capacity(GSM7, False), part_capacity(GSM7, True)
UCS2_SINGLE_PART, UCS2_MULTI_PART = part_capacity(UCS2, False), part_capacity(UCS2, True)

_NON_GSM = re.compile("[^" + re.escape(GSM_BASIC + GSM_EXTENSION) + "]")
_EXTENSION = re.compile("[" + re.escape(GSM_EXTENSION) + "]")
_ASTRAL = re.compile("[\U00010000-\U0010ffff]")


@dataclass(slots=True)
class SmsEncoding:
    encoding: str
    characters: int
    units: int
    parts: int
    per_part: int

    @property
    def is_unicode(self) -> bool:
        return self.encoding == UCS2

    @property
    def remaining(self) -> int:
        """Units still free in the last part (0 for an empty text)."""
        return self.parts * self.per_part - self.units if self.parts else 0


def is_gsm(text: str) -> bool:
    return _NON_GSM.search(text) is None


def analyze(text: str, udh_bytes: int = 0, force_ucs2: bool = False) -> SmsEncoding:
    """Encoding, character count, units (septets or UTF-16 units), parts and capacity of each part.
    `udh_bytes`: information elements the message carries besides concatenation (PORT_IE_BYTES for a port);
    `force_ucs2`: UCS-2 even when GSM-7 would do (send type U)."""
    characters = len(text)
    if not force_ucs2 and _NON_GSM.search(text) is None:
        return _sized(GSM7, text, characters + len(_EXTENSION.findall(text)), _EXTENSION, udh_bytes)
    astral = 0 if text.isascii() else len(_ASTRAL.findall(text))
    return _sized(UCS2, text, characters + astral, _ASTRAL, udh_bytes)


def _sized(encoding: str, text: str, units: int, wide: re.Pattern, udh_bytes: int) -> SmsEncoding:
    """Parts of a text of `units` units, whose `wide` characters take 2 units and stay in one part."""
    single = part_capacity(encoding, False, udh_bytes)
    if units <= single:
        return SmsEncoding(encoding, len(text), units, 1 if units else 0, single)
    capacity = part_capacity(encoding, True, udh_bytes)
    parts = _split_count(text, capacity, wide) if units > len(text) else -(-units // capacity)
    return SmsEncoding(encoding, len(text), units, parts, capacity)


def _split_count(text: str, capacity: int, wide: re.Pattern) -> int:
    """Parts needed when 2-unit characters may not straddle a part boundary."""
    parts, used = 1, 0
    for char in text:
        size = 2 if wide.match(char) else 1
        if used + size > capacity:
            parts += 1
            used = 0
        used += size
    return parts


def non_gsm_characters(text: str) -> list[str]:
    """The distinct characters that force UCS-2, in order of appearance."""
    return list(dict.fromkeys(_NON_GSM.findall(text)))


def to_gsm_lossy(text: str) -> str:
    """The text with every character outside GSM 03.38 replaced by `?` (send type N)."""
    return _NON_GSM.sub("?", text)
