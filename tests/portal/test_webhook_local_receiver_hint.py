"""Saving a webhook to a loopback address says how a development receiver is allowed; metadata addresses never."""

import pytest

from portal.models import Webhook

HINT = "for a local receiver in development, set WEBHOOK_ALLOWED_CIDRS, e.g. 127.0.0.0/8, with DEBUG=1"


@pytest.fixture(autouse=True)
def no_allow_list(settings):
    settings.WEBHOOK_ALLOWED_CIDRS = []


def api_refusal(api, uri: str) -> str:
    response = api().post("/api/v2/webhooks", {"name": "CRM", "uri": uri}, format="json")
    assert response.status_code == 422, response.json()
    (message,) = response.json()["errors"]["uri"]
    return message


def form_refusal(client_for, admin_user, uri: str) -> str:
    response = client_for(admin_user).post(
        "/developers/webhooks/new/", {"name": "CRM", "uri": uri, "kind": "standard", "active": "on"}
    )
    assert response.status_code == 422
    return response.content.decode()


def test_loopback_refusal_names_the_setting_in_the_api_and_the_form(api, client_for, admin_user):
    message = api_refusal(api, "http://127.0.0.1:8765/in")
    assert message == f"127.0.0.1 is a loopback address; webhooks can only call public internet addresses ({HINT})."
    assert HINT in form_refusal(client_for, admin_user, "http://127.0.0.1:8765/in")
    assert not Webhook.objects.exists()


def test_metadata_refusal_has_no_hint_in_the_api_or_the_form(api, client_for, admin_user):
    message = api_refusal(api, "http://169.254.169.254/latest/meta-data/")
    assert message == "169.254.169.254 is a cloud metadata address; webhooks can only call public internet addresses."
    page = form_refusal(client_for, admin_user, "http://169.254.169.254/latest/meta-data/")
    assert "169.254.169.254 is a cloud metadata address" in page
    assert "WEBHOOK_ALLOWED_CIDRS" not in page
    assert not Webhook.objects.exists()
