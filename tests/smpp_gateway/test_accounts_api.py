"""`/api/v2/smpp/accounts` and `/api/v2/smpp/bind-failures`: the password answered once (create, rotation), field
errors as 422, admins only for changes, another account's credential a 404, live sessions and refused binds."""

import pytest

from campaigns.models import SmppCredential
from campaigns.smpp_gateway.credentials import issue_credential
from portal.models import AuditEvent
from portal.roles import Role
from tests.smpp_gateway.gateway_rows import bind_failure, bound_session

pytestmark = pytest.mark.django_db

ACCOUNTS = "/api/v2/smpp/accounts"


def data(response, status: int = 200):
    assert response.status_code == status, response.content[:500]
    return response.json()["data"]


def test_create_answers_the_password_once_and_stores_only_its_hash(api):
    client = api()
    body = {"system_id": "acme1", "label": "Billing", "allowed_ips": ["203.0.113.7", "198.51.100.0/24"]}
    created = data(client.post(ACCOUNTS, body | {"bind_limit": 2, "throughput": 20}, format="json"), 201)
    assert len(created["password"]) == 8 and created["password"].isalnum()
    assert (created["system_id"], created["bind_limit"], created["throughput"], created["window"]) == (
        "acme1",
        2,
        20,
        10,
    )
    assert created["allowed_ips"] == ["203.0.113.7/32", "198.51.100.0/24"] and created["is_active"]

    credential = SmppCredential.objects.get(uid=created["id"])
    assert credential.check_password(created["password"]) and created["password"] not in credential.password_hash
    listed = data(client.get(ACCOUNTS))
    detail = data(client.get(f"{ACCOUNTS}/{created['id']}"))
    assert [row["id"] for row in listed] == [created["id"]]
    assert "password" not in listed[0] and "password" not in detail and detail["sessions_bound"] == 0
    event = AuditEvent.objects.get(verb="smpp.credential.created")
    assert created["password"] not in str(event.after) and event.object_id == created["id"]


def test_a_blank_system_id_is_made_from_the_account_slug(api, account):
    first = data(api().post(ACCOUNTS, {}, format="json"), 201)
    second = data(api().post(ACCOUNTS, {"system_id": ""}, format="json"), 201)
    assert first["system_id"] == account.slug[:15]
    assert second["system_id"] == f"{account.slug[:14]}2"


def test_a_system_id_taken_on_the_platform_or_malformed_is_a_422(api, other_account):
    issue_credential(other_account, system_id="Shop")
    client = api()
    taken = client.post(ACCOUNTS, {"system_id": "shop"}, format="json")
    assert taken.status_code == 422 and "already taken" in taken.json()["errors"]["system_id"][0]
    for bad in ("has space", "x" * 16):
        response = client.post(ACCOUNTS, {"system_id": bad}, format="json")
        assert response.status_code == 422 and list(response.json()["errors"]) == ["system_id"]
    assert not SmppCredential.objects.filter(account=client.account).exists()


def test_patch_changes_the_editable_fields_and_answers_every_field_error_as_422(api, settings):
    settings.SMPP_MAX_THROUGHPUT = 100
    client = api()
    created = data(client.post(ACCOUNTS, {"system_id": "acme2"}, format="json"), 201)
    url = f"{ACCOUNTS}/{created['id']}"

    bad = client.patch(url, {"bind_limit": 0, "throughput": 101, "allowed_ips": ["10.0.0.300"]}, format="json")
    assert bad.status_code == 422 and bad.json()["message"] == "Validation error"
    errors = bad.json()["errors"]
    assert set(errors) == {"bind_limit", "throughput", "allowed_ips"}
    assert "100" in errors["throughput"][0] and "10.0.0.300" in errors["allowed_ips"][0]
    assert client.patch(url, {"window": "many"}, format="json").status_code == 422

    changes = {"label": "CRM", "bind_limit": 5, "throughput": 100, "window": 20}
    body = changes | {"allowed_ips": ["192.0.2.1"], "is_active": False, "system_id": "renamed"}
    changed = data(client.patch(url, body, format="json"))
    assert changed | changes == changed and changed["allowed_ips"] == ["192.0.2.1/32"]
    assert (changed["system_id"], changed["is_active"]) == ("acme2", False)
    event = AuditEvent.objects.get(verb="smpp.credential.updated")
    assert event.before["bind_limit"] == 3 and event.after["bind_limit"] == 5


def test_rotation_answers_a_new_password_once(api):
    client = api()
    created = data(client.post(ACCOUNTS, {"system_id": "acme3"}, format="json"), 201)
    rotated = data(client.post(f"{ACCOUNTS}/{created['id']}/rotate-password"))
    assert rotated["password"] != created["password"] and rotated["id"] == created["id"]
    credential = SmppCredential.objects.get(uid=created["id"])
    assert credential.check_password(rotated["password"]) and not credential.check_password(created["password"])
    assert "password" not in data(client.get(f"{ACCOUNTS}/{created['id']}"))
    assert AuditEvent.objects.filter(verb="smpp.credential.password_rotated").count() == 1


def test_delete_removes_the_credential(api):
    client = api()
    created = data(client.post(ACCOUNTS, {"system_id": "acme4"}, format="json"), 201)
    assert data(client.delete(f"{ACCOUNTS}/{created['id']}")) == []
    assert not SmppCredential.objects.filter(uid=created["id"]).exists()
    assert client.get(f"{ACCOUNTS}/{created['id']}").status_code == 404


def test_another_accounts_credential_is_a_404_everywhere(api, other_account):
    theirs = issue_credential(other_account, system_id="other1").credential
    client, url = api(), f"{ACCOUNTS}/{theirs.uid}"
    answers = [
        client.get(url),
        client.patch(url, {"label": "mine"}, format="json"),
        client.delete(url),
        client.post(f"{url}/rotate-password"),
        client.get(f"{url}/sessions"),
        client.get(f"{ACCOUNTS}/not-an-id"),
    ]
    assert [answer.status_code for answer in answers] == [404] * 6
    assert all(answer.json()["status"] == "error" for answer in answers)
    after = SmppCredential.objects.get(pk=theirs.pk)  # still there, unchanged
    assert (after.label, after.password_hash) == ("", theirs.password_hash)
    assert not AuditEvent.objects.filter(
        account=other_account, verb__startswith="smpp.credential.", actor__isnull=False
    )
    assert data(client.get(ACCOUNTS)) == []


def test_everyone_reads_only_admins_change(api, account):
    credential = issue_credential(account, system_id="acme5").credential
    for role in (Role.MARKETER, Role.COMPLIANCE, Role.VIEWER):
        client = api(role)
        assert [row["system_id"] for row in data(client.get(ACCOUNTS))] == ["acme5"]
        url = f"{ACCOUNTS}/{credential.uid}"
        refused = [
            client.post(ACCOUNTS, {}, format="json"),
            client.patch(url, {"label": "x"}, format="json"),
            client.post(f"{url}/rotate-password"),
            client.delete(url),
        ]
        assert [answer.status_code for answer in refused] == [403] * 4, role
    assert api(read_only=True).post(ACCOUNTS, {}, format="json").status_code == 403
    assert SmppCredential.objects.filter(account=account).count() == 1


def test_sessions_lists_the_live_sessions_of_the_credential(api, account, settings):
    settings.SMPP_SESSION_STALE_SECONDS = 120
    credential = issue_credential(account, system_id="acme6").credential
    other = issue_credential(account, system_id="acme7").credential
    live = bound_session(credential, address="10.1.2.3:5000", tls=True, submitted=12, refused=1, delivered=9, rate=4.5)
    bound_session(credential, seen_seconds_ago=600)  # its server died
    bound_session(other)
    client = api()
    (row,) = data(client.get(f"{ACCOUNTS}/{credential.uid}/sessions"))
    assert row["id"] == str(live.uid) and row["system_id"] == "acme6"
    assert (row["address"], row["bind_type"], row["tls"]) == ("10.1.2.3:5000", "transceiver", True)
    assert (row["submitted"], row["refused"], row["delivered"], row["rate"]) == (12, 1, 9, 4.5)
    assert {"bound_at", "last_seen_at"} <= set(row)
    assert data(client.get(f"{ACCOUNTS}/{credential.uid}"))["sessions_bound"] == 1


def test_bind_failures_lists_the_accounts_refused_binds_newest_first(api, account, other_account):
    bind_failure(account, "acme8", reason="Address not allowed.")
    bind_failure(account, "acme8", address="198.51.100.4")
    bind_failure(other_account, "theirs")
    bind_failure(None, "unknown-id")
    response = api().get("/api/v2/smpp/bind-failures?per_page=10")
    body = response.json()
    assert response.status_code == 200 and body["meta"]["total"] == 2
    assert [(row["address"], row["system_id"]) for row in body["data"]] == [
        ("198.51.100.4", "acme8"),
        ("203.0.113.9", "acme8"),
    ]
    assert body["data"][1]["reason"] == "Address not allowed." and body["data"][0]["command_status"] == 0x0E
    filtered = api().get("/api/v2/smpp/bind-failures?filter[address]=198.51.100.4").json()
    assert filtered["meta"]["total"] == 1
