"""Template filters through the public surfaces: the template API and editor lint, API sends, campaign preparation."""

from decimal import Decimal

import pytest
from django.urls import reverse

from campaigns.models import Campaign, Message, Template
from campaigns.sending.errors import Reason
from campaigns.sending.lifecycle import schedule_campaign
from contacts.models import Contact, Tag
from tests.campaigns.filter_corpus import INVALID
from tests.campaigns.sending_support import approved_sender, approved_template, prices, run_sweeps
from tests.campaigns.template_factories import make_sender

pytestmark = pytest.mark.django_db

TEMPLATES = "/api/v2/sms/templates"
GREETING = "Hi {{name|default:'there'|capitalize}}, your Acme order {{order|upcase}} is ready"


@pytest.fixture
def sending(settings, account):
    settings.SMS_SIMULATOR_DLR_DELAY_SECONDS = 0
    settings.SMS_INDIA_PROMOTIONAL_HOLD = False
    prices(IN="0.01")
    account.balance = Decimal("5")
    account.save()
    return approved_sender(account)


@pytest.mark.parametrize("case", INVALID[:6], ids=lambda case: case.body)
def test_validate_api_answers_a_wrong_filter_as_an_error_with_its_span(api, account, case):
    data = api("viewer").post(f"{TEMPLATES}/validate", {"body": case.body, "type": "P"}, format="json").json()["data"]
    found = [f for f in data["findings"] if f["code"] in ("bad_filter", "malformed_variable")]
    assert [(f["code"], case.body[f["start"] : f["end"]]) for f in found] == list(case.findings)
    assert data["valid"] is False and found[0]["severity"] == "error"


def test_a_template_with_a_wrong_filter_is_not_saved(api, account):
    make_sender(account, "ACMEIN")
    body = "Dear {{name|upper}}, your Acme order {{order}} has shipped."
    response = api("marketer").post(
        TEMPLATES, {"name": "Order shipped", "body": body, "sender": "ACMEIN", "type": "SI"}, format="json"
    )
    assert response.status_code == 422
    [message] = response.json()["errors"]["body"]
    assert message.startswith("Unknown filter 'upper' (did you mean upcase?);") and "(at position 13)." in message
    assert not Template.objects.exists()


def test_a_template_with_filters_is_saved_with_its_variable_names(api, account):
    make_sender(account, "ACMEIN")
    body = "Dear {{name|default:'there'|capitalize}}, your Acme order {{order|upcase}} has shipped."
    response = api("marketer").post(
        TEMPLATES, {"name": "Order shipped", "body": body, "sender": "ACMEIN", "type": "SI"}, format="json"
    )
    assert response.status_code == 201, response.json()
    assert response.json()["data"]["variables"] == ["name", "order"]


def test_editor_lint_underlines_the_wrong_filter(client_for, marketer, account):
    sender = make_sender(account)
    data = {"name": "Order", "sender": str(sender.uid), "template_type": "SI", "is_english": "on"}
    html = (
        client_for(marketer)
        .post(
            reverse("campaigns:template_lint"),
            {**data, "body": "Hello {{name|upper}}, Acme order ready."},
            HTTP_HX_REQUEST="true",
        )
        .content.decode()
    )
    assert "Unknown filter" in html and "did you mean upcase?" in html
    assert 'class="lint-error"' in html and ">upper<" in html


def test_api_send_applies_filters_to_data_and_a_default_stands_in_for_a_missing_value(api, account, sending):
    template = approved_template(account, sending, GREETING, template_type="SI")
    client = api()
    payload = {"alias": template.alias, "recipient": {"mobile": ["9876543210"]}}
    without_name = client.post("/api/v2/sms/send/template", {**payload, "data": {"order": "b7"}}, format="json")
    assert without_name.status_code == 201, without_name.json()
    with_name = client.post(
        "/api/v2/sms/send/template", {**payload, "data": {"name": "aSHA", "order": "c9"}}, format="json"
    )
    assert with_name.status_code == 201, with_name.json()
    bodies = set(Message.objects.values_list("body", flat=True))
    assert bodies == {"Hi There, your Acme order B7 is ready", "Hi Asha, your Acme order C9 is ready"}


def test_api_send_still_needs_the_variables_without_a_default(api, account, sending):
    template = approved_template(account, sending, GREETING, template_type="SI")
    response = api().post(
        "/api/v2/sms/send/template",
        {"alias": template.alias, "data": {"name": "Asha"}, "recipient": {"mobile": ["9876543210"]}},
        format="json",
    )
    assert response.status_code == 422
    assert response.json()["errors"]["data"] == ["Variable {{order}} has no value: give it in `data`."]


def test_api_send_refuses_a_value_a_filter_cannot_take_per_number(api, account, sending):
    template = approved_template(account, sending, "Your Acme balance is {{amount|plus:5}} points", template_type="SI")
    response = api().post(
        "/api/v2/sms/send/template",
        {"alias": template.alias, "data": {"amount": "lots"}, "recipient": {"mobile": ["9876543210"]}},
        format="json",
    )
    assert response.status_code == 200, response.json()
    [rejected] = response.json()["data"]["rejected"]
    assert rejected["reason"] == Reason.FILTER_FAILED
    assert rejected["message"].endswith(": {{amount|plus:5}}: 'lots' is not a number")
    assert not Message.objects.exists()


def test_free_text_with_a_wrong_filter_is_refused_before_sending(api, account, sending):
    response = api().post(
        "/api/v2/sms/send",
        {"sender": sending.name, "to": ["9876543210"], "message": "Hi {{name|upper}}, Acme here"},
        format="json",
    )
    assert response.status_code == 422
    assert "Unknown filter 'upper'" in response.json()["errors"]["message"][0]


def test_campaign_preparation_fills_filtered_variables_per_contact(account, sending, admin_user, settings):
    settings.SMS_TEMPLATE_MATCH_COUNTRIES = []
    vip = Tag.objects.create(account=account, name="vip")
    people = [
        ("+919876543300", "aSHA", {"points": "10", "joined": "2024-05-01"}),
        ("+919876543301", "", {"points": "2.5", "joined": "2023-12-25T10:00:00"}),
        ("+919876543302", "ravi", {"points": "many", "joined": "2024-01-01"}),
    ]
    for phone, first_name, attributes in people:
        Contact.objects.create(account=account, phone=phone, first_name=first_name, attributes=attributes).tags.add(vip)
    body = (
        "Hi {{fname|default:'there'|capitalize}}, since {{joined|date_format:'d/m/Y'}} you have "
        "{{points|times:2}} Acme points"
    )
    template = approved_template(account, sending, body, template_type="SI", name="Points")
    campaign = Campaign.objects.create(
        account=account, sender=sending, template=template, name="Points", audience={"tags": ["vip"]}
    )
    schedule_campaign(campaign, actor=admin_user)
    run_sweeps()
    campaign.refresh_from_db()
    assert campaign.variable_mapping["fname"]["source"] == "first_name"  # the wizard's mapping: the bare name
    assert dict(Message.objects.filter(campaign=campaign).values_list("recipient", "body")) == {
        "+919876543300": "Hi Asha, since 01/05/2024 you have 20 Acme points",
        "+919876543301": "Hi There, since 25/12/2023 you have 5.0 Acme points",
    }
    assert campaign.rejected_by_reason == {Reason.FILTER_FAILED: 1}


def test_campaign_api_needs_no_mapping_for_a_variable_with_a_default_filter(api, account, sending):
    template = approved_template(account, sending, "Your Acme coupon: {{coupon|default:'NONE'}} {{code}}")
    payload = {"name": "Coupons", "sender": sending.name, "template": template.alias}
    payload["audience"] = {"numbers": ["9876543210"]}
    created = api("marketer").post("/api/v2/campaigns", payload, format="json")
    assert created.status_code == 422
    assert created.json()["errors"]["variable_mapping"] == [
        "Variable {{code}} has no value: map it to a contact field or attribute, or give a default."
    ]
    payload["variable_mapping"] = {"code": {"default": "X1"}}
    created = api("marketer").post("/api/v2/campaigns", payload, format="json")
    assert created.status_code == 201, created.json()
    assert set(created.json()["data"]["variable_mapping"]) == {"coupon", "code"}


def test_wizard_maps_filtered_variables_by_their_name_and_a_default_filter_is_a_value(client_for, marketer, account):
    sender = approved_sender(account, name="SHOPIN")
    body = "Hi {{fname|capitalize}}, order {{order|default:'soon'|upcase}} for {{city|upcase}} ready"
    template = approved_template(account, sender, body, name="Order")
    Contact.objects.create(account=account, phone="+919876543201", first_name="asha", attributes={})
    data = {
        "name": "Weekend",
        "numbers": "9876543201",
        "sender": str(sender.uid),
        "template": str(template.uid),
        "message_type": "A",
        "when": "now",
    }
    client = client_for(marketer)
    html = client.post("/campaigns/new/", dict(data, intent="preview"), HTTP_HX_REQUEST="true").content.decode()
    assert 'name="map_fname_source" value="first_name"' in html and 'name="map_order_source"' in html
    assert "Variable {{city}} has no value" in html and "Variable {{order}}" not in html
    response = client.post("/campaigns/new/", dict(data, intent="send", map_city_default="pune"))
    assert response.status_code == 302
    assert set(Campaign.objects.get().variable_mapping) == {"fname", "order", "city"}
