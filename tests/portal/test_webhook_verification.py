"""Issue 18 item 3: the seed's webhook verification (the challenge handshake, deliveries held until it succeeds)
and the option to send the secret as `Authorization: Bearer <secret>`, against a real receiver on 127.0.0.1."""

import json

import pytest
from django.db import connection
from standardwebhooks.webhooks import Webhook as StandardWebhook

from portal.events import emit
from portal.models import AuditEvent, Subscription, Webhook, WebhookDelivery
from portal.webhooks import delivery
from tests.support.http_receiver import Reply

pytestmark = pytest.mark.django_db
KEY = "9012XX-validation"


@pytest.fixture(autouse=True)
def allow_local(settings):
    settings.WEBHOOK_ALLOWED_CIDRS = ["127.0.0.0/8"]


def echo_challenge(request) -> Reply:
    """What a correct endpoint answers: the challenge it was sent."""
    if request.query.get("token") == [KEY]:
        return Reply(200, json.dumps({"challenge": request.json()["challenge"]}).encode())
    return Reply(200)


def create(client, uri, **fields):
    response = client.post("/api/v2/webhooks", {"name": "CRM", "uri": uri, **fields}, format="json")
    assert response.status_code == 201, response.json()
    return response.json()["data"]


def verify(client, webhook_id):
    return client.post(f"/api/v2/webhooks/{webhook_id}/verify")


def test_the_handshake_posts_the_key_and_a_challenge_and_a_correct_answer_verifies(api, live_http_receiver):
    client = api()
    created = create(client, live_http_receiver.url("/in?src=cpaas"), token=KEY)
    assert (created["verification"], created["verified_at"]) == ("pending", None)
    live_http_receiver.default = echo_challenge
    response = verify(client, created["id"])
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["message"] == "Webhook Verified"
    assert (body["data"]["verification"], body["data"]["verification_error"]) == ("verified", "")
    assert body["data"]["verified_at"] and body["data"]["verification_checked_at"]
    (challenge,) = live_http_receiver.requests
    assert (challenge.method, challenge.path, challenge.query) == ("POST", "/in", {"src": ["cpaas"], "token": [KEY]})
    sent = challenge.json()
    assert set(sent) == {"validation_key", "challenge"} and sent["validation_key"] == KEY
    assert len(sent["challenge"]) > 16
    StandardWebhook(created["secret"]).verify(challenge.body, challenge.headers)  # signed like every delivery
    assert "authorization" not in challenge.headers
    assert AuditEvent.objects.filter(verb="webhook.verified").count() == 1


@pytest.mark.parametrize(
    ("reply", "error"),
    [
        (Reply(200, b'{"challenge": "a234qwe"}'), "is not the one sent"),
        (Reply(200, b"ok"), "The answer is not JSON ('ok')"),
        (Reply(200, b'{"status": "ok"}'), "The answer has no challenge field"),
        (Reply(204, b""), "HTTP 204: the handshake needs HTTP 200"),
        (Reply(404), "HTTP 404: the handshake needs HTTP 200"),
        (Reply(302, headers={"Location": "http://127.0.0.1:9/x"}), "redirect to http://127.0.0.1:9/x not followed"),
    ],
)
def test_a_wrong_answer_fails_the_handshake_with_a_clear_error(api, live_http_receiver, reply, error):
    client = api()
    created = create(client, live_http_receiver.url("/in"), token=KEY)
    live_http_receiver.respond(reply)
    response = verify(client, created["id"])
    assert response.status_code == 200
    data = response.json()["data"]
    assert data["verification"] == "failed" and error in data["verification_error"], data["verification_error"]
    assert response.json()["message"].startswith("Webhook Verification Failed: ")
    assert data["verified_at"] is None and Webhook.objects.get().is_held
    assert AuditEvent.objects.filter(verb="webhook.verification_failed").count() == 1


def test_an_endpoint_that_is_down_fails_with_the_connection_error(api):
    created = create(api(), "http://127.0.0.1:9/hook", token=KEY)
    data = verify(api(), created["id"]).json()["data"]
    assert data["verification"] == "failed" and data["verification_error"].startswith("Connection failed")


def test_a_private_address_is_refused_by_the_ssrf_guard(api, account, settings):
    webhook = Webhook.objects.create(
        account=account, name="old", uri="http://10.0.0.7/in", secret="whsec_" + "A" * 32, token=KEY
    )
    Webhook.objects.filter(pk=webhook.pk).update(verification_required=True)
    settings.WEBHOOK_ALLOWED_CIDRS = []
    data = verify(api(), webhook.uid).json()["data"]
    assert data["verification"] == "failed" and data["verification_error"].startswith("Refused:")


def test_deliveries_are_held_until_verified_then_delivered_in_order(
    api, account, live_http_receiver, django_capture_on_commit_callbacks
):
    client = api()
    created = create(client, live_http_receiver.url("/in"), token=KEY)
    webhook = Webhook.objects.get(uid=created["id"])
    Subscription.objects.create(account=account, webhook=webhook, event="sms:unsubscription")
    with django_capture_on_commit_callbacks(execute=True):
        for n in range(3):
            emit(account, "sms:unsubscription", {"receiver": f"+91987654321{n}", "n": n})
    assert WebhookDelivery.objects.filter(webhook=webhook, state="pending").count() == 3
    assert delivery.sweep() == [] and not live_http_receiver.requests  # held, not sent, not lost
    refused = client.post(f"/api/v2/webhooks/{created['id']}/ping")
    assert refused.status_code == 409 and "Verify the webhook first" in refused.json()["message"]
    live_http_receiver.respond(Reply(500))
    assert verify(client, created["id"]).json()["data"]["verification"] == "failed"
    assert WebhookDelivery.objects.filter(webhook=webhook, state="pending").count() == 3
    live_http_receiver.default = echo_challenge
    with django_capture_on_commit_callbacks(execute=True):
        assert verify(client, created["id"]).json()["data"]["verification"] == "verified"
    received = live_http_receiver.wait_for(5)
    assert [request.json()["payload"]["n"] for request in received[2:]] == [0, 1, 2]
    assert WebhookDelivery.objects.filter(webhook=webhook, state="succeeded").count() == 3


def test_setting_a_key_starts_the_handshake_and_a_new_url_or_key_needs_another(
    api, live_http_receiver, django_capture_on_commit_callbacks
):
    client = api()
    live_http_receiver.default = echo_challenge
    with django_capture_on_commit_callbacks(execute=True):
        created = create(client, live_http_receiver.url("/in"), token=KEY)
    assert Webhook.objects.get().verification == "verified"  # the seed's initial request, right after creation
    path = f"/api/v2/webhooks/{created['id']}"
    assert client.patch(path, {"name": "Renamed"}, format="json").json()["data"]["verification"] == "verified"
    live_http_receiver.default = Reply(200, b"{}")
    with django_capture_on_commit_callbacks(execute=True):
        moved = client.patch(path, {"uri": live_http_receiver.url("/new")}, format="json").json()["data"]
    assert moved["verification"] == "pending"  # as answered: the handshake runs after the commit
    webhook = Webhook.objects.get()
    assert webhook.verification == "failed" and "no challenge field" in webhook.verification_error
    assert live_http_receiver.requests[-1].path == "/new"
    with django_capture_on_commit_callbacks(execute=True):
        cleared = client.patch(path, {"token": ""}, format="json").json()["data"]
    assert cleared["verification"] == "not_required" and not Webhook.objects.get().is_held


def test_verify_without_a_key_is_a_conflict_and_other_accounts_get_404(api, other_account, live_http_receiver):
    created = create(api(), live_http_receiver.url("/in"))
    response = verify(api(), created["id"])
    assert response.status_code == 409 and "no validation key" in response.json()["message"]
    assert verify(api(account_obj=other_account), created["id"]).status_code == 404
    assert verify(api("viewer"), created["id"]).status_code == 403
    assert not live_http_receiver.requests


def test_the_bearer_header_is_sent_only_when_the_option_is_on(api, live_http_receiver):
    client = api()
    plain = create(client, live_http_receiver.url("/plain"))
    bearer = create(client, live_http_receiver.url("/bearer"), send_bearer=True, secret="1233XXXX-shared-secret")
    assert (plain["send_bearer"], bearer["send_bearer"]) == (False, True)
    for created in (plain, bearer):
        assert client.post(f"/api/v2/webhooks/{created['id']}/ping").json()["data"]["state"] == "succeeded"
    without, with_bearer = live_http_receiver.wait_for(2)
    assert "authorization" not in without.headers
    assert with_bearer.headers["authorization"] == f"Bearer {bearer['secret']}"
    for request, created in ((without, plain), (with_bearer, bearer)):
        StandardWebhook(created["secret"]).verify(request.body, request.headers)  # the signature stays on
    logged = WebhookDelivery.objects.get(webhook__uid=bearer["id"]).request_excerpt
    assert "Authorization: Bearer (hidden)" in logged and bearer["secret"] not in logged
    switched = client.patch(f"/api/v2/webhooks/{bearer['id']}", {"send_bearer": False}, format="json")
    assert switched.json()["data"]["send_bearer"] is False
    client.post(f"/api/v2/webhooks/{bearer['id']}/ping")
    assert "authorization" not in live_http_receiver.wait_for(3)[-1].headers


def test_the_challenge_carries_the_bearer_secret_when_asked(api, live_http_receiver):
    client = api()
    created = create(client, live_http_receiver.url("/in"), token=KEY, send_bearer=True)
    live_http_receiver.default = echo_challenge
    assert verify(client, created["id"]).json()["data"]["verification"] == "verified"
    (challenge,) = live_http_receiver.requests
    assert challenge.headers["authorization"] == f"Bearer {created['secret']}"


def test_a_customized_webhook_is_verified_at_its_url_without_placeholders(api, live_http_receiver):
    client = api()
    uri = live_http_receiver.url("/dlr/{{id}}?s={{status}}")
    created = create(client, uri, kind="custom", token=KEY, custom_headers={"X-Api-Key": "k-1"})
    live_http_receiver.default = echo_challenge
    assert verify(client, created["id"]).json()["data"]["verification"] == "verified"
    (challenge,) = live_http_receiver.requests
    assert (challenge.path, challenge.query) == ("/dlr/", {"s": [""], "token": [KEY]})
    assert challenge.headers["x-api-key"] == "k-1"


def test_bearer_beside_an_authorization_header_of_a_customized_webhook_is_refused(api, live_http_receiver):
    body = {"kind": "custom", "send_bearer": True, "custom_headers": {"Authorization": "Basic eDp5"}}
    response = api().post(
        "/api/v2/webhooks", {"name": "CRM", "uri": live_http_receiver.url("/in"), **body}, format="json"
    )
    assert response.status_code == 422 and "Authorization" in response.json()["errors"]["send_bearer"][0]
    assert not Webhook.objects.exists()


def test_the_key_stays_encrypted_at_rest(api, live_http_receiver):
    created = create(api(), live_http_receiver.url("/in"), token=KEY)
    with connection.cursor() as cursor:
        cursor.execute("SELECT token FROM portal_webhook")
        (stored,) = cursor.fetchone()
    assert stored.startswith("enc1:") and KEY not in stored
    assert Webhook.objects.get(uid=created["id"]).token == KEY


# The pages ------------------------------------------------------------------------------------------------------


def test_the_page_verifies_shows_the_result_and_the_held_deliveries(
    client_for, admin_user, account, live_http_receiver, django_capture_on_commit_callbacks
):
    client = client_for(admin_user)
    form = {"name": "CRM", "uri": live_http_receiver.url("/in"), "kind": "standard", "active": "on", "token": KEY}
    client.post("/developers/webhooks/new/", form | {"send_bearer": "on"})
    webhook = Webhook.objects.get()
    assert webhook.send_bearer and webhook.is_held
    Subscription.objects.create(account=account, webhook=webhook, event="sms:unsubscription")
    with django_capture_on_commit_callbacks(execute=True):
        emit(account, "sms:unsubscription", {"receiver": "+919876543210"})
    page = client.get(f"/developers/webhooks/{webhook.uid}/").content.decode()
    assert 'data-testid="verify"' in page and "1 delivery held until the endpoint answers" in page
    assert "unverified" in client.get("/developers/webhooks/").content.decode()
    test_event = client.post(f"/developers/webhooks/{webhook.uid}/test/").content.decode()
    assert "Test event not sent" in test_event and "Verify the webhook first" in test_event
    live_http_receiver.respond(Reply(200, b'{"challenge": "wrong"}'))
    failed = client.post(f"/developers/webhooks/{webhook.uid}/verify/", follow=True).content.decode()
    assert "Verification failed: The answer&#x27;s challenge" in failed and "failed" in failed
    live_http_receiver.default = echo_challenge
    with django_capture_on_commit_callbacks(execute=True):
        done = client.post(f"/developers/webhooks/{webhook.uid}/verify/", follow=True).content.decode()
    assert "Verified: the endpoint answered the challenge" in done and "held until" not in done
    assert live_http_receiver.wait_for(3)[-1].json()["event"] == "sms:unsubscription"


def test_the_form_offers_the_bearer_option_and_lists_the_payload_placeholders(client_for, admin_user):
    page = client_for(admin_user).get("/developers/webhooks/new/").content.decode()
    assert 'name="send_bearer"' in page and "Validation key" in page
    for name in ("provider", "custom1", "deliv_time", "location_code"):
        assert "{{" + name + "}}" in page
