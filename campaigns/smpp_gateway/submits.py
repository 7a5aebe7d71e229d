"""A customer's submit_sm or data_sm read into a `Submission`: who it is from and to, its text (short_message or
message_payload, data_coding 0/1/3/8 and their flash forms), the receipt it asks for, its concatenation part
(UDH or SAR TLVs), its application port, its scheduled time and the India DLT TLVs. A submit that cannot be read
raises `Refused` with the command_status of `statuses`.
"""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.utils import timezone
from smpp.pdu import pdu_types as t
from smpp.pdu.pdu_encoding import DataCodingEncoder

from campaigns.connectors.settings import INDIA_TLV_TAGS
from campaigns.connectors.smpp import pdus
from campaigns.connectors.smpp.wire import decode_short_message
from campaigns.smpp_gateway import statuses
from campaigns.smpp_gateway.statuses import Status

TEXT_CODINGS = {0x00: False, 0x01: False, 0x03: False, 0x08: False, 0x10: True, 0x18: True}  # → flash
RECEIPT_MODES = {
    "NO_SMSC_DELIVERY_RECEIPT_REQUESTED": 0,
    "SMSC_DELIVERY_RECEIPT_REQUESTED": 1,
    "SMSC_DELIVERY_RECEIPT_REQUESTED_FOR_FAILURE": 2,
}
_CODING_ENCODER = DataCodingEncoder()
NO_INDIA_TLVS = pdus.IndiaTlvs()


class Refused(Exception):
    def __init__(self, status: Status, detail: str = ""):
        super().__init__(detail or status.when)
        self.status = status


@dataclass(frozen=True)
class Submission:
    sequence: int
    command: str  # submit_sm or data_sm: the answer is its _resp
    sender: str
    recipient: str
    text: str
    flash: bool = False
    receipt: int = 0  # registered_delivery & 3
    port: int | None = None
    india: pdus.IndiaTlvs = NO_INDIA_TLVS
    part: tuple[int, int, int] | None = None  # reference, total, sequence of a concatenated message's part
    send_at: datetime | None = None

    @property
    def whole(self) -> bool:
        return self.part is None or self.part[1] <= 1

    def joined(self, parts: list["Submission"]) -> "Submission":
        """The message the parts of a concatenated submit make (this being one of them), in sequence order."""
        ordered = sorted(parts, key=lambda part: part.part[2])
        receipt = max(part.receipt for part in ordered)
        return Submission(
            sequence=self.sequence,
            command=self.command,
            sender=self.sender,
            recipient=self.recipient,
            text="".join(part.text for part in ordered),
            flash=self.flash,
            receipt=receipt,
            port=self.port,
            india=next((part.india for part in ordered if part.india != NO_INDIA_TLVS), NO_INDIA_TLVS),
            send_at=self.send_at,
        )


def read_submission(pdu, frame: bytes) -> Submission:
    """The submission a decoded submit_sm/data_sm (and its raw frame, for the vendor TLVs) carries."""
    params = pdu.params
    coding = params.get("data_coding")
    data_coding = _CODING_ENCODER.encode(coding)[0] if coding is not None else 0
    if data_coding not in TEXT_CODINGS:
        raise Refused(statuses.INVALID_DATA_CODING, f"data_coding 0x{data_coding:02X} is not supported")
    esm = params.get("esm_class")
    has_udh = esm is not None and t.EsmClassGsmFeatures.UDHI_INDICATOR_SET in esm.gsmFeatures
    payload = params.get("message_payload") or params.get("short_message") or b""
    decoded = decode_short_message(payload, data_coding, has_udh=has_udh)
    if not decoded.text:
        raise Refused(statuses.INVALID_LENGTH, "the message is empty")
    part = decoded.concat
    if part is None and params.get("sar_msg_ref_num") is not None:
        part = (params["sar_msg_ref_num"], params["sar_total_segments"], params["sar_segment_seqnum"])
    if part is not None and not 1 <= part[2] <= part[1]:
        raise Refused(statuses.DUPLICATE_PART, f"part {part[2]} of {part[1]}")
    delivery = params.get("registered_delivery")
    return Submission(
        sequence=pdu.seqNum,
        command=pdu.id.name,
        sender=_text(params.get("source_addr")),
        recipient=_recipient(params),
        text=decoded.text,
        flash=TEXT_CODINGS[data_coding],
        receipt=RECEIPT_MODES.get(delivery.receipt.name, 0) if delivery is not None else 0,
        port=params.get("destination_port"),
        india=_india(pdus.vendor_tlvs(frame)),
        part=part,
        send_at=_scheduled(params.get("schedule_delivery_time")),
    )


def _text(value) -> str:
    return (value or b"").decode("ascii", "replace").strip()


def _recipient(params) -> str:
    """`+digits` for an international destination (TON 1); the digits as given otherwise (read in the account's
    country by the contacts door)."""
    given = _text(params.get("destination_addr"))
    digits = given.lstrip("+")
    if not digits.isdigit():
        raise Refused(statuses.INVALID_DESTINATION, f"destination_addr {given!r} is not a phone number")
    international = params.get("dest_addr_ton") == t.AddrTon.INTERNATIONAL or given.startswith("+")
    return f"+{digits}" if international else digits


def _india(tlvs: dict[int, bytes]) -> pdus.IndiaTlvs:
    values = {name: tlvs.get(tag, b"").decode("ascii", "replace").strip() for name, tag in INDIA_TLV_TAGS.items()}
    return pdus.IndiaTlvs(**values)


def _scheduled(value) -> datetime | None:
    """schedule_delivery_time: absolute (the codec gives a datetime) or relative to now; None: at once."""
    if value is None:
        return None
    if isinstance(value, datetime):
        return value if timezone.is_aware(value) else value.replace(tzinfo=UTC)
    try:
        delta = timedelta(
            days=value.years * 365 + value.months * 30 + value.days,
            hours=value.hours,
            minutes=value.minutes,
            seconds=value.seconds,
        )
    except AttributeError:
        raise Refused(statuses.INVALID_SCHEDULE, "schedule_delivery_time cannot be read") from None
    return timezone.now() + delta
