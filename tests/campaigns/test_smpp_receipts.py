"""campaigns.connectors.smpp.receipts and the command-status table: receipt texts as SMSCs write them, the
receipt TLVs, id spellings (hex or decimal), what a receipt means in the seed's codes, and what each submit_sm_resp
status makes the connector do."""

from datetime import UTC, datetime

import pytest

from campaigns import dlr_codes
from campaigns.connectors.smpp.receipts import ReceiptFields, id_variants, parse_receipt, receipt_outcome
from campaigns.states import MessageState

STANDARD = "id:0A1B2C3D sub:001 dlvrd:001 submit date:2601021230 done date:260102123145 stat:DELIVRD err:000 text:Hi"


def outcome(text: str, tlvs: dict | None = None) -> tuple[str, str | None]:
    return receipt_outcome(parse_receipt(text, tlvs or {}))


# --- the receipt text ---------------------------------------------------------------------------------------


def test_the_standard_text():
    fields = parse_receipt(STANDARD, {})
    assert fields == ReceiptFields(
        upstream_id="0A1B2C3D",
        stat="DELIVRD",
        err="000",
        submit_date=datetime(2026, 1, 2, 12, 30, tzinfo=UTC),
        done_date=datetime(2026, 1, 2, 12, 31, 45, tzinfo=UTC),
        text="Hi",
        sub="001",
        dlvrd="001",
    )


def test_keys_in_any_case_underscored_dates_and_values_without_zeros():
    fields = parse_receipt("ID:77 Sub:1 DLVRD:1 Submit_Date:2512312359 DONE_DATE:2601010000 Stat:undeliv Err:13", {})
    assert (fields.upstream_id, fields.sub, fields.dlvrd, fields.stat, fields.err) == ("77", "1", "1", "UNDELIV", "13")
    assert fields.submit_date == datetime(2025, 12, 31, 23, 59, tzinfo=UTC)
    assert fields.done_date == datetime(2026, 1, 1, tzinfo=UTC)
    assert outcome("ID:77 Stat:undeliv Err:13") == ("013", MessageState.UNDELIVERED)


def test_missing_fields_are_empty():
    fields = parse_receipt("id:abc stat:EXPIRED", {})
    assert fields == ReceiptFields("abc", "EXPIRED", "")
    assert parse_receipt("", {}) == ReceiptFields("", "", "")


@pytest.mark.parametrize("value", ["26010212", "2601021230451", "2613021230", "26010a1230", "", "2602301230"])
def test_dates_that_are_not_dates_are_none(value):
    assert parse_receipt(f"id:1 done date:{value} stat:DELIVRD", {}).done_date is None


def test_the_text_field_takes_the_rest_and_other_keys_inside_words_are_not_fields():
    fields = parse_receipt("msgid:999 id:42 stat:DELIVRD err:000 text:your id: 7 stat:REJECTD", {})
    assert (fields.upstream_id, fields.stat, fields.text) == ("42", "DELIVRD", "your id: 7 stat:REJECTD")


def test_the_first_spelling_of_a_repeated_key_counts_and_nul_padding_goes():
    fields = parse_receipt("id:5\x00\x00 stat:DELIVRD stat:UNDELIV", {})
    assert (fields.upstream_id, fields.stat) == ("5", "DELIVRD")


@pytest.mark.parametrize(("stat", "normal"), [("DELIVERED", "DELIVRD"), ("undeliverable", "UNDELIV"), ("2", "DELIVRD")])
def test_stat_spellings(stat, normal):
    assert parse_receipt(f"id:1 stat:{stat}", {}).stat == normal


# --- TLVs ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("tlv_id", ["ff00", b"ff00\x00"])
def test_receipted_message_id_wins_over_the_texts_id(tlv_id):
    assert parse_receipt(STANDARD, {"receipted_message_id": tlv_id}).upstream_id == "ff00"
    assert parse_receipt(STANDARD, {"receipted_message_id": ""}).upstream_id == "0A1B2C3D"


@pytest.mark.parametrize(
    ("state", "stat"),
    [
        *[(1, "ENROUTE"), (2, "DELIVRD"), (3, "EXPIRED"), (4, "DELETED"), (5, "UNDELIV"), (6, "ACCEPTD")],
        *[(7, "UNKNOWN"), (8, "REJECTD"), (9, "UNKNOWN"), ("5", "UNDELIV"), ("DELIVERED", "DELIVRD")],
    ],
)
def test_message_state_gives_the_stat_when_the_text_has_none(state, stat):
    assert parse_receipt("id:1", {"message_state": state}).stat == stat
    assert parse_receipt("", {"receipted_message_id": "1", "message_state": state}).stat == stat


def test_the_texts_stat_wins_over_message_state():
    assert parse_receipt("id:1 stat:DELIVRD", {"message_state": 5}).stat == "DELIVRD"


@pytest.mark.parametrize(("value", "parsed"), [(b"\x03\x00\x0d", (3, 13)), ("030022", (3, 34)), ("zz", None)])
def test_network_error_code_is_kept_apart_from_err(value, parsed):
    fields = parse_receipt("id:1 stat:UNDELIV", {"network_error_code": value})
    assert (fields.network_error, fields.err) == (parsed, "")
    assert receipt_outcome(fields) == ("099", MessageState.UNDELIVERED)


# --- id spellings --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("answered", "receipt"),
    [
        ("0A1B2C3D", "169552957"),  # answer in hex (zero-padded), receipt in decimal
        ("a1b2c3d", "169552957"),
        ("169552957", "0A1B2C3D"),  # answer in decimal, receipt in hex
        ("169552957", "a1b2c3d"),
        ("1A2B", "1a2b"),
        ("1a2b", "1A2B"),
        ("00000000000000ff", "255"),
        ("msg-7f", "MSG-7F"),
        ("4711", "4711"),
    ],
)
def test_a_receipt_finds_the_id_stored_from_submit_sm_resp_in_either_form(answered, receipt):
    assert answered in id_variants(receipt)  # what the lookup by the receipt's spellings needs
    assert set(id_variants(answered)) & {receipt, receipt.lower()}  # and the lookup the other way


def test_variants_start_with_the_given_spelling_and_repeat_nothing():
    variants = id_variants("255")
    assert variants[0] == "255" and len(variants) == len(set(variants))
    assert set(variants) == {"255", "ff", "FF", "000000ff", "000000FF", "00000000000000ff", "00000000000000FF", "597"}
    assert id_variants("ab-CD") == ("ab-CD", "ab-cd", "AB-CD")
    assert id_variants("") == () and id_variants("  12  ")[0] == "12"


def test_overlong_ids_are_not_converted():
    long = "9" * 5000
    assert id_variants(long) == (long,)


# --- outcomes -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("stat", "err", "expected"),
    [
        ("DELIVRD", "000", ("000", MessageState.DELIVERED)),
        ("DELIVRD", "013", ("000", MessageState.DELIVERED)),
        ("UNDELIV", "013", ("013", MessageState.UNDELIVERED)),
        ("UNDELIV", "13", ("013", MessageState.UNDELIVERED)),
        ("UNDELIV", "0013", ("013", MessageState.UNDELIVERED)),
        ("UNDELIV", "404", ("404", MessageState.REJECTED)),  # the code's own state
        ("UNDELIV", "999", ("099", MessageState.UNDELIVERED)),
        ("UNDELIV", "000", ("099", MessageState.UNDELIVERED)),
        ("UNDELIV", "x1", ("099", MessageState.UNDELIVERED)),
        ("UNKNOWN", "", ("099", MessageState.UNDELIVERED)),
        ("DELETED", "", ("099", MessageState.UNDELIVERED)),
        ("DELETED", "451", ("451", MessageState.REJECTED)),
        ("EXPIRED", "", ("021", MessageState.EXPIRED)),
        ("EXPIRED", "013", ("013", MessageState.EXPIRED)),  # EXPIRED is always expired
        ("REJECTD", "", ("458", MessageState.REJECTED)),
        ("REJECTD", "777", ("777", MessageState.REJECTED)),
        ("REJECTD", "013", ("013", MessageState.REJECTED)),  # REJECTD is always rejected
        ("FAILED", "", ("099", MessageState.UNDELIVERED)),
        ("ENROUTE", "", ("", None)),
        ("ACCEPTD", "000", ("", None)),
        ("BUFFRED", "", ("", None)),
    ],
)
def test_receipt_outcomes(stat, err, expected):
    assert outcome(f"id:7 stat:{stat} err:{err}") == expected


def test_a_receipt_without_any_status_changes_nothing():
    assert outcome("id:7 err:013") == ("", None)


def test_the_state_from_the_tlv_alone_is_mapped():
    assert outcome("", {"receipted_message_id": "7", "message_state": 3}) == ("021", MessageState.EXPIRED)
    assert outcome("", {"receipted_message_id": "7", "message_state": 2}) == ("000", MessageState.DELIVERED)
    assert outcome("", {"receipted_message_id": "7", "message_state": 6}) == ("", None)


# --- submit_sm_resp statuses -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "kind", "code"),
    [
        (0x58, "throttle", None),  # ESME_RTHROTTLED
        (0x14, "throttle", None),  # ESME_RMSGQFUL
        (0x08, "transient", None),  # ESME_RSYSERR
        (0x04, "transient", None),  # ESME_RINVBNDSTS: the bind, not the message
        (0x64, "transient", None),  # ESME_RX_T_APPN
        (0xFF, "transient", None),
        (0x0B, "permanent", "404"),
        (0x50, "permanent", "404"),
        (0x51, "permanent", "404"),
        (0x40B, "permanent", "401"),
        (0x0A, "permanent", "454"),
        (0x48, "permanent", "454"),
        (0x49, "permanent", "454"),
        (0xC3, "permanent", "777"),
        (0xC4, "permanent", "777"),
        (0x45, "permanent", "458"),
        (0x01, "permanent", "458"),
        (0x400, "permanent", "458"),  # unknown, vendor range
        (0x4FF, "permanent", "458"),
        (0x3FF, "transient", None),  # unknown, outside it
        (0x500, "transient", None),
        (0x99, "transient", None),
    ],
)
def test_command_statuses(status, kind, code):
    error = dlr_codes.submit_error(status)
    assert (error.number, error.kind, error.code) == (status, kind, code)
    assert error.transient is (kind != "permanent")


def test_every_refusal_code_is_a_seed_code_that_rejects():
    assert {dlr_codes.DLR_CODES[code].state for code in dlr_codes.REFUSAL_CODES.values()} == {MessageState.REJECTED}
    assert all(dlr_codes.SUBMIT_ERRORS[status].kind == "permanent" for status in dlr_codes.REFUSAL_CODES)
    assert all(dlr_codes.SUBMIT_ERRORS[status].kind == "throttle" for status in dlr_codes.THROTTLE_STATUSES)


def test_unknown_statuses_are_named():
    assert (dlr_codes.submit_error(0x401).name, dlr_codes.submit_error(0x401).description) == (
        "0x00000401",
        "Vendor-specific error",
    )
    assert dlr_codes.submit_error(0x0B).name == "ESME_RINVDSTADR"
