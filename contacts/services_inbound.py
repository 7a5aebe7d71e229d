"""Inbound (mobile originated) messages: stored once per provider id, a stop word opts the number out, a start
word lifts the opt-outs stop words made, another first word may have a keyword route (forward to a webhook or
answer); each new message emits `sms:message:in`. Whichever way a message
arrives (the inbound HTTP API, an SMPP bind), it comes through `receive_inbound`."""

from dataclasses import dataclass
from datetime import datetime

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from contacts.inbound_events import emit_inbound
from contacts.inbound_routing import first_word, keyword_route, number_for
from contacts.keywords import KeywordKind, detect_keyword
from contacts.models.numbers import InboundNumber
from contacts.models.unsubscribers import (
    InboundAction,
    InboundMessage,
    InboundSettings,
    OptOutScope,
    ReplyStatus,
    Unsubscriber,
    UnsubscriberSource,
    UnsubscriberType,
)
from contacts.services_unsubscribers import add_unsubscriber, delete_unsubscriber, parse_receiver, settings_for
from portal.events import emit
from portal.models import Account
from portal.service_errors import ServiceError


@dataclass(frozen=True)
class InboundResult:
    message: InboundMessage
    created: bool
    unsubscriber: Unsubscriber | None = None


def receive_inbound(
    account: Account,
    *,
    from_number: str,
    to: str = "",
    text: str = "",
    received_at: datetime | None = None,
    parts: int = 1,
    provider_id: str = "",
) -> InboundResult:
    """Store an inbound SMS once per provider id and act on a stop or start keyword."""
    provider_id = (provider_id or "").strip()
    if provider_id:
        existing = InboundMessage.objects.filter(account=account, provider_id=provider_id).first()
        if existing is not None:
            return InboundResult(existing, created=False)
    try:
        with transaction.atomic():
            return _store_and_act(
                account,
                from_number=from_number,
                to=(to or "").strip(),
                text=text or "",
                received_at=received_at or timezone.now(),
                parts=max(1, int(parts or 1)),
                provider_id=provider_id,
            )
    except IntegrityError:
        existing = InboundMessage.objects.filter(account=account, provider_id=provider_id).first()
        if existing is None:
            raise
        return InboundResult(existing, created=False)


def _store_and_act(account: Account, *, from_number: str, to: str, text: str, **fields) -> InboundResult:
    settings = settings_for(account)
    try:
        sender = parse_receiver(account, from_number, field_name="from").e164
    except ValidationError:
        sender = None
    message = InboundMessage(account=account, from_number=sender or str(from_number).strip(), to=to, text=text)
    for name, value in fields.items():
        setattr(message, name, value)
    match = detect_keyword(text, stop_words=settings.stop_words, start_words=settings.start_words)
    message.keyword = match.word if match else ""
    message.number = _own_number(account, to)
    unsubscriber = None
    if match is None:
        _route_by_keyword(account, message)
    elif sender is None:
        message.action = InboundAction.INVALID_NUMBER
    elif match.kind == KeywordKind.STOP:
        unsubscriber = _opt_out_by_keyword(account, settings, message)
    elif match.kind == KeywordKind.START:
        lifted = _opt_in_by_keyword(account, message)
        message.action = InboundAction.OPTED_IN if lifted else InboundAction.NOTHING_TO_REMOVE
    message.save()
    emit_inbound(message)
    return InboundResult(message, created=True, unsubscriber=unsubscriber)


def _own_number(account: Account, to: str) -> InboundNumber | None:
    """The account's number the message was sent to; another account's number is refused (a 422 for `to`)."""
    number = number_for(to)
    if number is not None and number.account_id != account.pk:
        raise ServiceError(f"{to} is a number of another account.", field="to")
    return number


def _route_by_keyword(account: Account, message: InboundMessage) -> None:
    """A message whose first word has a keyword route is forwarded to its webhook or answered with its text."""
    route = keyword_route(account, message.number, message.text)
    if route is None:
        return
    message.keyword_route, message.keyword = route, first_word(message.text)
    if route.webhook_id:
        message.action = InboundAction.FORWARDED
    else:
        message.action = InboundAction.AUTO_REPLIED
        message.reply_text, message.reply_status = route.reply_text, ReplyStatus.QUEUED


def _keyword_scope(settings: InboundSettings, to: str) -> tuple[str, str]:
    """Sender-scoped when the account says so and we know whom the handset wrote to; else every message."""
    if settings.scope == OptOutScope.SENDER and to:
        return UnsubscriberType.SENDER, to
    return UnsubscriberType.ALL, ""


def _opt_out_by_keyword(account: Account, settings: InboundSettings, message: InboundMessage) -> Unsubscriber:
    kind, value = _keyword_scope(settings, message.to)
    unsubscriber, created = add_unsubscriber(
        account,
        None,
        receiver=message.from_number,
        type=kind,
        value=value,
        source=UnsubscriberSource.INBOUND_KEYWORD,
    )
    message.action = InboundAction.OPTED_OUT if created else InboundAction.ALREADY_OPTED_OUT
    if settings.send_confirmation and settings.confirmation_text.strip():
        message.reply_text = settings.confirmation_text.strip()
        message.reply_status = ReplyStatus.QUEUED
    if created:
        payload = {
            "id": str(unsubscriber.uid),
            "receiver": unsubscriber.receiver,
            "iso": unsubscriber.country,
            "type": unsubscriber.type,
            "value": unsubscriber.value,
            "source": unsubscriber.source,
            "keyword": message.keyword,
            "to": message.to,
            "text": message.text,
            "created_at": unsubscriber.created_at.isoformat(),
        }
        emit(account, "sms:unsubscription", payload, identity=message.to or unsubscriber.receiver)
    return unsubscriber


def _opt_in_by_keyword(account: Account, message: InboundMessage) -> int:
    """Remove the keyword-created opt-outs a START lifts (never manual, API or imported ones); how many."""
    scope = Q(type=UnsubscriberType.ALL)
    if message.to:
        scope |= Q(type=UnsubscriberType.SENDER, value__iexact=message.to)
    lifted = list(
        Unsubscriber.objects.filter(
            account=account, receiver=message.from_number, source=UnsubscriberSource.INBOUND_KEYWORD
        ).filter(scope)
    )
    for unsubscriber in lifted:
        delete_unsubscriber(unsubscriber, None, reason=f"inbound {message.keyword} from {message.from_number}")
    return len(lifted)
