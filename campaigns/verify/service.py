"""Verify requests: start (send a code), check, cancel, and follow their messages (failover, expiry).

Every surface (API, Boomware-style API, the Verify page's test form, tasks) calls here. A code's SMS is an API
send through the normal outbox (`campaigns.sending.direct`): priced, charged, exactly once, released ahead of
campaign traffic; it is a message the user asked for, so only `all` and sender opt-outs stop it.
"""

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import connection, transaction
from django.utils import timezone

from campaigns.conf import setting
from campaigns.lookups import approved_sender, template_by_reference
from campaigns.models import (
    Message,
    Sender,
    Template,
    TemplateType,
    Verification,
    VerifyAttempt,
    VerifyChannel,
    VerifyRepeat,
    VerifySettings,
    VerifyStatus,
)
from campaigns.rendering import variables_in
from campaigns.sending.direct import SendRequest, send_messages
from campaigns.sending.errors import InsufficientFunds, Reason, SendingError, SpendingCapReached
from campaigns.states import MessageState
from campaigns.verify import codes, limits
from campaigns.verify.events import emit_status
from contacts.phones import check_msisdn
from portal.audit import record
from portal.service_errors import ServiceError

CODE_VARIABLE = "code"
VERIFY_MARK = "verify_id"  # Message.meta: the verification a message carries the code of
SUCCESS, FAILED, EXPIRED, INVALID, ALREADY_VERIFIED = "success", "failed", "expired", "invalid", "OTP already verified"
DLT_CODE_TYPES = (TemplateType.SERVICE_IMPLICIT, TemplateType.TRANSACTIONAL)


@dataclass
class VerifyRequest:
    """What a client asks for; None takes the account's Verify settings."""

    to: str
    channels: list[dict] | None = None
    code_length: int | None = None
    expiry_seconds: int | None = None
    fallback_seconds: int | None = None
    reference: str = ""
    foreign_id: str = ""
    ip: str | None = None
    language: str = ""


@dataclass
class CheckOutcome:
    status: str  # success, failed, expired, invalid, OTP already verified
    verification: Verification
    detail: str = ""


def settings_for(account) -> VerifySettings:
    config, _ = VerifySettings.objects.select_related("sender", "template", "account").get_or_create(account=account)
    return config


def resolve_channel(account, config: VerifySettings, given: dict, position: int) -> dict:
    """One channel as stored on the request: kind, sender name and template id, checked now (a 422 names it)."""
    field = f"channels[{position}]"
    kind = str(given.get("channel") or VerifyChannel.SMS).lower()
    if kind not in VerifyChannel.values:
        choices = ", ".join(VerifyChannel.values)
        raise ServiceError(f"Channel {kind!r} is not available; use one of {choices}.", field=field)
    sender = approved_sender(account, given["sender"], field=field) if given.get("sender") else config.sender
    template = config.template
    if given.get("template"):
        template = template_by_reference(account, str(given["template"]), field=field)
    if template is not None:
        if CODE_VARIABLE not in variables_in(template.body):
            raise ServiceError(f"Template {template.name} has no {{{{code}}}} variable.", field=field)
        sender = sender or template.sender
    if sender is None:
        raise ServiceError("No Verify sender: choose one in Verify settings or give channels[].sender.", field=field)
    if not sender.is_approved:
        raise ServiceError(f"Sender {sender.name} is not approved.", field=field)
    return {"channel": kind, "sender_id": sender.pk, "template_id": template.pk if template else None}


def resolve_channels(account, config: VerifySettings, given: list[dict] | None) -> list[dict]:
    wanted = given or config.channels or [{"channel": VerifyChannel.SMS}]
    if len(wanted) > 4:
        raise ServiceError("At most 4 channels.", field="channels")
    return [resolve_channel(account, config, dict(item), index) for index, item in enumerate(wanted)]


def check_dlt_template(channels: list[dict], country: str) -> None:
    """Operators of template-matching countries (DLT India) refuse a code outside an approved SI/T template."""
    if country not in setting("SMS_TEMPLATE_MATCH_COUNTRIES"):
        return
    from_templates = {c["template_id"] for c in channels}
    if None in from_templates:
        raise ServiceError(
            f"A code to {country} needs an approved Service Implicit or Transactional template with {{{{code}}}}: "
            "choose one in Verify settings or give channels[].template.",
            field="channels",
        )


def _lock_number(account_id: int, e164: str) -> None:
    """Serialize the sends to one number (PostgreSQL advisory lock for the transaction; SQLite has one writer)."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", [f"verify:{account_id}:{e164}"])


def live_request(account, e164: str, now: datetime) -> Verification | None:
    return (
        Verification.objects.for_account(account)
        .filter(to=e164, status__in=[VerifyStatus.SENT, VerifyStatus.DELIVERED], expire_at__gt=now)
        .order_by("-created_at")
        .first()
    )


def start(account, request: VerifyRequest, *, actor=None, api_token=None) -> tuple[Verification, bool]:
    """Send a code to `request.to`: (the request, True), or the live request to that number (…, False) when the
    account reuses it. Raises the refusal (invalid number, country, rate, paused prefix, funds, all channels)."""
    config = settings_for(account)
    number = check_msisdn(request.to, account.default_country)
    if not number.valid:
        raise ServiceError(f"{request.to} is not a valid number: {number.reason}.", field="to")
    code_length = request.code_length or config.code_length
    if not codes.MIN_LENGTH <= code_length <= codes.MAX_LENGTH:
        raise ServiceError(f"code_length must be {codes.MIN_LENGTH} to {codes.MAX_LENGTH}.", field="code_length")
    expiry = request.expiry_seconds or config.expiry_seconds
    if not 30 <= expiry <= 86_400:
        raise ServiceError("expiry must be 30 to 86400 seconds.", field="expiry")
    channels = resolve_channels(account, config, request.channels)
    check_dlt_template(channels, number.country or "")
    now = timezone.now()
    limits.check_send(config, number.e164, number.country or "", now)
    with transaction.atomic():
        _lock_number(account.pk, number.e164)
        live = live_request(account, number.e164, now)
        if live is not None:
            if config.on_repeat == VerifyRepeat.REUSE:
                return live, False
            raise ServiceError(
                f"A code sent to {number.e164} is still valid (request {live.uid}); check it or cancel it first."
            )
        limits.check_number_rate(config, number.e164, now)
        code = codes.new_code(code_length)
        verification = Verification(
            account=account,
            to=number.e164,
            country=number.country or "",
            prefix=limits.prefix_of(number.e164),
            code_length=code_length,
            channels=channels,
            fallback_seconds=request.fallback_seconds or config.fallback_seconds,
            reference=request.reference,
            foreign_id=request.foreign_id,
            ip=request.ip or None,
            language=request.language,
            api_token=api_token,
            expire_at=now + timedelta(seconds=expiry),
        )
        verification.code_hash = codes.code_hash(verification.uid, code)
        verification.sealed_code = codes.seal(code) if len(channels) > 1 else ""
        verification.save()
        message_id = send_from(verification, code, 0, config, actor=actor, at_start=True)
        record(account, actor, "verify.sent", verification, after={"to": verification.to})
        if message_id:
            emit_status(verification, message_id)
    if verification.status == VerifyStatus.FAILED:
        raise ServiceError(verification.failure_reason, field="to")
    return verification, True


def send_from(verification, code: str, position: int, config, *, actor=None, at_start=False) -> str:
    """Send the code on the first channel from `position` that accepts it; the message id, or '' when every
    remaining channel refused (the request is then failed). At start, funds and caps refuse the whole request."""
    for index in range(position, len(verification.channels)):
        try:
            message_id, refusal = _send_on(verification, code, index, config, actor)
        except (InsufficientFunds, SpendingCapReached):
            if at_start:
                raise
            message_id, refusal = "", "the account cannot pay for the message"
        except SendingError as error:
            message_id, refusal = "", str(error)
        if message_id:
            verification.channel_index = index
            remaining = index + 1 < len(verification.channels)
            verification.next_fallback_at = (
                timezone.now() + timedelta(seconds=verification.fallback_seconds) if remaining else None
            )
            verification.save(update_fields=["channel_index", "next_fallback_at", "updated_at"])
            return message_id
        verification.failure_reason = refusal
    finish(verification, VerifyStatus.FAILED, verification.failure_reason or "no channel could send the code")
    return ""


def _send_on(verification, code: str, index: int, config, actor) -> tuple[str, str]:
    """Queue the code's message on channel `index`: (message id, '') or ('', why not). Records the attempt."""
    channel = verification.channels[index]
    sender = _sender(verification.account, channel["sender_id"], config)
    template = _template(verification.account, channel["template_id"], config)
    minutes = max(1, math.ceil((verification.expire_at - verification.created_at).total_seconds() / 60))
    outcome = send_messages(
        verification.account,
        SendRequest(
            sender=sender,
            recipients=[verification.to],
            text="" if template else config.text,
            template=template,
            variables={CODE_VARIABLE: code, "minutes": str(minutes)},
            flash=channel["channel"] == VerifyChannel.FLASH,
            custom=verification.reference[:100],
            meta={VERIFY_MARK: str(verification.uid)},
            api_token=verification.api_token,
            secret_values=(code,),
            requested_by_user=True,
        ),
        actor=actor,
    )
    attempt = VerifyAttempt(
        verification=verification, position=index, channel=channel["channel"], sender_name=sender.name
    )
    if outcome.accepted:
        uid = outcome.accepted[0]["message_id"]
        attempt.message = Message.objects.only("pk").get(uid=uid)
        attempt.state = MessageState.QUEUED
        attempt.save()
        return uid, ""
    refusal = outcome.rejected[0] if outcome.rejected else {"reason": "", "message": "refused"}
    attempt.state, attempt.detail = "refused", refusal["message"][:300]
    attempt.save()
    if refusal["reason"] == Reason.SUPPRESSED:
        opted_out = f"{verification.to} has opted out of {sender.name}'s messages"
        return "", f"{opted_out}; the user can reply START to get codes again."
    return "", refusal["message"]


def _sender(account, sender_id: int, config: VerifySettings) -> Sender:
    """The channel's sender (the settings' own when it is that one: already loaded)."""
    if config.sender_id == sender_id:
        return config.sender
    return Sender.objects.for_account(account).get(pk=sender_id)


def _template(account, template_id: int | None, config: VerifySettings) -> Template | None:
    if template_id is None:
        return None
    if config.template_id == template_id:
        return config.template
    return Template.objects.for_account(account).select_related("sender").get(pk=template_id)


def finish(verification: Verification, status: str, reason: str = "") -> None:
    """Move a live request to a final status: its sealed code is erased and the event emitted."""
    now = timezone.now()
    verification.status, verification.failure_reason = status, reason[:200]
    verification.sealed_code, verification.next_fallback_at, verification.finished_at = "", None, now
    if status == VerifyStatus.VERIFIED:
        verification.verified_at = now
    verification.save()
    emit_status(verification)
