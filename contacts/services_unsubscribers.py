"""Writes on opt-outs and the inbound settings. Views, API views and imports call these; each write is audited.
Inbound messages (and their stop and start words) are in `contacts.services_inbound`.

Receivers are normalised with `contacts.phones.normalize_msisdn` and the account's default country, so
`+91 98765 43210`, `919876543210` and `09876543210` (IN) are one opt-out. Whether a number may be messaged
is decided only in `contacts.suppression`.
"""

import hmac
import re
import secrets
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.apps import apps
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from contacts.keywords import clean_word_list
from contacts.models.unsubscribers import (
    VALUELESS_TYPES,
    InboundSettings,
    OptOutScope,
    Unsubscriber,
    UnsubscriberSource,
    UnsubscriberType,
)
from contacts.phones import PhoneNumberError, normalize_msisdn
from portal import cleanup
from portal.audit import record
from portal.models import Account, CleanupBatch, hash_token_secret

CLEAN_ALL_CONFIRMATION = cleanup.CONFIRMATION_PHRASE
TYPE_ALIASES = {"service": UnsubscriberType.PRODUCT}
VALUE_MAX_LENGTH = 100
BULK_CHUNK = 1000
INBOUND_TOKEN_PREFIX = "in"
_LIST_SEPARATORS = re.compile(r"[\r\n,;\t]+")


OPT_OUT_CLEANUP = cleanup.CleanupKind(
    name="unsubscribers", model=Unsubscriber, noun="opt-outs", audit_prefix="unsubscriber"
)


class DuplicateOptOut(Exception):
    """An opt-out with this receiver, type and value already exists in the account."""


@dataclass(frozen=True)
class Receiver:
    e164: str
    country: str


@dataclass
class BulkAddResult:
    created: int = 0
    existing: int = 0
    invalid: list[tuple[str, str]] = field(default_factory=list)

    @property
    def total(self) -> int:
        return self.created + self.existing + len(self.invalid)


# --- receivers and scopes -------------------------------------------------------------------------------


def parse_receiver(account: Account, raw, *, field_name: str = "receiver") -> Receiver:
    """The E.164 number and country of `raw`; ValidationError naming `field_name` when it is not a number."""
    text = str(raw if raw is not None else "").strip()
    if not text:
        raise ValidationError({field_name: ["A phone number is required."]})
    spreadsheet_number = isinstance(raw, int | float) and not isinstance(raw, bool)
    try:
        result = normalize_msisdn(raw if spreadsheet_number else text, account.default_country)
    except PhoneNumberError as exc:
        raise ValidationError({field_name: [f"{text!r} is not a valid phone number: {exc}"]}) from None
    if not result.valid or not result.e164:
        reason = result.reason or "not a valid number"
        raise ValidationError({field_name: [f"{text!r} is not a valid phone number: {reason}."]})
    return Receiver(e164=result.e164, country=result.country or "")


def clean_scope(type_: str | None, value: str | None) -> tuple[str, str]:
    """(type, value) checked: `service` means `product`; value required unless type is `all` or `dnd` ('')."""
    kind = (type_ or UnsubscriberType.ALL).strip().lower()
    kind = TYPE_ALIASES.get(kind, kind)
    if kind not in UnsubscriberType.values:
        allowed = ", ".join(UnsubscriberType.values)
        raise ValidationError({"type": [f"Unknown type {type_!r}. Allowed: {allowed} (service = product)."]})
    text = (value or "").strip()
    if kind in VALUELESS_TYPES:
        return kind, ""
    if not text:
        raise ValidationError({"value": [f"A value ({kind} name) is required for type {kind}."]})
    if len(text) > VALUE_MAX_LENGTH:
        raise ValidationError({"value": [f"At most {VALUE_MAX_LENGTH} characters."]})
    return kind, text


def _find(account: Account, receiver: str, kind: str, value: str) -> Unsubscriber | None:
    return Unsubscriber.objects.filter(account=account, receiver=receiver, type=kind, value__iexact=value).first()


def _snapshot(unsubscriber: Unsubscriber) -> dict:
    return {
        "receiver": unsubscriber.receiver,
        "type": unsubscriber.type,
        "value": unsubscriber.value,
        "source": unsubscriber.source,
    }


# --- single opt-outs ------------------------------------------------------------------------------------


@transaction.atomic
def add_unsubscriber(
    account: Account,
    actor,
    *,
    receiver,
    type: str | None = UnsubscriberType.ALL,
    value: str | None = "",
    source: str = UnsubscriberSource.MANUAL,
) -> tuple[Unsubscriber, bool]:
    """(opt-out, created). An existing identical opt-out is returned unchanged with created False."""
    number = parse_receiver(account, receiver)
    kind, text = clean_scope(type, value)
    existing = _find(account, number.e164, kind, text)
    if existing is not None:
        return existing, False
    creator = actor if getattr(actor, "is_authenticated", False) else None
    try:
        with transaction.atomic():
            unsubscriber = Unsubscriber.objects.create(
                account=account,
                receiver=number.e164,
                country=number.country,
                type=kind,
                value=text,
                source=source,
                created_by=creator,
            )
    except IntegrityError:
        return _find(account, number.e164, kind, text), False
    record(account, actor, "unsubscriber.created", unsubscriber, after=_snapshot(unsubscriber))
    return unsubscriber, True


@transaction.atomic
def update_unsubscriber(
    unsubscriber: Unsubscriber, actor, *, receiver=None, type: str | None = None, value: str | None = None
) -> Unsubscriber:
    """Change receiver, type or value (omitted ones are kept); DuplicateOptOut when another row already says so."""
    account = unsubscriber.account
    before = _snapshot(unsubscriber)
    number = parse_receiver(account, receiver) if receiver is not None else None
    kind, text = clean_scope(
        type if type is not None else unsubscriber.type, value if value is not None else unsubscriber.value
    )
    target = number.e164 if number else unsubscriber.receiver
    clash = _find(account, target, kind, text)
    if clash is not None and clash.pk != unsubscriber.pk:
        raise DuplicateOptOut(f"{target} already has an opt-out of type {kind} {text}".strip() + ".")
    if number is not None:
        unsubscriber.receiver, unsubscriber.country = number.e164, number.country
    unsubscriber.type, unsubscriber.value = kind, text
    unsubscriber.save()
    record(account, actor, "unsubscriber.updated", unsubscriber, before=before, after=_snapshot(unsubscriber))
    return unsubscriber


@transaction.atomic
def delete_unsubscriber(unsubscriber: Unsubscriber, actor, *, reason: str = "") -> None:
    after = {"reason": reason} if reason else None
    before = _snapshot(unsubscriber)
    record(unsubscriber.account, actor, "unsubscriber.deleted", unsubscriber, before=before, after=after)
    unsubscriber.delete()


def clean_all(account: Account, actor) -> CleanupBatch | None:
    """Delete every opt-out of the account into a clean-up batch that can be restored for 30 days (restoring
    skips numbers that opted out again meanwhile); None when there was none. Audited as `unsubscriber.cleaned`."""
    return cleanup.clean(account, OPT_OUT_CLEANUP, actor)


# --- many at once (pasted lists, imports) ---------------------------------------------------------------


def split_receiver_list(text: str) -> list[str]:
    """Numbers from pasted text: one per line, or separated by commas, semicolons or tabs."""
    return [part.strip() for part in _LIST_SEPARATORS.split(text or "") if part.strip()]


def add_many(
    account: Account,
    actor,
    receivers: Iterable,
    *,
    type: str | None = UnsubscriberType.ALL,
    value: str | None = "",
    source: str = UnsubscriberSource.MANUAL,
) -> BulkAddResult:
    """Add one opt-out scope for many numbers; invalid numbers are reported, duplicates counted as existing."""
    kind, text = clean_scope(type, value)
    result = BulkAddResult()
    numbers: dict[str, Receiver] = {}
    for raw in receivers:
        try:
            number = parse_receiver(account, raw)
        except ValidationError as exc:
            result.invalid.append((str(raw), " ".join(exc.message_dict.get("receiver", exc.messages))))
            continue
        if number.e164 in numbers:
            result.existing += 1
        numbers[number.e164] = number
    creator = actor if getattr(actor, "is_authenticated", False) else None
    ordered = list(numbers.values())
    with transaction.atomic():
        for start in range(0, len(ordered), BULK_CHUNK):
            chunk = ordered[start : start + BULK_CHUNK]
            present = set(
                Unsubscriber.objects.filter(
                    account=account, type=kind, value__iexact=text, receiver__in=[n.e164 for n in chunk]
                ).values_list("receiver", flat=True)
            )
            rows = [
                Unsubscriber(
                    account=account,
                    receiver=n.e164,
                    country=n.country,
                    type=kind,
                    value=text,
                    source=source,
                    created_by=creator,
                )
                for n in chunk
                if n.e164 not in present
            ]
            Unsubscriber.objects.bulk_create(rows, ignore_conflicts=True)
            result.created += len(rows)
            result.existing += len(present)
        summary = {"type": kind, "value": text, "source": source, "created": result.created}
        summary.update(existing=result.existing, invalid=len(result.invalid))
        record(account, actor, "unsubscriber.bulk_added", account, after=summary)
    return result


def add_from_text(account: Account, actor, text: str, **scope) -> BulkAddResult:
    return add_many(account, actor, split_receiver_list(text), **scope)


# --- settings and the inbound token ---------------------------------------------------------------------


def settings_for(account: Account) -> InboundSettings:
    settings, _ = InboundSettings.objects.get_or_create(account=account)
    return settings


SETTINGS_FIELDS = ("stop_words", "start_words", "scope", "send_confirmation", "confirmation_text", "reply_sender")


def approved_sender_names(account: Account) -> list[str]:
    """The account's approved sender IDs, which confirmation replies may go out from (campaigns' model, through
    the app registry: contacts does not import campaigns)."""
    sender = apps.get_model("campaigns", "Sender")
    return list(sender.objects.for_account(account).approved().order_by("name").values_list("name", flat=True))


def _reply_sender(account: Account, settings: InboundSettings, name: str) -> str:
    """The approved sender `name` names (any case), as the account spells it; empty for none. The current
    reply sender may stay as it is even if it is no longer approved (replies then fail with the reason)."""
    name = (name or "").strip()
    if not name or name == settings.reply_sender:
        return name
    approved = {sender.lower(): sender for sender in approved_sender_names(account)}
    if name.lower() not in approved:
        raise ValidationError({"reply_sender": [f"{name} is not an approved sender of this account."]})
    return approved[name.lower()]


@transaction.atomic
def update_settings(account: Account, actor, **changes) -> InboundSettings:
    settings = settings_for(account)
    unknown = set(changes) - set(SETTINGS_FIELDS)
    if unknown:
        raise ValueError(f"unknown opt-out settings: {', '.join(sorted(unknown))}")
    for name in ("stop_words", "start_words"):
        if name in changes:
            changes[name] = clean_word_list(changes[name])
    if "stop_words" in changes and not changes["stop_words"]:
        raise ValidationError({"stop_words": ["Keep at least one stop word: opting out by SMS must stay possible."]})
    stop_words = changes.get("stop_words", settings.stop_words)
    overlap = set(stop_words) & set(changes.get("start_words", settings.start_words))
    if overlap:
        raise ValidationError({"start_words": [f"Also a stop word: {', '.join(sorted(overlap))}."]})
    if changes.get("scope", settings.scope) not in OptOutScope.values:
        raise ValidationError({"scope": [f"Choose one of {', '.join(OptOutScope.values)}."]})
    if "reply_sender" in changes:
        changes["reply_sender"] = _reply_sender(account, settings, changes["reply_sender"])
    before = {name: getattr(settings, name) for name in SETTINGS_FIELDS}
    for name, value in changes.items():
        setattr(settings, name, value)
    settings.save()
    record(account, actor, "optout_settings.updated", settings, before=before, after=changes)
    return settings


@transaction.atomic
def rotate_inbound_token(account: Account, actor) -> str:
    """A new inbound token `in_<prefix>_<secret>` (returned once; only its HMAC is stored). The old one stops."""
    settings = settings_for(account)
    prefix = secrets.token_hex(6)
    raw = f"{INBOUND_TOKEN_PREFIX}_{prefix}_{secrets.token_urlsafe(32)}"
    settings.token_prefix, settings.token_hash = prefix, hash_token_secret(raw)
    settings.token_rotated_at = timezone.now()
    settings.save(update_fields=["token_prefix", "token_hash", "token_rotated_at", "updated_at"])
    record(account, actor, "inbound_token.rotated", settings)
    return raw


def account_for_inbound_token(raw: str | None) -> Account | None:
    """The active account an inbound token belongs to, compared in constant time; None when unknown."""
    parts = (raw or "").strip().split("_", 2)
    if len(parts) != 3 or parts[0] != INBOUND_TOKEN_PREFIX:
        return None
    settings = InboundSettings.objects.select_related("account").filter(token_prefix=parts[1]).first()
    if settings is None or not hmac.compare_digest(settings.token_hash, hash_token_secret(raw.strip())):
        return None
    return settings.account
