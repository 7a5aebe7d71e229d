"""Inbound numbers and keyword routes: staff assign numbers, MO for a number goes to its account, a first word
routes to a webhook (received by a real HTTP server) or is answered, and the inbound list shows the number."""

from decimal import Decimal

import pytest
from django.urls import reverse

from campaigns.models import Connector, Message, Sender, SenderStatus
from campaigns.replies import send_queued_replies
from campaigns.sending.smpp_store import inbound_account
from contacts.models import InboundMessage, InboundNumber, KeywordRoute
from contacts.services_numbers import assign_number
from contacts.services_unsubscribers import rotate_inbound_token
from portal.models import Event, Webhook
from portal.webhooks import signing
from tests.campaigns.sending_support import prices

pytestmark = pytest.mark.django_db

URL = "/api/v2/sms/inbound"
NUMBER = "+447400123456"


@pytest.fixture(autouse=True)
def allow_local(settings):
    settings.WEBHOOK_ALLOWED_CIDRS = ["127.0.0.0/8"]
    settings.WEBHOOK_TIMEOUT_SECONDS = 2.0


@pytest.fixture
def number(account):
    return assign_number(account, NUMBER, label="Support line")


@pytest.fixture
def post_inbound(client, account, admin_user):
    token = rotate_inbound_token(account, admin_user)

    def post(text, to=NUMBER, provider_id=""):
        body = {"from": "919876543210", "to": to, "text": text, "provider_id": provider_id}
        return client.post(URL, body, content_type="application/json", HTTP_X_INBOUND_TOKEN=token)

    return post


def test_staff_assign_numbers_members_read_them_and_others_cannot(api, account, other_account, staff_user):
    staff = api(user=staff_user)
    created = staff.post("/api/v2/numbers", {"number": "+44 7400 123456", "account": account.slug, "label": "Support"})
    assert created.status_code == 201, created.json()
    assert created.json()["data"]["number"] == NUMBER
    assert staff.post("/api/v2/numbers", {"number": NUMBER, "account": other_account.slug}).status_code == 422
    assert api("admin").post("/api/v2/numbers", {"number": "+447400123999", "account": account.slug}).status_code == 403
    listed = api("viewer").get("/api/v2/numbers").json()["data"]
    assert [item["number"] for item in listed] == [NUMBER]
    foreign = api(account_obj=other_account).get(f"/api/v2/numbers/{created.json()['data']['id']}")
    assert foreign.status_code == 404
    bad = staff.post("/api/v2/numbers", {"number": "12", "account": account.slug})
    assert "number" in bad.json()["errors"]


def test_mo_to_a_number_belongs_to_its_account_and_names_it(post_inbound, number, api):
    response = post_inbound("Hello there")
    assert response.status_code == 201, response.json()
    assert response.json()["data"]["number_id"] == str(number.uid)
    event = Event.objects.get(name="sms:message:in")
    assert (event.payload["number_id"], event.payload["account_id"]) == (str(number.uid), str(number.account.uid))
    assert event.payload["received_time"] == event.payload["received_at"]
    listed = api().get("/api/v2/sms/inbound").json()["data"]
    assert listed[0]["number_id"] == str(number.uid)


def test_mo_to_another_accounts_number_is_refused(post_inbound, other_account):
    assign_number(other_account, "+447400123555")
    response = post_inbound("Hi", to="+447400123555")
    assert response.status_code == 422
    assert "another account" in response.json()["errors"]["to"][0]
    assert not InboundMessage.objects.exists()


def test_smpp_mo_for_a_number_goes_to_its_owner(number, other_account):
    connector = Connector.objects.create(name="smpp-up", kind="simulator")
    assert inbound_account(connector, "919876543210", NUMBER.lstrip("+")) == number.account
    assert inbound_account(connector, "919876543210", "+447400123999") is None


def test_a_keyword_route_forwards_to_its_webhook(
    post_inbound, number, account, live_http_receiver, django_capture_on_commit_callbacks
):
    webhook = Webhook.objects.create(
        account=account, name="crm", uri=live_http_receiver.url("/mo"), secret=signing.generate_secret()
    )
    KeywordRoute.objects.create(account=account, number=number, keyword="JOIN", webhook=webhook)
    with django_capture_on_commit_callbacks(execute=True):
        response = post_inbound("join the club")
    assert response.json()["data"]["action"] == "forwarded"
    (received,) = live_http_receiver.wait_for(1)
    body = received.json()
    assert (body["event"], body["payload"]["text"], body["payload"]["keyword"]) == (
        "sms:message:in",
        "join the club",
        "JOIN",
    )


def test_a_keyword_route_answers_from_the_number(post_inbound, number, account, settings):
    settings.SMS_INDIA_PROMOTIONAL_HOLD = False
    prices(service="ENT", IN="0.01")
    account.balance = Decimal("1")
    account.save()
    Sender.objects.create(
        account=account, name=NUMBER.lstrip("+"), country_code="GB", service="ENT", status=SenderStatus.APPROVED
    )
    KeywordRoute.objects.create(account=account, keyword="HOURS", reply_text="We are open 9 to 5.")
    response = post_inbound("hours?")
    assert response.json()["data"]["action"] == "auto_replied"
    assert send_queued_replies() == 1
    reply = Message.objects.get(recipient="+919876543210")
    assert (reply.body, reply.sender_name) == ("We are open 9 to 5.", NUMBER.lstrip("+"))
    assert InboundMessage.objects.get().reply_status == "sent"


def test_keyword_routes_over_the_api(api, account, other_account, number):
    client = api("marketer")
    webhook = Webhook.objects.create(account=account, name="crm", uri="https://crm.example/mo", secret="s" * 32)
    created = client.post("/api/v2/numbers/keywords", {"keyword": "join", "number": NUMBER, "webhook": "crm"})
    assert created.status_code == 201, created.json()
    assert (created.json()["data"]["keyword"], created.json()["data"]["webhook"]) == ("JOIN", str(webhook.uid))
    again = client.post("/api/v2/numbers/keywords", {"keyword": "JOIN", "number": NUMBER, "webhook": "crm"})
    assert "keyword" in again.json()["errors"]
    assert "keyword" in client.post("/api/v2/numbers/keywords", {"keyword": "STOP", "reply_text": "x"}).json()["errors"]
    assert "webhook" in client.post("/api/v2/numbers/keywords", {"keyword": "INFO"}).json()["errors"]
    foreign = Webhook.objects.create(account=other_account, name="theirs", uri="https://x.example", secret="s" * 32)
    stolen = client.post("/api/v2/numbers/keywords", {"keyword": "INFO", "webhook": str(foreign.uid)})
    assert stolen.status_code == 422
    assert KeywordRoute.objects.count() == 1
    assert api("viewer").post("/api/v2/numbers/keywords", {"keyword": "INFO", "reply_text": "x"}).status_code == 403


def test_an_inactive_number_no_longer_claims_messages(post_inbound, number):
    InboundNumber.objects.filter(pk=number.pk).update(is_active=False)
    response = post_inbound("Hello")
    assert response.json()["data"]["number_id"] is None


def test_the_numbers_page_lists_numbers_and_manages_routes(client_for, admin_user, viewer, number, account):
    page = client_for(viewer).get(reverse("contacts:number_list"))
    assert page.status_code == 200
    assert NUMBER in page.content.decode() and "route-form" not in page.content.decode()
    assert client_for(viewer).post(reverse("contacts:keyword_route_create"), {"keyword": "X"}).status_code == 403
    client = client_for(admin_user)
    bad = client.post(reverse("contacts:keyword_route_create"), {"keyword": "STOP", "reply_text": "hi"})
    assert bad.status_code == 422 and "opt-out or opt-in word" in bad.content.decode()
    both = client.post(reverse("contacts:keyword_route_create"), {"keyword": "INFO"})
    assert both.status_code == 422 and "not both" in both.content.decode()
    made = client.post(
        reverse("contacts:keyword_route_create"), {"keyword": "info", "number": number.pk, "reply_text": "Open 9-5"}
    )
    assert made.status_code == 302
    route = KeywordRoute.objects.get()
    assert (route.keyword, route.number, route.account) == ("INFO", number, account)
    assert "Open 9-5" in client.get(reverse("contacts:number_list")).content.decode()
    assert client.post(reverse("contacts:keyword_route_delete", args=[route.uid])).status_code == 302
    assert not KeywordRoute.objects.exists()


def test_the_inbound_list_shows_the_number_that_received_each_message(client_for, marketer, post_inbound, number):
    post_inbound("Hello")
    content = client_for(marketer).get(reverse("contacts:inbound_list"), {"number": str(number.uid)}).content.decode()
    assert NUMBER in content and "Support line" in content
