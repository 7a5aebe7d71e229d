"""The send, delivery report, message, pricing, account and campaign endpoints."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from campaigns.models import Campaign, Connector, Message
from campaigns.states import CampaignState, MessageState
from contacts.models import Unsubscriber
from portal.models import AuditEvent
from tests.campaigns.sending_support import approved_sender, approved_template, prices, run_sweeps

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _setup(settings, account):
    settings.SMS_SIMULATOR_DLR_DELAY_SECONDS = 0
    settings.SMS_INDIA_PROMOTIONAL_HOLD = False
    prices(IN="0.01", GB="0.04")
    account.balance = Decimal("5")
    account.save()


@pytest.fixture
def sender(account):
    return approved_sender(account)


@pytest.fixture
def template(account, sender):
    return approved_template(account, sender, "Hi {{name}}, your Acme order {{order}} is ready", template_type="SI")


def test_send_accepts_valid_numbers_and_lists_rejections_with_reasons(api, account, template):
    Unsubscriber.objects.create(account=account, receiver="+919876543211", type="all")
    body = {
        "sender": "acmert",
        "to": "9876543210, +91 98765 43211, 12",
        "message": "Hi Asha, your Acme order A1 is ready",
        "custom": "c-1",
        "type": "A",
    }
    response = api("marketer").post("/api/v2/sms/send", body, format="json")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["message"] == "1 number accepted"
    data = body["data"]
    assert set(data) == {"accepted", "rejected", "group_id", "cost"}
    assert [item["number"] for item in data["accepted"]] == ["+919876543210"]
    assert {item["number"]: item["reason"] for item in data["rejected"]} == {
        "+91 98765 43211": "suppressed",
        "12": "invalid_number",
    }
    assert data["cost"] == "0.01000"
    message = Message.objects.get(uid=data["accepted"][0]["message_id"])
    assert (message.custom_id, str(message.group_id), message.template_id) == ("c-1", data["group_id"], template.pk)


def test_send_message_counts_numbers_grammatically(api, template):
    body = {
        "sender": "ACMERT",
        "to": ["9876543210", "9876543211", "9876543212"],
        "message": "Hi A, your Acme order 1 is ready",
    }
    response = api().post("/api/v2/sms/send", body, format="json")
    assert (response.status_code, response.json()["message"]) == (201, "3 numbers accepted")


def test_send_without_template_match_is_rejected_with_452(api, template):
    response = api().post(
        "/api/v2/sms/send", {"sender": "ACMERT", "to": ["9876543210"], "message": "Buy now!!"}, format="json"
    )
    assert (response.status_code, response.json()["message"]) == (200, "0 numbers accepted")
    assert response.json()["data"]["rejected"][0]["code"] == "452"
    assert not Message.objects.exists()


def test_send_beyond_the_balance_is_refused_with_error_6(api, account, template):
    account.balance = Decimal("0.005")
    account.save()
    response = api().post(
        "/api/v2/sms/send",
        {"sender": "ACMERT", "to": ["9876543210"], "message": "Hi A, your Acme order 1 is ready"},
        format="json",
    )
    assert response.status_code == 403
    assert "Insufficient funds" in response.json()["message"]


def test_viewer_cannot_send_and_unapproved_sender_is_422(api, account, template):
    assert api("viewer").post("/api/v2/sms/send", {}, format="json").status_code == 403
    approved_sender(account, name="PENDNG").__class__.objects.filter(name="PENDNG").update(status=0)
    response = api().post("/api/v2/sms/send", {"sender": "PENDNG", "to": "9876543210", "message": "x"}, format="json")
    assert response.status_code == 422
    assert "sender" in response.json()["errors"]


def test_template_send_then_dlr_by_group_mobile_and_id(api, template):
    client = api()
    response = client.post(
        "/api/v2/sms/send/template",
        {"alias": template.alias, "data": {"name": "O'Brien", "order": "B7"}, "recipient": {"mobile": ["9876543210"]}},
        format="json",
    )
    assert response.status_code == 201, response.json()
    group_id = response.json()["data"]["group_id"]
    message_id = response.json()["data"]["accepted"][0]["message_id"]
    run_sweeps()
    by_group = client.get("/api/v2/sms/dlr", {"group_id": group_id}).json()
    assert by_group["data"][0]["status"] == MessageState.DELIVERED
    assert by_group["data"][0]["body"] == "Hi O'Brien, your Acme order B7 is ready"
    assert by_group["meta"]["per_page"] == 100
    assert client.get("/api/v2/sms/dlr", {"mobile": "09876543210"}).json()["data"][0]["id"] == message_id
    assert client.get("/api/v2/sms/dlr", {"id": message_id}).json()["meta"]["total"] == 1
    assert client.get("/api/v2/sms/dlr").status_code == 422


def test_messages_hide_bodies_when_the_account_says_so(api, account, template):
    client = api()
    client.post(
        "/api/v2/sms/send/template",
        {"alias": template.alias, "data": {"name": "A", "order": "1"}, "to": "9876543210"},
        format="json",
    )
    listing = client.get("/api/v2/sms/messages", {"filter[status]": "queued"}).json()
    assert listing["meta"]["total"] == 1 and listing["data"][0]["body"].startswith("Hi A")
    account.hide_msg = True
    account.save()
    detail = client.get(f"/api/v2/sms/messages/{listing['data'][0]['id']}").json()
    assert detail["data"]["body"] == ""


def test_pricing_list_quote_and_balance(api, account, template):
    from campaigns.models import Price

    Price.objects.create(account=account, country="IN", service="MKT", price=Decimal("0.008"))
    client = api("viewer")
    pricing = client.get("/api/v2/sms/pricing", {"filter[iso]": "in"}).json()
    assert pricing["message"] == "Pricing List"
    assert [(p["iso"], p["price"]) for p in pricing["data"]] == [("IN", "0.00800")]
    quote = client.post(
        "/api/v2/sms/pricing/quote",
        {
            "sender": "ACMERT",
            "to": ["9876543210", "9876543211", "1"],
            "alias": template.alias,
            "data": {"name": "A", "order": "1"},
        },
        format="json",
    ).json()["data"]
    assert (quote["recipients"], quote["parts"], quote["cost"], quote["sufficient"]) == (2, 2, "0.01600", True)
    assert len(quote["rejected"]) == 1
    assert client.get("/api/v2/account/balance").json()["data"] == {"balance": "5.0000", "currency": "EUR"}


def test_only_platform_staff_add_credits_and_it_is_audited(api, account, staff_user):
    assert api("admin").post("/api/v2/account/credits", {"credits": "10"}, format="json").status_code == 403
    staff = api("admin", user=staff_user)
    response = staff.post("/api/v2/account/credits", {"credits": "2.34", "username": account.slug}, format="json")
    assert response.status_code == 200, response.json()
    assert response.json()["message"] == "Balance added Successfully"
    account.refresh_from_db()
    assert account.balance == Decimal("7.34")
    assert AuditEvent.objects.filter(verb="account.credited", actor=staff_user).exists()
    assert staff.post("/api/v2/account/credits", {"credits": "-1"}, format="json").status_code == 422
    by_uid = staff.post("/api/v2/account/credits", {"credits": "1", "account": str(account.uid)}, format="json")
    assert by_uid.status_code == 200, by_uid.json()
    unknown = staff.post("/api/v2/account/credits", {"credits": "1", "account": "no-such-account"}, format="json")
    assert unknown.status_code == 404
    account.refresh_from_db()
    assert account.balance == Decimal("8.34")


def test_campaign_crud_schedule_and_the_cancel_window(api, account, template, other_account):
    client = api("marketer")
    payload = {
        "name": "Diwali",
        "sender": "ACMERT",
        "template": template.alias,
        "audience": {"numbers": ["9876543210"]},
        "variable_mapping": {"name": {"source": "first_name", "default": "friend"}, "order": {"default": "A1"}},
    }
    created = client.post("/api/v2/campaigns", payload, format="json")
    assert created.status_code == 201, created.json()
    campaign_id = created.json()["data"]["id"]
    soon = (timezone.now() + timedelta(minutes=3)).isoformat()
    scheduled = client.post(f"/api/v2/campaigns/{campaign_id}/schedule", {"time": soon}, format="json")
    assert scheduled.json()["data"]["state"] == CampaignState.SCHEDULED
    assert client.patch(f"/api/v2/campaigns/{campaign_id}", {"name": "x"}, format="json").status_code == 409
    assert client.post(f"/api/v2/campaigns/{campaign_id}/cancel").status_code == 409  # within 5 minutes
    later = (timezone.now() + timedelta(days=31)).isoformat()
    second = client.post("/api/v2/campaigns", dict(payload, name="Later"), format="json").json()["data"]["id"]
    too_far = client.post(f"/api/v2/campaigns/{second}/schedule", {"time": later}, format="json")
    assert too_far.status_code == 422
    in_a_day = (timezone.now() + timedelta(days=1)).strftime("%Y-%m-%d %H:%M:%S")
    client.post(f"/api/v2/campaigns/{second}/schedule", {"time": in_a_day}, format="json")
    assert client.post(f"/api/v2/campaigns/{second}/cancel").json()["data"]["state"] == CampaignState.CANCELLED
    assert api("admin", account_obj=other_account).get(f"/api/v2/campaigns/{campaign_id}").status_code == 404


def test_campaign_pause_resume_and_stats(api, account, template):
    from campaigns.sending.lifecycle import start_campaign

    client = api()
    campaign_id = client.post(
        "/api/v2/campaigns",
        {
            "name": "Now",
            "sender": "ACMERT",
            "template": template.alias,
            "audience": {"numbers": ["9876540000", "9876543210"]},
            "variable_mapping": {"name": {"default": "friend"}, "order": {"default": "A1"}},
        },
        format="json",
    ).json()["data"]["id"]
    client.post(f"/api/v2/campaigns/{campaign_id}/schedule", {}, format="json")
    campaign = Campaign.objects.get(uid=campaign_id)
    assert start_campaign(campaign.pk)
    assert client.post(f"/api/v2/campaigns/{campaign_id}/pause").json()["data"]["state"] == CampaignState.PAUSED
    run_sweeps()
    assert Message.objects.filter(campaign=campaign, state=MessageState.QUEUED).count() == 2
    assert client.post(f"/api/v2/campaigns/{campaign_id}/resume").json()["data"]["state"] == CampaignState.RUNNING
    run_sweeps()
    stats = client.get(f"/api/v2/campaigns/{campaign_id}/stats").json()["data"]
    assert stats["state"] == CampaignState.COMPLETED
    assert stats["counts"]["delivered"] == 1 and stats["counts"]["undelivered"] == 1
    assert stats["delivery_rate"] == 50.0
    assert stats["errors"] == [{"code": "001", "count": 1, "description": "001 INVALID-SUB: Unidentified subscriber."}]


def test_dlr_callback_always_answers_200_and_is_idempotent(client, api, template):
    connector = Connector.objects.create(name="upstream", kind="http", config={"url": "http://x"})
    api().post(
        "/api/v2/sms/send/template",
        {"alias": template.alias, "data": {"name": "A", "order": "1"}, "to": "9876543210"},
        format="json",
    )
    message = Message.objects.get()
    Message.objects.filter(pk=message.pk).update(state=MessageState.SENT)
    url = f"/api/v2/sms/dlr/callback/{connector.uid}/{message.uid}"
    assert client.post(url, {"stat": "DELIVRD"}).status_code == 200
    assert client.get(url, {"code": "001"}).status_code == 200  # late and contradicting: ignored
    assert client.post(f"/api/v2/sms/dlr/callback/{connector.uid}/{connector.uid}", {"code": "000"}).status_code == 200
    message.refresh_from_db()
    assert message.state == MessageState.DELIVERED
    assert list(message.reports.values_list("applied", flat=True).order_by("id")) == [True, False]


def test_scheduled_api_send_waits_for_its_time_in_the_account_zone(api, template):
    import zoneinfo

    local = (timezone.now() + timedelta(hours=2)).astimezone(zoneinfo.ZoneInfo("Asia/Kolkata")).replace(microsecond=0)
    body = {
        "sender": "ACMERT",
        "to": ["9876543210"],
        "message": "Hi A, your Acme order 1 is ready",
        "time": local.strftime("%Y-%m-%d %H:%M:%S"),
    }
    assert api().post("/api/v2/sms/send", body, format="json").status_code == 201
    run_sweeps(rounds=1)
    message = Message.objects.get()
    assert message.state == MessageState.QUEUED
    assert message.not_before == local
    too_late = dict(body, time=(timezone.now() + timedelta(days=31)).strftime("%Y-%m-%d %H:%M:%S"))
    assert api().post("/api/v2/sms/send", too_late, format="json").status_code == 422


def test_schedule_without_time_keeps_the_drafts_start_at(api, template):
    client = api("marketer")
    start_at = (timezone.now() + timedelta(days=2)).replace(microsecond=0)
    payload = {
        "name": "Later",
        "sender": "ACMERT",
        "template": template.alias,
        "audience": {"numbers": ["9876543210"]},
        "variable_mapping": {"name": {"default": "friend"}, "order": {"default": "A1"}},
        "start_at": start_at.isoformat(),
    }
    campaign_id = client.post("/api/v2/campaigns", payload, format="json").json()["data"]["id"]
    scheduled = client.post(f"/api/v2/campaigns/{campaign_id}/schedule", {}, format="json")
    assert scheduled.status_code == 200, scheduled.json()
    campaign = Campaign.objects.get(uid=campaign_id)
    assert (campaign.state, campaign.start_at) == (CampaignState.SCHEDULED, start_at)
    run_sweeps(rounds=1)
    assert not Message.objects.filter(campaign=campaign).exists()


def test_a_blocked_template_cannot_be_sent_nor_started(api, account, template):
    from campaigns.models import BlockedTemplate
    from campaigns.sending.errors import SendingError
    from campaigns.sending.lifecycle import schedule_campaign, start_campaign
    from tests.campaigns.sending_support import campaign_for

    campaign = campaign_for(account, template.sender, template, numbers=["9876543210"])
    schedule_campaign(campaign)
    BlockedTemplate.objects.create(account=account, template_id=str(template.uid))
    body = {"alias": template.alias, "data": {"name": "A", "order": "1"}, "to": "9876543210"}
    response = api().post("/api/v2/sms/send/template", body, format="json")
    assert response.status_code == 422
    assert "blocked" in str(response.json()["errors"])
    assert not start_campaign(campaign.pk)
    campaign.refresh_from_db()
    assert campaign.state == CampaignState.FAILED and "blocked" in campaign.state_reason
    draft = campaign_for(account, template.sender, template, numbers=["9876543210"], name="Draft")
    with pytest.raises(SendingError, match="blocked"):
        schedule_campaign(draft)
    assert not Message.objects.exists()


def test_every_template_variable_needs_a_source_or_a_default(api, template):
    client = api("marketer")
    payload = {"name": "No order", "sender": "ACMERT", "template": template.alias, "audience": {"numbers": ["1"]}}
    response = client.post("/api/v2/campaigns", payload, format="json")
    assert response.status_code == 422
    assert response.json()["errors"]["variable_mapping"] == [
        "Variable {{order}} has no value: map it to a contact field or attribute, or give a default."
    ]
    payload["variable_mapping"] = {"order": {"default": "A1"}}
    created = client.post("/api/v2/campaigns", payload, format="json").json()["data"]
    assert created["variable_mapping"]["name"] == {"source": "first_name", "default": ""}
    body = {"alias": template.alias, "data": {"name": "Asha"}, "to": "9876543210"}
    sent = client.post("/api/v2/sms/send/template", body, format="json")
    assert sent.status_code == 422
    assert "Variable {{order}} has no value: give it in `data`." in str(sent.json()["errors"])
    assert not Message.objects.exists()
