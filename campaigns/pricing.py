"""Prices per country and service, the country of a number, and what a message costs.

A price is per SMS part. An account's own price row overrides the platform row for the same country and
service; a country without an active price cannot be sent to (459 NOTALLOWED).
"""

from decimal import Decimal
from functools import lru_cache

from phonenumbers import COUNTRY_CODE_TO_REGION_CODE

from campaigns.models import Price

ZERO = Decimal("0")


@lru_cache(maxsize=4096)
def _region_for_prefix(digits: str) -> str:
    for length in (1, 2, 3):
        regions = COUNTRY_CODE_TO_REGION_CODE.get(int(digits[:length])) if digits[:length].isdigit() else None
        if regions:
            return regions[0] if regions[0] != "001" else ""
    return ""


def country_of(msisdn: str) -> str:
    """ISO country of an E.164 number from its calling code (+1 → US, +44 → GB, +91 → IN)."""
    return _region_for_prefix(msisdn.lstrip("+")[:3])


def price_list(account, service: str) -> dict[str, Decimal]:
    """Country → price per part for this account and service (account overrides win)."""
    rows = Price.objects.filter(service=service, status=1).filter(account__isnull=True)
    prices = dict(rows.values_list("country", "price"))
    if account is not None:
        overrides = Price.objects.filter(service=service, status=1, account=account)
        prices.update(overrides.values_list("country", "price"))
    return prices


def message_cost(price_per_part: Decimal, parts: int) -> Decimal:
    return price_per_part * parts
