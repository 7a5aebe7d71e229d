"""Verify over the API: send, check, search, list, cancel; brute force, expiry, reuse, replay, other accounts."""

import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from campaigns.models import Message, Verification, VerifySettings
from campaigns.verify import progress
from portal.models import Event
from tests.campaigns.sending_support import approved_sender, approved_template, prices, run_sweeps

pytestmark = pytest.mark.django_db

NUMBER = "+919876512345"


@pytest.fixture(autouse=True)
def _setup(settings, account):
    settings.SMS_SIMULATOR_DLR_DELAY_SECONDS = 0
    prices(service="ENT", IN="0.01", GB="0.04")
    account.balance = Decimal("5")
    account.save()
    sender = approved_sender(account, "ACMEOT", service="ENT")
    template = approved_template(
        account, sender, "{{code}} is your Acme code. Valid {{minutes}} minutes.", template_type="SI", name="otp"
    )
    VerifySettings.objects.create(account=account, sender=sender, template=template)


def sent_code(verification_id: str) -> str:
    """The code as the phone receives it: the text the connector is handed."""
    message = Message.objects.filter(meta__verify_id=verification_id).order_by("-pk").first()
    return re.match(r"\d+", message.outgoing_text()).group(0)


def send(client, to=NUMBER, **payload):
    return client.post("/api/v2/verify", {"payload": {"to": to, **payload}}, format="json")


def test_send_answers_the_seed_shape_and_queues_a_masked_message(api):
    response = send(api(), reference="signup-1", foreign_id="u-9", code_length=8, expiry=300)
    assert response.status_code == 201, response.json()
    data = response.json()["data"]
    assert set(data) >= {"id", "status", "to", "foreign_id", "created_at", "expire_at"}
    assert (data["status"], data["to"], data["foreign_id"], data["reference"]) == ("sent", NUMBER, "u-9", "signup-1")
    message = Message.objects.get(meta__verify_id=data["id"])
    assert message.body == "******** is your Acme code. Valid 5 minutes."
    assert re.fullmatch(r"\d{8} is your Acme code\. Valid 5 minutes\.", message.outgoing_text())
    assert message.variables["code"] == "********"


def test_the_right_code_succeeds_once_then_answers_already_verified(api):
    client = api()
    verification_id = send(client).json()["data"]["id"]
    code = sent_code(verification_id)
    first = client.get(f"/api/v2/verify/{verification_id}/{code}")
    assert (first.status_code, first.json()["data"]["status"]) == (200, "success")
    replay = client.get(f"/api/v2/verify/{verification_id}/{code}")
    assert replay.json()["data"]["status"] == "OTP already verified"
    assert Verification.objects.get(uid=verification_id).status == "verified"


def test_the_sixth_check_fails_even_with_the_right_code(api):
    client = api()
    verification_id = send(client).json()["data"]["id"]
    code = sent_code(verification_id)
    wrong = "0" * 6 if code != "0" * 6 else "1" * 6
    answers = [client.get(f"/api/v2/verify/{verification_id}/{wrong}").json()["data"]["status"] for _ in range(5)]
    assert answers == ["invalid"] * 5
    last = client.get(f"/api/v2/verify/{verification_id}/{code}").json()["data"]
    assert last["status"] == "failed"
    assert "wrong codes" in last["detail"]


def test_boomware_shapes_send_and_check(api):
    client = api()
    response = client.post("/api/v2/verify", {"number": NUMBER, "method": "sms", "codeLength": 4}, format="json")
    assert response.status_code == 201, response.json()
    request_id = response.json()["data"]["requestId"]
    code = sent_code(request_id)
    assert len(code) == 4
    answer = client.post("/api/v2/verify/check", {"requestId": request_id, "code": code}, format="json")
    assert answer.json()["data"]["status"] == "success"


def test_an_expired_code_answers_expired(api):
    client = api()
    verification_id = send(client).json()["data"]["id"]
    code = sent_code(verification_id)
    Verification.objects.filter(uid=verification_id).update(expire_at=timezone.now() - timedelta(seconds=1))
    assert client.get(f"/api/v2/verify/{verification_id}/{code}").json()["data"]["status"] == "expired"
    assert Verification.objects.get(uid=verification_id).sealed_code == ""


def test_a_new_send_within_the_expiry_reuses_the_live_request_or_is_refused(api, account):
    client = api()
    first = send(client).json()["data"]["id"]
    again = send(client)
    assert (again.status_code, again.json()["data"]["id"]) == (200, first)
    assert Message.objects.filter(meta__verify_id=first).count() == 1
    VerifySettings.objects.filter(account=account).update(on_repeat="refuse")
    refused = send(client)
    assert refused.status_code == 409
    assert first in refused.json()["message"]


def test_cancel_then_check_fails_and_cancel_again_conflicts(api):
    client = api()
    verification_id = send(client).json()["data"]["id"]
    code = sent_code(verification_id)
    cancelled = client.post(f"/api/v2/verify/{verification_id}/cancel")
    assert (cancelled.status_code, cancelled.json()["data"]["status"]) == (200, "cancelled")
    assert client.get(f"/api/v2/verify/{verification_id}/{code}").json()["data"]["status"] == "failed"
    assert client.get(f"/api/v2/verify/{verification_id}/cancel").status_code == 409


def test_another_accounts_request_is_a_404_everywhere(api, other_account):
    verification_id = send(api()).json()["data"]["id"]
    code = sent_code(verification_id)
    outsider = api(account_obj=other_account)
    assert outsider.get(f"/api/v2/verify/{verification_id}").status_code == 404
    assert outsider.get(f"/api/v2/verify/{verification_id}/{code}").status_code == 404
    assert (
        outsider.post("/api/v2/verify/check", {"id": verification_id, "code": code}, format="json").status_code == 404
    )
    assert outsider.post(f"/api/v2/verify/{verification_id}/cancel").status_code == 404
    assert Verification.objects.get(uid=verification_id).status == "sent"


def test_search_shows_channels_tried_and_list_filters(api):
    client = api()
    verification_id = send(client, reference="order-7").json()["data"]["id"]
    send(client, to="+919876512399", reference="other")
    run_sweeps(2)
    found = client.get(f"/api/v2/verify/{verification_id}").json()["data"]
    assert found["status"] == "delivered"
    assert [(c["position"], c["channel"], c["sender"], c["state"]) for c in found["channels"]] == [
        (0, "sms", "ACMEOT", "delivered")
    ]
    listed = client.get("/api/v2/verify", {"filter[reference]": "order-7"}).json()
    assert [item["id"] for item in listed["data"]] == [verification_id]
    assert "code" not in found and all("code" not in item for item in listed["data"])


def test_bad_input_is_a_422_naming_the_field(api):
    client = api()
    assert "to" in send(client, to="12").json()["errors"]
    assert "payload" in client.post("/api/v2/verify", {}, format="json").json()["errors"]
    bad_length = send(client, code_length=3)
    assert bad_length.status_code == 422
    voice = client.post(
        "/api/v2/verify", {"channels": [{"channel": "voice"}], "payload": {"to": NUMBER}}, format="json"
    )
    assert voice.status_code == 422
    unknown_sender = client.post(
        "/api/v2/verify", {"channels": [{"channel": "sms", "sender": "NOPE"}], "payload": {"to": NUMBER}}, format="json"
    )
    assert "channels[0]" in unknown_sender.json()["errors"]
    assert Verification.objects.count() == 0


def test_india_needs_an_approved_template_with_code(api, account):
    VerifySettings.objects.filter(account=account).update(template=None)
    response = send(api())
    assert response.status_code == 422
    assert "template" in response.json()["errors"]["channels"][0]


def test_countries_outside_the_allow_list_are_refused(api, account):
    response = send(api(), to="+447400123456")
    assert response.status_code == 422
    assert "GB" in response.json()["errors"]["to"][0]
    VerifySettings.objects.filter(account=account).update(allowed_countries=["IN", "GB"])
    assert send(api(), to="+447400123456").status_code == 201


def test_sends_per_number_per_hour_are_limited(api, account):
    VerifySettings.objects.filter(account=account).update(sends_per_number_per_hour=2, on_repeat="refuse")
    client = api()
    for _ in range(2):
        verification_id = send(client).json()["data"]["id"]
        client.post(f"/api/v2/verify/{verification_id}/cancel")
    limited = send(client)
    assert limited.status_code == 429
    assert "at most 2 per hour" in limited.json()["message"]


def test_verify_status_events_never_carry_the_code(api):
    client = api()
    verification_id = send(client).json()["data"]["id"]
    code = sent_code(verification_id)
    run_sweeps(2)
    client.get(f"/api/v2/verify/{verification_id}/{code}")
    statuses = [e.payload["status"] for e in Event.objects.filter(name="verify:status").order_by("pk")]
    assert statuses == ["sent", "delivered", "verified"]
    assert all(code not in str(e.payload) for e in Event.objects.all())


def test_a_read_only_token_cannot_send_or_check(api):
    verification_id = send(api()).json()["data"]["id"]
    reader = api(read_only=True)
    assert send(reader).status_code == 403
    assert reader.get(f"/api/v2/verify/{verification_id}/123456").status_code == 403
    assert reader.get(f"/api/v2/verify/{verification_id}").status_code == 200


def test_the_sweep_expires_live_requests(api):
    verification_id = send(api()).json()["data"]["id"]
    Verification.objects.filter(uid=verification_id).update(expire_at=timezone.now() - timedelta(seconds=1))
    assert progress.sweep()["expired"] == 1
    verification = Verification.objects.get(uid=verification_id)
    assert (verification.status, verification.sealed_code) == ("expired", "")
