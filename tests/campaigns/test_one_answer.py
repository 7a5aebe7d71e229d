"""Issue 14: a rule answered once gives the same answer on every surface that shows it (page, API, quote, preview,
send). One test per defect; the other defects' tests live beside their features (test_variables, test_phone_letters,
test_start_time, test_flash_and_port, test_unsubscriber_cleanup, test_commands)."""

from decimal import Decimal

import pytest
from django.urls import reverse

from campaigns.models import Campaign, Message, Price
from campaigns.sending.events import status_payload
from campaigns.sending.lifecycle import schedule_campaign, start_campaign
from campaigns.sending.outbox import run_outbox
from campaigns.states import MessageState
from contacts.models import Contact, Segment, Tag, Unsubscriber
from portal.models import Subscription, Webhook
from portal.webhooks.validation import placeholder_values
from tests.campaigns.sending_support import approved_sender, approved_template, run_sweeps

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _setup(settings, account):
    settings.SMS_SIMULATOR_DLR_DELAY_SECONDS = 0
    settings.SMS_INDIA_PROMOTIONAL_HOLD = False
    settings.WEBHOOK_ALLOWED_CIDRS = ["127.0.0.0/8"]
    account.balance = Decimal("50")
    account.save()


def platform_price(country: str, service: str, price: str) -> Price:
    return Price.objects.create(country=country, service=service, price=Decimal(price))


def own_price(account, country: str, service: str, price: str, status: int = 1) -> Price:
    return Price.objects.create(account=account, country=country, service=service, price=Decimal(price), status=status)


def quote_cost(client, sender: str, numbers: list[str], message: str) -> str:
    response = client.post(
        "/api/v2/sms/pricing/quote", {"sender": sender, "to": numbers, "message": message}, format="json"
    )
    assert response.status_code == 200, response.json()
    return response.json()["data"]["cost"]


# 1. Prices shown are prices charged ----------------------------------------------------------------------------


def test_the_prices_shown_are_the_prices_charged(api, client_for, marketer, account, other_account):
    platform_price("GB", "MKT", "0.04")  # hidden before: the account overrides GB for ENT and IN for MKT
    platform_price("IN", "MKT", "0.01")
    platform_price("GB", "ENT", "0.05")
    own_price(account, "IN", "MKT", "0.008")
    own_price(account, "GB", "ENT", "0.03")
    own_price(account, "US", "MKT", "0.50", status=0)  # inactive: as if absent
    own_price(other_account, "GB", "MKT", "0.90")
    expected = {("GB", "ENT"): "0.03000", ("GB", "MKT"): "0.04000", ("IN", "MKT"): "0.00800"}

    client = api("marketer")
    listed = client.get("/api/v2/sms/pricing", {"per_page": 100}).json()["data"]
    assert {(row["iso"], row["service"]): row["price"] for row in listed} == expected
    page = client_for(marketer).get(reverse("campaigns:pricing"))
    shown = {(price.country, price.service): f"{price.price:.5f}" for price in page.context["prices"]}
    assert shown == expected

    approved_sender(account, name="ACMEGB", country="GB", service="MKT")
    assert quote_cost(client, "ACMEGB", ["+447400123456"], "Sale at Acme") == "0.04000"
    sent = client.post(
        "/api/v2/sms/send", {"sender": "ACMEGB", "to": "+447400123456", "message": "Sale at Acme"}, format="json"
    )
    assert sent.json()["data"]["cost"] == "0.04000"
    run_sweeps()
    message = Message.objects.get(uid=sent.json()["data"]["accepted"][0]["message_id"])
    assert (message.state, message.price) == (MessageState.DELIVERED, Decimal("0.04"))
    account.refresh_from_db()
    assert account.balance == Decimal("49.96")
    refused = client.post("/api/v2/sms/send", {"sender": "ACMEGB", "to": "+12025550123", "message": "Sale at Acme"})
    assert refused.json()["data"]["rejected"][0]["reason"] == "country_not_allowed"


# 2. Tag opt-outs do not depend on the path ---------------------------------------------------------------------


def vip_segment_campaign(account, admin_user) -> tuple[Campaign, Contact]:
    vip = Tag.objects.create(account=account, name="vip")
    segment = Segment.objects.create(account=account, name="VIPs")
    segment.positive_tags.add(vip)
    contacts = [Contact.objects.create(account=account, phone=f"+91987654321{n}", first_name="Asha") for n in range(3)]
    for contact in contacts:
        contact.tags.add(vip)
    Unsubscriber.objects.create(account=account, receiver=contacts[0].phone, type="tag", value="VIP")
    sender = approved_sender(account)
    template = approved_template(account, sender, "Hi {{name}}, the Acme VIP sale starts today")
    campaign = Campaign.objects.create(
        account=account,
        name="VIP sale",
        sender=sender,
        template=template,
        audience={"segments": [str(segment.uid)]},
        variable_mapping={"name": {"source": "first_name", "default": "friend"}},
        created_by=admin_user,
    )
    return campaign, contacts[0]


def test_a_tag_opt_out_applies_to_a_segment_built_on_that_tag_everywhere(api, client_for, account, admin_user):
    platform_price("IN", "MKT", "0.01")
    campaign, opted_out = vip_segment_campaign(account, admin_user)
    client = api()

    quote = client.get(f"/api/v2/campaigns/{campaign.uid}/quote").json()["data"]
    assert (quote["recipients"], quote["suppressed_by_reason"]) == (2, {"tag": 1})
    members = client.get(
        f"/api/v2/contacts/segments/{campaign.audience['segments'][0]}/subscribers", {"exclude_opted_out": 1}
    ).json()["data"]
    assert opted_out.phone not in {member["phone"] for member in members} and len(members) == 2

    schedule_campaign(campaign, actor=admin_user)
    run_sweeps()
    campaign.refresh_from_db()
    assert (campaign.recipients_count, campaign.suppressed_by_reason) == (2, {"tag": 1})
    assert not Message.objects.filter(campaign=campaign, recipient=opted_out.phone).exists()


def test_a_tag_opt_out_made_after_preparation_stops_the_message_at_release(account, admin_user):
    platform_price("IN", "MKT", "0.01")
    campaign, _ = vip_segment_campaign(account, admin_user)
    schedule_campaign(campaign, actor=admin_user)
    start_campaign(campaign.pk)
    late = Message.objects.filter(campaign=campaign).order_by("recipient").first()
    Unsubscriber.objects.create(account=account, receiver=late.recipient, type="tag", value="vip")
    run_outbox(seconds=10)
    late.refresh_from_db()
    assert (late.state, late.error_code) == (MessageState.REJECTED, "456")


def test_the_wizard_preview_counts_the_same_tag_opt_out(client_for, marketer, account):
    platform_price("IN", "MKT", "0.01")
    vip = Tag.objects.create(account=account, name="vip")
    segment = Segment.objects.create(account=account, name="VIPs")
    segment.positive_tags.add(vip)
    for n in range(3):
        Contact.objects.create(account=account, phone=f"+91987654321{n}", first_name="Asha").tags.add(vip)
    Unsubscriber.objects.create(account=account, receiver="+919876543210", type="tag", value="vip")
    template = approved_template(account, approved_sender(account), "Hi {{name}}, the Acme VIP sale starts today")
    data = {
        "name": "VIP",
        "segments": [str(segment.uid)],
        "sender": str(template.sender.uid),
        "template": str(template.uid),
        "message_type": "A",
        "map_name_source": "first_name",
        "map_name_default": "friend",
        "intent": "preview",
    }
    response = client_for(marketer).post("/campaigns/new/", data, HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert response.status_code == 200 and 'data-testid="wizard-review"' in html
    assert "3 selected" in html and "tag: 1" in html
    assert "+919876543210" not in html and html.count("Hi Asha, the Acme VIP sale starts today") == 2


# 3. A number's country is one answer -------------------------------------------------------------------------


def test_a_canadian_number_is_canadian_for_contacts_pricing_and_sending(api, account, admin_user):
    account.default_country = "CA"
    account.save()
    platform_price("US", "ENT", "0.02")
    platform_price("CA", "ENT", "0.07")
    client = api()
    created = client.post("/api/v2/contacts", {"phone": "+1 416 555 0123", "first_name": "Li"}, format="json")
    assert created.status_code == 201, created.json()
    assert created.json()["data"]["country"] == "CA"
    sender = approved_sender(account, name="ACMECA", country="CA", service="ENT")
    assert quote_cost(client, "ACMECA", ["+14165550123"], "Your Acme code is ready") == "0.07000"
    tag = Tag.objects.create(account=account, name="toronto")
    Contact.objects.get(phone="+14165550123").tags.add(tag)
    campaign = Campaign.objects.create(
        account=account, name="TO", sender=sender, text="Your Acme code is ready", audience={"tags": ["toronto"]}
    )
    assert client.get(f"/api/v2/campaigns/{campaign.uid}/quote").json()["data"]["cost"] == "0.07000"
    schedule_campaign(campaign, actor=admin_user)
    run_sweeps()
    message = Message.objects.get(campaign=campaign)
    assert (message.country, message.price, message.state) == ("CA", Decimal("0.07"), MessageState.DELIVERED)
    listed = client.get("/api/v2/sms/messages", {"filter[campaign]": str(campaign.uid)}).json()["data"]
    assert [item["country"] for item in listed] == ["CA"]


# 4. The opted-out badge shows every scope ----------------------------------------------------------------------


def test_the_opted_out_badge_shows_a_sender_scoped_opt_out_on_the_list_and_the_detail(client_for, marketer, account):
    scoped = Contact.objects.create(account=account, phone="+919876543210", first_name="Asha")
    everything = Contact.objects.create(account=account, phone="+919876543211", first_name="Ravi")
    Contact.objects.create(account=account, phone="+919876543212", first_name="Meera")
    Unsubscriber.objects.create(account=account, receiver=scoped.phone, type="sender", value="ACMERT")
    Unsubscriber.objects.create(account=account, receiver=everything.phone, type="all")
    client = client_for(marketer)
    listing = client.get(reverse("contacts:contact_list")).content.decode()
    detail = client.get(reverse("contacts:contact_detail", kwargs={"uid": scoped.uid})).content.decode()
    assert listing.count('data-testid="opted-out"') == 2
    assert listing.count("partly opted out") == 1 and "(by sender)" in listing
    assert "partly opted out" in detail and "(by sender)" in detail


# 9. One payload for live and test status events ----------------------------------------------------------------


def test_the_test_event_and_live_events_carry_the_same_fields(
    api, account, live_http_receiver, django_capture_on_commit_callbacks
):
    platform_price("IN", "MKT", "0.01")
    approved_template(account, approved_sender(account), "Sale at Acme today only")
    fields = sorted(set(placeholder_values()) - {"event", "event_id"})
    url = live_http_receiver.url("/status?" + "&".join(f"{name}={{{{{name}}}}}" for name in fields))
    client = api()
    created = client.post("/api/v2/webhooks", {"name": "CRM", "uri": url, "kind": "custom"}, format="json")
    assert created.status_code == 201, created.json()
    webhook = Webhook.objects.get(uid=created.json()["data"]["id"])
    Subscription.objects.create(account=account, webhook=webhook, event="sms:message:status", identity="all")
    assert client.post(f"/api/v2/webhooks/{webhook.uid}/ping").json()["data"]["state"] == "succeeded"
    with django_capture_on_commit_callbacks(execute=True):
        client.post("/api/v2/sms/send", {"sender": "ACMERT", "to": "9876543210", "message": "Sale at Acme today only"})
        run_sweeps()
    received = live_http_receiver.wait_for(3)  # the test event, then sent and delivered
    queries = [request.query for request in received]
    assert [sorted(query) for query in queries] == [fields] * 3
    message = Message.objects.get(account=account)
    assert sorted(status_payload(message)) == fields
    assert queries[-1]["state"] == [MessageState.DELIVERED] and queries[-1]["id"] == [str(message.uid)]
    assert queries[-1]["status"] == ["DELIVRD"]


def test_a_customized_webhook_cannot_use_a_field_live_events_lack(api, live_http_receiver):
    refused = api().post(
        "/api/v2/webhooks",
        {"name": "CRM", "uri": live_http_receiver.url("/s?c={{balance}}"), "kind": "custom"},
        format="json",
    )
    assert refused.status_code == 422 and "balance" in str(refused.json()["errors"])
