"""Issue 18 item 6: smart links. URLs of a send shortened per recipient on the portal's short host, followed with a
real HTTP client (urllib) against the live server, the visit recorded with its parsed user agent, `smartlink:visit`
received by a real local webhook receiver, clicks on the campaign page and the API, the India CTA warning."""

import re
import time
import urllib.error
import urllib.parse
import urllib.request
from decimal import Decimal

import pytest
from mmdb_writer import MMDBWriter
from netaddr import IPSet

from campaigns import link_visits
from campaigns.links import (
    LinkOptions,
    Shortener,
    find_urls,
    random_text,
    renamed_body,
    short_url_length,
    write_short_links,
)
from campaigns.models import Campaign, LinkVisit, Message, Sender, ShortLink, SmartLink
from portal.models import Event, Subscription, Webhook
from portal.webhooks.signing import generate_secret
from tests.campaigns.sending_support import approved_sender, approved_template, campaign_for, prices, run_sweeps

ANDROID = (
    "Mozilla/5.0 (Linux; Android 13; Redmi Note 12) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/119.0.6045.163 Mobile Safari/537.36"
)
IPHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/17.1 Mobile/15E148 Safari/604.1"
)
NUMBERS = ["+447400123456", "+447400123457"]  # free text: the UK has no template matching
INDIAN_NUMBERS = ["+919876543210", "+919876543211"]


@pytest.fixture(autouse=True)
def _setup(settings, account, live_server):
    settings.SHORT_LINK_BASE_URL = f"{live_server.url}/l"
    # the live server shares the in-memory test database's one connection: a visit written after its answer
    # would race the test's next query (test_the_visit_is_written_once_the_answer_is_sent covers that path)
    settings.SHORT_LINK_RECORD_AFTER_ANSWER = False
    settings.SMS_INDIA_PROMOTIONAL_HOLD = False
    settings.SMS_SIMULATOR_DLR_DELAY_SECONDS = 0
    settings.WEBHOOK_ALLOWED_CIDRS = ["127.0.0.0/8"]
    prices(IN="0.01", GB="0.04")
    account.balance = Decimal("50")
    account.save()
    approved_sender(account)
    approved_sender(account, name="ACMEUK", country="GB")


@pytest.fixture
def visits_webhook(account, live_http_receiver):
    webhook = Webhook.objects.create(
        account=account, name="CRM", uri=live_http_receiver.url("/events"), secret=generate_secret()
    )
    Subscription.objects.create(account=account, webhook=webhook, event="smartlink:visit")
    return webhook


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def visit(url: str, user_agent: str = ANDROID):
    """GET a short URL with a real HTTP client, not following the redirect: (status, Location)."""
    opener = urllib.request.build_opener(NoRedirect)
    request = urllib.request.Request(url, headers={"User-Agent": user_agent})
    try:
        with opener.open(request, timeout=10) as response:
            return response.status, response.headers.get("Location")
    except urllib.error.HTTPError as error:
        return error.code, error.headers.get("Location")


def recorded(count: int) -> list[LinkVisit]:
    """The visits, once `count` are recorded (each is written after its redirect was answered)."""
    deadline = time.monotonic() + 10
    while LinkVisit.objects.count() < count and time.monotonic() < deadline:
        time.sleep(0.05)
    visits = list(LinkVisit.objects.order_by("created_at"))
    assert len(visits) == count
    return visits


def short_urls_of(text: str) -> list[str]:
    return re.findall(r"https?://[^/\s]+/l/[0-9A-Za-z]+", text)


def short_urls(text: str, live_server) -> list[str]:
    return re.findall(re.escape(live_server.url) + r"/l/[0-9A-Za-z]+", text)


def api_send(client, **body):
    response = client.post("/api/v2/sms/send", {"sender": "ACMEUK", "to": NUMBERS, **body}, format="json")
    assert response.status_code == 201, response.json()
    return response.json()["data"]


# --- API sends with track_links ------------------------------------------------------------------------------


def test_an_api_send_with_track_links_gives_each_recipient_its_own_short_url(api, live_server, live_http_receiver):
    target = live_http_receiver.url("/sale")
    api_send(api(), message=f"Sale at Acme: {target}. Hurry!", track_links=True)
    messages = list(Message.objects.order_by("recipient"))
    urls = [short_urls(message.body, live_server) for message in messages]
    assert [len(found) for found in urls] == [1, 1] and urls[0] != urls[1]
    assert messages[0].body == f"Sale at Acme: {urls[0][0]}. Hurry!"
    assert len(urls[0][0]) == short_url_length() == len(live_server.url) + 3 + 8
    assert all(message.units == len(message.body) and message.parts == 1 for message in messages)
    link = SmartLink.objects.get()
    assert (link.target_url, link.position, link.campaign_id) == (target, 1, None)
    assert ShortLink.objects.filter(link=link).count() == 2

    with urllib.request.urlopen(urls[0][0], timeout=10) as landing:  # a real client follows the redirect
        assert landing.status == 200
    (arrived,) = live_http_receiver.wait_for(1)
    assert arrived.path == "/sale"
    assert recorded(1)[0].recipient == messages[0].recipient


def test_the_short_url_counts_in_the_parts_like_the_final_text(api, live_server):
    long_url = "https://shop.example.com/" + "x" * 200
    api_send(api(), message=f"Acme deals {long_url}", track_links=True)
    message = Message.objects.first()
    assert long_url not in message.body and message.parts == 1 and message.units == len(message.body) < 160


def test_the_quote_prices_the_short_urls_like_the_send(api):
    long_url = "https://shop.example.com/" + "x" * 200
    body = {"sender": "ACMEUK", "to": NUMBERS, "message": f"Acme deals {long_url}"}
    client = api()
    plain = client.post("/api/v2/sms/pricing/quote", body, format="json").json()["data"]
    tracked = client.post("/api/v2/sms/pricing/quote", body | {"track_links": True}, format="json").json()["data"]
    assert plain["parts"] == 2 * len(NUMBERS) and tracked["parts"] == len(NUMBERS)
    assert not ShortLink.objects.exists() and not SmartLink.objects.exists()  # a quote writes nothing
    sent = api_send(client, message=body["message"], track_links=True)
    assert tracked["cost"] == sent["cost"]
    missing_url = client.post("/api/v2/sms/pricing/quote", body | {"message": "Acme {{smart_link}}"}, format="json")
    assert missing_url.status_code == 422 and "smart_link_url" in missing_url.json()["errors"]


def test_without_track_links_the_text_is_sent_as_written(api):
    api_send(api(), message="Acme deals https://shop.example.com/sale")
    assert Message.objects.first().body == "Acme deals https://shop.example.com/sale"
    assert not ShortLink.objects.exists() and not SmartLink.objects.exists()


def test_a_visit_is_recorded_with_the_parsed_user_agent_and_the_event_is_received(
    api, live_server, visits_webhook, live_http_receiver
):
    api_send(api(), message="Acme deals https://shop.example.com/sale", track_links=True)
    message = Message.objects.order_by("recipient").first()
    (url,) = short_urls(message.body, live_server)
    assert visit(url) == (302, "https://shop.example.com/sale")
    (seen,) = recorded(1)
    assert (seen.browser, seen.browser_version, seen.platform, seen.platform_version) == (
        "Chrome Mobile",
        "119.0.6045",
        "Android",
        "13",
    )
    assert (seen.device_type, seen.device_brand, seen.device_model) == (
        "smartphone",
        "XiaoMi",
        "Redmi Note 12",
    )
    assert (seen.country, seen.country_code) == ("", "")  # no GeoIP database configured
    (delivery,) = [r for r in live_http_receiver.wait_for(1) if r.path == "/events"]
    body = delivery.json()
    assert body["event"] == "smartlink:visit"
    payload = body["payload"]
    assert payload["mobile"] == message.recipient and payload["message_id"] == str(message.uid)
    assert payload["link_id"] == str(SmartLink.objects.get().uid) and payload["url"] == "https://shop.example.com/sale"
    assert (payload["browser"], payload["device_type"], payload["platform"]) == (
        "Chrome Mobile",
        "smartphone",
        "Android",
    )
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}", payload["created_at"])
    assert Event.objects.filter(name="smartlink:visit").count() == 1


def test_the_visit_is_written_once_the_answer_is_sent(api, client, settings):
    settings.SHORT_LINK_RECORD_AFTER_ANSWER = True
    api_send(api(), message="Acme deals https://shop.example.com/sale", track_links=True)
    path = urllib.parse.urlsplit(short_urls_of(Message.objects.first().body)[0]).path
    response = client.get(path, HTTP_USER_AGENT=IPHONE)  # the test client closes the response, as a server does
    assert (response.status_code, response["Location"]) == (302, "https://shop.example.com/sale")
    assert response["Cache-Control"] == "no-store" and LinkVisit.objects.get().platform == "iOS"


def test_an_unknown_or_malformed_code_is_a_404_and_records_nothing(live_server):
    assert visit(f"{live_server.url}/l/ZZZZZZZZ")[0] == 404
    assert visit(f"{live_server.url}/l/no")[0] == 404
    assert not LinkVisit.objects.exists()


def test_a_head_request_redirects_without_counting(api, live_server):
    api_send(api(), message="Acme deals https://shop.example.com/sale", track_links=True)
    (url,) = short_urls(Message.objects.first().body, live_server)
    request = urllib.request.Request(url, method="HEAD")
    opener = urllib.request.build_opener(NoRedirect)
    with pytest.raises(urllib.error.HTTPError) as answer:
        opener.open(request, timeout=10)
    assert answer.value.code == 302 and not LinkVisit.objects.exists()


def test_a_bad_smart_link_url_is_a_422_and_nothing_is_sent(api):
    client = api()
    for body in (
        {"message": "Acme offer {{smart_link}}"},
        {"message": "Acme offer {{smart_link}}", "smart_link_url": "javascript:alert(1)"},
        {"message": "Acme offer {{smart_link}}", "smart_link_url": "https://shop example.com"},
    ):
        response = client.post("/api/v2/sms/send", {"sender": "ACMEUK", "to": NUMBERS, **body}, format="json")
        assert response.status_code == 422 and "smart_link_url" in response.json()["errors"], response.json()
    assert not Message.objects.exists()


# --- campaigns with {{smart_link}} ---------------------------------------------------------------------------


def test_a_campaign_with_smart_link_counts_clicks_on_its_page_and_in_the_api(
    api, account, admin_user, client_for, live_server
):
    template = approved_template(account, sender_of(account), "Acme sale for you: {{smart_link}} today")
    campaign = campaign_for(
        account, template.sender, template, numbers=INDIAN_NUMBERS, smart_link_url="https://shop.example.com/spring"
    )
    response = api().post(f"/api/v2/campaigns/{campaign.uid}/schedule", {"time": "now"}, format="json")
    assert response.status_code == 200, response.json()
    run_sweeps()
    campaign.refresh_from_db()
    assert campaign.recipients_count == 2
    bodies = [m.body for m in Message.objects.filter(campaign=campaign).order_by("recipient")]
    urls = [short_urls(body, live_server)[0] for body in bodies]
    assert len(set(urls)) == 2 and all("{{" not in body for body in bodies)
    assert visit(urls[0], IPHONE) == (302, "https://shop.example.com/spring")
    assert visit(urls[0], ANDROID)[0] == 302
    recorded(2)

    listed = api("viewer").get("/api/v2/sms/links", {"filter[campaign]": str(campaign.uid)}).json()
    assert listed["meta"]["total"] == 1
    (link,) = listed["data"]
    assert (link["campaign_id"], link["position"], link["url"]) == (
        str(campaign.uid),
        0,
        "https://shop.example.com/spring",
    )
    assert (link["recipients"], link["clicks"], link["visitors"]) == (2, 2, 1)
    visits = api("viewer").get(f"/api/v2/sms/links/{link['id']}/visits").json()
    assert visits["message"] == "Visits" and visits["meta"]["total"] == 2
    assert {v["platform"] for v in visits["data"]} == {"iOS", "Android"}
    assert {v["mobile"] for v in visits["data"]} == {INDIAN_NUMBERS[0]}

    page = client_for(admin_user).get(f"/campaigns/{campaign.uid}/links/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "https://shop.example.com/spring" in html and 'data-testid="link-clicks">2<' in html
    assert (
        f"/campaigns/{campaign.uid}/links/"
        in client_for(admin_user).get(f"/campaigns/{campaign.uid}/").content.decode()
    )


def sender_of(account) -> Sender:
    return Sender.objects.get(account=account, name="ACMERT")


def test_a_campaign_using_smart_link_without_its_url_is_refused(api, account):
    campaign = campaign_for(account, sender_of(account), text="Acme sale: {{smart_link}} today", numbers=NUMBERS)
    response = api().post(f"/api/v2/campaigns/{campaign.uid}/schedule", {"time": "now"}, format="json")
    assert response.status_code == 422 and "smart_link_url" in response.json()["errors"]
    assert Campaign.objects.get(pk=campaign.pk).state == "draft"


def test_a_campaign_created_through_the_api_tracks_links(api):
    body = {
        "name": "Spring",
        "sender": "ACMEUK",
        "text": "Acme sale: https://shop.example.com/spring and www.acme.example/help.",
        "track_links": True,
        "audience": {"numbers": NUMBERS},
    }
    created = api().post("/api/v2/campaigns", body, format="json")
    assert created.status_code == 201, created.json()
    assert created.json()["data"]["track_links"] is True
    api().post(f"/api/v2/campaigns/{created.json()['data']['id']}/schedule", {"time": "now"}, format="json")
    run_sweeps()
    targets = dict(SmartLink.objects.values_list("position", "target_url"))
    assert targets == {1: "https://shop.example.com/spring", 2: "http://www.acme.example/help"}
    assert ShortLink.objects.count() == 4
    assert all(
        body.endswith(".") and "acme.example" not in body for body in Message.objects.values_list("body", flat=True)
    )


# --- the API is scoped to the account ------------------------------------------------------------------------


def test_another_accounts_link_is_a_404(api, other_account, live_server):
    api_send(api(), message="Acme deals https://shop.example.com/sale", track_links=True)
    link = SmartLink.objects.get()
    outsider = api(account_obj=other_account)
    assert outsider.get(f"/api/v2/sms/links/{link.uid}/visits").status_code == 404
    assert outsider.get(f"/api/v2/sms/links/{link.uid}").status_code == 404
    assert outsider.get("/api/v2/sms/links").json()["meta"]["total"] == 0


# --- India: the short domain as a whitelisted CTA ------------------------------------------------------------


def test_india_templates_with_a_link_warn_until_the_short_domain_is_whitelisted(api, account):
    client = api()
    checks = {
        "Acme sale for you: {{smart_link}} today": True,
        "Acme sale at https://acme.example/sale today": True,
        "Dear {{name}}, your Acme order has shipped": False,
    }
    for body, warned in checks.items():
        findings = client.post("/api/v2/sms/templates/validate", {"body": body, "type": "P"}, format="json")
        codes = [f["code"] for f in findings.json()["data"]["findings"]]
        assert ("short_domain_not_whitelisted" in codes) is warned, (body, codes)
    account.cta_short_domain_whitelisted = True
    account.save()
    findings = client.post("/api/v2/sms/templates/validate", {"body": "Acme sale {{smart_link}}", "type": "P"})
    assert "short_domain_not_whitelisted" not in [f["code"] for f in findings.json()["data"]["findings"]]


def test_outside_india_templates_with_a_link_do_not_warn(api, other_account):
    findings = api(account_obj=other_account).post(
        "/api/v2/sms/templates/validate", {"body": "Other sale {{smart_link}}", "type": "P"}, format="json"
    )
    assert "short_domain_not_whitelisted" not in [f["code"] for f in findings.json()["data"]["findings"]]


# --- GeoIP, codes, URL detection -----------------------------------------------------------------------------


def test_a_configured_geoip_database_gives_the_visit_its_place(api, settings, live_server, tmp_path):
    writer = MMDBWriter(ip_version=4, database_type="GeoIP2-City")
    writer.insert_network(
        IPSet(["127.0.0.0/8"]),
        {
            "country": {"iso_code": "IN", "names": {"en": "India"}},
            "subdivisions": [{"names": {"en": "Karnataka"}}],
            "city": {"names": {"en": "Bangalore"}},
        },
    )
    path = tmp_path / "city.mmdb"
    writer.to_db_file(str(path))
    settings.SHORT_LINK_GEOIP_DATABASE = str(path)
    api_send(api(), message="Acme deals https://shop.example.com/sale", track_links=True)
    (url,) = short_urls(Message.objects.first().body, live_server)
    assert visit(url)[0] == 302
    (seen,) = recorded(1)
    assert (seen.country, seen.country_code, seen.region, seen.city) == (
        "India",
        "IN",
        "Karnataka",
        "Bangalore",
    )


def test_an_unreadable_geoip_database_records_no_place(settings, tmp_path):
    bad = tmp_path / "broken.mmdb"
    bad.write_bytes(b"not a database")
    settings.SHORT_LINK_GEOIP_DATABASE = str(bad)
    assert link_visits.locate("127.0.0.1") == link_visits.Place()


def test_codes_are_base62_of_the_configured_length_and_unguessably_spread():
    text = random_text(62_000)
    assert re.fullmatch(r"[0-9A-Za-z]+", text) and len(set(text)) == 62
    shortener = Shortener(LinkOptions(track_links=True), account_id=1, group_id=None)
    assert len({shortener.codes.take() for _ in range(10_000)}) == 10_000


@pytest.mark.parametrize(
    ("text", "urls"),
    [
        ("See https://a.example/x.", ["https://a.example/x"]),
        ("(www.acme.example/help) or http://b.example/?q=1!", ["www.acme.example/help", "http://b.example/?q=1"]),
        ("no link, just acme.example", []),
    ],
)
def test_urls_are_found_without_the_sentences_punctuation(text, urls):
    assert [text[start:end] for start, end in find_urls(text)] == urls


def test_a_code_already_taken_is_drawn_again_and_the_body_follows(api, account):
    api_send(api(), message="Acme deals https://shop.example.com/sale", track_links=True)
    taken = ShortLink.objects.first()
    row = (taken.code, taken.link_id, "0" * 32, "+919876543299", "")
    renamed = write_short_links([row])
    assert list(renamed) == [taken.code] and renamed[taken.code] != taken.code
    assert ShortLink.objects.filter(code=renamed[taken.code], recipient="+919876543299").exists()
    assert renamed_body(f"go http://x/l/{taken.code} now", renamed) == f"go http://x/l/{renamed[taken.code]} now"
