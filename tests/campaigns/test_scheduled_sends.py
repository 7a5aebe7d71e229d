"""Scheduled API sends: POST /sms/send with a future `time` (or TextBoost's `schedule_time`), listed under
GET /sms/scheduled, cancelled (with the campaign cancel's refund) until 5 minutes before their time; and the
TextBoost `dlt_template_id` on /sms/send."""

import zoneinfo
from datetime import datetime, timedelta
from decimal import Decimal

import jsonschema
import pytest
from django.utils import timezone
from drf_spectacular.generators import SchemaGenerator

from campaigns.lookups import template_for_text
from campaigns.models import BalanceTransaction, Message, ScheduledSend, TemplateStatus
from campaigns.sending import billing
from campaigns.states import MessageState
from portal.models import AuditEvent, Subscription, Webhook
from portal.service_errors import ServiceError
from tests.campaigns.sending_support import approved_sender, approved_template, prices

pytestmark = pytest.mark.django_db

KOLKATA = zoneinfo.ZoneInfo("Asia/Kolkata")
NUMBERS = ["+919876543210", "+919876543211", "+919876543212", "+919876543213"]
TEXT = "Hi Asha, your Acme order A1 is ready"


@pytest.fixture(autouse=True)
def _setup(settings, account):
    settings.SMS_INDIA_PROMOTIONAL_HOLD = False
    prices(IN="0.01")
    account.balance = Decimal("5")
    account.save()


@pytest.fixture
def sender(account):
    return approved_sender(account)


@pytest.fixture
def template(account, sender):
    return approved_template(account, sender, "Hi {{name}}, your Acme order {{order}} is ready", template_type="SI")


def seed_time(moment: datetime) -> str:
    """`YYYY-MM-DD HH:MM:SS` in the account's time zone (the seed's format)."""
    return timezone.localtime(moment, KOLKATA).strftime("%Y-%m-%d %H:%M:%S")


def schedule(client, *, at=None, to=NUMBERS[:2], sender="ACMERT", **extra):
    at = at or timezone.now() + timedelta(days=2)
    body = {"sender": sender, "to": to, "message": TEXT, "time": seed_time(at), **extra}
    response = client.post("/api/v2/sms/send", body, format="json")
    assert response.status_code == 201, response.json()
    return response.json()["data"]


def listed(client, query: str = "") -> dict:
    response = client.get(f"/api/v2/sms/scheduled{query}")
    assert response.status_code == 200, response.json()
    return response.json()


def conforms(path: str, method: str, response) -> None:
    """The answer is what the OpenAPI schema says it is."""
    schema = SchemaGenerator().get_schema(request=None, public=True)

    def resolve(node):
        if isinstance(node, dict):
            if "$ref" in node:
                return resolve(schema["components"]["schemas"][node["$ref"].rsplit("/", 1)[-1]])
            resolved = {key: resolve(value) for key, value in node.items() if key != "nullable"}
            return {"anyOf": [resolved, {"type": "null"}]} if node.get("nullable") else resolved
        return [resolve(value) for value in node] if isinstance(node, list) else node

    media = schema["paths"][path][method]["responses"][str(response.status_code)]["content"]["application/json"]
    jsonschema.Draft4Validator(resolve(media["schema"])).validate(response.json())


# --- schedule and list ------------------------------------------------------------------------------------------


def test_a_send_with_a_future_time_is_listed_as_a_scheduled_group(api, account, template):
    client = api("marketer")
    at = (timezone.now() + timedelta(days=2)).replace(second=0, microsecond=0)
    sent = schedule(client, at=at, to=NUMBERS[:3])
    messages = Message.objects.filter(group_id=sent["group_id"])
    assert {m.not_before for m in messages} == {at} and {m.state for m in messages} == {MessageState.QUEUED}

    response = client.get("/api/v2/sms/scheduled")
    conforms("/api/v2/sms/scheduled/", "get", response)
    [item] = response.json()["data"]
    assert item["group_id"] == sent["group_id"]
    assert (item["sender"], item["messages"], item["cost"], item["state"]) == ("ACMERT", 3, "0.03000", "scheduled")
    assert item["recipients"] == NUMBERS[:3] and item["cancellable"] is True
    assert datetime.fromisoformat(item["send_at"]) == at
    assert datetime.fromisoformat(item["cancel_until"]) == at - timedelta(minutes=5)
    assert response.json()["meta"]["total"] == 1

    detail = client.get(f"/api/v2/sms/scheduled/{sent['group_id']}")
    assert detail.status_code == 200 and detail.json()["data"]["group_id"] == sent["group_id"]


def test_a_send_now_is_not_a_scheduled_send(api, template):
    response = api().post("/api/v2/sms/send", {"sender": "ACMERT", "to": NUMBERS[0], "message": TEXT}, format="json")
    assert response.status_code == 201
    assert not ScheduledSend.objects.exists()
    assert listed(api())["data"] == []


def test_the_list_is_newest_first_paginated_filtered_by_sender_and_only_the_accounts(
    api, account, other_account, template
):
    client = api()
    other_sender = approved_sender(account, name="ACMEOT")
    approved_template(account, other_sender, "Hi {{name}}, your Acme order {{order}} is ready", "SI", name="Other")
    first = schedule(client, to=NUMBERS[:1])
    second = schedule(client, to=NUMBERS[1:2], sender="ACMEOT")
    third = schedule(client, to=NUMBERS[2:4])
    other_account.balance = Decimal("5")
    other_account.save()
    approved_template(other_account, approved_sender(other_account), TEXT, "SI")
    schedule(api(account_obj=other_account), to=["+919876543299"])

    assert [item["group_id"] for item in listed(client)["data"]] == [
        third["group_id"],
        second["group_id"],
        first["group_id"],
    ]
    page = listed(client, "?per_page=2&page=2")
    assert [item["group_id"] for item in page["data"]] == [first["group_id"]]
    assert (page["meta"]["total"], page["meta"]["last_page"]) == (3, 2)
    assert [item["group_id"] for item in listed(client, "?filter[sender]=acmeot")["data"]] == [second["group_id"]]
    assert listed(client, "?filter[state]=cancelled")["data"] == []
    assert client.get("/api/v2/sms/scheduled?filter[mobile]=1").status_code == 422


def test_recipients_are_masked_for_mobile_secure_accounts(api, account, template):
    account.mobile_secure = True
    account.save()
    client = api()
    schedule(client, to=NUMBERS[:2])
    assert listed(client)["data"][0]["recipients"] == ["+91987654XXXX", "+91987654XXXX"]


# --- cancel -----------------------------------------------------------------------------------------------------


def test_cancel_cancels_every_queued_message_and_restores_the_balance_exactly(api, account, template):
    client = api("marketer")
    before = account.balance
    sent = schedule(client, to=NUMBERS[:4])
    group = Message.objects.filter(group_id=sent["group_id"]).order_by("pk")
    charged = billing.debit(account.pk, None, list(group[:3]))  # released once, given back to the queue paid
    assert len(charged.released) == 3
    account.refresh_from_db()
    assert account.balance == before - Decimal("0.03")

    response = client.post(f"/api/v2/sms/scheduled/{sent['group_id']}/cancel")
    assert response.status_code == 200, response.json()
    conforms("/api/v2/sms/scheduled/{group_id}/cancel/", "post", response)
    data = response.json()["data"]
    assert (data["state"], data["cancelled"], data["refunded"], data["cancellable"]) == (
        "cancelled",
        4,
        "0.03000",
        False,
    )
    account.refresh_from_db()
    assert account.balance == before
    assert {(m.state, m.debited) for m in group} == {(MessageState.CANCELLED, False)}
    refund = BalanceTransaction.objects.get(account=account, kind="refund")
    assert (refund.amount, refund.note, refund.balance_after) == (Decimal("0.03"), "Scheduled send cancelled", before)
    event = AuditEvent.objects.get(verb="sms.scheduled.cancelled")
    assert (event.object_id, event.actor, event.before["state"], event.after["state"]) == (
        sent["group_id"],
        client.user,
        "scheduled",
        "cancelled",
    )
    assert listed(client, "?filter[state]=cancelled")["data"][0]["group_id"] == sent["group_id"]


def test_a_cancel_after_the_cutoff_or_twice_or_with_nothing_left_is_a_409(api, account, template):
    client = api()
    soon = schedule(client, at=timezone.now() + timedelta(minutes=4), to=NUMBERS[:1])
    refused = client.post(f"/api/v2/sms/scheduled/{soon['group_id']}/cancel")
    assert refused.status_code == 409
    assert refused.json()["message"] == "A scheduled send can be cancelled until 5 minutes before it starts."
    assert Message.objects.get(group_id=soon["group_id"]).state == MessageState.QUEUED
    assert listed(client)["data"][0]["cancellable"] is False

    later = schedule(client, to=NUMBERS[1:2])
    assert client.post(f"/api/v2/sms/scheduled/{later['group_id']}/cancel").status_code == 200
    again = client.post(f"/api/v2/sms/scheduled/{later['group_id']}/cancel")
    assert (again.status_code, again.json()["message"]) == (409, "This scheduled send is already cancelled.")

    gone = schedule(client, to=NUMBERS[2:3])
    Message.objects.filter(group_id=gone["group_id"]).update(state=MessageState.REJECTED)
    empty = client.post(f"/api/v2/sms/scheduled/{gone['group_id']}/cancel")
    assert empty.status_code == 409 and "Nothing is left to cancel" in empty.json()["message"]
    assert ScheduledSend.objects.get(uid=gone["group_id"]).cancelled_at is None
    assert AuditEvent.objects.filter(verb="sms.scheduled.cancelled").count() == 1


def test_the_cutoff_is_a_setting(api, settings, template):
    settings.SMS_CANCEL_CUTOFF_MINUTES = 60
    client = api()
    sent = schedule(client, at=timezone.now() + timedelta(minutes=30))
    assert client.post(f"/api/v2/sms/scheduled/{sent['group_id']}/cancel").status_code == 409


def test_a_send_whose_time_has_come_is_sent_and_cannot_be_cancelled(api, template):
    client = api()
    sent = schedule(client)
    ScheduledSend.objects.filter(uid=sent["group_id"]).update(send_at=timezone.now() - timedelta(minutes=1))
    assert listed(client)["data"][0]["state"] == "sent"
    assert listed(client, "?filter[state]=sent")["meta"]["total"] == 1
    assert client.post(f"/api/v2/sms/scheduled/{sent['group_id']}/cancel").status_code == 409


def test_another_accounts_group_is_a_404_and_stays_scheduled(api, account, other_account, template):
    sent = schedule(api(), to=NUMBERS[:2])
    outsider = api(account_obj=other_account)
    for response in (
        outsider.get(f"/api/v2/sms/scheduled/{sent['group_id']}"),
        outsider.post(f"/api/v2/sms/scheduled/{sent['group_id']}/cancel"),
        api().post("/api/v2/sms/scheduled/not-a-group/cancel"),
    ):
        assert response.status_code == 404 and response.json()["status"] == "error"
    assert listed(outsider)["data"] == []
    assert set(Message.objects.filter(group_id=sent["group_id"]).values_list("state", flat=True)) == {"queued"}


def test_a_viewer_or_read_only_token_lists_but_cannot_cancel(api, template):
    sent = schedule(api())
    for client in (api("viewer"), api(read_only=True)):
        assert listed(client)["meta"]["total"] == 1
        assert client.post(f"/api/v2/sms/scheduled/{sent['group_id']}/cancel").status_code == 403
    assert ScheduledSend.objects.get().cancelled_at is None


def test_the_list_takes_no_post(api, template):
    assert api().post("/api/v2/sms/scheduled", {"messages": 3}, format="json").status_code == 405
    assert not ScheduledSend.objects.exists()


def test_cancelled_messages_emit_their_status_to_the_webhook(
    api, account, settings, template, live_http_receiver, django_capture_on_commit_callbacks
):
    settings.WEBHOOK_ALLOWED_CIDRS = ["127.0.0.0/8"]
    client = api()
    hook = client.post("/api/v2/webhooks", {"name": "CRM", "uri": live_http_receiver.url("/hook")}, format="json")
    webhook = Webhook.objects.get(uid=hook.json()["data"]["id"])
    Subscription.objects.create(account=account, webhook=webhook, event="sms:message:status", identity="all")
    sent = schedule(client, to=NUMBERS[:2], custom="order-7")
    with django_capture_on_commit_callbacks(execute=True):
        assert client.post(f"/api/v2/sms/scheduled/{sent['group_id']}/cancel").status_code == 200
    received = [request.json() for request in live_http_receiver.wait_for(2)]
    assert {(r["event"], r["payload"]["custom"], r["payload"]["group_id"]) for r in received} == {
        ("sms:message:status", "order-7", sent["group_id"])
    }
    # our state: in `status` until the payload carries the seed's status word there and ours in `state`
    assert {r["payload"].get("state", r["payload"]["status"]) for r in received} == {"cancelled"}
    ids = {str(uid) for uid in Message.objects.filter(state="cancelled").values_list("uid", flat=True)}
    assert {r["payload"]["id"] for r in received} == ids and len(ids) == 2


# --- TextBoost's schedule_time ----------------------------------------------------------------------------------


def test_schedule_time_is_an_alias_of_time_in_the_accounts_time_zone(api, template):
    at = timezone.localtime(timezone.now() + timedelta(days=1), KOLKATA).replace(second=0, microsecond=0)
    body = {"sender": "ACMERT", "to": NUMBERS[0], "message": TEXT, "schedule_time": at.strftime("%Y-%m-%d %H:%M")}
    response = api().post("/api/v2/sms/send", body, format="json")
    assert response.status_code == 201, response.json()
    assert Message.objects.get().not_before == at
    assert ScheduledSend.objects.get().send_at == at


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"schedule_time": "20-12-2031 07:00"}, "Use Y-m-d H:i"),
        ({"schedule_time": "2031-13-01 07:00"}, "Use Y-m-d H:i"),
        ({"schedule_time": "2001-12-20 07:00"}, "is in the past"),
        ({"schedule_time": "2031-12-20 07:00", "time": "2031-12-20 07:00:00"}, "not both"),
    ],
)
def test_a_bad_schedule_time_is_a_422_naming_it_and_nothing_is_written(api, template, fields, message):
    body = {"sender": "ACMERT", "to": NUMBERS[0], "message": TEXT, **fields}
    response = api().post("/api/v2/sms/send", body, format="json")
    assert response.status_code == 422, response.json()
    assert list(response.json()["errors"]) == ["schedule_time"]
    assert message in response.json()["errors"]["schedule_time"][0]
    assert not Message.objects.exists() and not ScheduledSend.objects.exists()


def test_a_schedule_time_too_far_ahead_is_refused(api, template):
    far = timezone.localtime(timezone.now() + timedelta(days=31), KOLKATA).strftime("%Y-%m-%d %H:%M")
    response = api().post(
        "/api/v2/sms/send", {"sender": "ACMERT", "to": NUMBERS[0], "message": TEXT, "schedule_time": far}, format="json"
    )
    assert response.status_code == 422 and "30 days" in response.json()["errors"]["schedule_time"][0]


# --- TextBoost's dlt_template_id --------------------------------------------------------------------------------


@pytest.fixture
def dlt_template(account, sender, template):
    template.dlt_template_id = "1107161234567890123"
    template.save()
    return template


def test_dlt_template_id_sends_as_that_template_even_when_another_matches_closer(account, api, sender, dlt_template):
    approved_template(account, sender, "Hi {{name}}, your Acme order A1 is ready", "SI", name="Closer")
    body = {"sender": "ACMERT", "to": NUMBERS[0], "message": TEXT, "dlt_template_id": "1107161234567890123"}
    response = api().post("/api/v2/sms/send", body, format="json")
    assert response.status_code == 201, response.json()
    message = Message.objects.get()
    assert (message.template_id, message.body) == (dlt_template.pk, TEXT)
    assert message.variables == {"name": "Asha", "order": "A1"}


def test_dlt_template_id_with_schedule_time_is_a_scheduled_send(api, dlt_template):
    at = timezone.localtime(timezone.now() + timedelta(hours=3), KOLKATA).strftime("%Y-%m-%d %H:%M")
    body = {"sender": "ACMERT", "to": NUMBERS[:2], "message": TEXT, "dlt_template_id": "1107161234567890123"}
    response = api().post("/api/v2/sms/send", body | {"schedule_time": at}, format="json")
    assert response.status_code == 201, response.json()
    assert ScheduledSend.objects.get().messages == 2
    assert set(Message.objects.values_list("template_id", flat=True)) == {dlt_template.pk}


def test_bad_dlt_template_ids_are_a_422_naming_the_field(api, account, other_account, sender, dlt_template):
    other_sender = approved_sender(account, name="ACMEOT")
    elsewhere = approved_template(account, other_sender, "Your code is {{code}}", "SI", name="Code")
    elsewhere.dlt_template_id = "1107000000000000002"
    elsewhere.save()
    pending = approved_template(account, sender, "Sale {{what}} today", "SI", name="Pending")
    pending.dlt_template_id, pending.status = "1107000000000000003", TemplateStatus.PENDING
    pending.save()
    theirs = approved_template(other_account, approved_sender(other_account), TEXT, "SI")
    theirs.dlt_template_id = "1107000000000000004"
    theirs.save()
    cases = [
        ("1107999999999999999", TEXT, "dlt_template_id", "No template has DLT template id 1107999999999999999."),
        ("1107000000000000002", TEXT, "dlt_template_id", "registered for sender ACMEOT"),
        ("1107000000000000003", "Sale shoes today", "dlt_template_id", "is not approved"),
        ("1107000000000000004", TEXT, "dlt_template_id", "No template has DLT template id"),
        ("1107161234567890123", "Hi Asha, your Acme parcel A1 is ready", "message", "does not match template Offer"),
        ("x" * 41, TEXT, "dlt_template_id", "no more than 40"),
    ]
    client = api()
    for dlt_id, text, field, message in cases:
        body = {"sender": "ACMERT", "to": NUMBERS[0], "message": text, "dlt_template_id": dlt_id}
        response = client.post("/api/v2/sms/send", body, format="json")
        assert response.status_code == 422, (dlt_id, response.json())
        assert list(response.json()["errors"]) == [field], (dlt_id, response.json())
        assert message in response.json()["errors"][field][0], (dlt_id, response.json())
    assert not Message.objects.exists()


def test_a_variable_used_twice_must_hold_one_value(account, sender):
    template = approved_template(account, sender, "Hi {{name}}, bye {{name}}", "SI", name="Twice")
    template.dlt_template_id = "1107000000000000005"
    template.save()
    assert template_for_text(account, sender, "1107000000000000005", "Hi Asha, bye Asha") == (
        template,
        {"name": "Asha"},
    )
    with pytest.raises(ServiceError) as refused:
        template_for_text(account, sender, "1107000000000000005", "Hi Asha, bye Ravi")
    assert (refused.value.field, str(refused.value)) == ("message", "{{name}} has two different values in the message.")
