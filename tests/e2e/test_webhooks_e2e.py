"""In Chromium: create a webhook (secret shown once), send a test event, subscribe, filter the delivery log."""

import pytest
from playwright.sync_api import expect
from standardwebhooks.webhooks import Webhook as StandardWebhook

from portal.models import Subscription, Webhook

pytestmark = pytest.mark.browser


@pytest.fixture(autouse=True)
def allow_local(settings):
    settings.WEBHOOK_ALLOWED_CIDRS = ["127.0.0.0/8"]


def test_webhook_pages(page, login, admin_user, account, live_http_receiver):
    login(admin_user)
    page.get_by_role("link", name="Webhooks").click()
    page.get_by_role("button", name="New webhook").first.click()
    page.locator("#id_name").fill("CRM")
    page.locator("#id_uri").fill(live_http_receiver.url("/hooks"))
    page.get_by_role("button", name="Create webhook").click()
    secret = page.locator("#new-secret-value").inner_text()
    assert secret == Webhook.objects.get(account=account).secret

    page.get_by_test_id("send-test-event").click()
    expect(page.get_by_test_id("test-result")).to_contain_text("Test event delivered")
    (received,) = live_http_receiver.requests
    assert StandardWebhook(secret).verify(received.body, received.headers)["event"] == "webhook:ping"

    form = page.get_by_test_id("subscription-form")
    form.get_by_label("Identity").fill("ACMEIN")
    form.get_by_role("button", name="Subscribe").click()
    expect(page.get_by_test_id("subscription-table")).to_contain_text("ACMEIN")
    assert Subscription.objects.filter(account=account, identity="ACMEIN").exists()
    expect(page.get_by_test_id("new-secret")).to_have_count(0)

    page.get_by_label("State").select_option("failed")
    expect(page.locator("#delivery-log")).to_contain_text("No deliveries match.")
    page.get_by_label("State").select_option("succeeded")
    expect(page.get_by_test_id("delivery-table")).to_contain_text("webhook:ping")
