import uuid
from urllib.parse import parse_qs

import pytest

from campaigns import dlr_codes
from campaigns.connectors import Outcome, connector_for
from campaigns.connectors.http import HttpConnector, fill, json_escape
from campaigns.connectors.simulator import simulated_outcome
from campaigns.models import Connector, Message
from campaigns.states import MessageState


def fake_message(recipient="+919876543210", body='Hi O\'Brien & "co"', attempts=1, flash=False, port=None):
    """An unsaved Message (so connectors read it through the model's own methods)."""
    return Message(
        uid=uuid.uuid4(),
        recipient=recipient,
        sender_name="ACMERT",
        body=body,
        message_type="A",
        parts=1,
        flash=flash,
        destination_port=port,
        attempts=attempts,
    )


@pytest.mark.parametrize(
    ("number", "attempt", "submit", "code"),
    [
        ("+919876540000", 1, "accept", "001"),
        ("+919876540013", 1, "accept", "013"),
        ("+919876540021", 1, "accept", "021"),
        ("+919876540456", 1, "accept", "456"),
        ("+919876549999", 1, "permanent", ""),
        ("+919876549998", 1, "transient", ""),
        ("+919876549998", 2, "accept", "000"),
        ("+919876549997", 4, "transient", ""),
        ("+919876543210", 1, "accept", "000"),
    ],
)
def test_simulator_outcome_is_decided_by_the_last_digits(number, attempt, submit, code):
    outcome = simulated_outcome(number, attempt)
    assert outcome.submit == submit
    assert outcome.dlr_code == code


def test_dlr_code_table_maps_seed_codes_to_states_with_descriptions():
    assert len(dlr_codes.DLR_CODES) == 67
    assert dlr_codes.state_for("000") == MessageState.DELIVERED
    assert dlr_codes.state_for("001") == MessageState.UNDELIVERED
    assert dlr_codes.state_for("021") == MessageState.EXPIRED
    assert dlr_codes.state_for("452") == MessageState.REJECTED
    assert dlr_codes.state_for("783") == MessageState.REJECTED
    assert dlr_codes.describe("001") == "001 INVALID-SUB: Unidentified subscriber."
    assert dlr_codes.SUBMIT_ERRORS[0x58].transient is True
    assert dlr_codes.SUBMIT_ERRORS[0x0B].transient is False


@pytest.mark.django_db
def test_simulator_records_one_submission_per_message_id_and_counts_duplicates():
    from campaigns.models import SimulatorSubmission

    connector = connector_for(Connector.objects.create(name="sim", kind="simulator"))
    message = fake_message(flash=True, port=2948)
    first, second = connector.send(message), connector.send(message)
    assert first.outcome == second.outcome == Outcome.ACCEPTED
    assert first.connector_message_id == second.connector_message_id
    submission = SimulatorSubmission.objects.get()
    assert submission.duplicates == 1
    assert submission.dlr_code == "000"
    assert (submission.flash, submission.destination_port) == (True, 2948)


def test_fill_escapes_values_for_their_place():
    assert fill("{{a}}-{{missing}}", {"a": 1}) == "1-"
    assert json_escape('O\'Brien "x"\n') == 'O\'Brien \\"x\\"\\n'


@pytest.mark.django_db
def test_http_connector_fills_url_headers_and_json_body(live_http_receiver):
    connector = HttpConnector(
        {
            "url": live_http_receiver.url("/send?to={{to}}"),
            "headers": {"Authorization": "Bearer {{api_key}}", "Content-Type": "application/json"},
            "body": '{"from": "{{sender}}", "text": "{{text}}", "ref": "{{message_id}}"}',
            "variables": {"api_key": "k-123"},
        }
    )
    message = fake_message()
    result = connector.send(message)
    assert result.outcome == Outcome.ACCEPTED
    request = live_http_receiver.requests[-1]
    assert request.path == "/send"
    assert request.query == {"to": ["+919876543210"]}
    assert request.headers["authorization"] == "Bearer k-123"
    body = request.json()
    assert body == {"from": "ACMERT", "text": message.body, "ref": str(message.uid)}


@pytest.mark.parametrize(
    ("flash", "port", "sent"), [(True, 5000, ("1", "5000")), (False, None, ("0", "")), (False, 0, ("0", "0"))]
)
def test_http_connector_fills_flash_and_port(live_http_receiver, flash, port, sent):
    connector = HttpConnector(
        {
            "url": live_http_receiver.url("/send"),
            "headers": {"Content-Type": "application/x-www-form-urlencoded"},
            "body": "to={{to}}&flash={{flash}}&port={{port}}",
        }
    )
    assert connector.send(fake_message(flash=flash, port=port)).outcome == Outcome.ACCEPTED
    form = parse_qs(live_http_receiver.requests[-1].text, keep_blank_values=True)
    assert (form["flash"], form["port"]) == ([sent[0]], [sent[1]])


@pytest.mark.parametrize(
    ("status", "body", "outcome", "upstream_id"),
    [
        (200, '{"data": {"id": "up-1"}}', Outcome.ACCEPTED, "up-1"),
        (200, '{"status": "error"}', Outcome.REJECTED, ""),
        (400, "bad number", Outcome.REJECTED, ""),
        (503, "", Outcome.RETRY, ""),
        (429, "", Outcome.RETRY, ""),
    ],
)
def test_http_connector_maps_answers(status, body, outcome, upstream_id):
    connector = HttpConnector(
        {"url": "http://x", "message_id_field": "data.id", "reject_field": "status", "reject_values": ["error"]}
    )
    result = connector.interpret(fake_message(), status, body)
    assert result.outcome == outcome
    if upstream_id:
        assert result.connector_message_id == upstream_id


def test_http_connector_unreachable_upstream_is_transient():
    result = HttpConnector({"url": "http://127.0.0.1:9/send", "timeout": 1}).send(fake_message())
    assert result.outcome == Outcome.RETRY


@pytest.mark.django_db
def test_http_connector_hands_the_upstream_an_opaque_callback_url(settings):
    settings.SMS_CALLBACK_BASE_URL = "https://portal.example"
    row = Connector.objects.create(name="up", kind="http", config={"url": "http://x/{{callback_url}}"})
    connector = connector_for(row)
    message = fake_message()
    values = connector.placeholder_values(message)
    assert values["callback_url"] == f"https://portal.example/api/v2/sms/dlr/callback/{row.uid}/{message.uid}"
    assert connector.build_request(message).full_url.startswith("http://x/https%3A%2F%2Fportal.example%2Fapi")
