"""Campaign pages: the wizard's live review, the campaign page, the message log, balance and pricing."""

import io
from decimal import Decimal

import pytest
from openpyxl import Workbook, load_workbook

from campaigns.models import Campaign, Message, Price
from campaigns.sending.lifecycle import schedule_campaign
from campaigns.states import CampaignState
from contacts.models import Contact, Tag, Unsubscriber
from portal.models import AuditEvent
from tests.campaigns.sending_support import approved_sender, approved_template, campaign_for, prices, run_sweeps

pytestmark = pytest.mark.django_db


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
    return approved_template(account, sender, "Hi {{name}}, Acme sale in {{city}} today")


def wizard_data(template, **extra):
    data = {
        "name": "Weekend",
        "tags": ["vip"],
        "numbers": "9876543299",
        "sender": str(template.sender.uid),
        "template": str(template.uid),
        "message_type": "A",
        "when": "now",
        "map_name_source": "first_name",
        "map_name_default": "friend",
        "map_city_source": "attributes.city",
        "map_city_default": "town",
    }
    data.update(extra)
    return data


def test_wizard_preview_shows_count_samples_opt_outs_and_cost(client_for, marketer, account, template):
    vip = Tag.objects.create(account=account, name="vip")
    for n, (name, city) in enumerate([("Asha", "Pune"), ("", ""), ("Ravi", "Delhi")]):
        contact = Contact.objects.create(
            account=account, phone=f"+91987654320{n}", first_name=name, attributes={"city": city} if city else {}
        )
        contact.tags.add(vip)
    Unsubscriber.objects.create(account=account, receiver="+919876543202", type="tag", value="vip")
    client = client_for(marketer)
    response = client.post("/campaigns/new/", wizard_data(template, intent="preview"), HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    html = response.content.decode()
    assert 'data-testid="wizard-review"' in html and "<html" not in html
    assert "4 selected" in html
    assert "Hi Asha, Acme sale in Pune today" in html
    assert "Hi friend, Acme sale in town today" in html
    assert "tag: 1" in html
    assert "0.03 EUR" in html.replace("0.03000", "0.03")


def test_wizard_creates_and_schedules_then_the_page_shows_progress(client_for, marketer, account, template):
    client = client_for(marketer)
    response = client.post("/campaigns/new/", wizard_data(template, tags=[], intent="send"))
    assert response.status_code == 302
    campaign = Campaign.objects.get()
    assert campaign.state == CampaignState.SCHEDULED
    assert campaign.variable_mapping["city"] == {"source": "attributes.city", "default": "town"}
    run_sweeps()
    page = client.get(f"/campaigns/{campaign.uid}/")
    html = page.content.decode()
    assert 'data-testid="campaign-state">completed' in html
    assert 'data-testid="delivery-rate">100.0%' in html
    assert AuditEvent.objects.filter(verb="campaign.scheduled").exists()


def test_wizard_refuses_missing_audience(client_for, marketer, template):
    response = client_for(marketer).post("/campaigns/new/", wizard_data(template, tags=[], numbers="", intent="send"))
    assert response.status_code == 422
    assert "Choose at least one group" in response.content.decode()


def test_pause_and_cancel_from_the_campaign_page(client_for, marketer, viewer, account, template, admin_user):
    campaign = campaign_for(account, template.sender, template, numbers=["9876543210"])
    schedule_campaign(campaign, actor=admin_user)
    assert client_for(viewer).post(f"/campaigns/{campaign.uid}/pause/").status_code == 403
    client = client_for(marketer)
    client.post(f"/campaigns/{campaign.uid}/pause/")
    campaign.refresh_from_db()
    assert campaign.state == CampaignState.PAUSED
    client.post(f"/campaigns/{campaign.uid}/cancel/")
    campaign.refresh_from_db()
    assert campaign.state == CampaignState.CANCELLED


def test_message_log_masks_numbers_and_hides_bodies(client_for, viewer, account, template, admin_user):
    campaign = campaign_for(account, template.sender, template, numbers=["9876543210"])
    schedule_campaign(campaign, actor=admin_user)
    run_sweeps()
    client = client_for(viewer)
    assert "Hi Sam, Acme sale in Sam today" in client.get("/campaigns/messages/").content.decode()
    account.mobile_secure = account.hide_msg = True
    account.save()
    html = client.get("/campaigns/messages/", {"status": "delivered"}).content.decode()
    assert "+91987654XXXX" in html and "+919876543210" not in html
    assert "Acme sale" not in html


def test_staff_add_credits_on_the_balance_page(client_for, admin_user, staff_user, account):
    assert client_for(admin_user).post("/campaigns/balance/", {"credits": "3"}).status_code == 403
    from portal.accounts import add_member

    add_member(account, staff_user, "admin")
    client_for(staff_user).post("/campaigns/balance/", {"credits": "3", "note": "top-up"})
    account.refresh_from_db()
    assert account.balance == Decimal("8")
    assert "top-up" in client_for(staff_user).get("/campaigns/balance/").content.decode()


def test_pricing_export_and_staff_import(client_for, viewer, staff_user, account):
    export = client_for(viewer).get("/campaigns/pricing/", {"format": "xlsx"})
    rows = list(load_workbook(io.BytesIO(export.content)).active.iter_rows(values_only=True))
    assert rows[0] == ("iso", "service", "price", "currency", "status") and rows[1][:2] == ("IN", "MKT")
    workbook = Workbook()
    workbook.active.append(["iso", "service", "price"])
    workbook.active.append(["gb", "MKT", "0.05"])
    workbook.active.append(["GBR", "MKT", "x"])
    upload = io.BytesIO()
    workbook.save(upload)
    upload.seek(0)
    upload.name = "prices.xlsx"
    from portal.accounts import add_member

    add_member(account, staff_user, "admin")
    response = client_for(staff_user).post("/campaigns/pricing/", {"file": upload}, follow=True)
    assert Price.objects.get(country="GB").price == Decimal("0.05")
    assert "Row 3: iso must be a 2-letter country code" in response.content.decode()


def test_dashboard_shows_todays_sends_and_delivery_rate(client_for, admin_user, account, template):
    campaign = campaign_for(account, template.sender, template, numbers=["9876543210", "9876540000"])
    schedule_campaign(campaign, actor=admin_user)
    run_sweeps()
    html = client_for(admin_user).get("/").content.decode()
    assert "Messages today" in html and "Delivery rate today" in html and "50.0%" in html
    assert Message.objects.count() == 2


def test_wizard_samples_only_eligible_recipients(client_for, marketer, account, template):
    Unsubscriber.objects.create(account=account, receiver="+919876543201", type="all")
    numbers = "9876543201, 9876543202, 9876543203, 9876543204"
    data = wizard_data(template, tags=[], numbers=numbers, intent="preview")
    html = client_for(marketer).post("/campaigns/new/", data, HTTP_HX_REQUEST="true").content.decode()
    samples = html[html.index('data-testid="sample-previews"') :]
    assert "+919876543201" not in samples
    assert all(f"+91987654320{n}" in samples for n in (2, 3, 4))


def test_campaign_page_shows_codes_once_reasons_in_words_and_one_set_of_counters(
    client_for, viewer, account, template, admin_user
):
    campaign = campaign_for(account, template.sender, template, numbers=["9876543210", "9876540000", "12"])
    campaign.variable_mapping = {"name": {"default": "friend"}, "city": {"default": "town"}}
    campaign.save()
    schedule_campaign(campaign, actor=admin_user)
    run_sweeps()
    Campaign.objects.filter(pk=campaign.pk).update(recipients_count=0, estimated_cost=0)  # stale counters
    html = client_for(viewer).get(f"/campaigns/{campaign.uid}/").content.decode()
    assert html.count("001 INVALID-SUB") == 1 and "001 001" not in html
    assert "Invalid number: 1" in html and "invalid_number" not in html
    assert 'data-testid="message-count">2<' in html
    assert 'data-testid="campaign-cost">0.0200 EUR' in html
    assert 'data-testid="count-delivered">1<' in html


def test_wizard_maps_variables_by_name_and_requires_a_value_for_each(client_for, marketer, account):
    sender = approved_sender(account, name="SHOPIN")
    template = approved_template(account, sender, "Hi {{fname}}, {{city}} order {{order}} ready", name="Order")
    Contact.objects.create(account=account, phone="+919876543201", first_name="Asha", attributes={"city": "Pune"})
    data = {key: value for key, value in wizard_data(template, tags=[]).items() if not key.startswith("map_")}
    client = client_for(marketer)
    html = client.post("/campaigns/new/", dict(data, intent="preview"), HTTP_HX_REQUEST="true").content.decode()
    assert 'name="map_fname_source" value="first_name"' in html
    assert 'name="map_city_source" value="attributes.city"' in html
    assert "Variable {{order}} has no value" in html
    assert client.post("/campaigns/new/", dict(data, intent="send")).status_code == 422
    assert not Campaign.objects.exists()
    response = client.post("/campaigns/new/", dict(data, intent="send", map_order_default="soon"))
    assert response.status_code == 302
    mapping = Campaign.objects.get().variable_mapping
    assert mapping["fname"]["source"] == "first_name" and mapping["order"]["default"] == "soon"
