"""Receipts and inbound messages on their way out as deliver_sm: a session leases the oldest pending rows of its
credential (at most its free window), the server sends them, and each is marked delivered when the client
answers deliver_sm_resp with ESME_ROK, or given back for another try (on any bound session of the system_id, in
any server process) when the answer is an error, never comes, or the session goes.

Leases are rows locked with `SKIP LOCKED` and a lease time, so two sessions never hold one row, and a row whose
server died is taken again when its lease ends.
"""

from dataclasses import dataclass
from datetime import timedelta

from django.db import close_old_connections, transaction
from django.db.models import F, Q
from django.utils import timezone
from smpp.pdu import constants
from smpp.pdu import operations as op
from smpp.pdu import pdu_types as t

from campaigns import encoding as sms
from campaigns.connectors.smpp import pdus, wire
from campaigns.models import SmppReceipt

LEASE_SECONDS = 30
NETWORK_ERROR_CODE_TAG = 0x0423


@dataclass(frozen=True)
class Outgoing:
    pk: int
    kind: str
    source_addr: str
    destination_addr: str
    short_message: str
    tlvs: dict


def lease(credential_id: int, session_uid: str, limit: int) -> list[Outgoing]:
    """Up to `limit` pending rows of the credential not held by another session, oldest first, leased to this
    session for `LEASE_SECONDS`."""
    close_old_connections()
    if limit <= 0:
        return []
    now = timezone.now()
    free = Q(lease_until__isnull=True) | Q(lease_until__lt=now)
    due = SmppReceipt.objects.filter(credential_id=credential_id, state=SmppReceipt.State.PENDING, expire_at__gt=now)
    if not due.filter(free).exists():  # an idle session's poll: one indexed read, no transaction, no lock
        return []
    with transaction.atomic():
        rows = list(due.select_for_update(skip_locked=True).filter(free).order_by("id")[:limit])
        if not rows:
            return []
        SmppReceipt.objects.filter(pk__in=[row.pk for row in rows]).update(
            session=session_uid, lease_until=now + timedelta(seconds=LEASE_SECONDS), attempts=F("attempts") + 1
        )
    return [
        Outgoing(row.pk, row.kind, row.source_addr, row.destination_addr, row.short_message, row.tlvs) for row in rows
    ]


def mark_delivered(pks: list[int], session_uid: str) -> int:
    """Rows the client acknowledged; returns how many (a row whose lease another session took meanwhile counts
    too: the client has it)."""
    close_old_connections()
    if not pks:
        return 0
    now = timezone.now()
    return SmppReceipt.objects.filter(pk__in=pks, state=SmppReceipt.State.PENDING).update(
        state=SmppReceipt.State.DELIVERED, delivered_at=now, session=session_uid, lease_until=None, updated_at=now
    )


def give_back(pks: list[int], session_uid: str) -> int:
    """Rows this session leased but could not deliver: free for the next try at once."""
    close_old_connections()
    if not pks:
        return 0
    return SmppReceipt.objects.filter(pk__in=pks, state=SmppReceipt.State.PENDING, session=session_uid).update(
        session="", lease_until=None, updated_at=timezone.now()
    )


def deliver_sm(outgoing: Outgoing, sequence: int):
    """The deliver_sm of a row: a receipt (esm_class SMSC delivery receipt, ASCII text, receipted_message_id,
    message_state and network_error_code TLVs) or an inbound message (GSM 03.38 when it fits, else UCS-2; a text
    longer than one part goes whole in message_payload)."""
    fields = {
        "source_addr_ton": t.AddrTon.INTERNATIONAL if outgoing.source_addr.isdigit() else t.AddrTon.ALPHANUMERIC,
        "source_addr_npi": t.AddrNpi.ISDN if outgoing.source_addr.isdigit() else t.AddrNpi.UNKNOWN,
        "source_addr": outgoing.source_addr.encode("ascii", "replace"),
        "dest_addr_ton": t.AddrTon.INTERNATIONAL if outgoing.destination_addr.isdigit() else t.AddrTon.ALPHANUMERIC,
        "dest_addr_npi": t.AddrNpi.ISDN if outgoing.destination_addr.isdigit() else t.AddrNpi.UNKNOWN,
        "destination_addr": outgoing.destination_addr.encode("ascii", "replace"),
    }
    custom = []
    if outgoing.kind == SmppReceipt.Kind.RECEIPT:
        fields["esm_class"] = t.EsmClass(t.EsmClassMode.DEFAULT, t.EsmClassType.SMSC_DELIVERY_RECEIPT)
        fields["data_coding"] = t.DataCoding(t.DataCodingScheme.RAW, wire.DC_IA5)
        fields["short_message"] = outgoing.short_message.encode("ascii", "replace")
        fields["receipted_message_id"] = str(outgoing.tlvs.get("receipted_message_id", "")).encode()
        state = constants.message_state_value_map.get(int(outgoing.tlvs.get("message_state", 0)))
        if state:
            fields["message_state"] = getattr(t.MessageState, state)
        if outgoing.tlvs.get("network_error_code"):
            custom.append(
                (NETWORK_ERROR_CODE_TAG, None, "OctetString", bytes.fromhex(outgoing.tlvs["network_error_code"]))
            )
    else:
        encoded = wire.encode_message(
            outgoing.short_message,
            sms.GSM7 if sms.is_gsm(outgoing.short_message) else sms.UCS2,
            long_messages="payload" if len(wire_segments(outgoing.short_message)) > 1 else "udh",
        )
        fields["esm_class"] = t.EsmClass(t.EsmClassMode.DEFAULT, t.EsmClassType.DEFAULT)
        fields["data_coding"] = t.DataCoding(t.DataCodingScheme.RAW, encoded.data_coding)
        fields["short_message"] = encoded.segments[0].short_message
        if encoded.message_payload is not None:
            custom.append((pdus.MESSAGE_PAYLOAD_TAG, None, "OctetString", encoded.message_payload))
    return op.DeliverSM(seqNum=sequence, custom_tlvs=custom, **fields)


def wire_segments(text: str) -> tuple:
    """The parts an inbound text would take in short_message (one: it fits a single deliver_sm)."""
    return wire.encode_message(text, sms.GSM7 if sms.is_gsm(text) else sms.UCS2).segments
