"""Delivery receipts as SMSCs send them in deliver_sm: the SMPP 3.4 appendix B text (`id:… sub:… dlvrd:… submit
date:… done date:… stat:… err:… text:…`), the `receipted_message_id` / `message_state` TLVs, and what they mean
in the seed's code table."""

import contextlib
import re
from dataclasses import dataclass
from datetime import UTC, datetime

from campaigns import dlr_codes
from campaigns.states import MessageState

_FIELD = re.compile(r"(id|sub|dlvrd|submit[ _]date|done[ _]date|stat|err|text)\s*:", re.IGNORECASE)
MESSAGE_STATES = {1: "ENROUTE", 2: "DELIVRD", 3: "EXPIRED", 4: "DELETED", 5: "UNDELIV", 6: "ACCEPTD", 7: "UNKNOWN"}
MESSAGE_STATES[8] = "REJECTD"
INTERMEDIATE = frozenset({"ENROUTE", "ACCEPTD", "BUFFRED", "SCHEDULED"})
FALLBACK_CODES = {"UNDELIV": "099", "UNKNOWN": "099", "DELETED": "099", "EXPIRED": dlr_codes.EXPIRED}
FALLBACK_CODES["REJECTD"] = "458"
_STAT_ALIASES = {"DELIVERED": "DELIVRD", "UNDELIVERABLE": "UNDELIV", "REJECTED": "REJECTD", "ACCEPTED": "ACCEPTD"}


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


def _date(value: str) -> datetime | None:
    digits = value.strip()
    if not digits.isdigit() or len(digits) not in (10, 12):
        return None
    with contextlib.suppress(ValueError):
        return datetime.strptime(digits, "%y%m%d%H%M%S" if len(digits) == 12 else "%y%m%d%H%M").replace(tzinfo=UTC)
    return None


def _text_fields(text: str) -> dict[str, str]:
    found, matches = {}, list(_FIELD.finditer(text or ""))
    for index, match in enumerate(matches):
        end = matches[index + 1].start() if index + 1 < len(matches) else len(text)
        key = match.group(1).lower().replace(" ", "_")
        value = text[match.end() : end] if key == "text" else text[match.end() : end].strip()
        found.setdefault(key, value)
    return found


def parse_receipt(text: str, tlvs: dict) -> ReceiptFields:
    """The fields of a receipt; the TLVs win over the text for the id, and give the state when the text has none."""
    found = _text_fields(text)
    upstream_id = str(tlvs.get("receipted_message_id") or found.get("id", "")).strip().rstrip("\x00")
    stat = found.get("stat", "").upper()
    stat = _STAT_ALIASES.get(stat, stat)
    if not stat and tlvs.get("message_state") is not None:
        stat = MESSAGE_STATES.get(int(tlvs["message_state"]), "UNKNOWN")
    return ReceiptFields(
        upstream_id=upstream_id,
        stat=stat,
        err=found.get("err", ""),
        submit_date=_date(found.get("submit_date", "")),
        done_date=_date(found.get("done_date", "")),
        text=found.get("text", ""),
        sub=found.get("sub", ""),
        dlvrd=found.get("dlvrd", ""),
    )


def id_variants(upstream_id: str) -> tuple[str, ...]:
    """The same upstream id as SMSCs may print it: as given, lower-case, hex→decimal, decimal→hex. Many SMSCs
    answer submit_sm in hex and print the receipt's `id:` in decimal (or the reverse): a known interop problem
    Kannel and Jasmin handle the same way."""
    given = (upstream_id or "").strip()
    variants = [given, given.lower()]
    if given.isdigit():
        variants.append(format(int(given), "x"))
    with contextlib.suppress(ValueError):
        variants.append(str(int(given, 16)))
    return tuple(dict.fromkeys(v for v in variants if v))


def receipt_outcome(fields: ReceiptFields) -> tuple[str, str | None]:
    """(seed code, message state) of a receipt; the state is None for an intermediate report (en route)."""
    stat = fields.stat
    if stat in INTERMEDIATE:
        return "", None
    if stat == "DELIVRD":
        return dlr_codes.DELIVERED, MessageState.DELIVERED
    err = fields.err.strip()
    code = err.zfill(3) if err.isdigit() and err.zfill(3) in dlr_codes.DLR_CODES and int(err) else ""
    code = code or FALLBACK_CODES.get(stat, "099")
    if stat == "EXPIRED":
        return code, MessageState.EXPIRED
    if stat == "REJECTD":
        return code, MessageState.REJECTED
    state = dlr_codes.state_for(code)
    return code, MessageState.UNDELIVERED if state == MessageState.DELIVERED else state
