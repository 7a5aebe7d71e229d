"""Inbound numbers assigned to accounts and the keywords routed on them: the rules every surface (API, pages,
admin) applies."""

import re

from django.db import IntegrityError, transaction

from contacts.keywords import detect_keyword
from contacts.models import InboundNumber
from contacts.phones import check_msisdn
from contacts.services_unsubscribers import settings_for
from portal.audit import record
from portal.service_errors import ServiceError

SHORT_CODE = re.compile(r"^\d{3,8}$")
KEYWORD = re.compile(r"^[A-Z0-9][A-Z0-9_-]{0,39}$")


def number_form(account, raw: str) -> tuple[str, str]:
    """(number as stored, country): a short code's digits, or a long number in E.164."""
    text = str(raw or "").strip().replace(" ", "")
    if SHORT_CODE.match(text):
        return text, account.default_country
    result = check_msisdn(text, account.default_country)
    if not result.valid:
        raise ServiceError(f"{raw} is neither a short code (3 to 8 digits) nor a valid number.", field="number")
    return result.e164, result.country or ""


def assign_number(account, raw: str, *, label: str = "", actor=None) -> InboundNumber:
    """Give the account a number (platform staff); a number has one account."""
    number, country = number_form(account, raw)
    owner = InboundNumber.objects.filter(number=number).select_related("account").first()
    if owner is not None:
        raise ServiceError(f"{number} is already assigned to {owner.account.name}.", field="number")
    try:
        with transaction.atomic():
            assigned = InboundNumber.objects.create(account=account, number=number, country=country, label=label)
    except IntegrityError:
        raise ServiceError(f"{number} is already assigned.", field="number") from None
    record(account, actor, "number.assigned", assigned, after={"number": number})
    return assigned


def check_keyword(account, raw: str) -> str:
    """The keyword as stored (upper case, one word); the account's stop and start words are refused."""
    word = str(raw or "").strip().upper()
    if not KEYWORD.match(word):
        raise ServiceError("A keyword is one word of letters, digits, - or _ (at most 40).", field="keyword")
    settings = settings_for(account)
    if detect_keyword(word, stop_words=settings.stop_words, start_words=settings.start_words) is not None:
        raise ServiceError(f"{word} is an opt-out or opt-in word of this account.", field="keyword")
    return word


def check_route_target(webhook, reply_text: str) -> None:
    """A keyword route forwards to a webhook or answers with a text: exactly one of the two."""
    if bool(webhook) == bool((reply_text or "").strip()):
        raise ServiceError("Give a webhook to forward to, or a reply text; not both.", field="webhook")
