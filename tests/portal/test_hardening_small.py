"""Issue 16, small defects: no credentials in links or redirects, the JSON 404 for every method on unknown /api/
paths, a 403 outside a token's IP allow-list, and admins told when a webhook delivery finally fails."""

import logging
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient

from portal.credentials import without_credentials
from portal.logging import RedactAccessTokenFilter
from portal.models import AuditEvent, Notification, WebhookDelivery
from portal.roles import Role
from portal.tokens import issue_token
from portal.webhooks import delivery
from tests.support.http_receiver import Reply

pytestmark = pytest.mark.django_db


def assert_not_found_envelope(response):
    assert response.status_code == 404, response.content
    assert response["Content-Type"].startswith("application/json")
    assert response.json() == {"status": "error", "code": 404, "message": "Not found"}


# --- 6: credentials never echoed ----------------------------------------------------------------------------


def test_list_links_never_carry_the_access_token(api, account):
    client = api()
    for n in range(4):
        issue_token(account, client.user, f"extra {n}")
    raw = client.raw_token
    response = APIClient().get(f"/api/v2/auth/tokens?access_token={raw}&per_page=2&page=2&api_key=k1&token=t1")
    assert response.status_code == 200
    body = response.json()
    links = body["links"]
    assert raw not in response.content.decode()
    for name in ("first", "last", "prev", "next"):
        query = parse_qs(urlsplit(links[name]).query)
        assert not {"access_token", "api_key", "token"} & set(query), links[name]
        assert query["per_page"] == ["2"]
    assert "page=1" in links["first"] and "page=3" in links["next"] and "page=3" in links["last"]


def test_trailing_slash_redirect_drops_the_access_token(api):
    raw = api().raw_token
    response = APIClient().get(f"/api/v2/schema?access_token={raw}&format=json")
    assert response.status_code == 301
    assert response["Location"] == "/api/v2/schema/?format=json"


def test_https_redirect_of_an_api_call_drops_the_access_token(api, settings):
    settings.SECURE_SSL_REDIRECT = True
    raw = api().raw_token
    response = APIClient().get(f"/api/v2/auth/me?access_token={raw}&x=1")
    assert response.status_code == 301
    assert response["Location"] == "https://testserver/api/v2/auth/me?x=1"


def test_without_credentials_keeps_everything_else_in_order():
    url = "https://h/api/v2/contacts?filter%5Bname%5D=a&Access_Token=s&page=2&api_key=k&token=t&tokens=ok"
    assert without_credentials(url) == "https://h/api/v2/contacts?filter%5Bname%5D=a&page=2&tokens=ok"
    assert without_credentials("https://h/api/v2/contacts") == "https://h/api/v2/contacts"


def test_every_credential_parameter_is_redacted_from_log_lines():
    record = logging.LogRecord(
        "django.server", logging.INFO, __file__, 1, "%s", ("GET /api/v2/x?api_key=k1&token=t1&tokens=ok",), None
    )
    RedactAccessTokenFilter().filter(record)
    line = record.getMessage()
    assert "k1" not in line and "t1" not in line
    assert "api_key=[REDACTED]" in line and "token=[REDACTED]" in line and "tokens=ok" in line


# --- 11b: unknown /api/ paths -------------------------------------------------------------------------------


@pytest.mark.parametrize("method", ["get", "head", "options", "post", "put", "patch", "delete"])
def test_unknown_api_path_is_the_json_404_for_every_method_with_a_bearer_token(api, method):
    client = APIClient(enforce_csrf_checks=True)
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {api().raw_token}")
    response = getattr(client, method)("/api/v2/no-such-thing", {"a": 1}, format="json")
    if method == "head":
        assert response.status_code == 404
    else:
        assert_not_found_envelope(response)


def test_unknown_api_path_is_the_json_404_for_a_browser_post_without_csrf_token(client_for, admin_user):
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(admin_user)
    assert_not_found_envelope(browser.post("/api/v2/contacts/nope/extra", {"a": "1"}))
    assert_not_found_envelope(browser.post("/api/v2/schema", {"a": "1"}))


def test_known_api_endpoint_still_enforces_csrf_for_sessions(admin_user, api):
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(admin_user)
    response = browser.post("/api/v2/auth/tokens", {"name": "x"})
    assert response.status_code == 403 and "CSRF" in response.json()["message"]


# --- 11c: IP allow-list -------------------------------------------------------------------------------------


def test_address_outside_the_allow_list_is_403_naming_it_and_never_throttled(account, admin_user, settings):
    issued = issue_token(account, admin_user, "office", allowed_ips=["203.0.113.0/24"])
    client = APIClient(REMOTE_ADDR="198.51.100.9")
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {issued.raw}")
    for _ in range(settings.BRUTE_FORCE_ADDRESS_LIMIT + 2):
        response = client.get("/api/v2/auth/me")
        assert response.status_code == 403, response.json()
    body = response.json()
    assert body["status"] == "error" and body["code"] == 403
    assert "198.51.100.9" in body["message"] and "allow-list" in body["message"]
    assert "WWW-Authenticate" not in response
    allowed = APIClient(REMOTE_ADDR="203.0.113.5")
    allowed.credentials(HTTP_AUTHORIZATION=f"Bearer {issued.raw}")
    assert allowed.get("/api/v2/auth/me").status_code == 200


# --- 11d: webhook:delivery:failed ---------------------------------------------------------------------------


class FakeClock:
    def __init__(self):
        self.now = timezone.now()

    def __call__(self):
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@pytest.fixture
def clock(monkeypatch):
    fake = FakeClock()
    monkeypatch.setattr(timezone, "now", fake)
    return fake


@pytest.fixture
def failing_receiver(settings, live_http_receiver):
    settings.WEBHOOK_ALLOWED_CIDRS = ["127.0.0.0/8"]
    settings.WEBHOOK_TIMEOUT_SECONDS = 2.0
    settings.WEBHOOK_RETRY_SCHEDULE = (10, 100)
    live_http_receiver.default = Reply(503, body=b"down")
    return live_http_receiver


def hooked_account(api, receiver):
    """An admin client whose account has a webhook subscribed to contact changes."""
    admin = api(Role.ADMIN)
    created = admin.post("/api/v2/webhooks", {"name": "CRM", "uri": receiver.url("/in")}, format="json")
    webhook_id = created.json()["data"]["id"]
    subscribed = admin.post(
        "/api/v2/subscriptions", {"event": "contacts:subscriber:subscription", "webhook_id": webhook_id}
    )
    assert subscribed.status_code == 201, subscribed.json()
    return admin


def test_final_failure_notifies_each_admin_once_with_a_link_to_the_delivery(
    api, account, other_account, admin_user, failing_receiver, clock, django_capture_on_commit_callbacks
):
    admin = hooked_account(api, failing_receiver)
    marketer = api(Role.MARKETER)
    outsider = api(Role.ADMIN, account_obj=other_account)
    with django_capture_on_commit_callbacks(execute=True):
        assert marketer.post("/api/v2/contacts", {"phone": "9876543210"}, format="json").status_code == 201
    item = WebhookDelivery.objects.get()
    assert (item.state, item.attempt_count) == ("pending", 1)
    clock.advance(10)
    delivery.sweep()
    item.refresh_from_db()
    assert (item.state, item.attempt_count) == ("pending", 2)
    assert not Notification.objects.exists()
    clock.advance(100)
    delivery.sweep()
    item.refresh_from_db()
    assert (item.state, item.attempt_count) == ("failed", 3)
    notes = Notification.objects.filter(account=account)
    assert sorted(note.user_id for note in notes) == sorted([admin.user.pk, admin_user.pk])
    note = notes.first()
    assert note.level == "error" and note.link == f"/developers/webhooks/deliveries/{item.uid}/"
    assert "CRM" in note.text and "contacts:subscriber:subscription" in note.text and "3 attempts" in note.text
    assert "503" in note.text
    assert not Notification.objects.filter(user__in=[marketer.user, outsider.user]).exists()
    audit = AuditEvent.objects.get(verb="webhook.delivery_failed")
    assert audit.object_id == str(item.uid) and audit.after["notification"] == "webhook:delivery:failed"
    clock.advance(1_000)
    delivery.sweep()
    assert notes.count() == 2


def test_gone_receiver_fails_the_delivery_at_once_and_notifies(
    api, account, failing_receiver, clock, django_capture_on_commit_callbacks
):
    admin = hooked_account(api, failing_receiver)
    failing_receiver.default = Reply(410)
    with django_capture_on_commit_callbacks(execute=True):
        admin.post("/api/v2/contacts", {"phone": "9876543211"}, format="json")
    assert WebhookDelivery.objects.get().state == "failed"
    assert Notification.objects.filter(user=admin.user).count() == 1


def test_a_failed_test_event_notifies_nobody(api, failing_receiver, clock):
    admin = hooked_account(api, failing_receiver)
    webhook_id = admin.get("/api/v2/webhooks").json()["data"][0]["id"]
    data = admin.post(f"/api/v2/webhooks/{webhook_id}/ping").json()["data"]
    assert data["state"] == "failed"
    assert not Notification.objects.exists()
