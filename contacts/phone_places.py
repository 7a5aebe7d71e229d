"""Where a number belongs and which operator its range was allocated to, from phonenumbers' geocoder and carrier data.

`place_of(e164)` answers the region and the provider of a number:

- region: the geocoder's area when it is more precise than the country ("Bangalore, Karnataka" for +91 80…); an
  area written "City, XX" (North America: "New York, NY") is split into the region "New York" and the region code
  "NY". Mobile numbers of most countries are tied to no area: their region is empty.
- provider: the operator the number's range was allocated to (mobile, pager and fixed-or-mobile numbers only;
  with mobile number portability the number may have moved since). phonenumbers has no operator codes:
  `provider_code` (the seed's field, kept for receivers that read it) is empty.

The prefix tables hold prefixes of at most `PREFIX_DIGITS` digits (country code included), so every number that
shares those digits and its length gets the same answer from them: answers are cached per (prefix, length), and a
campaign's numbers cost one lookup per range rather than one per number. The number type, which decides whether a
provider or an area applies at all, is the first looked-up number's (numbering plans type whole ranges).
`country_name(iso)` is the English name of a country code, cached.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import NamedTuple

import phonenumbers
from phonenumbers import NumberParseException, PhoneNumberType, carrier, geocoder
from phonenumbers.carrierdata import CARRIER_LONGEST_PREFIX
from phonenumbers.geodata import GEOCODE_LONGEST_PREFIX

__all__ = ["NumberPlace", "country_name", "place_of"]

PREFIX_DIGITS = max(CARRIER_LONGEST_PREFIX, GEOCODE_LONGEST_PREFIX)
CACHE_SIZE = 100_000
LANGUAGE = "en"
_CARRIER_TYPES = frozenset({PhoneNumberType.MOBILE, PhoneNumberType.FIXED_LINE_OR_MOBILE, PhoneNumberType.PAGER})
_CITY_AND_CODE = re.compile(r"(?P<name>.+), (?P<code>[A-Z]{2})")


class NumberPlace(NamedTuple):
    region: str = ""
    region_code: str = ""
    provider: str = ""
    provider_code: str = ""


UNKNOWN_PLACE = NumberPlace()
_places: dict[tuple[str, int], NumberPlace] = {}


def place_of(e164: str) -> NumberPlace:
    """The region and provider of an E.164 number (empty fields where phonenumbers does not know)."""
    digits = e164.lstrip("+")
    key = (digits[:PREFIX_DIGITS], len(digits))
    place = _places.get(key)
    if place is None:
        if len(_places) >= CACHE_SIZE:
            _places.clear()
        place = _places[key] = _look_up(e164)
    return place


@lru_cache(maxsize=512)
def country_name(iso: str) -> str:
    """`India` for `IN`; empty for an unknown or empty code."""
    example = phonenumbers.example_number(iso.upper()) if iso else None
    return geocoder.country_name_for_number(example, LANGUAGE) if example is not None else ""


def _look_up(e164: str) -> NumberPlace:
    try:
        number = phonenumbers.parse(e164)
    except NumberParseException:
        return UNKNOWN_PLACE
    kind = phonenumbers.number_type(number)
    if kind == PhoneNumberType.UNKNOWN:
        return UNKNOWN_PLACE
    provider = carrier.name_for_valid_number(number, LANGUAGE) if kind in _CARRIER_TYPES else ""
    region = region_code = ""
    if phonenumbers.is_number_type_geographical(kind, number.country_code):
        area = geocoder.description_for_valid_number(number, LANGUAGE)
        if area != country_name(phonenumbers.region_code_for_number(number) or ""):
            region = area
            if match := _CITY_AND_CODE.fullmatch(area):
                region, region_code = match["name"], match["code"]
    return NumberPlace(region, region_code, provider, "")
