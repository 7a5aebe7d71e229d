"""Delivery-report ingestion: the one entry point for every connector (HTTP callbacks, protocols, the simulator).

A report only moves a message forward (queued → sent → final), repeats change nothing, and every report is kept
(`DeliveryReport`). Each change emits `sms:message:status`.

Reports that name a message by the upstream's id (SMPP receipts) go through `apply_upstream_receipts`: the id is
looked up in every spelling an SMSC may use; a report about a message whose submit answer was lost with the
connection (state `unknown`) settles it by its number; a report that arrives before its submit answer was
stored waits as a `PendingReceipt` until `settle_early_receipts` finds its message.
"""

import time
from datetime import timedelta

from django.db import connection, transaction
from django.utils import timezone

from campaigns import dlr_codes
from campaigns.connectors import REGISTRY, DeliveryReceipt, UpstreamReceipt
from campaigns.connectors.settings import smpp_settings
from campaigns.connectors.smpp.receipts import id_variants
from campaigns.models import Connector, ConnectorKind, DeliveryReport, Message, PendingReceipt
from campaigns.sending.events import emit_statuses
from campaigns.states import MessageState, states_before

RECEIPT_BATCH = 500

STATUS_TO_CODE = {}
for _entry in dlr_codes.DLR_CODES.values():
    STATUS_TO_CODE.setdefault(_entry.status, _entry.code)
STATUS_TO_CODE.update({"DELIVERED": dlr_codes.DELIVERED, "UNDELIVERED": "099", "EXPIRED": dlr_codes.EXPIRED})


def code_of(code: str, status: str) -> str:
    """The seed code of a report given as a code (`000`…`792`, any padding) or a status word (`DELIVRD`…)."""
    code = str(code or "").strip()
    if code:
        return code.zfill(3)
    return STATUS_TO_CODE.get(str(status or "").strip().upper(), "")


def apply_delivery_reports(receipts: list[DeliveryReceipt]) -> int:
    """Store the reports and move each message forward (never back); repeats change nothing. One transaction."""
    if not receipts:
        return 0
    applied_count = 0
    with transaction.atomic():
        now = timezone.now()
        query = Message.objects.filter(uid__in=[r.message_uid for r in receipts]).select_related("account")
        if connection.vendor == "postgresql":
            query = query.select_for_update(of=("self",))
        messages = {str(m.uid): m for m in query.order_by("pk")}
        rows, changed = [], []
        for receipt in receipts:
            message = messages.get(str(receipt.message_uid))
            if message is None:
                continue
            entry = dlr_codes.DLR_CODES.get(receipt.code)
            state = receipt.state or dlr_codes.state_for(receipt.code)
            applied = message.state in states_before(state)
            if applied:
                message.state, message.done_at = state, now
                message.claim_token = message.claimed_until = None
                if state != MessageState.DELIVERED:
                    message.error_code = receipt.code
                changed.append(message)
                applied_count += 1
            rows.append(
                DeliveryReport(
                    account_id=message.account_id,
                    message=message,
                    code=receipt.code,
                    status=receipt.status or (entry.status if entry else ""),
                    state=state,
                    applied=applied,
                    source=receipt.source,
                    raw=receipt.raw,
                )
            )
        by_outcome: dict[tuple[str, str], list[int]] = {}
        for message in changed:
            by_outcome.setdefault((message.state, message.error_code), []).append(message.pk)
        for (state, code), ids in by_outcome.items():
            Message.objects.filter(pk__in=ids).update(
                state=state, error_code=code, done_at=now, claim_token=None, claimed_until=None
            )
        DeliveryReport.objects.bulk_create(rows, batch_size=500)
        emit_statuses(changed)
    return applied_count


def apply_delivery_report(
    message_uid, code: str, *, source: str = "", status: str = "", raw: dict | None = None, state: str | None = None
) -> bool:
    """One report (a connector callback); True when it moved the message forward."""
    return bool(apply_delivery_reports([DeliveryReceipt(message_uid, code, source, status, raw or {}, state)]))


def ingest_due_receipts(limit: int = RECEIPT_BATCH) -> int:
    """One batch of the reports that connectors hold and that are due (the simulator's), applied in the same
    transaction that takes them; returns how many were taken."""
    taken = 0
    for implementation in REGISTRY.values():
        with transaction.atomic():
            receipts = implementation.take_due_receipts(limit)
            apply_delivery_reports(receipts)
        taken += len(receipts)
    return taken


def ingest_all_due_receipts(seconds: float = 20) -> int:
    """Take due reports in batches until none is left or `seconds` have passed."""
    deadline, taken = time.monotonic() + seconds, 0
    while time.monotonic() < deadline:
        batch = ingest_due_receipts()
        taken += batch
        if not batch:
            break
    return taken


PENDING_RECEIPT_DAYS = 7


def apply_upstream_receipts(connector_id: int, receipts: list[UpstreamReceipt]) -> int:
    """Apply reports naming messages by upstream id (see the module docstring); returns how many were applied
    to a message now (the rest wait as pending receipts)."""
    if not receipts:
        return 0
    spellings = {receipt.upstream_id: id_variants(receipt.upstream_id) for receipt in receipts}
    wanted = {variant for variants in spellings.values() for variant in variants}
    with transaction.atomic():
        known = dict(
            Message.objects.filter(connector_id=connector_id, connector_message_id__in=wanted).values_list(
                "connector_message_id", "uid"
            )
        )
        ready, pending = [], []
        unknown_submits = None  # asked once per batch, only when a receipt names no known message
        for receipt in receipts:
            uid = next((known[v] for v in spellings[receipt.upstream_id] if v in known), None)
            if uid is None and unknown_submits is None:
                unknown_submits = Message.objects.filter(connector_id=connector_id, state=MessageState.UNKNOWN).exists()
            if uid is None and unknown_submits:
                uid = _settle_unknown_by_number(connector_id, receipt)
            if uid is None:
                pending.append(_pending(connector_id, receipt))
            elif receipt.state is None:
                _confirm_sent(uid)
            else:
                ready.append(_as_delivery_receipt(uid, receipt.code, receipt.state, receipt.status, receipt.raw))
        PendingReceipt.objects.bulk_create(pending)
        apply_delivery_reports(ready)
    return len(ready)


def _as_delivery_receipt(uid, code: str, state: str | None, status: str, raw: dict) -> DeliveryReceipt:
    return DeliveryReceipt(uid, code, "smpp", status, raw, state)


def _settle_unknown_by_number(connector_id: int, receipt: UpstreamReceipt):
    """The oldest message to this number whose submit answer was lost takes the receipt's id."""
    number = receipt.handset
    if not number:
        return None
    message = (
        Message.objects.filter(
            connector_id=connector_id, state=MessageState.UNKNOWN, recipient=number, connector_message_id=""
        )
        .order_by("sent_at", "id")
        .values_list("pk", "uid")
        .first()
    )
    if message is None:
        return None
    Message.objects.filter(pk=message[0]).update(connector_message_id=receipt.upstream_id)
    return message[1]


def _confirm_sent(uid) -> None:
    """An intermediate report (en route, accepted) proves a `unknown` submit reached the upstream."""
    Message.objects.filter(uid=uid, state=MessageState.UNKNOWN).update(state=MessageState.SENT, error_detail="")


def _pending(connector_id: int, receipt: UpstreamReceipt) -> PendingReceipt:
    return PendingReceipt(
        connector_id=connector_id,
        upstream_id=receipt.upstream_id,
        handset=receipt.handset,
        code=receipt.code,
        status=receipt.status,
        state=receipt.state or "",
        raw=receipt.raw,
    )


def settle_early_receipts(message_ids: list[int]) -> int:
    """Apply the pending receipts that name these messages' upstream ids (stored just now)."""
    if not message_ids or not PendingReceipt.objects.exists():
        return 0
    rows = Message.objects.filter(pk__in=message_ids).exclude(connector_message_id="")
    by_variant = {}
    for uid, connector_id, upstream_id in rows.values_list("uid", "connector_id", "connector_message_id"):
        for variant in id_variants(upstream_id):
            by_variant[(connector_id, variant)] = uid
    connectors = {connector_id for connector_id, _ in by_variant}
    variants = {variant for _, variant in by_variant}
    with transaction.atomic():
        found = list(PendingReceipt.objects.filter(connector_id__in=connectors, upstream_id__in=variants))
        matched = [(p, by_variant.get((p.connector_id, p.upstream_id))) for p in found]
        matched = [(p, uid) for p, uid in matched if uid is not None]
        for receipt, uid in matched:
            if not receipt.state:
                _confirm_sent(uid)
        apply_delivery_reports(
            [_as_delivery_receipt(uid, p.code, p.state, p.status, p.raw) for p, uid in matched if p.state]
        )
        PendingReceipt.objects.filter(pk__in=[p.pk for p, _ in matched]).delete()
    return len(matched)


def expire_unknown_submits(now=None) -> int:
    """Messages whose submit answer was lost and that no report settled within the connector's
    `unknown_timeout_hours` (48 by default) become expired (seed code 021); old unmatched receipts are dropped."""
    now = now or timezone.now()
    expired = 0
    for connector in Connector.objects.filter(kind=ConnectorKind.SMPP):
        hours = smpp_settings(connector).unknown_timeout_hours
        stale = Message.objects.filter(
            connector=connector, state=MessageState.UNKNOWN, sent_at__lt=now - timedelta(hours=hours)
        ).values_list("uid", flat=True)[:RECEIPT_BATCH]
        raw = {"reason": f"no submit answer and no delivery report within {hours:g} h"}
        expired += apply_delivery_reports(
            [DeliveryReceipt(uid, dlr_codes.EXPIRED, "timeout", raw=raw, state=MessageState.EXPIRED) for uid in stale]
        )
    PendingReceipt.objects.filter(received_at__lt=now - timedelta(days=PENDING_RECEIPT_DAYS)).delete()
    return expired


def settle_pending_receipts(connector_id: int, limit: int = RECEIPT_BATCH) -> int:
    """Pending receipts of a connector whose message now carries their upstream id (its answer was stored by
    another worker after the receipt was kept): applied and dropped. Run by each SMPP worker's heartbeat."""
    ids = list(PendingReceipt.objects.filter(connector_id=connector_id).values_list("upstream_id", flat=True)[:limit])
    if not ids:
        return 0
    spellings = {variant for upstream_id in ids for variant in id_variants(upstream_id)}
    known = Message.objects.filter(connector_id=connector_id, connector_message_id__in=spellings)
    return settle_early_receipts(list(known.values_list("pk", flat=True)))
