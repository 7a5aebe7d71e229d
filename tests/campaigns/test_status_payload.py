"""Issue 18 item 2: `sms:message:status` carries the seed's delivery-report fields (BICS "Receive DLR Updates"),
received by a real local HTTP receiver for real sends through the simulator."""

import re
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from campaigns import dlr_codes
from campaigns.models import Message
from campaigns.sending.events import status_payload
from campaigns.states import MessageState
from contacts import phone_places
from portal.models import Subscription, Webhook
from portal.webhooks.signing import generate_secret
from tests.campaigns.sending_support import approved_sender, approved_template, prices, run_sweeps

pytestmark = pytest.mark.django_db

SEED_TIME = re.compile(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}")
TEXT = "Sale at Acme today only"
KOLKATA = ZoneInfo("Asia/Kolkata")  # the account's time zone


@pytest.fixture(autouse=True)
def _setup(settings, account):
    settings.SMS_SIMULATOR_DLR_DELAY_SECONDS = 0
    settings.SMS_INDIA_PROMOTIONAL_HOLD = False
    settings.WEBHOOK_ALLOWED_CIDRS = ["127.0.0.0/8"]
    prices(IN="0.01", GB="0.04")
    account.balance = Decimal("50")
    account.save()
    approved_template(account, approved_sender(account), TEXT)
    approved_sender(account, name="ACMEUK", country="GB")


@pytest.fixture
def receiver_webhook(account, live_http_receiver):
    uri, secret = live_http_receiver.url("/dlr"), generate_secret()
    webhook = Webhook.objects.create(account=account, name="CRM", uri=uri, secret=secret)
    Subscription.objects.create(account=account, webhook=webhook, event="sms:message:status")
    return webhook


def send_and_report(client, capture, **body):
    with capture(execute=True):
        response = client.post("/api/v2/sms/send", {"sender": "ACMERT", "message": TEXT, **body}, format="json")
        assert response.status_code == 201, response.json()
        run_sweeps()
    return response.json()["data"]


def final_payload(receiver, count: int = 2) -> dict:
    """The payload of the last of `count` deliveries (sent, then the delivery report)."""
    return receiver.wait_for(count)[-1].json()["payload"]


@pytest.mark.parametrize(
    ("state", "status"),
    [
        (MessageState.QUEUED, "ACCEPTD"),
        (MessageState.SENT, "ENROUTE"),
        (MessageState.UNKNOWN, "UNKNOWN"),
        (MessageState.DELIVERED, "DELIVRD"),
        (MessageState.UNDELIVERED, "UNDELIV"),
        (MessageState.REJECTED, "REJECTD"),
        (MessageState.EXPIRED, "EXPIRED"),
        (MessageState.FAILED, "FAILED"),
        (MessageState.CANCELLED, "DELETED"),
    ],
)
def test_every_state_has_its_seed_status_beside_our_own(account, state, status):
    message = Message(account=account, recipient="+919876543210", country="IN", state=state, cost=Decimal("0"))
    payload = status_payload(message)
    assert (payload["status"], payload["state"]) == (status, state)


def test_the_mapping_covers_every_message_state():
    assert set(dlr_codes.STATE_STATUSES) == set(MessageState.values)


def test_a_delivered_indian_mobile_carries_the_seeds_fields(
    api, receiver_webhook, live_http_receiver, django_capture_on_commit_callbacks
):
    sent = send_and_report(
        api(),
        django_capture_on_commit_callbacks,
        to="+919876543210",
        custom="order-7",
        custom1="campaign-3344",
        custom2="new-camp",
    )
    payload = final_payload(live_http_receiver)
    message = Message.objects.get(uid=sent["accepted"][0]["message_id"])
    assert message.meta == {"custom1": "campaign-3344", "custom2": "new-camp"}
    assert {key: payload[key] for key in ("id", "mobile", "status", "state", "code", "credits", "units")} == {
        "id": str(message.uid),
        "mobile": "+919876543210",
        "status": "DELIVRD",
        "state": "delivered",
        "code": "",
        "credits": "0.0100",
        "units": 1,
    }
    assert (payload["cid"], payload["custom"], payload["custom1"], payload["custom2"]) == (
        "order-7",
        "order-7",
        "campaign-3344",
        "new-camp",
    )
    assert (payload["location"], payload["location_code"], payload["provider"]) == ("India", "in", "Airtel")
    assert (payload["region"], payload["region_code"], payload["provider_code"]) == ("", "", "")
    times = [payload["sent_time"], payload["submit_time"], payload["deliv_time"]]
    assert all(SEED_TIME.fullmatch(value) for value in times) and times == sorted(times)
    assert payload["deliv_time"] == message.done_at.astimezone(KOLKATA).strftime("%Y-%m-%d %H:%M:%S")
    assert payload["sent_time"] == message.created_at.astimezone(KOLKATA).strftime("%Y-%m-%d %H:%M:%S")


def test_a_uk_mobile_names_its_country_and_operator(
    api, receiver_webhook, live_http_receiver, django_capture_on_commit_callbacks
):
    send_and_report(api(), django_capture_on_commit_callbacks, sender="ACMEUK", to="+447400123456")
    payload = final_payload(live_http_receiver)
    assert (payload["location"], payload["location_code"], payload["provider"]) == ("United Kingdom", "gb", "Three")
    assert (payload["status"], payload["credits"], payload["custom1"]) == ("DELIVRD", "0.0400", "")


def test_an_undelivered_message_has_the_seed_status_its_code_and_the_report_time(
    api, receiver_webhook, live_http_receiver, django_capture_on_commit_callbacks
):
    send_and_report(api(), django_capture_on_commit_callbacks, to="+919876540000")  # the simulator: 001
    payload = final_payload(live_http_receiver)
    assert (payload["status"], payload["state"], payload["code"]) == ("UNDELIV", "undelivered", "001")
    assert payload["description"] == "001 INVALID-SUB: Unidentified subscriber." and payload["deliv_time"]


def test_a_message_refused_upstream_is_rejectd_with_the_time_it_ended(
    api, receiver_webhook, live_http_receiver, django_capture_on_commit_callbacks
):
    send_and_report(api(), django_capture_on_commit_callbacks, to="+919876549999")  # ESME_RINVDSTADR
    (received,) = live_http_receiver.wait_for(1)
    payload = received.json()["payload"]
    assert (payload["status"], payload["state"], payload["code"]) == ("REJECTD", "rejected", "404")
    assert SEED_TIME.fullmatch(payload["deliv_time"]) and payload["submit_time"] == ""


def test_custom1_in_meta_is_used_and_the_field_wins(api):
    client = api()
    body = {"sender": "ACMEUK", "message": "Hi", "meta": {"custom1": "from-meta", "custom2": 7, "crm": "x"}}
    first = client.post("/api/v2/sms/send", body | {"to": "+447400123456"}, format="json").json()["data"]
    second = client.post("/api/v2/sms/send", body | {"to": "+447400123457", "custom1": "field"}, format="json")
    first_message = Message.objects.get(uid=first["accepted"][0]["message_id"])
    second_message = Message.objects.get(uid=second.json()["data"]["accepted"][0]["message_id"])
    assert (status_payload(first_message)["custom1"], status_payload(first_message)["custom2"]) == ("from-meta", "7")
    assert status_payload(second_message)["custom1"] == "field" and second_message.meta["crm"] == "x"


@pytest.mark.parametrize(
    ("field", "value"), [("custom1", "x" * 101), ("custom2", ["a"]), ("meta", ["not", "an", "object"])]
)
def test_bad_custom_fields_are_refused_with_422_and_nothing_is_sent(api, field, value):
    body = {"sender": "ACMEUK", "to": "+447400123456", "message": "Hi", field: value}
    response = api().post("/api/v2/sms/send", body, format="json")
    assert response.status_code == 422 and field in response.json()["errors"]
    assert not Message.objects.exists()


def test_a_customized_webhook_fills_the_seed_placeholders(api, account, live_http_receiver):
    fields = ["status", "state", "credits", "units", "deliv_time", "custom1", "location_code", "provider"]
    query = "&".join(f"{name}={{{{{name}}}}}" for name in fields)
    client = api()
    created = client.post(
        "/api/v2/webhooks", {"name": "Legacy", "uri": live_http_receiver.url(f"/d?{query}"), "kind": "custom"}
    )
    assert created.status_code == 201, created.json()
    assert client.post(f"/api/v2/webhooks/{created.json()['data']['id']}/ping").json()["data"]["state"] == "succeeded"
    (received,) = live_http_receiver.wait_for(1)
    assert {name: received.query[name][0] for name in fields} == {
        "status": "DELIVRD",
        "state": "delivered",
        "credits": "0.0400",
        "units": "2",
        "deliv_time": "2021-04-09 16:27:51",
        "custom1": "campaign-3344",
        "location_code": "in",
        "provider": "Reliance Jio",
    }


# phonenumbers' geocoder and carrier, cached per prefix ---------------------------------------------------------


@pytest.mark.parametrize(
    ("number", "place"),
    [
        ("+12125550100", ("New York", "NY", "")),
        ("+918041234567", ("Bangalore, Karnataka", "", "")),
        ("+442071234567", ("London", "", "")),
        ("+918921269000", ("", "", "Reliance Jio")),
        ("+447700900123", ("", "", "")),  # a drama number: no type, nothing known
        ("+999123", ("", "", "")),
    ],
)
def test_the_region_and_provider_come_from_phonenumbers(number, place):
    found = phone_places.place_of(number)
    assert (found.region, found.region_code, found.provider) == place and found.provider_code == ""


def test_lookups_are_cached_per_number_range():
    phone_places._places.clear()
    numbers = [f"+9198765{block:02d}{n:03d}" for block in range(100) for n in range(100)]
    places = {phone_places.place_of(number) for number in numbers}
    assert places == {phone_places.NumberPlace(provider="Airtel")}
    assert len(phone_places._places) == 100  # one per 9-digit prefix: 10,000 numbers, 100 lookups


def test_country_names():
    assert [phone_places.country_name(code) for code in ("IN", "gb", "", "XX")] == ["India", "United Kingdom", "", ""]
