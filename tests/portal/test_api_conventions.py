"""The envelope, error classes, pagination, filters, sort, `_method` and throttles, through real requests."""

import json

import pytest

from portal.models import ApiToken
from portal.tokens import issue_token

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.portal.urls_probe")]


def assert_error(response, code: int, message: str | None = None):
    assert response.status_code == code, response.content
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert body["status"] == "error"
    assert body["code"] == code
    if message:
        assert message in body["message"]
    return body


def make_tokens(account, user, count):
    for n in range(count):
        issue_token(account, user, f"token {n:02d}", read_only=n % 2 == 0)


def test_list_envelope_has_links_and_meta(api, account):
    client = api()
    make_tokens(account, client.user, 30)
    body = client.get("/api/v2/probes?per_page=10&page=2").json()
    assert body["status"] == "OK" and body["code"] == 200 and body["message"] == "Probes List"
    assert len(body["data"]) == 10
    assert body["meta"] == {"current_page": 2, "per_page": 10, "total": 31, "last_page": 4}
    assert "page=1" in body["links"]["first"] and "page=4" in body["links"]["last"]
    assert "page=3" in body["links"]["next"]


def test_per_page_is_capped_at_100(api, account):
    client = api()
    body = client.get("/api/v2/probes?per_page=1000").json()
    assert body["meta"]["per_page"] == 100


def test_filter_brackets_and_sort(api, account):
    client = api()
    make_tokens(account, client.user, 4)
    body = client.get("/api/v2/probes", {"filter[name]": "token 02"}).json()
    assert [row["name"] for row in body["data"]] == ["token 02"]
    names = [row["name"] for row in client.get("/api/v2/probes?sort=-name").json()["data"]]
    assert names == sorted(names, reverse=True)


def test_unknown_filter_and_bad_sort_are_422(api):
    client = api()
    body = assert_error(client.get("/api/v2/probes", {"filter[colour]": "red"}), 422, "Validation error")
    assert "filter[colour]" in body["errors"]
    body = assert_error(client.get("/api/v2/probes?sort=token_hash"), 422)
    assert "sort" in body["errors"]


def test_detail_create_and_delete_messages(api, admin_user):
    client = api()
    created = client.post("/api/v2/probes", {"name": "x"}, format="json")
    assert created.status_code == 201
    token_id = ApiToken.objects.get(name="x").uid
    detail = client.get(f"/api/v2/probes/{token_id}").json()
    assert detail["message"] == "Probe Details" and detail["data"]["name"] == "x"
    deleted = client.delete(f"/api/v2/probes/{token_id}")
    assert deleted.status_code == 200
    assert deleted.json() == {"status": "OK", "code": 200, "message": "Probe Deleted Successfully", "data": []}


def test_validation_error_is_422_with_field_errors(api):
    body = assert_error(api().post("/api/v2/probes", {}, format="json"), 422, "Validation error")
    assert body["errors"]["name"] == ["This field is required."]


def test_malformed_json_is_400(api):
    response = api().post("/api/v2/probes", data="{not json", content_type="application/json")
    assert_error(response, 400)


def test_missing_and_unknown_tokens_are_401(client, api):
    assert_error(client.get("/api/v2/probes"), 401)
    response = client.get("/api/v2/probes", HTTP_AUTHORIZATION="Bearer cp_deadbeef_nope")
    assert_error(response, 401, "Invalid token")


def test_role_is_enforced_with_403(api):
    marketer = api("marketer")
    assert_error(marketer.post("/api/v2/probes", {"name": "x"}, format="json"), 403, "marketer")
    compliance = api("compliance")
    assert compliance.post("/api/v2/probes", {"name": "x"}, format="json").status_code == 201
    viewer = api("viewer")
    assert_error(viewer.post("/api/v2/probes/clash", format="json"), 403)


def test_read_only_token_cannot_write(api):
    client = api(read_only=True)
    assert client.get("/api/v2/probes").status_code == 200
    assert_error(client.post("/api/v2/probes", {"name": "x"}, format="json"), 403, "read-only")


def test_other_accounts_object_is_404(api, account, other_account, outsider):
    foreign = issue_token(other_account, outsider, "theirs").token
    client = api()
    assert_error(client.get(f"/api/v2/probes/{foreign.uid}"), 404)
    assert_error(client.delete(f"/api/v2/probes/{foreign.uid}"), 404)
    assert_error(client.get("/api/v2/probes/not-a-uuid"), 404)
    assert ApiToken.objects.filter(pk=foreign.pk, is_active=True).exists()


def test_unknown_path_and_method_not_allowed(api):
    client = api()
    assert_error(client.get("/api/v2/no-such-thing"), 404)
    assert_error(client.put("/api/v2/auth/me", {}, format="json"), 405)


def test_conflict_is_409(api):
    assert_error(api().post("/api/v2/probes/clash", format="json"), 409, "State transition")


def test_server_error_is_json_500(api):
    from rest_framework.test import APIClient

    client = api()
    raw_client = APIClient(raise_request_exception=False)
    raw_client.credentials(HTTP_AUTHORIZATION=f"Bearer {client.raw_token}")
    assert_error(raw_client.get("/api/v2/probes/explode"), 500, "Server error")


def test_body_over_limit_is_413(api, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    response = api().post("/api/v2/probes", data=json.dumps({"name": "x" * 5000}), content_type="application/json")
    assert_error(response, 413)


def test_method_override(api, account):
    client = api()
    victim = issue_token(account, client.user, "victim").token
    response = client.post(f"/api/v2/probes/{victim.uid}?_method=DELETE")
    assert response.status_code == 200
    assert response.json()["message"] == "Probe Deleted Successfully"
    assert not ApiToken.objects.filter(pk=victim.pk).exists()


def test_read_throttle_answers_429_with_retry_after(api, account):
    account.api_read_rate_per_minute = 3
    account.save()
    client = api()
    for _ in range(3):
        assert client.get("/api/v2/probes").status_code == 200
    response = client.get("/api/v2/probes")
    assert_error(response, 429)
    assert 1 <= int(response["Retry-After"]) <= 60


def test_write_throttle_is_per_second(api, settings, monkeypatch):
    settings.API_WRITE_RATE_PER_SECOND = 2
    clock = [1_000_000.25]
    monkeypatch.setattr("portal.api.throttling.clock", lambda: clock[0])
    client = api()
    codes = [client.post("/api/v2/probes/clash", format="json").status_code for _ in range(3)]
    assert codes == [409, 409, 429]
    clock[0] += 1
    assert client.post("/api/v2/probes/clash", format="json").status_code == 409


def test_throttle_counts_each_token_separately(api, account):
    account.api_read_rate_per_minute = 1
    account.save()
    first, second = api(), api("marketer")
    assert first.get("/api/v2/probes").status_code == 200
    assert second.get("/api/v2/probes").status_code == 200
    assert first.get("/api/v2/probes").status_code == 429


def test_inactive_account_is_400(api, account):
    client = api()
    account.status = "inactive"
    account.save()
    assert_error(client.get("/api/v2/auth/me"), 400, "Inactive account")


def test_session_auth_enforces_csrf(account, admin_user):
    from django.test import Client

    browser = Client(enforce_csrf_checks=True)
    browser.force_login(admin_user)
    assert browser.get("/api/v2/auth/me").status_code == 200
    assert_error(browser.post("/api/v2/probes", {"name": "x"}), 403, "CSRF")


def test_openapi_schema_and_docs_are_served(api, client, admin_user):
    schema = api().get("/api/v2/schema/")
    assert schema.status_code == 200
    client.force_login(admin_user)
    docs = client.get("/api/v2/docs/")
    assert docs.status_code == 200
    assert b"swagger-ui" in docs.content and b"cdn" not in docs.content.lower()


def test_wrong_content_type_is_400(api):
    response = api().post("/api/v2/probes", data="name=x", content_type="text/plain")
    assert_error(response, 400, "Unsupported content type")


def test_links_carry_the_page_size_actually_used(api, account):
    client = api()
    make_tokens(account, client.user, 3)
    body = client.get("/api/v2/probes?per_page=500").json()
    assert "per_page=100" in body["links"]["first"] and "per_page=500" not in body["links"]["last"]
