"""Template tags showing opt-out state wherever a number or contact appears.

    {% load optout %}
    {% opted_out contact %}          badge when the contact's phone has any opt-out (or pass a number)
    {% optouts_for contact.phone %}  the list of a number's opt-outs (contact detail)
    {% msisdn number %}              the number, masked when the account has mobile_secure on

A list can avoid one query per row by annotating its queryset with `contacts.suppression.annotate_opt_out`;
the badge then reads `opt_out_type` from the row.
"""

from django import template
from django.utils.html import format_html

from contacts.models.unsubscribers import Unsubscriber, UnsubscriberType
from contacts.suppression import broadest_opt_outs
from portal.masking import mask_msisdn
from portal.roles import WRITE, has_capability

register = template.Library()

_CACHE_ATTRIBUTE = "_opt_out_types"


def _number_of(subject) -> str:
    if isinstance(subject, str):
        return subject
    return str(getattr(subject, "phone", "") or "")


def _account(context):
    request = context.get("request")
    return getattr(request, "account", None) or context.get("current_account")


def _broadest_type(context, number: str) -> str | None:
    """Broadest opt-out type of a number in the current account, cached for the request."""
    account = _account(context)
    if account is None or not number:
        return None
    request = context.get("request")
    cache = getattr(request, _CACHE_ATTRIBUTE, None)
    if cache is None:
        cache = {}
        if request is not None:
            setattr(request, _CACHE_ATTRIBUTE, cache)
    if number not in cache:
        cache[number] = broadest_opt_outs(account, [number]).get(number)
    return cache[number]


@register.simple_tag(takes_context=True)
def opted_out(context, subject) -> str:
    """A badge: "opted out" (all messages) or "partly opted out" (some senders, products or tags)."""
    annotated = hasattr(subject, "opt_out_type")
    kind = subject.opt_out_type if annotated else _broadest_type(context, _number_of(subject))
    if kind is None:
        return ""
    if kind == UnsubscriberType.ALL:
        return format_html(
            '<span class="status status-opted-out" title="{}" data-testid="opted-out">opted out</span>',
            "This number has opted out of all messages.",
        )
    return format_html(
        '<span class="status status-partly-opted-out" title="{}" data-testid="opted-out">partly opted out</span>',
        f"This number has opted out of some messages (by {kind}).",
    )


@register.inclusion_tag("contacts/unsubscriber_for_number.html", takes_context=True)
def optouts_for(context, number) -> dict:
    account = _account(context)
    number = _number_of(number)
    optouts = Unsubscriber.objects.filter(account=account, receiver=number) if account and number else []
    request = context.get("request")
    can_write = has_capability(getattr(request, "role", None), WRITE)
    return {"optouts": optouts, "number": number, "request": request, "can_write": can_write}


@register.simple_tag(takes_context=True)
def msisdn(context, number) -> str:
    return mask_msisdn(number, _account(context))
