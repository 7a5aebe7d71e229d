"""SMS encoding and length: GSM 03.38 (7-bit septets) or UCS-2, and how many parts a text needs.

GSM-7: basic set characters take 1 septet, extension set characters (`^ { } \\ [ ~ ] | €` and form feed) take 2;
one part holds 160 septets, each part of a multipart message 153. Anything outside GSM makes the message UCS-2:
70 units in one part, 67 per part when split; characters outside the Basic Multilingual Plane (emoji) take 2 units.
An escape pair (GSM) or a surrogate pair (UCS-2) is never split across two parts.
"""

import re
from dataclasses import dataclass

GSM_BASIC = (
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM_EXTENSION = "\f^{}\\[~]|€"
GSM_CHARACTERS = frozenset(GSM_BASIC + GSM_EXTENSION)

GSM_SINGLE_PART, GSM_MULTI_PART = 160, 153
UCS2_SINGLE_PART, UCS2_MULTI_PART = 70, 67
GSM7, UCS2 = "GSM-7", "UCS-2"

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


def analyze(text: str) -> SmsEncoding:
    """Encoding, character count, units (septets or UTF-16 units), parts and capacity of each part."""
    characters = len(text)
    if _NON_GSM.search(text) is None:
        wide = _EXTENSION.findall(text)
        units = characters + len(wide)
        if units <= GSM_SINGLE_PART:
            return SmsEncoding(GSM7, characters, units, 1 if units else 0, GSM_SINGLE_PART)
        parts = _split_count(text, GSM_MULTI_PART, _EXTENSION) if wide else -(-units // GSM_MULTI_PART)
        return SmsEncoding(GSM7, characters, units, parts, GSM_MULTI_PART)
    astral = 0 if text.isascii() else len(_ASTRAL.findall(text))
    units = characters + astral
    if units <= UCS2_SINGLE_PART:
        return SmsEncoding(UCS2, characters, units, 1, UCS2_SINGLE_PART)
    parts = _split_count(text, UCS2_MULTI_PART, _ASTRAL) if astral else -(-units // UCS2_MULTI_PART)
    return SmsEncoding(UCS2, characters, units, parts, UCS2_MULTI_PART)


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
