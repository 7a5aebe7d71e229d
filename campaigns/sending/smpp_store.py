"""The database side of `smpp_worker` (plain, synchronous functions the asyncio process calls on threads).

Bind slots: a connector allows `binds` slots in all; a worker takes free or stale ones (compare-and-swap on the
holder and heartbeat) so several workers on several machines split them, and its heartbeat keeps them. Claims:
the outbox's own claims and leases, in this connector's lane. Deliveries: receipts through the reports entry
point, inbound messages (multi-part ones reassembled across binds) through the contacts inbound path.
"""

import contextlib
import os
import socket
import threading
from datetime import timedelta

from django.db import IntegrityError, close_old_connections, connections, transaction
from django.db.models import Q
from django.utils import timezone

from campaigns.connectors import ConnectorResult, UpstreamReceipt
from campaigns.connectors.smpp.pdus import Delivery, IndiaTlvs, SubmitParams, international, relative_validity
from campaigns.connectors.smpp.receipts import parse_receipt, receipt_outcome
from campaigns.models import BindState, Connector, ConnectorKind, Message, Sender, SmppBind, SmppInboundPart, Template
from campaigns.sending import outbox, reports
from campaigns.sending.lanes import Lane
from contacts.inbound_routing import destination_forms, number_for
from contacts.services_inbound import receive_inbound
from portal.models import Account

SLOT_LEASE_SECONDS = 30
INDIA = "IN"


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def close_thread_connection(barrier: threading.Barrier) -> None:
    """Close this database thread's connection (the barrier makes each thread of the pool take one call)."""
    with contextlib.suppress(threading.BrokenBarrierError):
        barrier.wait()
    connections.close_all()


def smpp_connectors(name: str | None = None) -> list[Connector]:
    connectors = Connector.objects.filter(kind=ConnectorKind.SMPP, is_active=True)
    if name:
        connectors = connectors.filter(name=name)
    return list(connectors.order_by("name"))


def acquire_slots(connector: Connector, total: int, wanted: int, worker: str) -> list[int]:
    """Take up to `wanted` of the connector's `total` bind slots that are free, stale or already ours."""
    close_old_connections()
    now = timezone.now()
    SmppBind.objects.bulk_create(
        [SmppBind(connector=connector, slot=slot) for slot in range(total)], ignore_conflicts=True
    )
    stale = now - timedelta(seconds=SLOT_LEASE_SECONDS)
    candidates = (
        SmppBind.objects.filter(connector=connector, slot__lt=total)
        .filter(Q(worker="") | Q(worker=worker) | Q(heartbeat_at__isnull=True) | Q(heartbeat_at__lt=stale))
        .order_by("slot")
        .values_list("pk", "slot", "worker", "heartbeat_at")
    )
    taken = []
    for pk, slot, holder, heartbeat in candidates:
        if len(taken) >= wanted:
            break
        swapped = SmppBind.objects.filter(pk=pk, worker=holder, heartbeat_at=heartbeat).update(
            worker=worker, heartbeat_at=now, state=BindState.UNBOUND, state_since=now, window_in_use=0, rate=0
        )
        if swapped:
            taken.append(slot)
    return taken


def heartbeat(connector: Connector, worker: str, statuses: list[dict]) -> set[int]:
    """Store each held slot's live status (and settle receipts that raced their submit's answer on another
    worker); returns the slots this worker no longer holds (taken over)."""
    close_old_connections()
    reports.settle_pending_receipts(connector.pk)
    now = timezone.now()
    lost = set()
    for status in statuses:
        slot = status.pop("slot")
        if not SmppBind.objects.filter(connector=connector, slot=slot, worker=worker).update(
            heartbeat_at=now, **status
        ):
            lost.add(slot)
    return lost


def release_slots(connector: Connector, worker: str) -> None:
    """Give the slots back (their counters stay, for the status page)."""
    SmppBind.objects.filter(connector=connector, worker=worker).update(
        worker="", state=BindState.UNBOUND, state_since=timezone.now(), window_in_use=0, rate=0
    )


def claim_next(connector: Connector, limit: int, start: int = 0) -> outbox.Claim | None:
    """One claim of this connector's due messages, trying the sources from a rotating `start`."""
    close_old_connections()
    lane = Lane(connector.pk)
    sources = outbox.outbox_sources(lane=lane)
    for index in range(len(sources)):
        account_id, campaign_id = sources[(start + index) % len(sources)]
        claim = outbox.claim_batch(account_id, campaign_id, limit, lane=lane)
        if claim is not None:
            return claim
    return None


def record(claim: outbox.Claim, results: list[tuple[Message, ConnectorResult]]) -> None:
    close_old_connections()
    outbox.record_results(claim, results)


def release_unsent(claim: outbox.Claim, messages: list[Message]) -> None:
    """Messages of a claim that never left (stop, no bind): due again at once, their try not counted."""
    outbox.release_claimed(claim.token, [message.pk for message in messages], count_try=False)


def submit_params(messages: list[Message], settings) -> dict[int, SubmitParams]:
    """What each submit_sm needs beyond the text: addresses, validity, and on routes to India the DLT TLVs."""
    india = [m for m in messages if m.country == INDIA]
    entity = dict(Sender.objects.filter(pk__in={m.sender_id for m in india}).values_list("pk", "entity_id"))
    dlt = dict(Template.objects.filter(pk__in={m.template_id for m in india}).values_list("pk", "dlt_template_id"))
    validity = relative_validity(settings.validity_minutes)
    params = {}
    for message in messages:
        tlvs = None
        if message.country == INDIA:
            tm_id = message.account.dlt_telemarketer_id or settings.tm_id
            tlvs = IndiaTlvs(entity.get(message.sender_id, ""), dlt.get(message.template_id, ""), tm_id)
        params[message.pk] = SubmitParams(
            sender=message.sender_name,
            recipient=message.recipient,
            validity_period=validity,
            india=tlvs,
            tlv_tags=settings.india_tlv_tags,
        )
    return params


def store_deliveries(connector: Connector, deliveries: list[Delivery]) -> None:
    """Receipts and inbound messages from the upstream, stored before they are acknowledged."""
    close_old_connections()
    receipts = [as_upstream_receipt(d) for d in deliveries if d.is_receipt]
    with transaction.atomic():
        from_reports(connector, receipts)
        for delivery in deliveries:
            if not delivery.is_receipt:
                store_inbound(connector, delivery)


def as_upstream_receipt(delivery: Delivery) -> UpstreamReceipt:
    fields = parse_receipt(delivery.text, delivery.tlvs)
    code, state = receipt_outcome(fields)
    raw = {"text": delivery.text[:500], **delivery.tlvs}
    return UpstreamReceipt(
        upstream_id=fields.upstream_id,
        code=code,
        state=state,
        handset=international(delivery.source),
        status=fields.stat,
        raw=raw,
    )


def from_reports(connector: Connector, receipts: list[UpstreamReceipt]) -> None:
    reports.apply_upstream_receipts(connector.pk, [r for r in receipts if r.upstream_id])


def store_inbound(connector: Connector, delivery: Delivery) -> None:
    """An inbound message (its parts kept until all have come), to the account it answers."""
    text, parts = delivery.text, 1
    if delivery.concat is not None and delivery.concat[1] > 1:
        assembled = _assemble(connector, delivery)
        if assembled is None:
            return
        text, parts = assembled
    account = inbound_account(connector, delivery.source, delivery.destination)
    if account is None:
        return
    receive_inbound(account, from_number=delivery.source, to=delivery.destination, text=text, parts=parts)


def _assemble(connector: Connector, delivery: Delivery) -> tuple[str, int] | None:
    reference, total, sequence = delivery.concat
    key = {"connector": connector, "source": delivery.source, "reference": reference, "total": total}
    try:
        with transaction.atomic():
            SmppInboundPart.objects.create(
                **key, destination=delivery.destination, sequence=sequence, text=delivery.text
            )
    except IntegrityError:
        return None  # a repeat of a part we hold
    parts = list(SmppInboundPart.objects.filter(**key).order_by("sequence").values_list("pk", "text"))
    if len(parts) < total:
        return None
    SmppInboundPart.objects.filter(pk__in=[pk for pk, _ in parts]).delete()
    return "".join(text for _, text in parts), total


def inbound_account(connector: Connector, handset: str, destination: str) -> Account | None:
    """Whom an inbound message is for: the account owning the number it was sent to, else the account that last
    wrote to this handset from the address it answers (through this connector), else the one account with an
    approved sender of that name."""
    owned = number_for(destination)
    if owned is not None:
        return owned.account
    number = international(handset)
    names = destination_forms(destination)
    last = (
        Message.objects.filter(connector=connector, recipient=number, sender_name__in=names)
        .order_by("-created_at")
        .values_list("account_id", flat=True)
        .first()
    )
    if last is None:
        owners = set(Sender.objects.approved().filter(name__in=names).values_list("account_id", flat=True)[:2])
        last = owners.pop() if len(owners) == 1 else None
    return Account.objects.filter(pk=last).first() if last is not None else None
