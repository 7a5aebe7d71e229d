"""SMPP 3.4 PDUs on Jasmin's codec (`smpp.pdu3`): frames in and out, submit_sm built from a message, deliver_sm
read back as a receipt or an inbound message.

The codec is typed (enums for TON/NPI, data coding, esm_class); this module is the one place that turns those
into the plain numbers and strings the rest of the connector uses.
"""

import struct
from dataclasses import dataclass, field
from io import BytesIO

from smpp.pdu import constants, smpp_time
from smpp.pdu import operations as op
from smpp.pdu import pdu_types as t
from smpp.pdu.error import PDUParseError
from smpp.pdu.pdu_encoding import DataCodingEncoder, PDUEncoder

from campaigns.connectors.smpp.wire import WireMessage, decode_short_message

HEADER = struct.Struct(">LLLL")
MAX_PDU_BYTES = 64 * 1024
ENCODER = PDUEncoder()
STATUS_NUMBER = constants.command_status_name_map
COMMAND_NUMBER = constants.command_id_name_map
BIND_REQUESTS = {"transceiver": op.BindTransceiver, "transmitter": op.BindTransmitter, "receiver": op.BindReceiver}
_TON = {1: t.AddrTon.INTERNATIONAL, 3: t.AddrTon.NETWORK_SPECIFIC, 5: t.AddrTon.ALPHANUMERIC, 0: t.AddrTon.UNKNOWN}
_NPI = {0: t.AddrNpi.UNKNOWN, 1: t.AddrNpi.ISDN}
_RECEIPT_TYPES = {"SMSC_DELIVERY_RECEIPT", "INTERMEDIATE_DELIVERY_NOTIFICATION", "SME_DELIVERY_ACK"}
SHORT_CODE_DIGITS = 8
MESSAGE_PAYLOAD_TAG = 0x0424


class FrameError(Exception):
    """A frame that cannot be a PDU (length out of range): the connection is dropped."""


def encode(pdu) -> bytes:
    return ENCODER.encode(pdu)


def decode(frame: bytes):
    """A PDU from one frame; raises PDUParseError (with a command status) for a malformed body."""
    return ENCODER.decode(BytesIO(frame))


def frame_length(header: bytes) -> int:
    length = struct.unpack(">L", header[:4])[0]
    if length < 16 or length > MAX_PDU_BYTES:
        raise FrameError(f"PDU length {length} out of range")
    return length


def header_of(frame: bytes) -> tuple[int, int, int, int]:
    """(length, command id, command status, sequence number) of a frame, without decoding its body."""
    return HEADER.unpack(frame[:16])


def status_number(pdu) -> int:
    return STATUS_NUMBER.get(pdu.status.name, 0xFF) if pdu.status is not None else 0


def status_enum(number: int):
    for name, value in STATUS_NUMBER.items():
        if value == number:
            return getattr(t.CommandStatus, name)
    return t.CommandStatus.ESME_RUNKNOWNERR


def generic_nack(sequence: int, status: int):
    return op.GenericNack(seqNum=sequence, status=status_enum(status))


def response_to(pdu, status: int = 0, **params):
    """The response PDU of a request (deliver_sm_resp, enquire_link_resp, unbind_resp…)."""
    response = pdu.requireAck(seqNum=pdu.seqNum, status=status_enum(status), **params)
    if "message_id" in response.mandatoryParams and "message_id" not in response.params:
        response.params["message_id"] = b""
    return response


def with_status(frame: bytes, number: int) -> bytes:
    """An encoded response with its command_status set to `number`: the codec names only SMPP 3.4's own
    statuses, so an SMSC vendor-specific one (0x400-0x4FF) is written into the header after encoding."""
    return frame[:8] + struct.pack(">L", number) + frame[12:]


# The mandatory body of the requests whose optional part `vendor_tlvs` reads: C-Octet Strings ("c"), one octet
# ("1"), and the length-prefixed short_message ("m").
_MANDATORY_LAYOUT = {
    0x00000004: "c11c11c111cc1111m",  # submit_sm
    0x00000103: "c11c11c111",  # data_sm
}


def vendor_tlvs(frame: bytes) -> dict[int, bytes]:
    """The SMSC vendor-specific TLVs (tags 0x1400-0x3FFF) of a submit_sm or data_sm frame, which the codec skips:
    tag → value (a C-Octet String value without its NUL). Empty for other commands or a malformed body."""
    layout = _MANDATORY_LAYOUT.get(header_of(frame)[1])
    if layout is None:
        return {}
    offset, found = 16, {}
    try:
        for kind in layout:
            if kind == "c":
                offset = frame.index(b"\x00", offset) + 1
            elif kind == "1":
                offset += 1
            else:
                offset += 1 + frame[offset]
        while offset + 4 <= len(frame):
            tag, length = struct.unpack(">HH", frame[offset : offset + 4])
            value = frame[offset + 4 : offset + 4 + length]
            if 0x1400 <= tag <= 0x3FFF:
                found[tag] = value.rstrip(b"\x00")
            offset += 4 + length
    except (ValueError, IndexError):
        return {}
    return found


def bind_request(mode: str, sequence: int, settings):
    return BIND_REQUESTS[mode](
        seqNum=sequence,
        system_id=settings.system_id.encode(),
        password=settings.password.encode(),
        system_type=settings.system_type.encode(),
        interface_version=settings.interface_version,
        addr_ton=t.AddrTon.UNKNOWN,
        addr_npi=t.AddrNpi.UNKNOWN,
        address_range=settings.address_range.encode(),
    )


def international(address: str) -> str:
    """An SMPP address of a handset (digits, TON 1) as E.164 with +; empty when it has no digits."""
    digits = "".join(ch for ch in address if ch.isdigit())
    return f"+{digits}" if digits else ""


def relative_validity(minutes: int):
    """The validity_period for `minutes` from submission (None: the upstream's default)."""
    if not minutes:
        return None
    days, rest = divmod(int(minutes), 24 * 60)
    return smpp_time.parse(f"0000{days:02d}{rest // 60:02d}{rest % 60:02d}00000R")


def source_ton_npi(sender: str) -> tuple[int, int]:
    """Alphanumeric senders 5/0, short codes 3/0, international numbers 1/1."""
    digits = sender.lstrip("+")
    if not digits.isdigit():
        return 5, 0
    if len(digits) <= SHORT_CODE_DIGITS and not sender.startswith("+"):
        return 3, 0
    return 1, 1


@dataclass(frozen=True)
class IndiaTlvs:
    """What DLT asks on routes to India: the sender's entity id, the template's DLT id, the telemarketer id."""

    pe_id: str = ""
    template_id: str = ""
    tm_id: str = ""

    def as_custom_tlvs(self, tags: dict) -> list[tuple]:
        values = (("pe_id", self.pe_id), ("template_id", self.template_id), ("tm_id", self.tm_id))
        return [(int(tags[name]), None, "COctetString", value) for name, value in values if value]


@dataclass(frozen=True)
class SubmitParams:
    sender: str
    recipient: str
    validity_period: str | None = None
    india: IndiaTlvs | None = None
    receipt_on_every_part: bool = False
    tlv_tags: dict = field(default_factory=dict)


def submit_pdus(params: SubmitParams, wire: WireMessage) -> list:
    """One submit_sm per segment (sequence numbers are set by the session when each is sent)."""
    ton, npi = source_ton_npi(params.sender)
    common = {
        "source_addr_ton": _TON[ton],
        "source_addr_npi": _NPI[npi],
        "source_addr": params.sender.lstrip("+").encode(),
        "dest_addr_ton": t.AddrTon.INTERNATIONAL,
        "dest_addr_npi": t.AddrNpi.ISDN,
        "destination_addr": params.recipient.lstrip("+").encode(),
        "data_coding": t.DataCoding(t.DataCodingScheme.RAW, wire.data_coding),
        "validity_period": params.validity_period,
    }
    if wire.destination_port is not None:
        common["destination_port"] = wire.destination_port
    custom = params.india.as_custom_tlvs(params.tlv_tags) if params.india else []
    pdus = []
    for index, segment in enumerate(wire.segments):
        receipt = index == 0 or params.receipt_on_every_part
        fields = dict(common, short_message=segment.short_message, esm_class=_esm_class(segment.esm_class))
        fields["registered_delivery"] = t.RegisteredDelivery(
            t.RegisteredDeliveryReceipt.SMSC_DELIVERY_RECEIPT_REQUESTED
            if receipt
            else t.RegisteredDeliveryReceipt.NO_SMSC_DELIVERY_RECEIPT_REQUESTED
        )
        if segment.sar is not None:
            fields["sar_msg_ref_num"], fields["sar_total_segments"], fields["sar_segment_seqnum"] = segment.sar
        tlvs = list(custom)
        if wire.message_payload is not None:  # as a raw TLV: the codec's own message_payload encoder refuses it
            tlvs.append((MESSAGE_PAYLOAD_TAG, None, "OctetString", wire.message_payload))
        pdus.append(op.SubmitSM(seqNum=0, custom_tlvs=tlvs, **fields))
    return pdus


def _hex(value) -> str:
    """A TLV value as hex text (JSON-safe, and what `receipts` reads back)."""
    return value.hex() if isinstance(value, bytes | bytearray) else str(value)


def _esm_class(value: int):
    features = [t.EsmClassGsmFeatures.UDHI_INDICATOR_SET] if value & 0x40 else []
    return t.EsmClass(t.EsmClassMode.DEFAULT, t.EsmClassType.DEFAULT, features)


@dataclass(frozen=True)
class Delivery:
    """A deliver_sm (or data_sm) from the upstream: a delivery receipt or an inbound (MO) message."""

    is_receipt: bool
    source: str
    destination: str
    text: str
    concat: tuple[int, int, int] | None
    tlvs: dict


def read_delivery(pdu) -> Delivery:
    params = pdu.params
    esm = params.get("esm_class")
    is_receipt = esm is not None and esm.type.name in _RECEIPT_TYPES
    has_udh = esm is not None and t.EsmClassGsmFeatures.UDHI_INDICATOR_SET in esm.gsmFeatures
    coding = params.get("data_coding")
    data_coding = DataCodingEncoder().encode(coding)[0] if coding is not None else 0
    payload = params.get("message_payload") or params.get("short_message") or b""
    decoded = decode_short_message(payload, data_coding, has_udh=has_udh)
    tlvs = {}
    if params.get("receipted_message_id"):
        tlvs["receipted_message_id"] = params["receipted_message_id"].decode("ascii", "replace")
    if params.get("message_state") is not None:
        tlvs["message_state"] = constants.message_state_name_map[params["message_state"].name]
    if params.get("network_error_code") is not None:
        tlvs["network_error_code"] = _hex(params["network_error_code"])
    concat = decoded.concat
    if concat is None and params.get("sar_msg_ref_num") is not None:
        concat = (params["sar_msg_ref_num"], params["sar_total_segments"], params["sar_segment_seqnum"])
    return Delivery(
        is_receipt=is_receipt,
        source=(params.get("source_addr") or b"").decode("ascii", "replace"),
        destination=(params.get("destination_addr") or b"").decode("ascii", "replace"),
        text=decoded.text,
        concat=concat,
        tlvs=tlvs,
    )


__all__ = [
    "Delivery",
    "FrameError",
    "IndiaTlvs",
    "PDUParseError",
    "SubmitParams",
    "international",
    "read_delivery",
    "relative_validity",
    "submit_pdus",
]
