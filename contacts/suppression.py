"""THE opt-out rule. Every send path asks here whether a number may be messaged; nothing else decides.

An unsubscriber of type `all` suppresses every message to its receiver. `sender`, `product` and `tag`
suppress only messages of that sender name, product (service) code or campaigns targeting that tag; `dnd` (a
DND/NCPR registry entry) only promotional messages (`promotional=True`: a P or SE template, an MKT send). Values
are compared case-insensitively. When several opt-outs match, the reason reported is the broadest one
(all, then sender, product, tag).

Three forms of the same rule:
- `is_suppressed(account, msisdn, ...)` for one number;
- `suppression_reasons(account, msisdns, ...)` for a list (one query per chunk of numbers);
- `suppressed_receivers_q(account, ...)` a subquery of receivers for `phone__in=` / `~Q(phone__in=...)`, so
  an audience and its suppression are one SQL statement.
"""

import re
from collections.abc import Iterable

from django.db.models import Case, IntegerField, OuterRef, Q, QuerySet, Subquery, Value, When
from django.db.models.functions import Lower

from contacts.models.unsubscribers import Unsubscriber, UnsubscriberType
from contacts.phones import PhoneNumberError, normalize_msisdn

__all__ = [
    "REASON_PRIORITY",
    "USER_REQUESTED",
    "annotate_opt_out",
    "broadest_opt_outs",
    "is_suppressed",
    "normalize_receiver_or_none",
    "suppressed_receivers_q",
    "suppression_reasons",
]


class _UserRequested:
    """`product=USER_REQUESTED`: a message the user asked for (a Verify code) is not marketing, so product
    opt-outs do not apply to it (nor tag opt-outs: it targets no tag); `all` and sender opt-outs do."""

    def __repr__(self) -> str:
        return "USER_REQUESTED"


USER_REQUESTED = _UserRequested()
REASON_PRIORITY = (
    UnsubscriberType.ALL,
    UnsubscriberType.DND,
    UnsubscriberType.SENDER,
    UnsubscriberType.PRODUCT,
    UnsubscriberType.TAG,
)
CHUNK_SIZE = 2000
_E164 = re.compile(r"^\+[1-9]\d{5,14}$")


def _label(item) -> str:
    """A sender/product/tag given as a string or as a model instance (its name or code)."""
    if item is None:
        return ""
    if isinstance(item, str):
        return item.strip()
    for attribute in ("name", "code"):
        value = getattr(item, attribute, None)
        if isinstance(value, str):
            return value.strip()
    return str(item).strip()


def _product_of(sender, product) -> str:
    """The explicit product, else the sender's own product code (a Sender instance has `service`)."""
    if product is USER_REQUESTED:
        return ""
    explicit = _label(product)
    if explicit:
        return explicit
    service = getattr(sender, "service", None)
    return _label(service) if service else ""


def _scope_q(*, sender=None, product=None, tags: Iterable = (), promotional: bool = False) -> Q:
    """Opt-outs that apply to a message of this sender/product/tags (on a queryset annotated with `value_key`)."""
    scope = Q(type=UnsubscriberType.ALL)
    if promotional:
        scope |= Q(type=UnsubscriberType.DND)
    sender_name = _label(sender)
    if sender_name:
        scope |= Q(type=UnsubscriberType.SENDER, value_key=sender_name.lower())
    product_code = _product_of(sender, product)
    if product_code:
        scope |= Q(type=UnsubscriberType.PRODUCT, value_key=product_code.lower())
    tag_names = sorted({_label(tag).lower() for tag in tags or ()} - {""})
    if tag_names:
        scope |= Q(type=UnsubscriberType.TAG, value_key__in=tag_names)
    return scope


def _applicable(account, *, sender=None, product=None, tags: Iterable = (), promotional: bool = False) -> QuerySet:
    return (
        Unsubscriber.objects.filter(account=account)
        .annotate(value_key=Lower("value"))
        .filter(_scope_q(sender=sender, product=product, tags=tags, promotional=promotional))
    )


def suppressed_receivers_q(
    account, *, sender=None, product=None, tags: Iterable = (), promotional: bool = False
) -> QuerySet:
    """Receivers (E.164) that must not get this message, as a subquery: `.exclude(phone__in=...)`."""
    return _applicable(account, sender=sender, product=product, tags=tags, promotional=promotional).values("receiver")


def normalize_receiver_or_none(account, msisdn: str) -> str | None:
    """E.164 of a number in any common format (account's default country), or None when it is not a number."""
    text = str(msisdn or "").strip()
    if _E164.match(text):
        return text
    try:
        result = normalize_msisdn(text, account.default_country)
    except PhoneNumberError:
        return None
    return result.e164 if result.valid and result.e164 else None


def suppression_reasons(
    account, msisdns: Iterable[str], *, sender=None, product=None, tags: Iterable = (), promotional: bool = False
) -> dict[str, str]:
    """For every given number that is suppressed: number (as given) → the broadest matching opt-out type."""
    by_e164: dict[str, list[str]] = {}
    for raw in msisdns:
        e164 = normalize_receiver_or_none(account, raw)
        if e164 is not None:
            by_e164.setdefault(e164, []).append(raw)
    if not by_e164:
        return {}
    applicable = _applicable(account, sender=sender, product=product, tags=tags, promotional=promotional)
    rank = {reason: index for index, reason in enumerate(REASON_PRIORITY)}
    best: dict[str, str] = {}
    receivers = list(by_e164)
    for start in range(0, len(receivers), CHUNK_SIZE):
        chunk = receivers[start : start + CHUNK_SIZE]
        for receiver, reason in applicable.filter(receiver__in=chunk).values_list("receiver", "type").distinct():
            if receiver not in best or rank[reason] < rank[best[receiver]]:
                best[receiver] = reason
    return {raw: reason for e164, reason in best.items() for raw in by_e164[e164]}


def broadest_opt_outs(account, msisdns: Iterable[str]) -> dict[str, str]:
    """Number → its broadest opt-out of any scope (all, then sender, product, tag), for the numbers that have one:
    what the "opted out" badge shows on every page (one query per chunk of numbers)."""
    numbers = sorted({str(number) for number in msisdns if number})
    rank = {reason: index for index, reason in enumerate(REASON_PRIORITY)}
    best: dict[str, str] = {}
    for start in range(0, len(numbers), CHUNK_SIZE):
        chunk = numbers[start : start + CHUNK_SIZE]
        rows = Unsubscriber.objects.filter(account=account, receiver__in=chunk).values_list("receiver", "type")
        for receiver, reason in rows.distinct():
            if receiver not in best or rank[reason] < rank[best[receiver]]:
                best[receiver] = reason
    return best


def is_suppressed(
    account, msisdn: str, *, sender=None, product=None, tags: Iterable = (), promotional: bool = False
) -> bool:
    """True when this number must not receive a message of this sender/product/tags (promotional or not)."""
    reasons = suppression_reasons(account, [msisdn], sender=sender, product=product, tags=tags, promotional=promotional)
    return bool(reasons)


def annotate_opt_out(queryset: QuerySet, account, *, field: str = "phone") -> QuerySet:
    """Annotate `opt_out_type`: the broadest opt-out of any scope the row's number has (None when none).

    For lists that show an "opted out" badge per contact without one query per row.
    """
    priority = Case(
        *[When(type=reason, then=Value(index)) for index, reason in enumerate(REASON_PRIORITY)],
        output_field=IntegerField(),
    )
    broadest = (
        Unsubscriber.objects.filter(account=account, receiver=OuterRef(field))
        .annotate(priority=priority)
        .order_by("priority")
        .values("type")[:1]
    )
    return queryset.annotate(opt_out_type=Subquery(broadest))
