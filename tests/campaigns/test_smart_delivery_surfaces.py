"""Smart Delivery through the API (/api/v2/campaigns), the campaign wizard and the campaign page."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db.models import F

from campaigns.models import Campaign, Message
from campaigns.sending import smart_delivery
from campaigns.states import CampaignState, SmartDeliveryState
from tests.campaigns.sending_support import approved_sender, approved_template, prices, run_sweeps

pytestmark = pytest.mark.django_db

NUMBERS = ["9876511234", "9876521234", "9876531234", "9876541234"]


@pytest.fixture(autouse=True)
def _setup(settings, account):
    settings.SMS_SIMULATOR_DLR_DELAY_SECONDS = 0
    settings.SMS_INDIA_PROMOTIONAL_HOLD = False
    prices(IN="0.01")
    account.balance = Decimal("5")
    account.save()


@pytest.fixture
def template(account):
    sender = approved_sender(account)
    return approved_template(account, sender, "Hi {{name}}, your Acme order {{order}} is ready", template_type="SI")


def payload(template, **smart):
    return {
        "name": "Diwali",
        "sender": "ACMERT",
        "template": template.alias,
        "audience": {"numbers": NUMBERS},
        "variable_mapping": {"name": {"default": "friend"}, "order": {"default": "A1"}},
        "smart_delivery": True,
        "smart_wait_minutes": 5,
        **smart,
    }


def run_smart_delivery(minutes: int = 10) -> None:
    """Start, pick and send the test batch, let `minutes` pass, judge it, send what was released."""
    run_sweeps(rounds=1)
    smart_delivery.sweep()
    run_sweeps(rounds=2)
    delta = timedelta(minutes=minutes)
    Message.objects.filter(sent_at__isnull=False).update(sent_at=F("sent_at") - delta)
    Message.objects.filter(done_at__isnull=False).update(done_at=F("done_at") - delta)
    smart_delivery.sweep()
    run_sweeps(rounds=2)


def test_the_api_takes_the_options_and_answers_the_outcome(api, template):
    client = api("marketer")
    body = payload(template, smart_test_numbers=["98123 40452", "+919812341234"])
    created = client.post("/api/v2/campaigns", body, format="json")
    assert created.status_code == 201, created.json()
    data = created.json()["data"]
    assert data["smart_test_numbers"] == ["+919812340452", "+919812341234"]
    assert (data["smart_delivery"], data["smart_test_size"], data["smart_wait_minutes"]) == (True, 10, 5)
    assert (data["smart_max_reject_percent"], data["smart_state"], data["smart_result"]) == (0, "", {})
    campaign_id = data["id"]
    patched = client.patch(f"/api/v2/campaigns/{campaign_id}", {"smart_max_reject_percent": 40}, format="json")
    assert patched.json()["data"]["smart_max_reject_percent"] == 40
    client.post(f"/api/v2/campaigns/{campaign_id}/schedule", {"time": "now"}, format="json")
    run_smart_delivery()

    data = client.get(f"/api/v2/campaigns/{campaign_id}").json()["data"]
    assert (data["state"], data["smart_state"]) == (CampaignState.CANCELLED, SmartDeliveryState.FAILED)
    assert data["smart_checked_at"] and data["state_reason"].startswith("Smart Delivery: 1 of 2 test messages")
    assert data["smart_result"]["rejected_by_code"] == {"452": 1}
    assert (data["smart_result"]["rejected_percent"], data["smart_result"]["cancelled"]) == (50.0, 4)
    assert "smart_test_ids" not in data


@pytest.mark.parametrize(
    ("smart", "field", "message"),
    [
        ({"smart_test_size": 0}, "smart_test_size", "greater than or equal to 1"),
        ({"smart_test_size": 10_001}, "smart_test_size", "less than or equal to 10000"),
        ({"smart_test_size": 4}, "smart_test_size", "must be smaller than the audience (4 selected)"),
        ({"smart_wait_minutes": 0}, "smart_wait_minutes", "greater than or equal to 1"),
        ({"smart_wait_minutes": 1441}, "smart_wait_minutes", "less than or equal to 1440"),
        ({"smart_max_reject_percent": 101}, "smart_max_reject_percent", "less than or equal to 100"),
        ({"smart_max_reject_percent": -1}, "smart_max_reject_percent", "greater than or equal to 0"),
        ({"smart_test_numbers": ["12"]}, "smart_test_numbers", "Test number 12"),
        ({"smart_test_numbers": "9876511234"}, "smart_test_numbers", "list"),
        ({"smart_test_numbers": [f"98765{n:05d}" for n in range(101)]}, "smart_test_numbers", "at most 100"),
    ],
)
def test_bad_options_are_a_422_naming_the_field_and_save_nothing(api, template, smart, field, message):
    response = api("marketer").post("/api/v2/campaigns", payload(template, **smart), format="json")
    assert response.status_code == 422, response.json()
    errors = response.json()["errors"]
    assert list(errors) == [field] and message in " ".join(errors[field])
    assert not Campaign.objects.exists()


def test_options_are_checked_against_the_drafts_own_values_on_a_patch(api, template):
    client = api("marketer")
    body = dict(payload(template, smart_test_size=3), smart_delivery=False)
    campaign_id = client.post("/api/v2/campaigns", body, format="json").json()["data"]["id"]
    on = client.patch(f"/api/v2/campaigns/{campaign_id}", {"smart_delivery": True}, format="json")
    assert on.status_code == 200
    smaller = client.patch(f"/api/v2/campaigns/{campaign_id}", {"audience": {"numbers": NUMBERS[:3]}}, format="json")
    assert smaller.status_code == 422 and list(smaller.json()["errors"]) == ["smart_test_size"]


def test_the_outcome_cannot_be_written_by_a_client(api, template):
    hostile = payload(
        template, smart_test_size=2, smart_state="passed", smart_result={"verdict": "passed"}, smart_test_ids=[1]
    )
    data = api("marketer").post("/api/v2/campaigns", hostile, format="json").json()["data"]
    campaign = Campaign.objects.get(uid=data["id"])
    assert (campaign.smart_state, campaign.smart_result, campaign.smart_test_ids) == ("", {}, [])


def wizard_data(template, **extra):
    data = {
        "name": "Weekend",
        "numbers": "\n".join(NUMBERS),
        "sender": str(template.sender.uid),
        "template": str(template.uid),
        "message_type": "A",
        "when": "now",
        "map_name_default": "friend",
        "map_order_default": "A1",
        "smart_delivery": "on",
        "smart_test_size": "2",
        "smart_wait_minutes": "5",
        "smart_max_reject_percent": "10",
    }
    data.update(extra)
    return data


def test_the_wizard_shows_and_saves_the_option(client_for, marketer, template):
    client = client_for(marketer)
    preview = client.post("/campaigns/new/", wizard_data(template, intent="preview"), HTTP_HX_REQUEST="true")
    assert 'data-testid="smart-summary"' in preview.content.decode()
    assert "2 recipients at random get it first; 5 minutes" in preview.content.decode()
    assert 'name="smart_delivery"' in client.get("/campaigns/new/").content.decode()
    response = client.post("/campaigns/new/", wizard_data(template, smart_test_numbers="98123 40452", intent="send"))
    assert response.status_code == 302
    campaign = Campaign.objects.get()
    assert (campaign.smart_delivery, campaign.smart_test_size, campaign.smart_wait_minutes) == (True, 2, 5)
    assert (campaign.smart_max_reject_percent, campaign.smart_test_numbers) == (10, ["+919812340452"])
    assert campaign.state == CampaignState.SCHEDULED


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ({"smart_test_size": "4"}, "must be smaller than the audience (4 selected)"),
        ({"smart_wait_minutes": "1441"}, "less than or equal to 1440"),
        ({"smart_test_numbers": "12"}, "Test number 12"),
    ],
)
def test_the_wizard_refuses_bad_options(client_for, marketer, template, extra, message):
    response = client_for(marketer).post("/campaigns/new/", wizard_data(template, intent="send", **extra))
    assert response.status_code == 422
    assert message in response.content.decode()
    assert not Campaign.objects.exists()


def test_the_campaign_page_shows_the_wait_and_the_verdict(client_for, viewer, api, template):
    client = api("marketer")
    body = payload(template, smart_test_numbers=["9812340452", "9812350452"], smart_max_reject_percent=20)
    campaign_id = client.post("/api/v2/campaigns", body, format="json").json()["data"]["id"]
    client.post(f"/api/v2/campaigns/{campaign_id}/schedule", {"time": "now"}, format="json")
    run_sweeps(rounds=1)
    smart_delivery.sweep()
    page = client_for(viewer)
    html = page.get(f"/campaigns/{campaign_id}/").content.decode()
    assert 'data-testid="smart-state">Test batch sent, waiting' in html
    assert "2, 4 held until they are judged" in html
    run_smart_delivery()
    html = page.get(f"/campaigns/{campaign_id}/").content.decode()
    assert 'data-testid="smart-state">Failed: the rest cancelled' in html
    assert '<span class="chip">452: 2</span>' in html and "100.0%, limit 20%" in html
    assert 'data-testid="smart-cancelled">4, never charged' in html
    assert "Smart Delivery: 2 of 2 test messages refused by DLT" in html  # the state reason


def test_the_campaign_page_shows_a_passed_test_batch(client_for, viewer, api, template):
    client = api("marketer")
    campaign_id = client.post("/api/v2/campaigns", payload(template, smart_test_size=1), format="json").json()
    campaign_id = campaign_id["data"]["id"]
    client.post(f"/api/v2/campaigns/{campaign_id}/schedule", {"time": "now"}, format="json")
    run_smart_delivery()
    html = client_for(viewer).get(f"/campaigns/{campaign_id}/").content.decode()
    assert 'data-testid="smart-state">Passed: the rest released' in html
    assert 'data-testid="smart-released">3' in html
    assert Campaign.objects.get(uid=campaign_id).state == CampaignState.COMPLETED
    assert "every 2s" not in html  # a completed campaign's page no longer polls
