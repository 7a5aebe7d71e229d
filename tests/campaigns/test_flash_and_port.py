"""`flash` and `port` of an API send: stored, counted in the parts and the cost, handed to the connector (the
simulator records them, the HTTP connector fills `{{flash}}` / `{{port}}`), shown in the message list; a bad
value is refused with a 422 naming it and writes nothing."""

from decimal import Decimal

import pytest

from campaigns.encoding import parse_port
from campaigns.models import Connector, Message, SimulatorSubmission
from campaigns.routing import set_catch_all
from campaigns.states import MessageState
from tests.campaigns.sending_support import approved_sender, approved_template, prices, run_sweeps

pytestmark = pytest.mark.django_db

TEXT_155 = "Your Acme parcel " + "x" * 138  # GSM-7, 155 characters: 1 part alone, 2 beside a port element


@pytest.fixture(autouse=True)
def _setup(settings, account):
    settings.SMS_SIMULATOR_DLR_DELAY_SECONDS = 0
    settings.SMS_INDIA_PROMOTIONAL_HOLD = False
    prices(IN="0.01", GB="0.04")
    account.balance = Decimal("5")
    account.save()


@pytest.fixture
def uk_sender(account):
    return approved_sender(account, name="ACMEUK", country="GB")


def send(client, **options):
    body = {"sender": "ACMEUK", "to": ["+447400123456"], "message": "Your Acme code is 4711"} | options
    return client.post("/api/v2/sms/send", body, format="json")


def test_flash_and_port_are_stored_reach_the_simulator_and_are_listed(api, uk_sender):
    client = api()
    response = send(client, flash=1, port=5000)
    assert response.status_code == 201, response.json()
    plain = send(client, to=["+447400123457"])
    assert plain.status_code == 201, plain.json()
    flashed = Message.objects.get(uid=response.json()["data"]["accepted"][0]["message_id"])
    assert (flashed.flash, flashed.destination_port) == (True, 5000)
    assert Message.objects.filter(flash=False, destination_port__isnull=True).count() == 1

    run_sweeps()

    flashed.refresh_from_db()
    assert flashed.state == MessageState.DELIVERED
    recorded = {s.recipient: (s.flash, s.destination_port) for s in SimulatorSubmission.objects.all()}
    assert recorded == {"+447400123456": (True, 5000), "+447400123457": (False, None)}
    listed = {
        item["mobile"]: (item["flash"], item["port"]) for item in client.get("/api/v2/sms/messages").json()["data"]
    }
    assert listed == {"+447400123456": (True, 5000), "+447400123457": (False, None)}
    detail = client.get(f"/api/v2/sms/messages/{flashed.uid}").json()["data"]
    assert (detail["flash"], detail["port"]) == (True, 5000)


def test_template_send_takes_the_port_as_digits_and_port_zero_is_a_port(api, account):
    sender = approved_sender(account)
    template = approved_template(account, sender, "Hi {{name}}, your Acme order {{order}} is ready", "SI")
    body = {"alias": template.alias, "data": {"name": "A", "order": "1"}, "to": "9876543210", "port": "0", "flash": 0}
    response = api().post("/api/v2/sms/send/template", body, format="json")
    assert response.status_code == 201, response.json()
    message = Message.objects.get()
    assert (message.flash, message.destination_port, message.template_id) == (False, 0, template.pk)


def test_http_connector_gets_flash_and_port_filled(api, uk_sender, live_http_receiver):
    connector = Connector.objects.create(
        name="upstream",
        kind="http",
        config={
            "url": live_http_receiver.url("/send?to={{to}}"),
            "headers": {"Content-Type": "application/json"},
            "body": '{"to": "{{to}}", "flash": "{{flash}}", "port": "{{port}}", "text": "{{text}}"}',
        },
    )
    set_catch_all(connector)
    client = api()
    assert send(client, flash=1, port=5000).status_code == 201
    assert send(client, to=["+447400123457"], port="").status_code == 201

    run_sweeps()

    bodies = {request.json()["to"]: request.json() for request in live_http_receiver.requests}
    assert (bodies["+447400123456"]["flash"], bodies["+447400123456"]["port"]) == ("1", "5000")
    assert (bodies["+447400123457"]["flash"], bodies["+447400123457"]["port"]) == ("0", "")
    assert set(Message.objects.values_list("state", flat=True)) == {MessageState.SENT}


@pytest.mark.parametrize("port", [70000, 65536, -1, "abc", "50a", 5000.5, "\u0665\u0660\u0660\u0660", True])
def test_a_bad_port_is_refused_with_422_naming_it_and_nothing_is_written(api, uk_sender, port):
    client = api()
    response = send(client, port=port)
    assert response.status_code == 422, response.json()
    assert set(response.json()["errors"]) == {"port"}
    quote = client.post(
        "/api/v2/sms/pricing/quote",
        {"sender": "ACMEUK", "to": ["+447400123456"], "message": "x", "port": port},
        format="json",
    )
    assert quote.status_code == 422 and "port" in quote.json()["errors"]
    assert not Message.objects.exists()


@pytest.mark.parametrize("flash", [2, -1, "yes"])
def test_a_bad_flash_is_refused_with_422_naming_it(api, uk_sender, flash):
    response = send(api(), flash=flash)
    assert response.status_code == 422
    assert set(response.json()["errors"]) == {"flash"}
    assert not Message.objects.exists()


def test_highest_port_is_accepted(api, uk_sender):
    assert send(api(), port=65535).status_code == 201
    assert Message.objects.get().destination_port == 65535


def test_a_port_costs_a_part_of_a_155_character_text_on_send_quote_and_list(api, uk_sender):
    client = api()
    to = {"to": ["+447400123456"], "message": TEXT_155}
    quotes = {}
    for port in (None, 5000):
        options = {} if port is None else {"port": port}
        quote = client.post("/api/v2/sms/pricing/quote", {"sender": "ACMEUK"} | to | options, format="json")
        quotes[port] = (quote.json()["data"]["parts"], quote.json()["data"]["cost"])
    assert quotes == {None: (1, "0.04000"), 5000: (2, "0.08000")}

    sent = {}
    for port, number in ((None, "+447400123456"), (5000, "+447400123457")):
        options = {} if port is None else {"port": port}
        response = send(client, **(to | {"to": [number]} | options))
        accepted = response.json()["data"]["accepted"][0]
        sent[port] = (accepted["parts"], response.json()["data"]["cost"])
    assert sent == quotes

    listed = {
        item["mobile"]: (item["parts"], item["cost"]) for item in client.get("/api/v2/sms/messages").json()["data"]
    }
    assert listed == {"+447400123456": (1, "0.04000"), "+447400123457": (2, "0.08000")}


def test_the_message_log_page_shows_flash_and_port(api, client_for, marketer, uk_sender):
    client = api()
    assert send(client, flash=1, port=5000).status_code == 201
    assert send(client, to=["+447400123457"]).status_code == 201
    html = client_for(marketer).get("/campaigns/messages/").content.decode()
    assert html.count('data-testid="flash"') == 1 and html.count('data-testid="port"') == 1
    assert "port 5000" in html


def test_an_http_upstream_that_cannot_carry_flash_or_port_refuses_the_message(
    api, account, uk_sender, live_http_receiver
):
    plain_upstream = Connector.objects.create(
        name="plain upstream", kind="http", config={"url": live_http_receiver.url("/send?to={{to}}&text={{text}}")}
    )
    set_catch_all(plain_upstream)
    client = api()
    flashed = send(client, flash=1).json()["data"]["accepted"][0]["message_id"]
    plain = send(client, to=["+447400123457"]).json()["data"]["accepted"][0]["message_id"]
    run_sweeps()
    refused = Message.objects.get(uid=flashed)
    assert (refused.state, refused.error_detail) == (MessageState.REJECTED, "this connector cannot carry flash")
    assert Message.objects.get(uid=plain).state == MessageState.SENT
    assert [request.query["to"] for request in live_http_receiver.requests] == [["+447400123457"]]
    account.refresh_from_db()
    assert account.balance == Decimal("4.96")  # the refused message was refunded


def test_a_160_character_gsm_text_needs_two_parts_with_a_port(api, uk_sender):
    client = api()
    text = "Your Acme parcel " + "y" * 143
    assert len(text) == 160
    body = {"sender": "ACMEUK", "to": ["+447400123456"], "message": text}
    quote = client.post("/api/v2/sms/pricing/quote", body | {"port": 9200}, format="json").json()["data"]
    plain_quote = client.post("/api/v2/sms/pricing/quote", body, format="json").json()["data"]
    assert (plain_quote["parts"], plain_quote["cost"]) == (1, "0.04000")
    assert (quote["parts"], quote["cost"]) == (2, "0.08000")
    sent = send(client, message=text, port=9200).json()["data"]
    assert (sent["accepted"][0]["parts"], sent["cost"]) == (quote["parts"], quote["cost"])
    assert Message.objects.get().parts == 2


def test_the_dlr_answer_carries_flash_and_port(api, uk_sender):
    client = api()
    group = send(client, flash=1, port="3908", custom="order-7").json()["data"]["group_id"]
    run_sweeps()
    for params in ({"group_id": group}, {"cid": "order-7"}, {"mobile": "+447400123456"}):
        items = client.get("/api/v2/sms/dlr", params).json()["data"]
        assert [(item["flash"], item["port"], item["status"]) for item in items] == [(True, 3908, "delivered")]


def test_a_campaign_with_flash_and_a_port_sends_them_and_counts_the_port(api, uk_sender):
    client = api("marketer")
    text = "Your Acme parcel " + "y" * 143  # 160 GSM characters: 2 parts beside a port element
    payload = {
        "name": "Parcels",
        "sender": "ACMEUK",
        "text": text,
        "flash": True,
        "port": "5000",
        "audience": {"numbers": ["+447400123456", "+447400123457"]},
    }
    created = client.post("/api/v2/campaigns", payload, format="json")
    assert created.status_code == 201, created.json()
    campaign = created.json()["data"]
    assert (campaign["flash"], campaign["port"]) == (True, 5000)
    quote = client.get(f"/api/v2/campaigns/{campaign['id']}/quote").json()["data"]
    assert (quote["recipients"], quote["parts"], quote["cost"]) == (2, 4, "0.16000")

    scheduled = client.post(f"/api/v2/campaigns/{campaign['id']}/schedule", {"time": "now"}, format="json")
    assert scheduled.status_code == 200, scheduled.json()
    run_sweeps()

    assert set(Message.objects.values_list("flash", "destination_port", "parts", "state")) == {
        (True, 5000, 2, MessageState.DELIVERED)
    }
    assert set(SimulatorSubmission.objects.values_list("flash", "destination_port")) == {(True, 5000)}
    cleared = client.patch(f"/api/v2/campaigns/{campaign['id']}", {"port": ""}, format="json")
    assert cleared.status_code == 409  # no longer a draft: nothing changes behind the sent messages


@pytest.mark.parametrize("port", [70000, "abc", -5])
def test_a_campaign_with_a_bad_port_is_refused_naming_port(api, uk_sender, port):
    payload = {"name": "Bad", "sender": "ACMEUK", "text": "Hello from Acme", "port": port, "audience": {}}
    response = api("marketer").post("/api/v2/campaigns", payload, format="json")
    assert response.status_code == 422
    assert set(response.json()["errors"]) == {"port"}
    assert not Message.objects.exists()


def test_a_draft_campaign_port_can_be_cleared(api, uk_sender):
    client = api("marketer")
    payload = {"name": "Draft", "sender": "ACMEUK", "text": "Hello from Acme", "port": 80, "audience": {}}
    campaign_id = client.post("/api/v2/campaigns", payload, format="json").json()["data"]["id"]
    assert (
        client.patch(f"/api/v2/campaigns/{campaign_id}", {"name": "Renamed"}, format="json").json()["data"]["port"]
        == 80
    )
    cleared = client.patch(f"/api/v2/campaigns/{campaign_id}", {"port": ""}, format="json")
    assert cleared.status_code == 200, cleared.json()
    assert cleared.json()["data"]["port"] is None


@pytest.mark.parametrize(
    ("value", "port"), [(None, None), ("", None), (" 3908 ", 3908), ("0", 0), (65535, 65535), ("00080", 80)]
)
def test_parse_port_accepts_whole_numbers_0_to_65535(value, port):
    assert parse_port(value) == port


@pytest.mark.parametrize("value", [65536, "-1", "3.5", 3.5, "abc", True, "\u0663"])
def test_parse_port_refuses_anything_else(value):
    with pytest.raises(ValueError, match="0 to 65535"):
        parse_port(value)
