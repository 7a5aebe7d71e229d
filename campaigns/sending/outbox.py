"""The outbox: claims with leases, the last checks at release, handing messages to connectors, their answers.

`claim_batch` takes due messages of one source (SKIP LOCKED on PostgreSQL, a conditional UPDATE everywhere) with
a lease and debits their cost in the same transaction (`billing`); `send_claimed` hands them to their connector
with the message id as idempotency key; `record_results` moves the state forward. A crashed worker's claims
become claimable again when the lease expires; the `debited` flag keeps a message from being charged twice.
"""

import logging
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import connection, transaction
from django.db.models import F, Q
from django.utils import timezone

from campaigns import dlr_codes
from campaigns.conf import setting
from campaigns.connectors import ConnectorResult, Outcome, connector_for
from campaigns.models import Campaign, Connector, Message
from campaigns.routing import fail_over
from campaigns.sending import billing, caps, lifecycle
from campaigns.sending.errors import INSUFFICIENT_FUNDS
from campaigns.sending.events import emit_statuses
from campaigns.sending.lanes import CELERY_LANE, Lane
from campaigns.sending.reports import settle_early_receipts
from campaigns.sending.timing import backoff_seconds, india_hold_active
from campaigns.states import CampaignState, MessageState
from contacts.recipients import targeted_tags
from contacts.suppression import USER_REQUESTED, suppression_reasons
from portal.models import Account

logger = logging.getLogger("campaigns.sending.outbox")

OPT_OUT_CONFIRMATION = "_opt_out_confirmation"  # Message.meta mark of a reply confirming an opt-out
USER_REQUESTED_MARK = "_user_requested"  # Message.meta mark of a message the user asked for (a Verify code)
SMPP_CREDENTIAL_MARK = "smpp_credential"  # Message.meta: pk of the SMPP credential a message was submitted with
SMPP_RECEIPT_MARK = "smpp_receipt"  # Message.meta: that submit's registered_delivery & 3 (the receipt it asked for)
# Set by the sending core (and the SMPP gateway through `SendRequest.smpp_receipt`), never by a client.
INTERNAL_MARKS = (OPT_OUT_CONFIRMATION, USER_REQUESTED_MARK, SMPP_CREDENTIAL_MARK, SMPP_RECEIPT_MARK)


def _unclaimed(now: datetime) -> Q:
    return Q(claimed_until__isnull=True) | Q(claimed_until__lt=now)


@dataclass
class Claim:
    token: uuid.UUID
    campaign: Campaign | None
    messages: list[Message]


def outbox_sources(now: datetime | None = None, lane: Lane = CELERY_LANE) -> list[tuple[int, int | None]]:
    """(account id, campaign id or None for API sends) that may have messages to release now."""
    return lane.sources(now or timezone.now())


def _locked_running_campaign(campaign_id: int, now: datetime) -> Campaign | None:
    # NO KEY UPDATE: rows inserted elsewhere that reference the campaign (refunds) are not blocked by it
    campaign = (
        Campaign.objects.select_for_update(no_key=True, of=("self",))
        .filter(pk=campaign_id)
        .select_related("sender")
        .first()
    )
    if campaign is None or campaign.state != CampaignState.RUNNING:
        return None
    if campaign.throttle_until and campaign.throttle_until > now:
        return None
    return campaign


def claim_batch(
    account_id: int, campaign_id: int | None, limit: int | None = None, lane: Lane = CELERY_LANE
) -> Claim | None:
    """Claim due messages of one source with a lease and debit their cost, all in one transaction."""
    limit = limit or setting("SMS_OUTBOX_BATCH_SIZE")
    with transaction.atomic():
        now = timezone.now()
        campaign = None
        if campaign_id is not None:
            campaign = _locked_running_campaign(campaign_id, now)
            if campaign is None:
                return None
            if campaign.throttle_per_second:
                limit = min(limit, campaign.throttle_per_second)
        candidates = Message.objects.filter(
            account_id=account_id, campaign_id=campaign_id, state=MessageState.QUEUED, not_before__lte=now
        ).filter(_unclaimed(now))
        candidates = lane.messages(candidates)
        if india_hold_active(now):
            candidates = candidates.exclude(india_promotional=True)
        candidates = candidates.order_by("not_before", "id")
        if connection.vendor == "postgresql":
            candidates = candidates.select_for_update(skip_locked=True, of=("self",))
        ids = list(candidates.values_list("id", flat=True)[:limit])
        if not ids:
            return None
        token = uuid.uuid4()
        Message.objects.filter(pk__in=ids, state=MessageState.QUEUED).filter(_unclaimed(now)).update(
            claim_token=token,
            claimed_until=now + timedelta(seconds=setting("SMS_OUTBOX_LEASE_SECONDS")),
            attempts=F("attempts") + 1,
        )
        account = Account.objects.get(pk=account_id)
        messages = list(Message.objects.filter(claim_token=token).order_by("not_before", "id"))
        for message in messages:
            message.account = account
        messages = _drop_opted_out(messages, campaign, now)
        charge = billing.debit(account_id, campaign, messages)
        messages = charge.released
        if charge.held:
            _stop_for_cap(campaign, charge, now)
        if charge.unpaid:
            _stop_for_funds(campaign, charge.unpaid, now)
        if campaign is not None and campaign.throttle_per_second and messages:
            seconds = len(messages) / campaign.throttle_per_second
            Campaign.objects.filter(pk=campaign.pk).update(throttle_until=now + timedelta(seconds=seconds))
    return Claim(token, campaign, messages) if messages else None


def _drop_opted_out(messages: list[Message], campaign: Campaign | None, now: datetime) -> list[Message]:
    """Opt-outs are checked again at release: a number that opted out since preparation gets nothing."""
    if not messages:
        return messages
    keep, dropped = [], []
    by_sender: dict[tuple[str, object], list[Message]] = {}
    for message in messages:
        meta = message.meta or {}
        if meta.get(OPT_OUT_CONFIRMATION):
            keep.append(message)  # confirms the opt-out itself
            continue
        product = USER_REQUESTED if meta.get(USER_REQUESTED_MARK) else message.service
        by_sender.setdefault((message.sender_name, product, message.india_promotional), []).append(message)
    account = messages[0].account
    tags = targeted_tags(account, campaign.audience) if campaign is not None else ()
    for (sender_name, product, promotional), group in by_sender.items():
        numbers = [m.recipient for m in group]
        reasons = suppression_reasons(
            account, numbers, sender=sender_name, product=product, tags=tags, promotional=promotional
        )
        for message in group:
            if message.recipient in reasons:
                message.error_detail = f"Opted out ({reasons[message.recipient]})"
                dropped.append(message)
            else:
                keep.append(message)
    for message in dropped:
        finish_unsent(message, MessageState.REJECTED, dlr_codes.OPT_OUT_REJECTED, message.error_detail, now)
    return keep


def _stop_for_funds(campaign: Campaign | None, unpaid: list[Message], now: datetime) -> None:
    """What the balance cannot pay: API messages fail; a campaign's wait and the campaign pauses."""
    if campaign is None:
        for message in unpaid:
            finish_unsent(message, MessageState.FAILED, dlr_codes.NO_CREDITS, INSUFFICIENT_FUNDS, now)
        return
    _unclaim(unpaid)
    lifecycle.pause_for_funds(campaign, now)


def _stop_for_cap(campaign: Campaign | None, charge: billing.Debit, now: datetime) -> None:
    """What a spending cap holds back: API messages are rejected (463) naming the cap; a campaign's wait and the
    campaign pauses with the cap's message."""
    if campaign is None:
        for message in charge.held:
            detail = charge.held_by[message.pk].message()
            finish_unsent(message, MessageState.REJECTED, caps.CAP_REACHED_DLR_CODE, detail, now)
        return
    _unclaim(charge.held)
    lifecycle.pause_for_cap(campaign, charge.hits[0].pause_reason(), now)


def _unclaim(messages: list[Message]) -> None:
    """Claimed messages that were not charged go back to the queue, their try not counted."""
    Message.objects.filter(pk__in=[m.pk for m in messages]).update(
        claim_token=None, claimed_until=None, attempts=F("attempts") - 1
    )


def finish_unsent(message: Message, state: str, code: str, detail: str, now: datetime) -> bool:
    """Move a claimed, unsent message to a final state (refunding it); True when it moved."""
    moved = Message.objects.filter(pk=message.pk, state=MessageState.QUEUED).update(
        state=state, error_code=code, error_detail=detail[:300], claim_token=None, claimed_until=None, done_at=now
    )
    if moved:
        message.state, message.error_code, message.error_detail, message.done_at = state, code, detail[:300], now
        billing.refund(message, f"{state}: {detail}")
        emit_statuses([message])
    return bool(moved)


def _connector_of(message: Message, cache: dict):
    key = message.connector_id
    if key not in cache:
        row = Connector.objects.filter(pk=key).first() if key else None
        cache[key] = connector_for(row)
    return cache[key]


def send_claimed(
    claim: Claim, chunk_size: int = 100, record: Callable[[Claim, list], None] | None = None
) -> list[tuple[Message, ConnectorResult]]:
    """Hand the claimed messages to their connectors in chunks; stops early when the campaign is paused or
    cancelled (the rest of the claim is released). With `record`, each chunk's answers are stored before the next
    chunk leaves, so a worker killed mid-claim leaves at most one chunk to be handed over again."""
    results, connectors = [], {}
    for start in range(0, len(claim.messages), chunk_size):
        if claim.campaign is not None and start and _campaign_stopped(claim.campaign.pk):
            release_claimed(claim.token, [m.pk for m in claim.messages[start:]])
            break
        chunk = claim.messages[start : start + chunk_size]
        by_connector: dict[int | None, list[Message]] = {}
        for message in chunk:
            by_connector.setdefault(message.connector_id, []).append(message)
        for group in by_connector.values():
            try:
                answers = _connector_of(group[0], connectors).send_many(group)
            except Exception as exc:  # a connector bug or outage must not lose messages: retry them later
                logger.exception("connector failed for %s messages", len(group))
                answers = [ConnectorResult.retry(f"connector error: {exc}")] * len(group)
            chunk_results = list(zip(group, answers, strict=True))
            if record is not None:
                record(claim, chunk_results)
            results.extend(chunk_results)
    return results


def _campaign_stopped(campaign_id: int) -> bool:
    state = Campaign.objects.filter(pk=campaign_id).values_list("state", flat=True).first()
    return state != CampaignState.RUNNING


def release_claimed(token: uuid.UUID, ids: list[int], count_try: bool = True) -> None:
    """Give claimed, unsent messages back to the queue (already paid: the `debited` flag keeps them so);
    `count_try=False` when they never reached a connector (a bind went down, the worker stops)."""
    changes = {"claim_token": None, "claimed_until": None}
    if not count_try:
        changes["attempts"] = F("attempts") - 1
    Message.objects.filter(pk__in=ids, claim_token=token, state=MessageState.QUEUED).update(**changes)


def record_results(claim: Claim, results: list[tuple[Message, ConnectorResult]]) -> None:
    """Store what the connector said: sent, rejected, submit unknown, or back to the queue with backoff; then
    settle delivery reports that arrived before the upstream ids they name were stored."""
    now = timezone.now()
    with transaction.atomic():
        owned_query = Message.objects.filter(claim_token=claim.token, state=MessageState.QUEUED)
        if connection.vendor == "postgresql":
            owned_query = owned_query.select_for_update(no_key=True)
        owned = set(owned_query.values_list("id", flat=True))
        sent, unknown, late_ids, failing = [], [], [], []
        for message, result in results:
            if message.pk not in owned:
                if result.outcome == Outcome.ACCEPTED:  # a report got there first: keep its state, store the id
                    Message.objects.filter(pk=message.pk, connector_message_id="").update(
                        connector_message_id=result.connector_message_id, sent_at=now
                    )
                    late_ids.append(message.pk)
                continue
            if result.outcome == Outcome.ACCEPTED:
                message.state, message.connector_message_id, message.sent_at = (
                    MessageState.SENT,
                    result.connector_message_id,
                    now,
                )
                message.claim_token = message.claimed_until = None
                sent.append(message)
            elif result.outcome == Outcome.UNKNOWN:
                message.state, message.sent_at, message.error_detail = MessageState.UNKNOWN, now, result.detail[:300]
                message.connector_message_id = result.connector_message_id
                unknown.append(message)
            elif result.outcome == Outcome.REJECTED:
                finish_unsent(message, MessageState.REJECTED, result.error_code, result.detail or "rejected", now)
            elif message.attempts >= setting("SMS_RETRY_MAX_ATTEMPTS"):
                detail = f"gave up after {message.attempts} tries: {result.detail}"
                finish_unsent(message, MessageState.FAILED, "", detail, now)
            else:
                Message.objects.filter(pk=message.pk).update(
                    claim_token=None,
                    claimed_until=None,
                    not_before=now + timedelta(seconds=backoff_seconds(message.attempts)),
                    error_detail=result.detail[:300],
                )
                if result.connector_down:
                    failing.append(message)
        Message.objects.filter(pk__in=[m.pk for m in sent]).update(
            state=MessageState.SENT, sent_at=now, claim_token=None, claimed_until=None
        )
        for message in unknown:
            Message.objects.filter(pk=message.pk).update(
                state=MessageState.UNKNOWN,
                sent_at=now,
                claim_token=None,
                claimed_until=None,
                error_detail=message.error_detail,
                connector_message_id=message.connector_message_id,
            )
        set_connector_ids([(m.pk, m.connector_message_id) for m in sent])
        fail_over(failing)
        emit_statuses(sent + unknown)
    settle_early_receipts([m.pk for m in sent if m.connector_id] + late_ids)


def set_connector_ids(pairs: list[tuple[int, str]]) -> None:
    """Store each message's upstream id: one `UPDATE … FROM unnest()` on PostgreSQL, bulk_update elsewhere."""
    if not pairs:
        return
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                f"UPDATE {Message._meta.db_table} AS m SET connector_message_id = v.cid "
                "FROM unnest(%s::bigint[], %s::text[]) AS v(id, cid) WHERE m.id = v.id",
                [[pk for pk, _ in pairs], [cid for _, cid in pairs]],
            )
        return
    Message.objects.bulk_update(
        [Message(pk=pk, connector_message_id=cid) for pk, cid in pairs], ["connector_message_id"], batch_size=500
    )


def dispatch_once(account_id: int, campaign_id: int | None) -> int:
    """Claim, send and record one batch of one source (the Celery lane); returns how many were handled."""
    claim = claim_batch(account_id, campaign_id)
    if claim is None:
        return 0
    return len(send_claimed(claim, record=record_results))


def run_outbox(seconds: float | None = None) -> int:
    """Release due messages of every source until none is left or `seconds` have passed."""
    deadline = time.monotonic() + (seconds if seconds is not None else setting("SMS_OUTBOX_TASK_SECONDS"))
    handled = 0
    while time.monotonic() < deadline:
        round_handled = 0
        for account_id, campaign_id in outbox_sources():
            round_handled += dispatch_once(account_id, campaign_id)
            if time.monotonic() >= deadline:
                break
        handled += round_handled
        if not round_handled:
            break
    return handled


def due_batches(now: datetime | None = None) -> int:
    """How many outbox batches are due now (to size the fan-out of a sweep)."""
    now = now or timezone.now()
    due = (
        CELERY_LANE.messages(Message.objects.filter(state=MessageState.QUEUED, not_before__lte=now))
        .filter(_unclaimed(now))
        .filter(Q(campaign__isnull=True) | Q(campaign__state=CampaignState.RUNNING))
        .order_by()[: setting("SMS_OUTBOX_BATCH_SIZE") * setting("SMS_OUTBOX_PARALLELISM")]
        .count()
    )
    return -(-due // setting("SMS_OUTBOX_BATCH_SIZE"))


def release_expired_claims() -> int:
    """Clear claims whose lease expired (a crashed worker's batch): the messages are due again."""
    return Message.objects.filter(state=MessageState.QUEUED, claimed_until__lt=timezone.now()).update(
        claim_token=None, claimed_until=None
    )
