"""The command_status the SMPP gateway answers, with why: one table (data), read by the server, the SMPP page and
the README.

Protocol faults use SMPP 3.4's own numbers. Refusals of the sending core (the same ones `POST /sms/send` answers)
use the standard number where SMPP has one, else one of the SMSC vendor-specific range 0x400-0x4FF, as the seed
does for insufficient credits (0x40B).
"""

from dataclasses import dataclass

from campaigns.sending.errors import Reason


@dataclass(frozen=True)
class Status:
    number: int
    name: str
    when: str

    @property
    def hex(self) -> str:
        return f"0x{self.number:08X}"


OK = Status(0x00, "ESME_ROK", "Accepted: submit_sm_resp carries the message id.")
INVALID_LENGTH = Status(0x01, "ESME_RINVMSGLEN", "The text needs more parts than allowed, or is empty.")
INVALID_COMMAND = Status(0x03, "ESME_RINVCMDID", "A command the gateway does not take (submit_multi, query_sm …).")
INVALID_BIND_STATUS = Status(0x04, "ESME_RINVBNDSTS", "A submit before binding or on a receiver bind.")
ALREADY_BOUND = Status(0x05, "ESME_RALYBND", "A bind on a session already bound.")
SYSTEM_ERROR = Status(0x08, "ESME_RSYSERR", "The gateway failed (database unreachable …); try again.")
INVALID_SOURCE = Status(0x0A, "ESME_RINVSRCADR", "source_addr is not an approved sender of the account.")
INVALID_DESTINATION = Status(0x0B, "ESME_RINVDSTADR", "destination_addr is not a valid phone number.")
BIND_FAILED = Status(0x0D, "ESME_RBINDFAIL", "Bind refused: IP not allowed, bind limit reached, inactive account.")
INVALID_PASSWORD = Status(0x0E, "ESME_RINVPASWD", "Bind refused: wrong password.")
INVALID_SYSTEM_ID = Status(0x0F, "ESME_RINVSYSID", "Bind refused: unknown system_id.")
QUEUE_FULL = Status(0x14, "ESME_RMSSQFUL", "More unanswered submits than the credential's window.")
SUBMIT_FAILED = Status(0x45, "ESME_RSUBMITFAIL", "The sending core refused the message for another reason.")
INVALID_SYSTEM_TYPE = Status(0x53, "ESME_RINVSYSTYP", "Bind refused: system_type is neither empty nor smpp.")
THROTTLED = Status(0x58, "ESME_RTHROTTLED", "Over the credential's throughput (submits per second).")
INVALID_SCHEDULE = Status(0x61, "ESME_RINVSCHED", "schedule_delivery_time unreadable, past, or too far ahead.")
INVALID_TLV_VALUE = Status(0xC4, "ESME_RINVTLVVAL", "pe_id (0x1400) is not the sender's DLT entity id.")
INVALID_DATA_CODING = Status(0x104, "ESME_RINVDCS", "data_coding other than 0, 1, 3, 8 (and their flash forms).")
OPTED_OUT = Status(0x401, "ESME_ROPTEDOUT", "456 OPTOUT-REJ: the number opted out.")
NO_TEMPLATE_MATCH = Status(0x402, "ESME_RNOTEMPLATE", "452 TEMPLATE-NOT-FOUND: no approved template matches.")
VARIABLE_TOO_LONG = Status(0x403, "ESME_RVARTOOLONG", "783 DLT-TM-VAR-EXECEED: a variable value is too long.")
COUNTRY_NOT_ALLOWED = Status(0x404, "ESME_RNOTALLOWED", "459 NOTALLOWED: no price for the destination country.")
SPENDING_CAP = Status(0x405, "ESME_RSPENDCAP", "A daily or monthly spending cap of the account is reached.")
DUPLICATE_PART = Status(0x406, "ESME_RDUPPART", "A part of a concatenated message given twice, or parts that disagree.")
INSUFFICIENT_BALANCE = Status(0x40B, "ESME_RINVBALANCE", "Insufficient credits to send the message (the seed's code).")

TABLE: tuple[Status, ...] = tuple(
    sorted((value for value in globals().values() if isinstance(value, Status)), key=lambda s: s.number)
)

REASON_STATUSES: dict[str, Status] = {
    Reason.INVALID_NUMBER: INVALID_DESTINATION,
    Reason.SUPPRESSED: OPTED_OUT,
    Reason.NO_TEMPLATE_MATCH: NO_TEMPLATE_MATCH,
    Reason.VARIABLE_TOO_LONG: VARIABLE_TOO_LONG,
    Reason.VARIABLE_EMPTY: SUBMIT_FAILED,
    Reason.TOO_MANY_PARTS: INVALID_LENGTH,
    Reason.NO_PRICE: COUNTRY_NOT_ALLOWED,
    Reason.FILTER_FAILED: SUBMIT_FAILED,
}

# A refusal of the whole send (`SendingError`) by the input it names, then by its code.
FIELD_STATUSES: dict[str, Status] = {
    "sender": INVALID_SOURCE,
    "service": INVALID_SOURCE,
    "message": NO_TEMPLATE_MATCH,
    "dlt_template_id": NO_TEMPLATE_MATCH,
    "template": NO_TEMPLATE_MATCH,
    "data": SUBMIT_FAILED,
    "to": INVALID_DESTINATION,
    "pe_id": INVALID_TLV_VALUE,
    "time": INVALID_SCHEDULE,
}
CODE_STATUSES: dict[str, Status] = {"insufficient_funds": INSUFFICIENT_BALANCE, "spending_cap": SPENDING_CAP}
FIELD_CODE_STATUSES: dict[tuple[str, str], Status] = {("message", "invalid"): SUBMIT_FAILED}  # a malformed {{ var }}


def for_reason(reason: str) -> Status:
    """The status of a recipient refused by planning (`Reason` code)."""
    return REASON_STATUSES.get(reason, SUBMIT_FAILED)


def for_error(error) -> Status:
    """The status of a refusal of the whole send (`ServiceError` with `code` and `field`)."""
    code, field = getattr(error, "code", "") or "", getattr(error, "field", "") or ""
    return CODE_STATUSES.get(code) or FIELD_CODE_STATUSES.get((field, code)) or FIELD_STATUSES.get(field, SUBMIT_FAILED)
