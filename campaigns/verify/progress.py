"""A verification after its code left: checks, cancel, its messages' states (delivered, failover), expiry.

`follow_messages` listens to every message state change (`campaigns.sending.events`); `sweep` (a beat task)
expires requests and moves undelivered ones to their next channel after `fallback_seconds`.
"""

from django.db import connection, transaction
from django.utils import timezone

from campaigns.conf import setting
from campaigns.models import Message, Verification, VerifyAttempt, VerifyStatus
from campaigns.states import FINAL_MESSAGE_STATES, MessageState
from campaigns.verify import codes, limits
from campaigns.verify.events import emit_status
from campaigns.verify.service import (
    ALREADY_VERIFIED,
    EXPIRED,
    FAILED,
    INVALID,
    SUCCESS,
    VERIFY_MARK,
    CheckOutcome,
    finish,
    send_from,
    settings_for,
)
from portal.audit import record
from portal.service_errors import ServiceError

SWEEP_BATCH = 500


def _locked(account, uid) -> Verification | None:
    query = Verification.objects.for_account(account).filter(uid=uid).select_related("account")
    return query.select_for_update(of=("self",)).first() if connection.vendor == "postgresql" else query.first()


def check(account, uid, code: str, *, token_id: int | None = None) -> CheckOutcome | None:
    """Check a code: success once; invalid (a wrong code, counted), expired, failed (dead, cancelled or never
    sent), already verified. None for an id of no request of this account. After VERIFY_MAX_CHECKS wrong codes
    the request is dead: even the right code fails."""
    now = timezone.now()
    limits.check_token_rate(token_id, now)
    with transaction.atomic():
        verification = _locked(account, uid)
        if verification is None:
            return None
        if verification.status == VerifyStatus.VERIFIED:
            return CheckOutcome(ALREADY_VERIFIED, verification, "this code was already used")
        if verification.is_live and verification.expire_at <= now:
            finish(verification, VerifyStatus.EXPIRED, "the code expired before it was checked")
        if verification.status == VerifyStatus.EXPIRED:
            return CheckOutcome(EXPIRED, verification, "the code has expired; ask for a new one")
        if not verification.is_live:
            return CheckOutcome(FAILED, verification, verification.failure_reason or verification.status)
        if codes.code_matches(verification, code):
            finish(verification, VerifyStatus.VERIFIED)
            return CheckOutcome(SUCCESS, verification)
        verification.failed_checks += 1
        verification.save(update_fields=["failed_checks", "updated_at"])
        if verification.failed_checks >= setting("VERIFY_MAX_CHECKS"):
            finish(verification, VerifyStatus.FAILED, f"{verification.failed_checks} wrong codes: the code is dead")
        left = max(0, setting("VERIFY_MAX_CHECKS") - verification.failed_checks)
        return CheckOutcome(INVALID, verification, f"wrong code; {left} tries left")


def cancel(account, uid, *, actor=None) -> Verification | None:
    """Cancel a live request (its code no longer verifies); None for an unknown id."""
    with transaction.atomic():
        verification = _locked(account, uid)
        if verification is None:
            return None
        if not verification.is_live:
            raise ServiceError(f"The request is {verification.status}; only a live one can be cancelled.")
        finish(verification, VerifyStatus.CANCELLED, "cancelled by the client")
        record(account, actor, "verify.cancelled", verification)
    return verification


def follow_messages(messages: list[Message]) -> None:
    """Status listener: a code's message delivered marks its request delivered; a final failure of the channel in
    use moves the request to its next channel at once. Sealed texts are erased once a message has left."""
    ours = [m for m in messages if (m.meta or {}).get(VERIFY_MARK) and m.state != MessageState.QUEUED]
    if not ours:
        return
    Message.objects.filter(pk__in=[m.pk for m in ours]).exclude(sealed_body="").update(sealed_body="")
    attempts = VerifyAttempt.objects.filter(message_id__in=[m.pk for m in ours]).select_related("verification")
    by_message = {attempt.message_id: attempt for attempt in attempts}
    for message in ours:
        attempt = by_message.get(message.pk)
        if attempt is None:
            continue
        VerifyAttempt.objects.filter(pk=attempt.pk).update(state=message.state)
        verification = attempt.verification
        if not verification.is_live or attempt.position != verification.channel_index:
            continue
        if message.state == MessageState.DELIVERED and verification.status == VerifyStatus.SENT:
            verification.status, verification.next_fallback_at = VerifyStatus.DELIVERED, None
            verification.save(update_fields=["status", "next_fallback_at", "updated_at"])
            emit_status(verification, str(message.uid))
        elif message.state in FINAL_MESSAGE_STATES and message.state != MessageState.DELIVERED:
            fail_over(verification, f"{attempt.channel} {message.state}")


def fail_over(verification: Verification, why: str) -> str:
    """Send the code on the next channel; with none left the request fails. The new message id, or ''."""
    position = verification.channel_index + 1
    if position >= len(verification.channels) or not verification.sealed_code:
        verification.next_fallback_at = None
        verification.save(update_fields=["next_fallback_at", "updated_at"])
        if verification.status == VerifyStatus.SENT:
            finish(verification, VerifyStatus.FAILED, f"{why}; no channel left")
        return ""
    code = codes.unseal(verification.sealed_code)
    message_id = send_from(verification, code, position, settings_for(verification.account))
    if message_id:
        emit_status(verification, message_id)
    return message_id


def expire_due(now=None) -> int:
    """Live requests past their expiry become expired (their sealed codes erased)."""
    now = now or timezone.now()
    ids = list(
        Verification.objects.filter(status__in=[VerifyStatus.SENT, VerifyStatus.DELIVERED], expire_at__lte=now)
        .order_by("expire_at")
        .values_list("pk", flat=True)[:SWEEP_BATCH]
    )
    for verification in Verification.objects.filter(pk__in=ids).select_related("account"):
        with transaction.atomic():
            finish(verification, VerifyStatus.EXPIRED, "the code expired before it was checked")
    return len(ids)


def fall_back_due(now=None) -> int:
    """Requests still undelivered `fallback_seconds` after their last send go to their next channel."""
    now = now or timezone.now()
    due = Verification.objects.filter(next_fallback_at__lte=now, status=VerifyStatus.SENT, expire_at__gt=now)
    moved = 0
    for verification in due.select_related("account").order_by("next_fallback_at")[:SWEEP_BATCH]:
        with transaction.atomic():
            locked = _locked(verification.account, verification.uid)
            if locked is not None and locked.status == VerifyStatus.SENT and locked.next_fallback_at:
                moved += bool(fail_over(locked, f"not delivered after {locked.fallback_seconds} s"))
    return moved


def sweep(now=None) -> dict:
    now = now or timezone.now()
    return {"expired": expire_due(now), "fell_back": fall_back_due(now)}
