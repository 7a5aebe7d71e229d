"""What the SMPP gateway sends its customers as `deliver_sm`: the one producer of `SmppReceipt` rows, and the one
home of the receipt text it writes.

A delivery receipt is queued when a message submitted over SMPP reaches a final state. The server sends with
`SendRequest.smpp_receipt`, which marks the message with `meta["smpp_credential"]` (the credential's pk) and
`meta["smpp_receipt"]` (its submit's `registered_delivery & 3`: 0 no receipt, 1 on final success or failure, 2 on
failure only — anything but delivered). `queue_message_receipts` listens to every message state change
(`campaigns.sending.events`), so the status webhook and the receipt come from the same change; a batch without an
SMPP message costs no query.

An inbound (mobile originated) message stored for an account is queued once for each of its active credentials:
whichever of them is bound (as receiver or transceiver) takes it; the others' copies expire.

Rows wait, pending, for a bound session of their credential until `expire_at` (now + `SMPP_RECEIPT_TTL_SECONDS`,
72 h by default). Their fields are the deliver_sm's: `source_addr` (the handset, without "+"), `destination_addr`
(the sender name, or the number the handset wrote to), `short_message`, and `tlvs`: `receipted_message_id` (the
message id `submit_sm_resp` answered: the message's uid), `message_state` (the SMPP 3.4 number) and, when the
upstream reported one, `network_error_code` (3 octets as 6 hex digits).

The text is SMPP 3.4 appendix B's, its words shared with the upstream connector's parser
(`campaigns.connectors.smpp.receipts`) and the status webhook (`dlr_codes.STATE_STATUSES`), so a receipt we write
reads back as the same state and seed code:
`id:<uid> sub:001 dlvrd:001 submit date:YYMMDDhhmm done date:YYMMDDhhmm stat:DELIVRD err:000 text:<20 chars>`
(dates in UTC; `err` is the message's seed code, `000` when delivered).
"""

from datetime import UTC, datetime, timedelta

from django.utils import timezone

from campaigns import dlr_codes
from campaigns.connectors.smpp.receipts import FALLBACK_CODES, MESSAGE_STATES
from campaigns.models import DeliveryReport, Message, SmppCredential, SmppReceipt
from campaigns.sending.outbox import SMPP_CREDENTIAL_MARK, SMPP_RECEIPT_MARK
from campaigns.smpp_gateway.conf import setting
from campaigns.states import FINAL_MESSAGE_STATES, MessageState
from contacts.models import InboundMessage

CREDENTIAL_KEY, RECEIPT_KEY = SMPP_CREDENTIAL_MARK, SMPP_RECEIPT_MARK  # set through SendRequest.smpp_receipt
ON_FINAL, ON_FAILURE = 1, 2  # registered_delivery & 3 (3 is reserved in SMPP 3.4: no receipt)
SMPP_STATE_NUMBERS = {name: number for number, name in MESSAGE_STATES.items()}  # "DELIVRD" → 2 …
FAILURE_STAT = "UNDELIV"  # a final state whose seed word is no SMPP message state ("FAILED")
RECEIPT_DATE = "%y%m%d%H%M"
RECEIPT_TEXT_LENGTH = 20
ADDRESS_LENGTH = 20  # source_addr / destination_addr: C-Octet Strings of at most 21 octets
BATCH_SIZE = 500


def receipt_stat(state: str) -> str:
    """The receipt's `stat` for a final message state: the seed's word when SMPP 3.4 knows it, else UNDELIV."""
    stat = dlr_codes.seed_status(state)
    return stat if stat in SMPP_STATE_NUMBERS else FAILURE_STAT


def receipt_err(message: Message, stat: str) -> str:
    """The receipt's `err`: 000 when delivered, else the message's seed code, else the parser's fallback for the
    stat (099 undelivered, 021 expired, 458 rejected)."""
    if stat == "DELIVRD":
        return dlr_codes.DELIVERED
    code = (message.error_code or "").strip()
    if code.isdigit() and len(code) <= 3:
        return code.zfill(3)
    return FALLBACK_CODES.get(stat, "099")


def _receipt_date(moment: datetime | None) -> str:
    return (moment or timezone.now()).astimezone(UTC).strftime(RECEIPT_DATE)


def format_receipt(message: Message) -> str:
    """The receipt text of a message in its final state (its stored body: a Verify code stays masked)."""
    stat = receipt_stat(message.state)
    delivered = "001" if stat == "DELIVRD" else "000"
    return (
        f"id:{message.uid} sub:001 dlvrd:{delivered} submit date:{_receipt_date(message.created_at)} "
        f"done date:{_receipt_date(message.done_at)} stat:{stat} err:{receipt_err(message, stat)} "
        f"text:{message.body[:RECEIPT_TEXT_LENGTH]}"
    )


def receipt_tlvs(message: Message, network_error_code: str = "") -> dict:
    tlvs = {
        "receipted_message_id": str(message.uid),
        "message_state": SMPP_STATE_NUMBERS[receipt_stat(message.state)],
    }
    if network_error_code:
        tlvs["network_error_code"] = network_error_code
    return tlvs


def _address(value: str) -> str:
    return (value or "").strip().lstrip("+")[:ADDRESS_LENGTH]


def receipt_credential(message: Message) -> int | None:
    """The pk of the credential a receipt of this message is due to, or None (not submitted over SMPP, no
    receipt asked for, not final, or only failures asked for and it was delivered)."""
    meta = message.meta
    if not meta or not isinstance(meta, dict) or CREDENTIAL_KEY not in meta:
        return None
    try:
        credential, mode = int(meta[CREDENTIAL_KEY]), int(meta.get(RECEIPT_KEY) or 0) & 3
    except (TypeError, ValueError):
        return None
    if message.state not in FINAL_MESSAGE_STATES:
        return None
    if mode == ON_FINAL or (mode == ON_FAILURE and message.state != MessageState.DELIVERED):
        return credential
    return None


def _network_error_codes(message_ids: list[int]) -> dict[int, str]:
    """The network_error_code an upstream SMPP receipt carried for these messages (kept in the report's raw)."""
    reports = DeliveryReport.objects.filter(
        message_id__in=message_ids, applied=True, raw__has_key="network_error_code"
    ).values_list("message_id", "raw__network_error_code")
    return {message_id: str(code) for message_id, code in reports if code}


def _expire_at() -> datetime:
    return timezone.now() + timedelta(seconds=setting("SMPP_RECEIPT_TTL_SECONDS"))


def queue_message_receipts(messages: list[Message]) -> int:
    """Queue the receipts due for these messages (a status listener): one query for their credentials (of the
    message's own account only), one for network error codes, one bulk insert; a message gets one receipt ever.
    Returns how many were due."""
    due = [(message, pk) for message in messages if (pk := receipt_credential(message)) is not None]
    if not due:
        return 0
    owners = dict(SmppCredential.objects.filter(pk__in={pk for _, pk in due}).values_list("pk", "account_id"))
    due = [(message, pk) for message, pk in due if owners.get(pk) == message.account_id]
    if not due:
        return 0
    network_errors = _network_error_codes([message.pk for message, _ in due])
    expire_at = _expire_at()
    rows = [
        SmppReceipt(
            account_id=message.account_id,
            credential_id=pk,
            kind=SmppReceipt.Kind.RECEIPT,
            message_id=message.pk,
            source_addr=_address(message.recipient),
            destination_addr=_address(message.sender_name),
            short_message=format_receipt(message),
            tlvs=receipt_tlvs(message, network_errors.get(message.pk, "")),
            expire_at=expire_at,
        )
        for message, pk in due
    ]
    SmppReceipt.objects.bulk_create(rows, batch_size=BATCH_SIZE, ignore_conflicts=True)
    return len(rows)


def queue_inbound(inbound: InboundMessage) -> int:
    """Queue an inbound message for each active credential of its account; returns how many rows."""
    credentials = SmppCredential.objects.filter(account_id=inbound.account_id, is_active=True)
    expire_at = _expire_at()
    rows = [
        SmppReceipt(
            account_id=inbound.account_id,
            credential_id=pk,
            kind=SmppReceipt.Kind.INBOUND,
            inbound=inbound,
            source_addr=_address(inbound.from_number),
            destination_addr=_address(inbound.to),
            short_message=inbound.text,
            expire_at=expire_at,
        )
        for pk in credentials.values_list("pk", flat=True)
    ]
    SmppReceipt.objects.bulk_create(rows, ignore_conflicts=True)
    return len(rows)


def queue_inbound_on_save(sender, instance: InboundMessage, created: bool, raw: bool = False, **kwargs) -> None:
    """post_save of InboundMessage: a new message (not a fixture load) is queued."""
    if created and not raw:
        queue_inbound(instance)
