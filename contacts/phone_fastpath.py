"""The common case of `contacts.phones` without phonenumbers' generic parsing: the same answer, several times faster.

A spreadsheet's phone cell is nearly always plain: digits with spaces, dashes, dots or brackets, and at most a
leading ``+``. For such text `phonenumbers.parse` → `region_code_for_number` → `number_type` spends most of its
time on what plain text cannot contain (letters, extensions, RFC 3966 URIs, Unicode digits) and on compiling the
same patterns again through `re`'s cache. `classify` repeats the steps of those three functions that plain text
does reach, in their order and on phonenumbers' own metadata (its patterns precompiled once per region), so its
answer is theirs; `tests/contacts/test_phone_fastpath.py` checks that on every region's example numbers in every
format against phonenumbers itself.

`classify(text, region)` returns a `Plain` (valid: E.164, region, type), `INVALID` (phonenumbers parses the text
but the number is not valid), or None when the text is not plain or parsing would fail: the caller then asks
phonenumbers, which also words the reason of an invalid number.
"""

from __future__ import annotations

import re
from typing import NamedTuple

from phonenumbers import COUNTRY_CODE_TO_REGION_CODE, SUPPORTED_REGIONS, PhoneMetadata, PhoneNumberType

__all__ = ["INVALID", "Plain", "classify"]

INVALID = "invalid"
_PLAIN = re.compile(r"\+?[0-9 ().\-]*[0-9][0-9 ().\-]*")
_SEPARATORS = str.maketrans("", "", " ().-")
_MIN_DIGITS = 4  # shorter text has edge cases of its own (phonenumbers' viability rule): left to phonenumbers
_MAX_NSN = 17
_MAX_TEXT = 250
_MAX_COUNTRY_CODE_DIGITS = 3
_NON_GEO = "001"
# ValidationResult values of `phonenumbers` (kept as numbers: this module compares them on every call)
_IS_POSSIBLE, _LOCAL_ONLY, _TOO_SHORT, _INVALID_LENGTH, _TOO_LONG = 0, 1, 3, 4, 5


class Plain(NamedTuple):
    e164: str
    region: str
    number_type: int


class _Desc(NamedTuple):
    """A PhoneNumberDesc: its possible lengths (empty: any) and its pattern's fullmatch (None: matches nothing)."""

    lengths: frozenset
    fullmatch: object

    def matches(self, number: str) -> bool:
        if self.fullmatch is None or (self.lengths and len(number) not in self.lengths):
            return False
        return self.fullmatch(number) is not None


_NO_DESC = _Desc(frozenset(), None)
# The order of `phonenumbers.phonenumberutil._number_type_helper`, before fixed line and mobile.
_SPECIAL_TYPES = (
    ("premium_rate", PhoneNumberType.PREMIUM_RATE),
    ("toll_free", PhoneNumberType.TOLL_FREE),
    ("shared_cost", PhoneNumberType.SHARED_COST),
    ("voip", PhoneNumberType.VOIP),
    ("personal_number", PhoneNumberType.PERSONAL_NUMBER),
    ("pager", PhoneNumberType.PAGER),
    ("uan", PhoneNumberType.UAN),
    ("voicemail", PhoneNumberType.VOICEMAIL),
)


def _desc(number_desc) -> _Desc:
    if number_desc is None:
        return _NO_DESC
    pattern = number_desc.national_number_pattern
    return _Desc(frozenset(number_desc.possible_length), re.compile(pattern).fullmatch if pattern else None)


def _compiled(pattern: str | None):
    return re.compile(pattern) if pattern else None


class _Region:
    """One region's metadata, with the patterns compiled."""

    def __init__(self, metadata):
        self.country_code = metadata.country_code
        self.country_code_text = str(metadata.country_code)
        self.international_prefix = _compiled(metadata.international_prefix)
        self.national_prefix = _compiled(metadata.national_prefix_for_parsing)
        self.transform_rule = metadata.national_prefix_transform_rule
        general = metadata.general_desc
        self.general = _desc(general)
        self.lengths = sorted(general.possible_length) if general is not None else []
        self.local_lengths = frozenset(general.possible_length_local_only) if general is not None else frozenset()
        self.has_general = general is not None
        self.mobile = _desc(metadata.mobile)
        self.same_mobile_and_fixed_line = metadata.same_mobile_and_fixed_line_pattern
        self.leading_digits = _compiled(metadata.leading_digits)
        # The descriptions `number_type` tries, in its order, as (group name, type, PhoneNumberDesc).
        ordered = [(name, kind, getattr(metadata, name)) for name, kind in _SPECIAL_TYPES]
        ordered.append(("fixed_line", PhoneNumberType.FIXED_LINE, metadata.fixed_line))
        if not self.same_mobile_and_fixed_line:
            ordered.append(("mobile", PhoneNumberType.MOBILE, metadata.mobile))
        self.ordered = [(name, kind, desc) for name, kind, desc in ordered if desc and desc.national_number_pattern]
        self.by_length: dict[int, tuple] = {}

    def _types_of_length(self, size: int) -> tuple:
        """For numbers of `size` digits: the general description's fullmatch (None when it admits no such
        length), and one pattern that tries, in order, the type descriptions admitting `size` digits (an
        alternation full-matches with its first alternative that does), with the type of each alternative."""
        general = self.general.fullmatch
        if self.general.lengths and size not in self.general.lengths:
            general = None
        kinds, alternatives = {}, []
        for name, kind, desc in self.ordered:
            if not desc.possible_length or size in desc.possible_length:
                kinds[name] = kind
                alternatives.append(f"(?P<{name}>{desc.national_number_pattern})")
        pattern = re.compile("|".join(alternatives)).fullmatch if alternatives else None
        self.by_length[size] = (general, pattern, kinds)
        return self.by_length[size]

    def number_type(self, number: str) -> int:
        """`_number_type_helper`."""
        general, pattern, kinds = self.by_length.get(len(number)) or self._types_of_length(len(number))
        if general is None or pattern is None or general(number) is None:
            return PhoneNumberType.UNKNOWN
        match = pattern(number)
        if match is None:
            return PhoneNumberType.UNKNOWN
        kind = kinds[match.lastgroup]
        if kind == PhoneNumberType.FIXED_LINE and (self.same_mobile_and_fixed_line or self.mobile.matches(number)):
            return PhoneNumberType.FIXED_LINE_OR_MOBILE
        return kind

    def length_check(self, number: str) -> int:
        """`_test_number_length` for an unknown type: against the general description's lengths."""
        if not self.has_general:
            return _INVALID_LENGTH
        size = len(number)
        if size in self.local_lengths:
            return _LOCAL_ONLY
        if self.lengths[0] == size:
            return _IS_POSSIBLE
        if self.lengths[0] > size:
            return _TOO_SHORT
        if self.lengths[-1] < size:
            return _TOO_LONG
        return _IS_POSSIBLE if size in self.lengths[1:] else _INVALID_LENGTH

    def strip_national_prefix(self, number: str) -> str:
        """`_maybe_strip_national_prefix_carrier_code`, without the carrier code."""
        if not number or self.national_prefix is None:
            return number
        match = self.national_prefix.match(number)
        if match is None:
            return number
        viable_original = self.general.fullmatch is not None and self.general.fullmatch(number) is not None
        groups = match.groups()
        if not self.transform_rule or groups[len(groups) - 1] is None:
            stripped = number[match.end() :]
        else:
            stripped = self.national_prefix.sub(self.transform_rule, number, count=1)
        if viable_original and not (self.general.fullmatch is not None and self.general.fullmatch(stripped)):
            return number
        return stripped


_REGIONS: dict[str, _Region | None] = {}
_CALLING_CODES = {str(code): code for code in COUNTRY_CODE_TO_REGION_CODE}


def _region(code: str) -> _Region | None:
    if code not in _REGIONS:
        metadata = PhoneMetadata.metadata_for_region(code, None)
        _REGIONS[code] = _Region(metadata) if metadata is not None else None
    return _REGIONS[code]


def _country_code(digits: str) -> tuple[int, str]:
    """`_extract_country_code`: (0, digits) when no calling code starts the digits."""
    if digits[0] == "0":
        return 0, digits
    for size in range(1, min(len(digits), _MAX_COUNTRY_CODE_DIGITS) + 1):
        code = _CALLING_CODES.get(digits[:size])
        if code is not None:
            return code, digits[size:]
    return 0, digits


def _without_idd(digits: str, default: _Region) -> str | None:
    """The digits after the default region's international prefix (`_parse_prefix_as_idd`), or None."""
    if default.international_prefix is None:
        return None
    match = default.international_prefix.match(digits)
    if match is None:
        return None
    rest = digits[match.end() :]
    if rest[:1] == "0":  # a prefix followed by 0 is not taken as one
        return None
    return rest


def _split(digits: str, plus: bool, default: _Region | None) -> tuple[int, str, _Region | None] | None:
    """(calling code, national number, the region whose national prefix applies) as `parse` finds them, or
    None where it raises or this path stops."""
    if not plus and default is not None:
        rest = _without_idd(digits, default)
        if rest is not None:
            digits, plus = rest, True
    if plus:
        if len(digits) <= 2:
            return None
        code, national = _country_code(digits)
        if not code:
            return None
        main = COUNTRY_CODE_TO_REGION_CODE[code][0]
        return (code, national, _region(main)) if main != _NON_GEO else None
    if default is None:
        return None
    prefix = default.country_code_text
    if digits.startswith(prefix):
        national = default.strip_national_prefix(digits[len(prefix) :])
        general = default.general.fullmatch
        only_valid_without = general is not None and general(digits) is None and general(national) is not None
        if only_valid_without or default.length_check(digits) == _TOO_LONG:
            main = COUNTRY_CODE_TO_REGION_CODE[default.country_code][0]
            return default.country_code, national, _region(main)
    return default.country_code, digits, default


def _region_of(code: int, national: str) -> str | None:
    """`region_code_for_number`."""
    regions = COUNTRY_CODE_TO_REGION_CODE.get(code)
    if not regions:
        return None
    if len(regions) == 1:
        return regions[0]
    for name in regions:
        region = _region(name.upper())
        if region is None:
            continue
        if region.leading_digits is not None:
            if region.leading_digits.match(national):
                return name
        elif region.number_type(national) != PhoneNumberType.UNKNOWN:
            return name
    return None


def classify(text: str, region: str | None) -> Plain | str | None:
    """What phonenumbers makes of plain `text` with default `region` (upper case): see the module docstring."""
    if len(text) > _MAX_TEXT or _PLAIN.fullmatch(text) is None:
        return None
    digits = text.translate(_SEPARATORS)
    plus = digits[0] == "+"
    if plus:
        digits = digits[1:]
    if len(digits) < _MIN_DIGITS:
        return None
    default = None
    if region is not None:
        if region not in SUPPORTED_REGIONS:
            return None
        default = _region(region)
        if default is None:
            return None
    elif not plus:
        return None
    split = _split(digits, plus, default)
    if split is None or split[2] is None or len(split[1]) < 2:
        return None
    code, national, metadata = split
    stripped = metadata.strip_national_prefix(national)
    if metadata.length_check(stripped) not in (_TOO_SHORT, _LOCAL_ONLY, _INVALID_LENGTH):
        national = stripped
    if not 2 <= len(national) <= _MAX_NSN:
        return None
    name = _region_of(code, national)
    if name is None:
        return INVALID
    kind = _region(name).number_type(national)
    if kind == PhoneNumberType.UNKNOWN:
        return INVALID
    return Plain(f"+{code}{national}", name, kind)
