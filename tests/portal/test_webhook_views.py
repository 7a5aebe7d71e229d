"""Developers → Webhooks pages: create (secret once), test event, delivery log, redeliver, subscriptions, banner."""

import pytest
from standardwebhooks.webhooks import Webhook as StandardWebhook

from portal.models import Subscription, Webhook, WebhookDelivery
from portal.webhooks import delivery, signing
from tests.support.http_receiver import Reply


@pytest.fixture(autouse=True)
def allow_local(settings):
    settings.WEBHOOK_ALLOWED_CIDRS = ["127.0.0.0/8"]


def make_webhook(account, url, **fields):
    return Webhook.objects.create(account=account, name="CRM", uri=url, secret=signing.generate_secret(), **fields)


def test_create_page_shows_the_secret_once(client_for, admin_user, live_http_receiver):
    client = client_for(admin_user)
    assert client.get("/developers/webhooks/new/").status_code == 200
    response = client.post(
        "/developers/webhooks/new/",
        {"name": "CRM", "uri": live_http_receiver.url("/in"), "kind": "standard", "active": "on"},
        follow=True,
    )
    webhook = Webhook.objects.get()
    assert response.redirect_chain == [(f"/developers/webhooks/{webhook.uid}/", 302)]
    assert webhook.secret in response.content.decode()
    detail = client.get(f"/developers/webhooks/{webhook.uid}/").content.decode()
    assert webhook.secret not in detail and "CRM" in detail


def test_create_refuses_a_private_url_with_the_reason(client_for, admin_user, settings):
    settings.WEBHOOK_ALLOWED_CIDRS = []
    response = client_for(admin_user).post(
        "/developers/webhooks/new/", {"name": "x", "uri": "http://192.168.1.10/hook", "kind": "standard"}
    )
    assert response.status_code == 422
    assert "private network address" in response.content.decode()
    assert not Webhook.objects.exists()


def test_customized_webhook_form_parses_pairs(client_for, admin_user, live_http_receiver):
    response = client_for(admin_user).post(
        "/developers/webhooks/new/",
        {
            "name": "Custom",
            "uri": live_http_receiver.url("/ack?id={{id}}"),
            "kind": "custom",
            "active": "on",
            "custom_method": "POST",
            "custom_headers": "Authorization: Bearer x",
            "custom_params": "m={{mobile}}",
            "custom_body_type": "form",
            "custom_form": "state={{status}}\nref={{id}}",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    webhook = Webhook.objects.get()
    assert webhook.custom_headers == {"Authorization": "Bearer x"}
    assert webhook.custom_form == {"state": "{{status}}", "ref": "{{id}}"}


def test_send_test_event_button_delivers_a_verifiable_ping(client_for, admin_user, account, live_http_receiver):
    webhook = make_webhook(account, live_http_receiver.url())
    response = client_for(admin_user).post(f"/developers/webhooks/{webhook.uid}/test/", HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert "Test event delivered" in response.content.decode()
    assert "<html" not in response.content.decode()
    (received,) = live_http_receiver.requests
    assert StandardWebhook(webhook.secret).verify(received.body, received.headers)["event"] == "webhook:ping"


def test_delivery_log_filters_and_detail_show_excerpts(client_for, admin_user, account, live_http_receiver):
    webhook = make_webhook(account, live_http_receiver.url())
    live_http_receiver.respond(Reply(500, body=b"upstream exploded"))
    client = client_for(admin_user)
    client.post(f"/developers/webhooks/{webhook.uid}/test/")
    client.post(f"/developers/webhooks/{webhook.uid}/test/")
    failed_only = client.get(f"/developers/webhooks/{webhook.uid}/?state=failed", HTTP_HX_REQUEST="true")
    assert failed_only.content.decode().count("status-failed") == 1
    failed = WebhookDelivery.objects.get(state="failed")
    page = client.get(f"/developers/webhooks/deliveries/{failed.uid}/").content.decode()
    assert "upstream exploded" in page and "webhook-signature" in page and str(failed.event_uid) in page


def test_redeliver_one_and_all_failed(
    client_for, admin_user, account, live_http_receiver, django_capture_on_commit_callbacks
):
    webhook = make_webhook(account, live_http_receiver.url())
    live_http_receiver.respond(500, 500, 500)
    client = client_for(admin_user)
    for _ in range(3):
        client.post(f"/developers/webhooks/{webhook.uid}/test/")
    first = WebhookDelivery.objects.order_by("id").first()
    with django_capture_on_commit_callbacks(execute=True):
        client.post(f"/developers/webhooks/deliveries/{first.uid}/")
    first.refresh_from_db()
    assert first.state == "succeeded"
    with django_capture_on_commit_callbacks(execute=True):
        client.post(f"/developers/webhooks/{webhook.uid}/redeliver-failed/")
    assert set(WebhookDelivery.objects.values_list("state", flat=True)) == {"succeeded"}
    assert len(live_http_receiver.requests) == 6


def test_subscriptions_are_managed_on_the_detail_page(client_for, admin_user, account, live_http_receiver):
    webhook = make_webhook(account, live_http_receiver.url())
    client = client_for(admin_user)
    client.post(
        f"/developers/webhooks/{webhook.uid}/subscriptions/", {"event": "sms:message:status", "identity": "ACMEIN"}
    )
    subscription = Subscription.objects.get()
    assert (subscription.event, subscription.identity) == ("sms:message:status", "ACMEIN")
    assert "ACMEIN" in client.get(f"/developers/webhooks/{webhook.uid}/").content.decode()
    client.post(f"/developers/webhooks/subscriptions/{subscription.uid}/delete/")
    assert not Subscription.objects.exists()


def test_delete_and_restore_from_the_page(client_for, admin_user, account, live_http_receiver):
    webhook = make_webhook(account, live_http_receiver.url())
    client = client_for(admin_user)
    client.post(f"/developers/webhooks/{webhook.uid}/delete/")
    webhook.refresh_from_db()
    assert (webhook.status, webhook.disabled_reason) == (0, "deleted")
    client.post(f"/developers/webhooks/{webhook.uid}/restore/")
    webhook.refresh_from_db()
    assert webhook.is_active


def test_viewers_read_but_cannot_change(client_for, viewer, account, live_http_receiver):
    webhook = make_webhook(account, live_http_receiver.url())
    client = client_for(viewer)
    assert client.get("/developers/webhooks/").status_code == 200
    assert client.get(f"/developers/webhooks/{webhook.uid}/").status_code == 200
    assert client.post(f"/developers/webhooks/{webhook.uid}/delete/").status_code == 403
    assert client.get("/developers/webhooks/new/").status_code == 403
    assert live_http_receiver.requests == []


def test_another_accounts_webhooks_are_404(client_for, outsider, account, live_http_receiver):
    webhook = make_webhook(account, live_http_receiver.url())
    client = client_for(outsider)
    assert client.get(f"/developers/webhooks/{webhook.uid}/").status_code == 404
    assert client.post(f"/developers/webhooks/{webhook.uid}/test/").status_code == 404
    assert "CRM" not in client.get("/developers/webhooks/").content.decode()


def test_admins_see_a_banner_when_the_system_disabled_a_webhook(
    client_for, admin_user, viewer, account, live_http_receiver
):
    webhook = make_webhook(account, live_http_receiver.url())
    delivery.disable(webhook, Webhook.DisabledReason.FAILING)
    page = client_for(admin_user).get("/").content.decode()
    assert 'data-testid="webhook-banner"' in page and "CRM" in page
    client_for(viewer)
    assert 'data-testid="webhook-banner"' not in client_for(viewer).get("/").content.decode()


def test_webhooks_appear_in_the_developers_menu(client_for, admin_user):
    assert 'href="/developers/webhooks/"' in client_for(admin_user).get("/").content.decode()


def test_edit_page_saves_and_a_new_secret_is_shown_once_with_overlap(
    client_for, admin_user, account, live_http_receiver
):
    webhook = make_webhook(account, live_http_receiver.url())
    old_secret = webhook.secret
    client = client_for(admin_user)
    page = client.get(f"/developers/webhooks/{webhook.uid}/edit/").content.decode()
    assert 'data-testid="send-test-event"' in page and old_secret not in page
    response = client.post(
        f"/developers/webhooks/{webhook.uid}/edit/",
        {
            "name": "CRM v2",
            "uri": live_http_receiver.url("/v2"),
            "kind": "standard",
            "active": "on",
            "secret": "a-new-shared-secret-value",
        },
        follow=True,
    )
    webhook.refresh_from_db()
    assert (webhook.name, webhook.uri) == ("CRM v2", live_http_receiver.url("/v2"))
    assert webhook.secret in response.content.decode()
    assert webhook.signing_secrets() == [webhook.secret, old_secret]


def test_unchecking_active_disables_the_webhook(client_for, admin_user, account, live_http_receiver):
    webhook = make_webhook(account, live_http_receiver.url())
    client_for(admin_user).post(
        f"/developers/webhooks/{webhook.uid}/edit/", {"name": "CRM", "uri": webhook.uri, "kind": "standard"}
    )
    webhook.refresh_from_db()
    assert (webhook.status, webhook.disabled_reason) == (0, "manual")
