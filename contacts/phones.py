"""Phone number normalisation to E.164 (rules.md, "Phone numbers").

`normalize_msisdn` parses one value in this order and keeps the first valid result:

1. the text as given, with the account's default country (``+91 98…``, ``098…``, ``0091…``, ``(415) 555-…``);
2. when that fails and the value is 11 to 15 digits without ``+``: the same digits with a leading ``+``
   (spreadsheets drop the ``+`` of ``+447400123456``);

Plain text (digits and separators) takes `contacts.phone_fastpath`, which gives phonenumbers' answer for it
several times faster; everything else, and the reason of an invalid number, comes from phonenumbers itself.

Two refusals are this product's own, since neither value is a number an SMS can be sent to: a number with an
extension (``ext. 12``, ``x12``, ``#12``, ``, 12``, ``;ext=12``, as phonenumbers finds them) is `EXTENSION`, and
any other text with a letter (of any script) and a digit is `LETTERS`. phonenumbers would read the letters as
keypad digits, so the masked ``+91987654XXXX`` that exports of `mobile_secure` accounts hold would become
``+919876549999``, and ``+1-800-FLOWERS`` ``+18003569377``. Text without a digit stays "not a number". Plain
text has no letters, so the fast path needs no check; the check costs only the rest.

Numbers that arrive as floats (``9.19876543210e11``, ``919876543210.0``, or a Python float from a
spreadsheet reader) are turned into their integer digits first; a float that has lost digits is an error.
Unicode digits (Arabic-Indic, full-width, …) are normalised to ASCII before parsing.

`normalize_many` does the same for a large list, de-duplicated and spread over processes in chunks.
"""

from __future__ import annotations

import multiprocessing
import re
import unicodedata
from collections.abc import Iterable, Sequence
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from typing import NamedTuple

import phonenumbers
from phonenumbers import NumberParseException, PhoneNumberType, ValidationResult

from contacts.phone_fastpath import INVALID, Plain, classify

__all__ = [
    "EXTENSION",
    "LETTERS",
    "PhoneNumberError",
    "PhoneResult",
    "check_msisdn",
    "normalize_many",
    "normalize_msisdn",
]

CACHE_SIZE = 100_000
DEFAULT_CHUNK_SIZE = 20_000

NUMBER_TYPES: dict[int, str] = {
    PhoneNumberType.FIXED_LINE: "fixed_line",
    PhoneNumberType.MOBILE: "mobile",
    PhoneNumberType.FIXED_LINE_OR_MOBILE: "fixed_line_or_mobile",
    PhoneNumberType.TOLL_FREE: "toll_free",
    PhoneNumberType.PREMIUM_RATE: "premium_rate",
    PhoneNumberType.SHARED_COST: "shared_cost",
    PhoneNumberType.VOIP: "voip",
    PhoneNumberType.PERSONAL_NUMBER: "personal_number",
    PhoneNumberType.PAGER: "pager",
    PhoneNumberType.UAN: "uan",
    PhoneNumberType.VOICEMAIL: "voicemail",
    PhoneNumberType.UNKNOWN: "unknown",
}

_PARSE_ERRORS: dict[int, str] = {
    NumberParseException.INVALID_COUNTRY_CODE: "invalid country code",
    NumberParseException.NOT_A_NUMBER: "not a number",
    NumberParseException.TOO_SHORT_AFTER_IDD: "too short after the international prefix",
    NumberParseException.TOO_SHORT_NSN: "too short",
    NumberParseException.TOO_LONG: "too long",
}

_LENGTH_REASONS: dict[int, str] = {
    ValidationResult.TOO_SHORT: "too short",
    ValidationResult.TOO_LONG: "too long",
    ValidationResult.INVALID_LENGTH: "invalid length",
    ValidationResult.INVALID_COUNTRY_CODE: "invalid country code",
}

_BARE_DIGITS = re.compile(r"\d{11,15}")
_FLOAT_TEXT = re.compile(r"(?P<int>\d+)(?:\.(?P<frac>\d*))?(?:[eE](?P<exp>[+-]?\d+))?")
_SEPARATORS = re.compile(r"[\s\-().\u00a0/]")
_LETTER = re.compile(r"[^\W\d_]")  # any Unicode letter
_DIGIT = re.compile(r"\d")

LETTERS = "contains letters (a masked number?)"
EXTENSION = "has an extension (an SMS recipient cannot have one)"


class PhoneNumberError(ValueError):
    """The value is not a usable phone number; `reason` says why (e.g. "too short for IN")."""

    def __init__(self, reason: str, value: object = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.value = value


class PhoneResult(NamedTuple):
    """Outcome of normalising one number. `e164` is set when valid; `reason` says why not otherwise. (A named
    tuple: imports make a million of them, and pass them between processes as plain tuples.)"""

    e164: str | None
    country: str | None = None
    number_type: str | None = None
    valid: bool = False
    reason: str = ""


def normalize_msisdn(value: object, default_country: str | None) -> PhoneResult:
    """The E.164 form, country and number type of `value`; raises PhoneNumberError with the reason when invalid."""
    result = _normalize_text(_as_text(value), _region(default_country))
    if not result.valid:
        raise PhoneNumberError(result.reason, value)
    return result


def check_msisdn(value: object, default_country: str | None) -> PhoneResult:
    """Like `normalize_msisdn`, but an invalid number is returned with `valid=False` and the reason."""
    try:
        text = _as_text(value)
    except PhoneNumberError as exc:
        return PhoneResult(e164=None, reason=exc.reason)
    return _normalize_text(text, _region(default_country))


def normalize_many(
    values: Sequence[object],
    default_country: str | None,
    *,
    processes: int = 1,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
) -> list[PhoneResult]:
    """`check_msisdn` for every value, in order. Distinct values are parsed once, over `processes` processes."""
    distinct = list(dict.fromkeys(_cache_key(v) for v in values))
    region = _region(default_country)
    if processes > 1 and len(distinct) > chunk_size and not multiprocessing.current_process().daemon:
        chunks = [distinct[i : i + chunk_size] for i in range(0, len(distinct), chunk_size)]
        context = multiprocessing.get_context("forkserver")
        with context.Pool(processes=processes) as pool:
            parts = pool.starmap(_check_chunk_as_tuples, [(chunk, region) for chunk in chunks])
        results = [PhoneResult._make(item) for part in parts for item in part]
    else:
        results = _check_chunk(distinct, region)
    by_key = dict(zip(distinct, results, strict=True))
    return [by_key[_cache_key(v)] for v in values]


def _check_chunk(values: Iterable[object], region: str | None) -> list[PhoneResult]:
    return [check_msisdn(value, region) for value in values]


def _check_chunk_as_tuples(values: Iterable[object], region: str | None) -> list[tuple]:
    """`_check_chunk` in a worker process, as plain tuples (they pickle faster than named ones)."""
    return [tuple(result) for result in _check_chunk(values, region)]


def _cache_key(value: object) -> object:
    """Hashable stand-in for a value (None and unhashable values become text)."""
    if value is None or isinstance(value, str | int | float | Decimal):
        return value
    return str(value)


def _region(default_country: str | None) -> str | None:
    code = (default_country or "").strip().upper()
    return code or None


def _as_text(value: object) -> str:
    """The digits-and-symbols text to parse. Floats become integer digits; lost digits are an error."""
    if value is None:
        raise PhoneNumberError("not a number", value)
    if isinstance(value, bool):
        raise PhoneNumberError("not a number", value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float | Decimal):
        return _integral_digits(value)
    text = _ascii_digits(str(value)).strip()
    float_digits = _float_text_digits(text)
    return float_digits if float_digits is not None else text


def _integral_digits(number: float | Decimal) -> str:
    try:
        exact = Decimal(number) if isinstance(number, float) else number
        if not exact.is_finite() or exact != exact.to_integral_value():
            raise PhoneNumberError("not a whole number", number)
    except InvalidOperation:
        raise PhoneNumberError("not a number", number) from None
    if isinstance(number, float) and abs(number) >= 2**53:
        raise PhoneNumberError("a float that has lost digits", number)
    return str(int(exact))


def _float_text_digits(text: str) -> str | None:
    """Integer digits of spreadsheet float text ('9.19876543210e11', '919876543210.0'); None if not float text.

    Text with a non-zero fraction and no exponent ('9876.543210') is left to the phone parser (dots as separators).
    """
    match = _FLOAT_TEXT.fullmatch(text)
    if match is None or (match["exp"] is None and (match["frac"] is None or match["frac"].strip("0"))):
        return None
    whole, fraction, exponent = match["int"], match["frac"] or "", int(match["exp"] or 0)
    if exponent < 0:
        raise PhoneNumberError("not a whole number", text)
    if exponent < len(fraction):
        if fraction[exponent:].strip("0"):
            raise PhoneNumberError("not a whole number", text)
        return whole + fraction[:exponent]
    if exponent > len(fraction):
        raise PhoneNumberError("a float that has lost digits", text)
    return whole + fraction


def _ascii_digits(text: str) -> str:
    """NFKC-normalised text with every Unicode decimal digit replaced by its ASCII digit."""
    text = unicodedata.normalize("NFKC", text)
    if text.isascii():
        return text
    return "".join(str(unicodedata.decimal(ch)) if unicodedata.decimal(ch, None) is not None else ch for ch in text)


@lru_cache(maxsize=CACHE_SIZE)
def _normalize_text(text: str, region: str | None) -> PhoneResult:
    fast = classify(text, region)
    if isinstance(fast, Plain):
        return _plain_result(fast)
    digits = _SEPARATORS.sub("", text)
    lost_plus = not text.startswith("+") and _BARE_DIGITS.fullmatch(digits) is not None
    if fast == INVALID and lost_plus:
        second = classify("+" + digits, None)
        if isinstance(second, Plain):
            return _plain_result(second)
    first = _parse(text, region)
    if first.valid:
        return first
    if lost_plus:
        second = _parse("+" + digits, None)
        if second.valid:
            return second
    return first


def _plain_result(plain: Plain) -> PhoneResult:
    return PhoneResult(plain.e164, plain.region, NUMBER_TYPES[plain.number_type], True, "")


def _parse(text: str, region: str | None) -> PhoneResult:
    if not text:
        return PhoneResult(e164=None, reason="empty")
    try:
        number = phonenumbers.parse(text, region)
    except NumberParseException as exc:
        if _LETTER.search(text) and _DIGIT.search(text):
            return PhoneResult(e164=None, reason=LETTERS)
        reason = _PARSE_ERRORS.get(exc.error_type, "not a number")
        if region and exc.error_type in (NumberParseException.TOO_SHORT_NSN, NumberParseException.TOO_LONG):
            reason = f"{reason} for {region}"
        return PhoneResult(e164=None, reason=reason)
    if number.extension:
        return PhoneResult(e164=None, reason=EXTENSION)
    if _LETTER.search(text):
        return PhoneResult(e164=None, reason=LETTERS)
    country = phonenumbers.region_code_for_number(number)
    # One type lookup answers validity too: a number is valid exactly when its region is known and its type is not
    # UNKNOWN (that is what `is_valid_number` checks), so the costly pattern matching runs once per number.
    kind = phonenumbers.number_type(number) if country not in (None, "ZZ") else PhoneNumberType.UNKNOWN
    if country in (None, "ZZ"):
        country = phonenumbers.region_code_for_country_code(number.country_code)
        country = None if country in (None, "ZZ") else country
    if kind != PhoneNumberType.UNKNOWN:
        return PhoneResult(
            e164=f"+{number.country_code}{phonenumbers.national_significant_number(number)}",
            country=country,
            number_type=NUMBER_TYPES.get(kind, "unknown"),
            valid=True,
        )
    where = country or region or f"+{number.country_code}"
    possible = phonenumbers.is_possible_number_with_reason(number)
    if possible in _LENGTH_REASONS:
        reason = _LENGTH_REASONS[possible]
        if possible != ValidationResult.INVALID_COUNTRY_CODE:
            reason = f"{reason} for {where}"
        return PhoneResult(e164=None, country=country, reason=reason)
    return PhoneResult(e164=None, country=country, reason=f"not a valid number for {where}")
