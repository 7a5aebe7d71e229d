"""Issue 14, defect 6: a start time in the past is refused on every surface, and "now" is an explicit choice."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from campaigns.models import Campaign, Message
from campaigns.states import CampaignState
from tests.campaigns.sending_support import approved_sender, approved_template, campaign_for, prices, run_sweeps

pytestmark = pytest.mark.django_db

PAST = "The start time"


@pytest.fixture(autouse=True)
def _setup(settings, account):
    settings.SMS_SIMULATOR_DLR_DELAY_SECONDS = 0
    settings.SMS_INDIA_PROMOTIONAL_HOLD = False
    prices(IN="0.01")
    account.balance = Decimal("5")
    account.save()


@pytest.fixture
def template(account):
    return approved_template(account, approved_sender(account), "Hi {{name}}, the Acme sale starts today")


def draft(account, template, **fields) -> Campaign:
    return campaign_for(account, template.sender, template, numbers=["9876543210", "9876543211"], **fields)


def two_days_ago():
    return timezone.now() - timedelta(days=2)


def assert_nothing_sent(campaign: Campaign) -> None:
    campaign.refresh_from_db()
    run_sweeps()
    assert campaign.state == CampaignState.DRAFT
    assert not Message.objects.filter(campaign=campaign).exists()


def test_api_schedule_refuses_a_past_time_and_sends_nothing(api, account, template):
    campaign = draft(account, template)
    response = api().post(f"/api/v2/campaigns/{campaign.uid}/schedule", {"time": "2020-01-01 10:00:00"}, format="json")
    assert response.status_code == 422
    assert PAST in response.json()["errors"]["time"][0]
    assert_nothing_sent(campaign)


def test_api_schedule_refuses_a_draft_whose_own_time_has_passed(api, account, template):
    campaign = draft(account, template, start_at=two_days_ago())
    response = api().post(f"/api/v2/campaigns/{campaign.uid}/schedule", {}, format="json")
    assert response.status_code == 422 and PAST in response.json()["errors"]["time"][0]
    assert_nothing_sent(campaign)


def test_api_schedule_now_is_an_explicit_choice(api, account, template):
    campaign = draft(account, template, start_at=two_days_ago())
    response = api().post(f"/api/v2/campaigns/{campaign.uid}/schedule", {"time": "now"}, format="json")
    assert response.status_code == 200, response.json()
    run_sweeps()
    campaign.refresh_from_db()
    assert campaign.state == CampaignState.COMPLETED and campaign.recipients_count == 2


def test_api_future_time_waits(api, account, template):
    campaign = draft(account, template)
    later = (timezone.now() + timedelta(days=1)).isoformat()
    response = api().post(f"/api/v2/campaigns/{campaign.uid}/schedule", {"time": later}, format="json")
    assert response.status_code == 200
    run_sweeps()
    campaign.refresh_from_db()
    assert campaign.state == CampaignState.SCHEDULED and not Message.objects.filter(campaign=campaign).exists()


def test_api_drafts_cannot_keep_a_past_start_time(api, account, template):
    body = {
        "name": "Old",
        "sender": template.sender.name,
        "template": template.alias,
        "audience": {"numbers": ["9876543210"]},
        "variable_mapping": {"name": {"default": "Sam"}},
        "start_at": two_days_ago().isoformat(),
    }
    created = api().post("/api/v2/campaigns", body, format="json")
    assert created.status_code == 422 and PAST in created.json()["errors"]["start_at"][0]
    assert not Campaign.objects.exists()
    campaign = draft(account, template)
    updated = api().patch(f"/api/v2/campaigns/{campaign.uid}", {"start_at": body["start_at"]}, format="json")
    assert updated.status_code == 422 and PAST in updated.json()["errors"]["start_at"][0]


def test_api_send_refuses_a_past_time(api, template):
    body = {"sender": "ACMERT", "to": "9876543210", "message": "Hi Sam, the Acme sale starts today"}
    response = api().post("/api/v2/sms/send", dict(body, time="2020-01-01 10:00:00"), format="json")
    assert response.status_code == 422 and PAST in response.json()["errors"]["time"][0]
    assert not Message.objects.exists()


def wizard(template, **extra) -> dict:
    data = {
        "name": "Weekend",
        "numbers": "9876543210",
        "sender": str(template.sender.uid),
        "template": str(template.uid),
        "message_type": "A",
        "map_name_source": "first_name",
        "map_name_default": "friend",
    }
    return data | extra


def test_the_wizard_refuses_a_past_time_inline_also_in_the_live_review(client_for, marketer, template):
    client = client_for(marketer)
    past = {"when": "schedule", "start_at": "2020-01-01T10:00"}
    sent = client.post("/campaigns/new/", wizard(template, intent="send", **past))
    assert sent.status_code == 422 and PAST in sent.content.decode()
    preview = client.post("/campaigns/new/", wizard(template, intent="preview", **past), HTTP_HX_REQUEST="true")
    html = preview.content.decode()
    assert 'data-testid="schedule-error"' in html and PAST in html
    draft_saved = client.post("/campaigns/new/", wizard(template, intent="draft", **past))
    assert draft_saved.status_code == 422
    assert not Campaign.objects.exists()


def test_the_wizard_asks_for_the_choice(client_for, marketer, template):
    client = client_for(marketer)
    response = client.post("/campaigns/new/", wizard(template, intent="send"))
    assert response.status_code == 422 and "Choose “Send now” or “Schedule”." in response.content.decode()
    missing_time = client.post("/campaigns/new/", wizard(template, intent="send", when="schedule"))
    assert "Give the start time" in missing_time.content.decode()
    assert not Campaign.objects.exists()


def test_the_wizard_says_what_really_happened(client_for, marketer, template):
    client = client_for(marketer)
    now = client.post("/campaigns/new/", wizard(template, intent="send", when="now"), follow=True)
    assert "“Weekend” is sending now." in now.content.decode()
    later = (timezone.localtime() + timedelta(days=2)).strftime("%Y-%m-%dT%H:%M")
    scheduled = client.post(
        "/campaigns/new/", wizard(template, name="Later", intent="send", when="schedule", start_at=later), follow=True
    )
    assert "“Later” is scheduled for" in scheduled.content.decode()
    assert Campaign.objects.get(name="Later").state == CampaignState.SCHEDULED


def test_the_campaign_page_refuses_a_passed_draft_time_and_offers_send_now(client_for, marketer, account, template):
    campaign = draft(account, template, start_at=two_days_ago())
    client = client_for(marketer)
    page = client.post(f"/campaigns/{campaign.uid}/schedule/", follow=True).content.decode()
    assert PAST in page and 'data-testid="send-now"' in page
    assert_nothing_sent(campaign)
    done = client.post(f"/campaigns/{campaign.uid}/send_now/", follow=True).content.decode()
    assert "is sending now" in done
    run_sweeps()
    campaign.refresh_from_db()
    assert campaign.state == CampaignState.COMPLETED
