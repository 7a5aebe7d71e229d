"""THE price rule: which price applies to an account, per country and service, and what a message costs.

A price is per SMS part. The platform list applies to every account; an account's own active row for a country
and service replaces the platform row for that pair (an inactive own row is as if it were not there). A country
whose applicable row is inactive or missing cannot be sent to (459 NOTALLOWED). The Pricing page,
`GET /api/v2/sms/pricing`, quotes, previews and the charge at send time all ask `effective_prices` /
`price_list`; the country of a number comes from `contacts.phones` (through `contacts.recipients`).
"""

from decimal import Decimal

from django.db.models import Exists, OuterRef, Q, QuerySet

from campaigns.models import Price

ACTIVE = 1


def effective_prices(account) -> QuerySet[Price]:
    """The price rows that apply to `account`: its own active ones, and the platform's for the other pairs."""
    own = Q(account=account, status=ACTIVE)
    own_row = Price.objects.filter(own, country=OuterRef("country"), service=OuterRef("service"))
    platform = Q(account__isnull=True) & ~Q(Exists(own_row))
    return Price.objects.filter(own | platform).order_by("country", "service")


def price_list(account, service: str) -> dict[str, Decimal]:
    """Country → price per part of the active prices that apply to this account and service."""
    rows = effective_prices(account).filter(service=service, status=ACTIVE)
    return dict(rows.values_list("country", "price"))
