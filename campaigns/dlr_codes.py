"""Status and error codes of the BICS SMPP gateway (seed "Error Codes" under "SMPP Gateway"), kept as data.

`DLR_CODES`: the three-digit codes a delivery report carries, with the message state each one leads to.
`DLT_REJECTION_CODES`: those of them that say the DLT registration was refused (template, header, entity).
`STATE_STATUSES`: the seed's status word for each message state (the `status` of `sms:message:status`).
`SUBMIT_ERRORS`: the SMPP submit_sm_resp command statuses. Each has a `kind`: "throttle" (ESME_RTHROTTLED,
ESME_RMSGQFUL: slow the bind and resend), "transient" (retry with backoff) or "permanent" (the message fails,
recorded with the delivery code `code`: `REFUSAL_CODES`, else 458 REJECTED). `submit_error(status)` answers for
statuses the table lacks too.
"""

from dataclasses import dataclass

from campaigns.states import MessageState


@dataclass(frozen=True)
class DlrCode:
    code: str
    status: str
    description: str
    state: str


@dataclass(frozen=True)
class SubmitError:
    number: int
    name: str
    description: str
    transient: bool

    @property
    def kind(self) -> str:
        """ "throttle" (slow the bind, resend), "transient" (retry later) or "permanent" (the message fails)."""
        if self.number in THROTTLE_STATUSES:
            return "throttle"
        return "transient" if self.transient else "permanent"

    @property
    def code(self) -> str | None:
        """The delivery code a permanent refusal is recorded with; None when the message is tried again."""
        return REFUSAL_CODES.get(self.number, REJECTED) if self.kind == "permanent" else None


DELIVERED = "000"
EXPIRED = "021"
INVALID_SUBSCRIBER = "001"
NO_CREDITS = "401"
INVALID_NUMBER = "404"
INVALID_SENDER = "454"
REJECTED = "458"
DLT_REJECTED = "777"
TEMPLATE_NOT_FOUND = "452"
OPT_OUT_REJECTED = "456"
PROMOTIONAL_TIME_EXCEEDED = "457"
TEMPLATE_VARIABLE_TOO_LONG = "783"

_D, _U, _R, _E = MessageState.DELIVERED, MessageState.UNDELIVERED, MessageState.REJECTED, MessageState.EXPIRED

DLR_CODES: dict[str, DlrCode] = {
    entry.code: entry
    for entry in (
        DlrCode("000", "DELIVRD", "Delivered to SIM.", _D),
        DlrCode("001", "INVALID-SUB", "Unidentified subscriber.", _U),
        DlrCode("002", "INVALID-SUB", "Illegal subscriber", _U),
        DlrCode("003", "ABSENT-SUB", "Unidentified subscriber.", _U),
        DlrCode("004", "HANDSET-ERR", "Illegal equipment", _U),
        DlrCode("005", "BARRED", "SMS is prohibited.", _U),
        DlrCode("006", "HANDSET-ERR", "MS does not support SMS.", _U),
        DlrCode("007", "HANDSET-ERR", "MS is receiving an error.", _U),
        DlrCode("008", "NET-ERR", "Facility not supported.", _U),
        DlrCode("009", "MEMEXEC", "Handset memory is full.", _U),
        DlrCode("010", "ABSENT-SUB", "Absent subscriber", _U),
        DlrCode("011", "FAILED", "SMSC system failure", _U),
        DlrCode("012", "NET-ERR", "Gateway mobile switching error", _U),
        DlrCode("013", "MOB-OFF", "Mobile handset switched off", _U),
        DlrCode("014", "FAILED", "SMS is undelivered due to roaming limitations.", _U),
        DlrCode("015", "INVALID-SUB", "Unidentified subscriber", _U),
        DlrCode("016", "HANDSET-BUSY", "Subscriber is busy.", _U),
        DlrCode("017", "NET-ERR", "Resources cannot be used at the GMSC level.", _U),
        DlrCode("018", "SERIES-BLK", "Series blocked", _U),
        DlrCode("019", "NET-ERR", "Submission error or invalid input data", _U),
        DlrCode("020", "BARRED", "CUG reject", _U),
        DlrCode("021", "EXPIRED", "SMS timeout", _E),
        DlrCode("034", "UNDELIV", "Unknown Error", _U),
        DlrCode("045", "FAILED", "Unknown Error", _U),
        DlrCode("099", "UNDELIV", "Unknown Error", _U),
        DlrCode("400", "SERIES-BLOCK", "Series has been temporarily or permanently blocked.", _R),
        DlrCode("401", "NO-CREDITS", "Credit exhausted.", _R),
        DlrCode("402", "NO-ACCOUNT", "Invalid account.", _R),
        DlrCode("403", "SERVER-ERR", "Unknown Error", _U),
        DlrCode("404", "INV-NUMBER", "Invalid destination number", _R),
        DlrCode("405", "SERVER-ERR", "ESME client error", _U),
        DlrCode("406", "SERVER-ERR", "ESME client error", _U),
        DlrCode("407", "SPAM", "Sent illegal content", _R),
        DlrCode("408", "DNDNUMB", "Number registered in the DND database.", _R),
        DlrCode("430", "SERVER-ERR", "Unknown Error", _U),
        DlrCode("431", "SERVER-ERR", "Unknown Error", _U),
        DlrCode("432", "SERVER-ERR", "Unknown Error", _U),
        DlrCode("433", "SERVER-ERR", "Unknown Error", _U),
        DlrCode("450", "BLACKLST", "Number blocklisted to receive messages", _R),
        DlrCode("451", "SNDR-BLOCK", "Sender ID has been blocked.", _R),
        DlrCode("452", "TEMPLATE-NOT-FOUND", "No matching templates", _R),
        DlrCode("453", "INV-TEMPLATE", "Message rejected as template not allotted for ESME", _R),
        DlrCode("454", "INV-SENDER", "Message rejected as sender ID not allotted for ESME", _R),
        DlrCode("455", "NOT-OPTIN", "Message rejected as number not in optin list", _R),
        DlrCode("456", "OPTOUT-REJ", "Rejected as a number optout to receive messages", _R),
        DlrCode("457", "PROMO-TMOUT", "Promotional time exceeded", _R),
        DlrCode("458", "REJECTED", "Unknown Error", _R),
        DlrCode("459", "NOTALLOWED", "Country is not allowed to send SMS.", _R),
        DlrCode("460", "DUPLICATE", "Same content was sent.", _R),
        DlrCode("461", "UNDELIV", "Unknown Error", _U),
        DlrCode("462", "FAILED", "Unknown Error", _U),
        DlrCode("463", "THROTTLED", "Maximum Sent Limit is Reached", _R),
        DlrCode("778", "REJ-MULTIPART", "All message parts are not delivered to the handset.", _R),
        DlrCode("777", "DLT-REJECTED", "Invalid sender ID or invalid template", _R),
        DlrCode("780", "DLT-INV-TMID", "Invalid DLT Telemarketer ID", _R),
        DlrCode("781", "DLT-INV-ENTITY", "Invalid Entity DLT ID", _R),
        DlrCode("782", "DLT-INV-TM-ID", "Invalid DLT Template ID", _R),
        DlrCode("783", "DLT-TM-VAR-EXECEED", "Template variable exceeded 30 characters.", _R),
        DlrCode("784", "DLT-ENTITY-NOT-FOUND", "Entity ID not found", _R),
        DlrCode("785", "DLT-TM-BLACKLST", "Template ID is blacklisted.", _R),
        DlrCode("786", "DLT-ENTITY-BLACKLST", "Entity ID is blacklisted.", _R),
        DlrCode("787", "DLT-HEADER-INACTIVE", "Sender Inactive", _R),
        DlrCode("788", "DLT-TM-INACTIVE", "Template is inactive.", _R),
        DlrCode("789", "DLT-SENDER-NOT-REG-TM", "Sender is not registered for the template.", _R),
        DlrCode("790", "INV-PROVISION", "Sender Invalid Provision", _R),
        DlrCode("791", "INV-SERVICE", "Invalid Service Type", _R),
        DlrCode("792", "INV-SCHEDULE", "Invalid Schedule", _R),
    )
}

# The codes of an operator refusing the message's DLT registration (its template, header or entity), which every
# message of the campaign will get, not one handset: 452 TEMPLATE-NOT-FOUND, 453 INV-TEMPLATE, 454 INV-SENDER and
# the DLT range 777, 780-792 (seed "Smart Delivery": DLT-REJECTED, INV-PEID, INV-TMID, INV-ENTITY, INV-TEMPLATE).
# 778 REJ-MULTIPART is a handset that did not get every part, not a DLT refusal. Smart Delivery counts these.
DLT_REJECTION_CODES = frozenset({TEMPLATE_NOT_FOUND, "453", INVALID_SENDER, DLT_REJECTED, *map(str, range(780, 793))})

SUBMIT_ERRORS: dict[int, SubmitError] = {
    entry.number: entry
    for entry in (
        SubmitError(0x00000000, "ESME_ROK", "No Error", False),
        SubmitError(0x00000001, "ESME_RINVMSGLEN", "Message too long", False),
        SubmitError(0x00000002, "ESME_RINVCMDLEN", "Command length is invalid.", False),
        SubmitError(0x00000003, "ESME_RINVCMDID", "Command ID is invalid or not supported.", False),
        SubmitError(0x00000004, "ESME_RINVBNDSTS", "Incorrect binding status for the given command", True),
        SubmitError(0x00000005, "ESME_RALYBND", "Already bound", False),
        SubmitError(0x00000006, "ESME_RINVPRTFLG", "Invalid Priority Flag", False),
        SubmitError(0x00000007, "ESME_RINVREGDLVFLG", "Invalid registered delivery flag", False),
        SubmitError(0x00000008, "ESME_RSYSERR", "System error", True),
        SubmitError(0x0000000A, "ESME_RINVSRCADR", "Invalid source address", False),
        SubmitError(0x0000000B, "ESME_RINVDSTADR", "Invalid destination address", False),
        SubmitError(0x0000000C, "ESME_RINVMSGID", "Message ID is invalid.", False),
        SubmitError(0x0000000D, "ESME_RBINDFAIL", "Bind failed", False),
        SubmitError(0x0000000E, "ESME_RINVPASWD", "Invalid password", False),
        SubmitError(0x0000000F, "ESME_RINVSYSID", "Invalid System ID", False),
        SubmitError(0x00000011, "ESME_RCANCELFAIL", "Cancellation message failed.", False),
        SubmitError(0x00000013, "ESME_RREPLACEFAIL", "Message replacement failed", False),
        SubmitError(0x00000014, "ESME_RMSSQFUL", "Message queue is full.", True),
        SubmitError(0x00000015, "ESME_RINVSERTYP", "Invalid service type", False),
        SubmitError(0x00000033, "ESME_RINVNUMDESTS", "Invalid number of destinations", False),
        SubmitError(0x00000034, "ESME_RINVDLNAME", "Invalid distribution list name", False),
        SubmitError(0x00000040, "ESME_RINVDESTFLAG", "Invalid destination flag", False),
        SubmitError(0x00000042, "ESME_RINVSUBREP", "Invalid submit with replace request", False),
        SubmitError(0x00000043, "ESME_RINVESMCLASS", "Invalid ESM class set", False),
        SubmitError(0x00000044, "ESME_RCNTSUBDL", "Invalid submission to the distribution list", False),
        SubmitError(0x00000045, "ESME_RSUBMITFAIL", "Submitting a message has failed.", False),
        SubmitError(0x00000048, "ESME_RINVSRCTON", "Invalid source address type of number (TON)", False),
        SubmitError(0x00000049, "ESME_RINVSRCNPI", "Invalid source address numbering plan (NPI)", False),
        SubmitError(0x00000050, "ESME_RINVDSTTON", "Invalid destination address type of number (TON)", False),
        SubmitError(0x00000051, "ESME_RINVDSTNPI", "Invalid destination address numbering plan (NPI)", False),
        SubmitError(0x00000053, "ESME_RINVSYSTYP", "Invalid system type", False),
        SubmitError(0x00000054, "ESME_RINVREPFLAG", "Invalid replace_if_present flag", False),
        SubmitError(0x00000055, "ESME_RINVNUMMSGS", "Invalid number of messages", False),
        SubmitError(0x00000058, "ESME_RTHROTTLED", "Throttling error", True),
        SubmitError(0x00000061, "ESME_RINVSCHED", "Invalid scheduled delivery time", False),
        SubmitError(0x00000062, "ESME_RINVEXPIRY", "Invalid validity period value", False),
        SubmitError(0x00000063, "ESME_RINVDFTMSGID", "A predefined message was not found.", False),
        SubmitError(0x00000064, "ESME_RX_T_APPN", "ESME Receiver temporary error", True),
        SubmitError(0x00000065, "ESME_RX_P_APPN", "ESME Receiver permanent error", False),
        SubmitError(0x00000066, "ESME_RX_R_APPN", "ESME Receiver reject message error", False),
        SubmitError(0x00000067, "ESME_RQUERYFAIL", "Message query request failed.", False),
        SubmitError(0x000000C0, "ESME_RINVTLVSTREAM", "Error in the optional part of the PDU body", False),
        SubmitError(0x000000C1, "ESME_RTLVNOTALLWD", "TLV is not allowed.", False),
        SubmitError(0x000000C2, "ESME_RINVTLVLEN", "Invalid parameter length", False),
        SubmitError(0x000000C3, "ESME_RMISSINGTLV", "Expected TLV missing", False),
        SubmitError(0x000000C4, "ESME_RINVTLVVAL", "Invalid TLV value", False),
        SubmitError(0x000000FE, "ESME_RDELIVERYFAILURE", "Transaction delivery failure", False),
        SubmitError(0x000000FF, "ESME_RUNKNOWNERR", "Unknown error", True),
        SubmitError(0x00000100, "ESME_RSERTYPUNAUTH", "ESME is not authorised to use specified service types.", False),
        SubmitError(0x00000101, "ESME_RPROHIBITED", "ESME is prohibited from using specified operations.", False),
        SubmitError(0x00000102, "ESME_RSERTYPUNAVAIL", "A specified service type is unavailable.", False),
        SubmitError(0x00000103, "ESME_RSERTYPDENIED", "A specified service type is denied.", False),
        SubmitError(0x00000104, "ESME_RINVDCS", "Invalid data coding scheme", False),
        SubmitError(0x00000105, "ESME_RINVSRCADDRSUBUNIT", "Invalid source address subunit", False),
        SubmitError(0x00000106, "ESME_RINVSTDADDRSUBUNIR", "Invalid destination address subunit", False),
        SubmitError(0x0000040B, "ESME_RINVBALANCE", "Insufficient credits to send a message", False),
    )
}


# `status` of an `sms:message:status` event: each message state in the seed's words (its DLR example's "DELIVRD",
# the SMPP 3.4 message_state names its gateway reports use, "FAILED" of its code table). The code the report
# carried keeps its own, more precise status (`DLR_CODES`).
STATE_STATUSES: dict[str, str] = {
    MessageState.QUEUED: "ACCEPTD",
    MessageState.SENT: "ENROUTE",
    MessageState.UNKNOWN: "UNKNOWN",
    MessageState.DELIVERED: "DELIVRD",
    MessageState.UNDELIVERED: "UNDELIV",
    MessageState.REJECTED: "REJECTD",
    MessageState.EXPIRED: "EXPIRED",
    MessageState.FAILED: "FAILED",
    MessageState.CANCELLED: "DELETED",
}

THROTTLE_STATUSES = frozenset({0x58, 0x14})  # ESME_RTHROTTLED, ESME_RMSGQFUL
REFUSAL_CODES = {
    0x0B: INVALID_NUMBER,  # ESME_RINVDSTADR
    0x50: INVALID_NUMBER,  # ESME_RINVDSTTON
    0x51: INVALID_NUMBER,  # ESME_RINVDSTNPI
    0x0A: INVALID_SENDER,  # ESME_RINVSRCADR
    0x48: INVALID_SENDER,  # ESME_RINVSRCTON
    0x49: INVALID_SENDER,  # ESME_RINVSRCNPI
    0xC3: DLT_REJECTED,  # ESME_RMISSINGTLV (an India TLV missing)
    0xC4: DLT_REJECTED,  # ESME_RINVTLVVAL
    0x40B: NO_CREDITS,  # ESME_RINVBALANCE
}


def submit_error(status: int) -> SubmitError:
    """The table's entry for a submit_sm_resp command status; unknown vendor statuses (0x400-0x4FF) are
    permanent, other unknown ones transient."""
    entry = SUBMIT_ERRORS.get(status)
    if entry is not None:
        return entry
    vendor = 0x400 <= status <= 0x4FF
    return SubmitError(status, f"0x{status:08X}", "Vendor-specific error" if vendor else "Unknown error", not vendor)


def describe(code: str | None) -> str:
    """`"001 INVALID-SUB: Unidentified subscriber."` for a known code, the code itself otherwise."""
    if not code:
        return ""
    entry = DLR_CODES.get(code)
    return f"{code} {entry.status}: {entry.description}" if entry else code


def seed_status(state: str) -> str:
    """The seed's word for a message state (`DELIVRD` for delivered)."""
    return STATE_STATUSES.get(state, "UNKNOWN")


def state_for(code: str) -> str:
    """The final message state a delivery report code leads to (unknown codes count as undelivered)."""
    entry = DLR_CODES.get(code)
    return entry.state if entry else MessageState.UNDELIVERED
