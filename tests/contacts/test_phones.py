"""Phone normalisation per rules.md "Phone numbers"."""

from decimal import Decimal

import pytest

from contacts.phones import (
    EXTENSION,
    LETTERS,
    PhoneNumberError,
    PhoneResult,
    check_msisdn,
    normalize_many,
    normalize_msisdn,
)


def _fullwidth(text: str) -> str:
    return "".join(chr(0xFF10 + int(ch)) if ch.isdigit() else ch for ch in text)


@pytest.mark.parametrize(
    ("value", "country", "expected"),
    [
        ("9876543210", "IN", "+919876543210"),  # national
        ("09876543210", "IN", "+919876543210"),  # national with trunk zero
        ("+91 98765 43210", "IN", "+919876543210"),  # international with spaces
        ("+91-98765-43210", "IN", "+919876543210"),  # dashes
        ("(415) 555-2671", "US", "+14155552671"),  # parentheses
        ("0091 98765 43210", "IN", "+919876543210"),  # 00 prefix
        ("00447400123456", "IN", "+447400123456"),  # 00 prefix, other country
        ("07400 123456", "GB", "+447400123456"),  # leading zero national
        ("+447400123456", "IN", "+447400123456"),  # international, not the default country
        ("447400123456", "IN", "+447400123456"),  # spreadsheet dropped the +
        (447400123456, "IN", "+447400123456"),  # as an integer cell
        ("9.19876543210e11", "IN", "+919876543210"),  # Excel-style float text
        ("9.19876543210E+11", "IN", "+919876543210"),
        ("919876543210.0", "IN", "+919876543210"),
        (919876543210.0, "IN", "+919876543210"),  # a float from a spreadsheet reader
        (9.19876543210e11, "IN", "+919876543210"),
        (Decimal("919876543210"), "IN", "+919876543210"),
        ("٩٨٧٦٥٤٣٢١٠", "IN", "+919876543210"),  # Arabic-Indic digits
        (_fullwidth("9876543210"), "IN", "+919876543210"),  # full-width digits
        ("\uff0b" + _fullwidth("91 98765 43210"), "IN", "+919876543210"),  # full-width plus
        ("  +91 98765 43210  ", "in", "+919876543210"),  # lower-case country, padding
    ],
)
def test_valid_numbers_become_e164(value, country, expected):
    assert normalize_msisdn(value, country).e164 == expected


def test_result_carries_country_type_and_validity():
    mobile = normalize_msisdn("+91 98765 43210", "IN")
    assert mobile == PhoneResult(e164="+919876543210", country="IN", number_type="mobile", valid=True, reason="")
    fixed = normalize_msisdn("+91 22 2345 6789", "IN")
    assert (fixed.country, fixed.number_type) == ("IN", "fixed_line")
    us = normalize_msisdn("(415) 555-2671", "US")
    assert (us.country, us.number_type) == ("US", "fixed_line_or_mobile")
    gb = normalize_msisdn("447400123456", "IN")
    assert (gb.country, gb.number_type) == ("GB", "mobile")


@pytest.mark.parametrize(
    ("value", "country", "reason"),
    [
        ("98765", "IN", "too short for IN"),
        ("+91 98765", "US", "too short for IN"),
        ("+91 1234567890123456", "IN", "too long for IN"),
        ("hello", "IN", "not a number"),
        ("", "IN", "empty"),
        (None, "IN", "not a number"),
        ("+999 1234567", "IN", "invalid country code"),
        ("9876543210", "US", "not a valid number for US"),  # an Indian mobile typed without +91 under US: wrong region
        ("1111111111", "IN", "not a valid number for IN"),
        ("9.19877E+11", "IN", "a float that has lost digits"),  # Excel display format: digits gone
        (9.1987654321e20, "IN", "a float that has lost digits"),
        (919876543210.5, "IN", "not a whole number"),
        ("919876543210.5e0", "IN", "not a whole number"),
        (True, "IN", "not a number"),
    ],
)
def test_invalid_numbers_raise_with_reason(value, country, reason):
    with pytest.raises(PhoneNumberError) as caught:
        normalize_msisdn(value, country)
    assert caught.value.reason == reason
    assert str(caught.value) == reason


def test_eleven_to_fifteen_bare_digits_only_get_a_plus_when_the_national_reading_fails():
    # 11 digits that are a valid national number keep the national reading
    assert normalize_msisdn("09876543210", "IN").e164 == "+919876543210"
    # +354 611 1234 (Iceland) is 10 digits: too few to be retried with a plus
    assert normalize_msisdn("+3546111234", "GB").e164 == "+3546111234"
    with pytest.raises(PhoneNumberError) as caught:
        normalize_msisdn("3546111234", "GB")
    assert caught.value.reason == "not a valid number for GB"


def test_check_msisdn_returns_invalid_result_instead_of_raising():
    bad = check_msisdn("98765", "IN")
    assert not bad.valid
    assert bad.e164 is None
    assert bad.reason == "too short for IN"
    lost = check_msisdn("9.19877E+11", "IN")
    assert (lost.valid, lost.reason) == (False, "a float that has lost digits")


def test_no_default_country_requires_international_format():
    assert normalize_msisdn("+919876543210", None).e164 == "+919876543210"
    with pytest.raises(PhoneNumberError) as caught:
        normalize_msisdn("9876543210", "")
    assert caught.value.reason == "invalid country code"


def test_normalize_many_keeps_order_and_duplicates_in_process():
    values = ["9876543210", "bad", "+447400123456", "9876543210", 919876543210.0]
    results = normalize_many(values, "IN")
    assert [r.e164 for r in results] == ["+919876543210", None, "+447400123456", "+919876543210", "+919876543210"]
    assert results[1].reason == "not a number"


def test_normalize_many_over_processes_matches_single_process():
    values = [f"98{n:08d}" for n in range(600)] + ["123", None, 9.19876543210e11]
    parallel = normalize_many(values, "IN", processes=2, chunk_size=100)
    assert parallel == normalize_many(values, "IN", processes=1)
    assert parallel[0].e164 == "+919800000000"
    assert parallel[-3].reason == "too short for IN"
    assert parallel[-1].e164 == "+919876543210"


# --- letters and extensions: never read as keypad digits --------------------------------------------------

LETTER_CASES = [
    ("+91987654XXXX", "IN", LETTERS),  # a mobile_secure export's masked number (phonenumbers: +919876549999)
    ("'+91987654XXXX", "IN", LETTERS),  # the same cell as a CSV export writes it, formula-neutralised
    ("+91987654xxxx", "IN", LETTERS),
    ("+1-800-FLOWERS", "US", LETTERS),  # a vanity number (phonenumbers: +18003569377)
    ("1-800-FLOWERS", "US", LETTERS),
    ("98765 4321O", "IN", LETTERS),  # a letter O typed for a zero
    ("+91987654XXXXXXXXXXXX", "IN", LETTERS),  # too long once read as digits: still said to be letters
    ("+91 98765 4321Ж", "IN", LETTERS),  # a non-ASCII letter
    ("+91 98765 4321\uff38", "IN", LETTERS),  # a full-width X
    ("tel:+919876543210", "IN", LETTERS),  # a URI is not a number either
    ("Call +91 98765 43210", "IN", LETTERS),  # phonenumbers would find the number inside the words
    ("+91 98765 43210 ext. 12", "IN", EXTENSION),
    ("+91 98765 43210 x12", "IN", EXTENSION),
    ("(415) 555-2671 #12", "US", EXTENSION),
    ("+91 98765 43210, 12", "IN", EXTENSION),
    ("tel:+14155552671;ext=12", "US", EXTENSION),
    ("+91 98765 43210 доб. 12", "IN", EXTENSION),
    ("hello", "IN", "not a number"),  # no digit at all: not a number, as before
]


@pytest.mark.parametrize(("value", "country", "reason"), LETTER_CASES)
def test_letters_and_extensions_are_refused_with_their_own_reason(value, country, reason):
    with pytest.raises(PhoneNumberError) as caught:
        normalize_msisdn(value, country)
    assert caught.value.reason == reason
    checked = check_msisdn(value, country)
    assert (checked.valid, checked.e164, checked.reason) == (False, None, reason)


def test_normalize_many_refuses_letters_in_process_and_over_processes():
    values = [f"98{n:08d}" for n in range(300)] + [value for value, _country, _reason in LETTER_CASES]
    in_process = normalize_many(values, "IN")
    assert normalize_many(values, "IN", processes=2, chunk_size=50) == in_process
    refused = {value: result.reason for value, result in zip(values, in_process, strict=True) if not result.valid}
    assert refused["+91987654XXXX"] == LETTERS
    assert refused["+91 98765 43210 x12"] == EXTENSION
    assert "+919876549999" not in {result.e164 for result in in_process}


def test_the_digits_of_a_masked_number_are_still_a_valid_number():
    # the refusal is about the letters, not the number they hide: the digits alone pass
    assert normalize_msisdn("+919876549999", "IN").e164 == "+919876549999"
    assert normalize_msisdn("+1-800-356-9377", "US").e164 == "+18003569377"
