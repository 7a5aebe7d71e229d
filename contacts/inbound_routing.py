"""Where an inbound message goes: the account owning the number it was sent to, and the keyword route its first
word selects (a route of that number before the account's routes for any number)."""

from django.db.models import Q

from contacts.keywords import normalize_keyword
from contacts.models import InboundNumber, KeywordRoute


def destination_forms(to: str) -> set[str]:
    """The spellings a number may be stored under: as given, with and without its +."""
    text = (to or "").strip()
    digits = text.lstrip("+")
    return {form for form in (text, digits, f"+{digits}") if form.strip("+")}


def number_for(to: str) -> InboundNumber | None:
    """The active number a message was sent to, whoever owns it."""
    forms = destination_forms(to)
    if not forms:
        return None
    return InboundNumber.objects.filter(number__in=forms, is_active=True).select_related("account").first()


def first_word(text: str) -> str:
    """The message's first word as keywords are compared (upper case, without edge punctuation)."""
    words = (text or "").split()
    return normalize_keyword(words[0]) if words else ""


def keyword_route(account, number: InboundNumber | None, text: str) -> KeywordRoute | None:
    """The route of the message's first word: the number's own first, else the account's for any number."""
    word = first_word(text)
    if not word:
        return None
    scope = Q(number__isnull=True) | (Q(number=number) if number is not None else Q())
    routes = KeywordRoute.objects.filter(account=account, keyword__iexact=word).filter(scope)
    return routes.select_related("webhook").order_by("number_id").first()
