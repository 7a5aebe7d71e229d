"""Delivery-report ingestion: the one entry point for every connector (HTTP callbacks, protocols, the simulator).

A report only moves a message forward (queued → sent → final), repeats change nothing, and every report is kept
(`DeliveryReport`). Each change emits `sms:message:status`.
"""

import time

from django.db import connection, transaction
from django.utils import timezone

from campaigns import dlr_codes
from campaigns.connectors import REGISTRY, DeliveryReceipt
from campaigns.models import DeliveryReport, Message
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
