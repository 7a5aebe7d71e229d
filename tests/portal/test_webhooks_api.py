"""The webhooks, subscriptions and deliveries API (shared/api.md), against a real receiver on 127.0.0.1."""

import time

import pytest
from standardwebhooks.webhooks import Webhook as StandardWebhook

from portal.models import AuditEvent, Subscription, Webhook, WebhookDelivery
from tests.support.http_receiver import Reply


@pytest.fixture(autouse=True)
def allow_local(settings):
    settings.WEBHOOK_ALLOWED_CIDRS = ["127.0.0.0/8"]


def create(client, **fields):
    return client.post("/api/v2/webhooks", {"name": "CRM", **fields}, format="json")


def test_create_returns_the_secret_once_and_never_again(api, live_http_receiver):
    client = api()
    response = create(client, uri=live_http_receiver.url("/in"))
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["message"].startswith("Webhook Saved Successfully")
    secret = body["data"]["secret"]
    assert secret.startswith("whsec_")
    webhook_id = body["data"]["id"]
    detail = client.get(f"/api/v2/webhooks/{webhook_id}").json()["data"]
    listing = client.get("/api/v2/webhooks").json()["data"]
    assert "secret" not in detail and all("secret" not in item for item in listing)
    assert secret not in str(client.get(f"/api/v2/webhooks/{webhook_id}").content)
    assert detail["status"] == 1 and detail["uri"] == live_http_receiver.url("/in")


def test_given_plain_secret_is_returned_in_whsec_form(api, live_http_receiver):
    response = create(api(), uri=live_http_receiver.url(), secret="my-shared-secret-value")
    assert response.json()["data"]["secret"].startswith("whsec_")


@pytest.mark.parametrize(
    "uri",
    ["http://10.0.0.1/hook", "http://169.254.169.254/latest", "http://[::ffff:127.0.0.1]:1/", "ftp://example.com/"],
)
def test_unsafe_uri_is_refused_with_422(api, settings, uri):
    settings.WEBHOOK_ALLOWED_CIDRS = []
    response = create(api(), uri=uri)
    assert response.status_code == 422
    assert response.json()["errors"]["uri"]
    assert not Webhook.objects.exists()


def test_ping_sends_a_signed_test_event_that_standardwebhooks_verifies(api, live_http_receiver):
    client = api()
    created = create(client, uri=live_http_receiver.url("/in")).json()["data"]
    response = client.post(f"/api/v2/webhooks/{created['id']}/ping")
    assert response.status_code == 200
    assert response.json()["data"]["state"] == "succeeded"
    (received,) = live_http_receiver.requests
    verified = StandardWebhook(created["secret"]).verify(received.body, received.headers)
    assert verified["event"] == "webhook:ping"
    assert received.headers["webhook-id"] == verified["id"]
    assert abs(int(received.headers["webhook-timestamp"]) - time.time()) < 60


def test_ping_failure_is_reported_not_retried(api, live_http_receiver):
    client = api()
    live_http_receiver.default = Reply(500, body=b"boom")
    created = create(client, uri=live_http_receiver.url()).json()["data"]
    data = client.post(f"/api/v2/webhooks/{created['id']}/ping").json()["data"]
    assert (data["state"], data["last_status_code"], data["response_excerpt"]) == ("failed", 500, "boom")
    assert data["next_attempt_at"] is None


def test_delete_is_soft_and_restore_reactivates(api, live_http_receiver):
    client = api()
    webhook_id = create(client, uri=live_http_receiver.url()).json()["data"]["id"]
    assert client.delete(f"/api/v2/webhooks/{webhook_id}").json()["message"] == "Webhook Deleted Successfully"
    detail = client.get(f"/api/v2/webhooks/{webhook_id}").json()["data"]
    assert (detail["status"], detail["disabled_reason"]) == (0, "deleted")
    restored = client.post(f"/api/v2/webhooks/{webhook_id}/restore").json()["data"]
    assert (restored["status"], restored["disabled_reason"]) == (1, "")
    assert AuditEvent.objects.filter(verb__in=["webhook.disabled", "webhook.restored"]).count() == 2


def test_update_with_a_new_secret_rotates_with_overlap(api, live_http_receiver):
    client = api()
    created = create(client, uri=live_http_receiver.url()).json()["data"]
    response = client.patch(f"/api/v2/webhooks/{created['id']}", {"secret": "a-brand-new-secret-value"}, format="json")
    assert response.status_code == 200
    new_secret = response.json()["data"]["secret"]
    client.post(f"/api/v2/webhooks/{created['id']}/ping")
    (received,) = live_http_receiver.requests
    assert len(received.headers["webhook-signature"].split(" ")) == 2
    StandardWebhook(created["secret"]).verify(received.body, received.headers)
    StandardWebhook(new_secret).verify(received.body, received.headers)


def test_rotate_secret_endpoint_returns_the_new_secret_once(api, live_http_receiver):
    client = api()
    created = create(client, uri=live_http_receiver.url()).json()["data"]
    rotated = client.post(f"/api/v2/webhooks/{created['id']}/rotate-secret").json()["data"]
    assert rotated["secret"].startswith("whsec_") and rotated["secret"] != created["secret"]
    assert rotated["secret_rotation_ends_at"]


def test_subscriptions_crud_and_validation(api, live_http_receiver):
    client = api()
    webhook_id = create(client, uri=live_http_receiver.url()).json()["data"]["id"]
    response = client.post(
        "/api/v2/subscriptions", {"event": "sms:message:status", "identity": "ACMEIN", "webhook_id": webhook_id}
    )
    assert response.status_code == 201, response.json()
    subscription = response.json()["data"]
    assert subscription["webhook_id"] == webhook_id and subscription["identity"] == "ACMEIN"
    default_identity = client.post("/api/v2/subscriptions", {"event": "sms:unsubscription", "webhook_id": webhook_id})
    assert default_identity.json()["data"]["identity"] == "all"
    duplicate = client.post(
        "/api/v2/subscriptions", {"event": "sms:message:status", "identity": "ACMEIN", "webhook_id": webhook_id}
    )
    assert duplicate.status_code == 409
    bad = client.post("/api/v2/subscriptions", {"event": "nope", "webhook_id": webhook_id}).json()
    assert "event" in bad["errors"]
    ping = client.post("/api/v2/subscriptions", {"event": "webhook:ping", "webhook_id": webhook_id})
    assert ping.status_code == 422
    assert client.get("/api/v2/subscriptions?filter[event]=sms:message:status").json()["meta"]["total"] == 1
    assert client.delete(f"/api/v2/subscriptions/{subscription['id']}").status_code == 200
    assert Subscription.objects.count() == 1


def test_cross_account_webhooks_subscriptions_and_deliveries_are_404(api, other_account, live_http_receiver):
    mine = api()
    theirs = api(account_obj=other_account)
    webhook_id = create(mine, uri=live_http_receiver.url()).json()["data"]["id"]
    mine.post(f"/api/v2/webhooks/{webhook_id}/ping")
    delivery_id = WebhookDelivery.objects.get().uid
    subscription = mine.post("/api/v2/subscriptions", {"event": "sms:message:status", "webhook_id": webhook_id}).json()[
        "data"
    ]
    assert theirs.get(f"/api/v2/webhooks/{webhook_id}").status_code == 404
    assert theirs.delete(f"/api/v2/webhooks/{webhook_id}").status_code == 404
    assert theirs.post(f"/api/v2/webhooks/{webhook_id}/ping").status_code == 404
    assert theirs.get(f"/api/v2/webhooks/{webhook_id}/deliveries").status_code == 404
    assert theirs.get(f"/api/v2/webhooks/deliveries/{delivery_id}").status_code == 404
    assert theirs.post(f"/api/v2/webhooks/deliveries/{delivery_id}/redeliver").status_code == 404
    assert theirs.get(f"/api/v2/subscriptions/{subscription['id']}").status_code == 404
    assert theirs.get("/api/v2/webhooks").json()["meta"]["total"] == 0
    assert theirs.get("/api/v2/webhooks/deliveries").json()["meta"]["total"] == 0
    foreign = theirs.post("/api/v2/subscriptions", {"event": "sms:message:status", "webhook_id": webhook_id})
    assert foreign.status_code == 422
    assert mine.get("/api/v2/webhooks/not-a-uuid").status_code == 404


def test_roles_only_admins_manage_webhooks(api, live_http_receiver):
    assert create(api("marketer"), uri=live_http_receiver.url()).status_code == 403
    assert api("viewer").get("/api/v2/webhooks").status_code == 200
    assert create(api(), uri=live_http_receiver.url()).status_code == 201


def test_delivery_log_filters_and_redeliver(api, live_http_receiver, django_capture_on_commit_callbacks):
    client = api()
    live_http_receiver.respond(500)
    webhook_id = create(client, uri=live_http_receiver.url()).json()["data"]["id"]
    client.post(f"/api/v2/webhooks/{webhook_id}/ping")
    client.post(f"/api/v2/webhooks/{webhook_id}/ping")
    log = client.get(f"/api/v2/webhooks/{webhook_id}/deliveries?filter[state]=failed").json()
    assert log["message"] == "Deliveries List" and log["meta"]["total"] == 1
    failed = log["data"][0]
    assert failed["attempts"][0]["status"] == 500 and failed["request_excerpt"].startswith("POST http://127.0.0.1")
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/api/v2/webhooks/deliveries/{failed['id']}/redeliver")
    assert response.status_code == 200
    assert WebhookDelivery.objects.get(uid=failed["id"]).state == "succeeded"
    assert len(live_http_receiver.requests) == 3
    ids = [r.headers["webhook-id"] for r in live_http_receiver.requests]
    assert ids[0] == ids[2] == failed["event_id"]


def test_redeliver_on_a_deleted_webhook_is_a_conflict(api, live_http_receiver):
    client = api()
    live_http_receiver.respond(500)
    webhook_id = create(client, uri=live_http_receiver.url()).json()["data"]["id"]
    client.post(f"/api/v2/webhooks/{webhook_id}/ping")
    client.delete(f"/api/v2/webhooks/{webhook_id}")
    assert client.post(f"/api/v2/webhooks/{webhook_id}/redeliver-failed").status_code == 409


def test_customized_webhook_validation(api, live_http_receiver):
    client = api()
    ok = create(
        client,
        kind="custom",
        uri=live_http_receiver.url("/ack?id={{id}}&status={{status}}"),
        custom_method="POST",
        custom_headers={"Authorization": "Bearer abc"},
        custom_params={"m": "{{mobile}}"},
        custom_body_type="form",
        custom_form={"message_id": "{{id}}"},
    )
    assert ok.status_code == 201, ok.json()
    bad = create(client, kind="custom", uri=live_http_receiver.url("/ack?x={{nope}}"), custom_headers={"Host": "x"})
    assert set(bad.json()["errors"]) == {"uri", "custom_headers"}
    webhook_id = ok.json()["data"]["id"]
    refused = client.post("/api/v2/subscriptions", {"event": "sms:unsubscription", "webhook_id": webhook_id})
    assert refused.status_code == 422
