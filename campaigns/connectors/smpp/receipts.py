"""Delivery receipts as SMSCs send them in deliver_sm or data_sm (esm_class 0x04 receipt, 0x08 SME
acknowledgement, 0x20 intermediate notification): the SMPP 3.4 appendix B text (`id:… sub:… dlvrd:… submit
date:… done date:… stat:… err:… text:…`), the `receipted_message_id` / `message_state` / `network_error_code`
TLVs, and what they mean in the seed's code table (`campaigns.dlr_codes`)."""

import contextlib
import re
from dataclasses import dataclass
from datetime import UTC, datetime

from campaigns import dlr_codes
from campaigns.states import MessageState

# a key starts the text or follows a non-letter, so `msgid:` or `unsubmit date:` are not fields
_FIELD = re.compile(r"(?<![a-z_])(id|sub|dlvrd|submit[ _]date|done[ _]date|stat|err|text)\s*:", re.IGNORECASE)
MESSAGE_STATES = {1: "ENROUTE", 2: "DELIVRD", 3: "EXPIRED", 4: "DELETED", 5: "UNDELIV", 6: "ACCEPTD", 7: "UNKNOWN"}
MESSAGE_STATES[8] = "REJECTD"
INTERMEDIATE = frozenset({"ENROUTE", "ACCEPTD", "BUFFRED", "SCHEDULED"})
FALLBACK_CODES = {"UNDELIV": "099", "UNKNOWN": "099", "DELETED": "099", "EXPIRED": dlr_codes.EXPIRED}
FALLBACK_CODES["REJECTD"] = "458"
_STAT_ALIASES = {
    "DELIVERED": "DELIVRD",
    "UNDELIVERABLE": "UNDELIV",
    "UNDELIVERED": "UNDELIV",
    "REJECTED": "REJECTD",
    "ACCEPTED": "ACCEPTD",
    "BUFFERED": "BUFFRED",
}
HEX_ID_WIDTHS = (8, 16)  # widths SMSCs zero-pad hex ids to (a 32- or 64-bit counter)
MAX_ID_LENGTH = 65  # message_id is a C-Octet String of up to 65 octets; longer is not converted


@dataclass(frozen=True)
class ReceiptFields:
    upstream_id: str
    stat: str
    err: str
    submit_date: datetime | None = None
    done_date: datetime | None = None
    text: str = ""
    sub: str = ""
    dlvrd: str = ""
    network_error: tuple[int, int] | None = None  # network_error_code TLV: (network type, error code)


def _date(value: str) -> datetime | None:
    """YYMMDDhhmm or YYMMDDhhmmss as an aware UTC datetime (SMSCs print their local time; UTC is the guess)."""
    digits = value.strip()
    if not digits.isdigit() or len(digits) not in (10, 12):
        return None
    with contextlib.suppress(ValueError):
        return datetime.strptime(digits, "%y%m%d%H%M%S" if len(digits) == 12 else "%y%m%d%H%M").replace(tzinfo=UTC)
    return None


def _text_fields(text: str) -> dict[str, str]:
    """The fields of a receipt text, whatever their case and order; `text:` takes the rest of the receipt."""
    found, matches = {}, list(_FIELD.finditer(text))
    for index, match in enumerate(matches):
        key = match.group(1).lower().replace(" ", "_")
        if key == "text":
            found.setdefault(key, text[match.end() :])
            break
        end = matches[index + 1].start() if index + 1 < len(matches) else len(text)
        found.setdefault(key, text[match.end() : end].strip())
    return found


def _as_text(value) -> str:
    if isinstance(value, bytes | bytearray):
        value = bytes(value).decode("latin-1")
    return "" if value is None else str(value).replace("\x00", "").strip()


def _state_name(value) -> str:
    """A message_state TLV (its number, or its SMPP name) as a receipt `stat`."""
    name = getattr(value, "name", value)
    text = _as_text(name).upper()
    if text.isdigit():
        return MESSAGE_STATES.get(int(text), "UNKNOWN")
    return _STAT_ALIASES.get(text, text) if text else ""


def _network_error(value) -> tuple[int, int] | None:
    """network_error_code: 3 octets (network type, 2-octet error code), as bytes or their hex."""
    if isinstance(value, str):
        with contextlib.suppress(ValueError):
            value = bytes.fromhex(value)
    if isinstance(value, bytes | bytearray) and len(value) == 3:
        return value[0], int.from_bytes(value[1:], "big")
    return None


def parse_receipt(short_message_text: str, tlvs: dict) -> ReceiptFields:
    """The fields of a receipt. The `receipted_message_id` TLV wins over the text's id; `message_state` gives the
    state when the text has no stat. `network_error_code` is kept apart: its numbers are the network's (e.g. GSM
    MAP causes), not the seed's `err` codes."""
    found = _text_fields(short_message_text or "")
    upstream_id = _as_text(tlvs.get("receipted_message_id")) or found.get("id", "").replace("\x00", "")
    stat = _state_name(found.get("stat", ""))
    if not stat and tlvs.get("message_state") is not None:
        stat = _state_name(tlvs["message_state"])
    return ReceiptFields(
        upstream_id=upstream_id,
        stat=stat,
        err=found.get("err", ""),
        submit_date=_date(found.get("submit_date", "")),
        done_date=_date(found.get("done_date", "")),
        text=found.get("text", ""),
        sub=found.get("sub", ""),
        dlvrd=found.get("dlvrd", ""),
        network_error=_network_error(tlvs.get("network_error_code")),
    )


def id_variants(upstream_id: str) -> tuple[str, ...]:
    """The same upstream id as SMSCs may print it, the given spelling first: as given, lower- and upper-case,
    hex→decimal, decimal→hex (no leading zeros, and zero-padded to 8 and 16 digits, in both cases).

    Many SMSCs answer submit_sm with the id in hex and print the receipt's `id:` in decimal, or the reverse
    (a known interop problem: Kannel's `msg-id-type` and Jasmin's id handling exist for it), so a receipt is
    looked up under every spelling. An all-digit id is also read as hex, so a receipt whose own spelling is
    unknown may be tried against a second id; the given spelling always wins."""
    given = (upstream_id or "").strip()
    variants = [given, given.lower(), given.upper()]
    if len(given) <= MAX_ID_LENGTH:
        variants += _number_spellings(given)
    return tuple(dict.fromkeys(v for v in variants if v))


def _number_spellings(given: str) -> list[str]:
    """A decimal id in hex (bare and zero-padded, lower- and upper-case); a hex id in decimal."""
    spellings = []
    if given.isdigit():
        number = format(int(given), "x")
        padded = [number.zfill(width) for width in HEX_ID_WIDTHS if len(number) < width]
        spellings += [form for spelling in (number, *padded) for form in (spelling, spelling.upper())]
    with contextlib.suppress(ValueError):
        spellings.append(str(int(given, 16)))
    return spellings


def _seed_code(err: str) -> str:
    """The receipt's err as a known non-zero seed code, zero-padded to 3 digits; "" otherwise."""
    digits = err.strip()
    if not digits.isdigit() or not int(digits):
        return ""
    code = str(int(digits)).zfill(3)
    return code if code in dlr_codes.DLR_CODES else ""


def receipt_outcome(fields: ReceiptFields) -> tuple[str, str | None]:
    """(seed code, message state) of a receipt. The state is None for a report that changes nothing: an
    intermediate one (ENROUTE, ACCEPTD, BUFFRED) or one without any status. DELIVRD is 000; a failure takes the
    err field when it is a known seed code, else 099 (021 for EXPIRED, 458 for REJECTD), and the state that code
    leads to, except that EXPIRED is always expired and REJECTD rejected."""
    stat = fields.stat
    if not stat or stat in INTERMEDIATE:
        return "", None
    if stat == "DELIVRD":
        return dlr_codes.DELIVERED, MessageState.DELIVERED
    code = _seed_code(fields.err) or FALLBACK_CODES.get(stat, "099")
    if stat == "EXPIRED":
        return code, MessageState.EXPIRED
    if stat == "REJECTD":
        return code, MessageState.REJECTED
    return code, dlr_codes.state_for(code)
