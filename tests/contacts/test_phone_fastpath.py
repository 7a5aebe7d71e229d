"""`contacts.phone_fastpath.classify` gives phonenumbers' own answer whenever it answers.

The corpus: every region's example number of every type, written the ways spreadsheets hold them (E.164,
international, national, bare digits, with the IDD of the default region, with the `+` lost), each also with a
digit dropped, added or changed, read with several default regions (and none). Set PHONE_FASTPATH_CASES to check
a larger random share of it (the full corpus is about 1.5 million cases). The corpus holds no letters: text with
letters never takes the fast path, and `contacts.phones` refuses it where phonenumbers would read keypad digits.
"""

from __future__ import annotations

import os
import random

import phonenumbers
import pytest
from phonenumbers import NumberParseException, PhoneNumberFormat, PhoneNumberType

from contacts.phone_fastpath import INVALID, Plain, classify
from contacts.phones import check_msisdn

DEFAULT_REGIONS = (None, "IN", "US", "GB", "SG", "CA", "DE", "FR", "IT", "BR", "AR", "MX", "CN", "AU", "RU", "JP")
TYPES = tuple(value for value in vars(PhoneNumberType).values() if isinstance(value, int))


def reference(text: str, region: str | None) -> Plain | str:
    """phonenumbers' answer: "error" when `parse` raises, INVALID when the number parses but is not valid."""
    try:
        number = phonenumbers.parse(text, region)
    except NumberParseException:
        return "error"
    country = phonenumbers.region_code_for_number(number)
    kind = phonenumbers.number_type(number) if country not in (None, "ZZ") else PhoneNumberType.UNKNOWN
    if kind == PhoneNumberType.UNKNOWN:
        return INVALID
    return Plain(f"+{number.country_code}{phonenumbers.national_significant_number(number)}", country, kind)


def _variants(digits: str, rng: random.Random) -> list[str]:
    position = rng.randrange(len(digits))
    changed = digits[:position] + str((int(digits[position]) + rng.randint(1, 9)) % 10) + digits[position + 1 :]
    return [digits, digits[:-1], digits + rng.choice("0123456789"), changed]


def _writings(number: phonenumbers.PhoneNumber, rng: random.Random) -> list[str]:
    national = phonenumbers.national_significant_number(number)
    code = str(number.country_code)
    texts = [
        phonenumbers.format_number(number, PhoneNumberFormat.E164),
        phonenumbers.format_number(number, PhoneNumberFormat.INTERNATIONAL),
        phonenumbers.format_number(number, PhoneNumberFormat.NATIONAL),
    ]
    for digits in _variants(code + national, rng):
        texts += [digits, "+" + digits, "00" + digits, "011" + digits, "+" + digits[:3] + " " + digits[3:]]
    for digits in _variants(national, rng):
        texts += [digits, "0" + digits, f"({digits[:3]}) {digits[3:6]}-{digits[6:]}", digits[:4] + "." + digits[4:]]
    return texts


def corpus() -> list[tuple[str, str | None]]:
    rng = random.Random(20261123)
    cases = []
    for region in sorted(phonenumbers.SUPPORTED_REGIONS):
        examples = [phonenumbers.example_number_for_type(region, kind) for kind in TYPES]
        examples.append(phonenumbers.invalid_example_number(region))
        for number in filter(None, examples):
            for text in _writings(number, rng):
                for default in (*DEFAULT_REGIONS, region):
                    cases.append((text, default))
    for _ in range(20_000):
        digits = "".join(rng.choice("0123456789") for _ in range(rng.randint(4, 16)))
        cases.append((rng.choice(["", "+", "00", "0"]) + digits, rng.choice(DEFAULT_REGIONS)))
    return cases


@pytest.fixture(scope="module")
def cases() -> list[tuple[str, str | None]]:
    everything = corpus()
    size = int(os.environ.get("PHONE_FASTPATH_CASES", "20000"))
    return random.Random(7).sample(everything, min(size, len(everything)))


def test_classify_agrees_with_phonenumbers(cases):
    answered = 0
    for text, region in cases:
        fast = classify(text, region)
        if fast is None:
            continue
        answered += 1
        assert fast == reference(text, region), (text, region)
    assert answered > len(cases) * 0.6  # the fast path answers most plain text


@pytest.mark.parametrize(
    ("text", "region", "expected"),
    [
        ("+91 98765 43210", "IN", Plain("+919876543210", "IN", PhoneNumberType.MOBILE)),
        ("098765 43210", "IN", Plain("+919876543210", "IN", PhoneNumberType.MOBILE)),
        ("0091 98765 43210", "IN", Plain("+919876543210", "IN", PhoneNumberType.MOBILE)),
        ("919876543210", "IN", Plain("+919876543210", "IN", PhoneNumberType.MOBILE)),
        ("+1 (416) 555-0123", "IN", Plain("+14165550123", "CA", PhoneNumberType.FIXED_LINE_OR_MOBILE)),
        ("(416) 234-5678", "CA", Plain("+14162345678", "CA", PhoneNumberType.FIXED_LINE_OR_MOBILE)),
        ("447400123456", "IN", INVALID),
        ("+44 7400 123456", None, Plain("+447400123456", "GB", PhoneNumberType.MOBILE)),
    ],
)
def test_classify_examples(text, region, expected):
    assert classify(text, region) == expected
    assert reference(text, region) == expected


@pytest.mark.parametrize(
    ("text", "region"),
    [
        ("tel: +91 98765 43210", "IN"),  # words
        ("+91 98765 43210 ext. 12", "IN"),  # an extension
        ("+91987654XXXX", "IN"),  # letters (a masked number): refused by contacts.phones, never keypad digits
        ("+1-800-FLOWERS", "US"),
        ("+14155552671#12", "US"),  # an extension without letters
        ("+800 1234 5678", None),  # a non-geographic calling code
        ("+0 98765 43210", "IN"),  # no calling code after the plus
        ("12", "IN"),  # too few digits for this path
        ("98765 43210", None),  # no default region and no plus
        ("98765 43210", "XX"),  # an unknown default region
        ("٩٨٧٦٥٤٣٢١٠", "IN"),  # non-ASCII digits
    ],
)
def test_classify_leaves_the_rest_to_phonenumbers(text, region):
    assert classify(text, region) is None


def test_normalisation_uses_the_fast_path_and_keeps_reasons():
    assert check_msisdn("+91 98765 43210", "IN").e164 == "+919876543210"
    assert check_msisdn(447400123456.0, "IN").e164 == "+447400123456"  # the lost plus, found by the second try
    invalid = check_msisdn("+91 123", "IN")
    assert not invalid.valid and invalid.reason
