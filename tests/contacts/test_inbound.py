import pytest

from contacts.models.unsubscribers import InboundMessage, Unsubscriber
from contacts.services_inbound import receive_inbound
from contacts.services_unsubscribers import (
    add_unsubscriber,
    rotate_inbound_token,
    settings_for,
    update_settings,
)
from portal.models import AuditEvent, Event

URL = "/api/v2/sms/inbound"


@pytest.fixture
def inbound_token(account, admin_user):
    return rotate_inbound_token(account, admin_user)


@pytest.fixture
def post_inbound(client, inbound_token):
    def post(payload, token=None, header="X-Inbound-Token"):
        headers = {}
        raw = token if token is not None else inbound_token
        if header == "X-Inbound-Token":
            headers["HTTP_X_INBOUND_TOKEN"] = raw
        else:
            headers["HTTP_AUTHORIZATION"] = f"Bearer {raw}"
        return client.post(URL, payload, content_type="application/json", **headers)

    return post


def stop(provider_id="mo-1", text="STOP", **extra):
    return {"from": "919876543210", "to": "ACMEBK", "text": text, "provider_id": provider_id, **extra}


def test_stop_word_creates_an_all_opt_out_and_emits_the_event(
    account, post_inbound, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = post_inbound(stop(text=" Stop. "))
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["data"]["from"] == "+919876543210"
    assert (body["data"]["keyword"], body["data"]["action"]) == ("STOP", "opted_out")
    optout = Unsubscriber.objects.get(account=account)
    assert (optout.receiver, optout.type, optout.value, optout.source) == (
        "+919876543210",
        "all",
        "",
        "inbound_keyword",
    )
    event = Event.objects.get(account=account, name="sms:unsubscription")
    assert event.payload["receiver"] == "+919876543210"
    assert event.payload["keyword"] == "STOP"
    assert event.identity == "ACMEBK"


def test_inbound_is_idempotent_on_provider_id(account, post_inbound, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        first = post_inbound(stop())
        second = post_inbound(stop(text="something else"))
    assert (first.status_code, second.status_code) == (201, 200)
    assert first.json()["data"]["id"] == second.json()["data"]["id"]
    assert second.json()["data"]["text"] == "STOP"
    assert InboundMessage.objects.filter(account=account).count() == 1
    assert Event.objects.filter(account=account, name="sms:unsubscription").count() == 1


def test_same_provider_id_in_two_accounts_is_two_messages(account, other_account, admin_user, outsider):
    receive_inbound(account, from_number="+919876543210", text="hi", provider_id="p-1")
    receive_inbound(other_account, from_number="+447400123456", text="hi", provider_id="p-1")
    assert InboundMessage.objects.filter(provider_id="p-1").count() == 2


def test_sender_scope_setting_creates_a_sender_opt_out(account, admin_user, post_inbound):
    update_settings(account, admin_user, scope="sender")
    response = post_inbound(stop(text="stop all"))
    assert response.status_code == 201
    optout = Unsubscriber.objects.get(account=account)
    assert (optout.type, optout.value) == ("sender", "ACMEBK")


def test_non_keyword_text_is_only_stored(account, post_inbound):
    response = post_inbound(stop(text="stopp"))
    assert response.status_code == 201
    assert response.json()["data"]["action"] == "none"
    assert not Unsubscriber.objects.filter(account=account).exists()


def test_repeated_stop_reports_already_opted_out(account, post_inbound):
    post_inbound(stop(provider_id="a"))
    response = post_inbound(stop(provider_id="b", text="quit"))
    assert response.json()["data"]["action"] == "already_opted_out"
    assert Unsubscriber.objects.filter(account=account).count() == 1


def test_confirmation_reply_is_queued_when_enabled(account, admin_user, post_inbound):
    update_settings(account, admin_user, send_confirmation=True, confirmation_text="Bye. Reply START to return.")
    data = post_inbound(stop()).json()["data"]
    assert (data["reply_status"], data["reply_text"]) == ("queued", "Bye. Reply START to return.")
    silent = post_inbound(stop(provider_id="x", text="hello")).json()["data"]
    assert silent["reply_status"] == ""


def test_start_removes_only_keyword_opt_outs_and_is_audited(account, admin_user, post_inbound):
    post_inbound(stop(provider_id="1"))
    add_unsubscriber(account, admin_user, receiver="+919876543210", type="tag", value="vip")
    response = post_inbound(stop(provider_id="2", text="START"))
    assert response.json()["data"]["action"] == "opted_in"
    remaining = Unsubscriber.objects.filter(account=account)
    assert [(u.type, u.source) for u in remaining] == [("tag", "manual")]
    audit = AuditEvent.objects.filter(account=account, verb="unsubscriber.deleted").get()
    assert audit.before["source"] == "inbound_keyword"
    assert "START" in audit.after["reason"]


def test_start_does_not_lift_a_manual_all_opt_out(account, admin_user, post_inbound):
    add_unsubscriber(account, admin_user, receiver="+919876543210", type="all")
    response = post_inbound(stop(text="unstop"))
    assert response.json()["data"]["action"] == "nothing_to_remove"
    assert Unsubscriber.objects.filter(account=account).count() == 1


def test_configured_words_are_used(account, admin_user, post_inbound):
    update_settings(account, admin_user, stop_words=["arret"], start_words=["go"])
    assert post_inbound(stop(provider_id="1", text="STOP")).json()["data"]["action"] == "none"
    assert post_inbound(stop(provider_id="2", text="Arret!")).json()["data"]["action"] == "opted_out"
    assert post_inbound(stop(provider_id="3", text="go")).json()["data"]["action"] == "opted_in"


def test_bearer_header_works_too(post_inbound):
    assert post_inbound(stop(), header="Authorization").status_code == 201


@pytest.mark.parametrize("token", ["", "in_nope_nope", "cp_abc_def"])
def test_missing_or_wrong_token_is_401(account, post_inbound, token):
    response = post_inbound(stop(), token=token)
    assert response.status_code == 401
    assert response.json()["status"] == "error"
    assert not InboundMessage.objects.exists()


def test_an_api_token_cannot_post_inbound(api, account):
    response = api().post(URL, stop(), format="json")
    assert response.status_code == 401


def test_rotating_the_token_retires_the_old_one(account, admin_user, post_inbound, inbound_token):
    rotate_inbound_token(account, admin_user)
    assert post_inbound(stop(), token=inbound_token).status_code == 401
    assert settings_for(account).token_hash != inbound_token


def test_token_routes_to_its_own_account(account, other_account, outsider, post_inbound):
    other_token = rotate_inbound_token(other_account, outsider)
    response = post_inbound(stop(**{"from": "+447400123456"}), token=other_token)
    assert response.status_code == 201
    assert Unsubscriber.objects.get().account == other_account
    assert not Unsubscriber.objects.filter(account=account).exists()


def test_validation_errors_and_local_time(account, post_inbound):
    bad = post_inbound({"text": "STOP"})
    assert bad.status_code == 422
    assert "from" in bad.json()["errors"]
    response = post_inbound(stop(received_at="2026-01-02 10:00:00", parts=2))
    assert response.status_code == 201
    assert response.json()["data"]["received_at"].startswith("2026-01-02T04:30:00")
    assert response.json()["data"]["parts"] == 2


def test_invalid_sender_number_with_stop_is_stored_without_opt_out(account, post_inbound):
    response = post_inbound(stop(**{"from": "12"}))
    assert response.json()["data"]["action"] == "invalid_number"
    assert not Unsubscriber.objects.exists()


def test_inbound_list_needs_an_api_token_and_is_scoped(api, account, other_account):
    receive_inbound(account, from_number="+919876543210", text="STOP", provider_id="a")
    receive_inbound(other_account, from_number="+447400123456", text="hello", provider_id="b")
    client = api(role="viewer")
    response = client.get(URL)
    assert response.status_code == 200
    assert [row["from"] for row in response.json()["data"]] == ["+919876543210"]
    assert client.get(URL, {"filter[action]": "opted_out"}).json()["meta"]["total"] == 1
    assert client.get(URL, {"filter[from]": "09876543210"}).json()["meta"]["total"] == 1
    assert client.get(URL, {"filter[from]": "+919876543299"}).json()["meta"]["total"] == 0
    foreign = InboundMessage.objects.get(account=other_account)
    assert client.get(f"{URL}/{foreign.uid}").status_code == 404


SETTINGS_URL = "/api/v2/sms/inbound/settings"


def test_settings_api_admin_changes_words_and_rotates_the_token(api, account, client):
    admin = api()
    assert admin.get(SETTINGS_URL).json()["data"]["stop_words"][0] == "STOP"
    response = admin.patch(SETTINGS_URL, {"stop_words": ["stop", " halt! "], "scope": "sender"}, format="json")
    assert response.status_code == 200, response.content
    assert (response.json()["data"]["stop_words"], response.json()["data"]["scope"]) == (["STOP", "HALT"], "sender")
    assert admin.patch(SETTINGS_URL, {"stop_words": []}, format="json").status_code == 422
    assert admin.patch(SETTINGS_URL, {"start_words": ["halt"]}, format="json").status_code == 422
    rotated = admin.post(SETTINGS_URL)
    assert rotated.status_code == 201
    raw = rotated.json()["data"]["token"]
    posted = client.post(URL, stop(text="halt"), content_type="application/json", HTTP_X_INBOUND_TOKEN=raw)
    assert posted.json()["data"]["action"] == "opted_out"
    assert Unsubscriber.objects.get(account=account).type == "sender"
    assert "token" not in admin.get(SETTINGS_URL).json()["data"]


@pytest.mark.parametrize("role", ["marketer", "viewer"])
def test_settings_api_is_admin_only_for_writes(api, role):
    client = api(role=role)
    assert client.get(SETTINGS_URL).status_code == 200
    assert client.patch(SETTINGS_URL, {"scope": "sender"}, format="json").status_code == 403
    assert client.post(SETTINGS_URL).status_code == 403


def test_demo_data_has_every_type_and_a_lifted_keyword_opt_out(account, admin_user):
    from contacts.demo_unsubscribers import load

    load(account, admin_user)
    load(account, admin_user)
    types = set(Unsubscriber.objects.filter(account=account).values_list("type", flat=True))
    assert types == {"all", "sender", "product", "tag"}
    actions = list(InboundMessage.objects.filter(account=account).values_list("action", flat=True))
    assert len(actions) == 7
    assert {"opted_out", "opted_in", "none", "auto_replied"} <= set(actions)
    assert InboundMessage.objects.filter(account=account, number__isnull=False).count() == 2


@pytest.mark.postgres
def test_concurrent_deliveries_of_one_message_store_it_once(transactional_db, account):
    import threading

    from django.db import connection

    barrier = threading.Barrier(6)
    results, errors = [], []

    def deliver():
        try:
            barrier.wait()
            results.append(receive_inbound(account, from_number="+919876543210", text="STOP", provider_id="race-1"))
        except Exception as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=deliver) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert sum(result.created for result in results) == 1
    assert len({result.message.pk for result in results}) == 1
    assert InboundMessage.objects.filter(account=account).count() == 1
    assert Unsubscriber.objects.filter(account=account).count() == 1


def test_settings_api_sets_the_reply_sender_to_an_approved_sender_only(api, account, other_account):
    from tests.campaigns.sending_support import approved_sender

    approved_sender(account, "ACMERT")
    approved_sender(other_account, "OTHERS")
    admin = api()
    response = admin.patch(SETTINGS_URL, {"reply_sender": "acmert"}, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["data"]["reply_sender"] == "ACMERT"
    refused = admin.patch(SETTINGS_URL, {"reply_sender": "OTHERS"}, format="json")
    assert refused.status_code == 422
    assert "not an approved sender" in str(refused.json())
    assert settings_for(account).reply_sender == "ACMERT"
    assert admin.patch(SETTINGS_URL, {"reply_sender": ""}, format="json").json()["data"]["reply_sender"] == ""
