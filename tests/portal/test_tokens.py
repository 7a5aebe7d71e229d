"""API tokens: hashed at rest, expiry, IP allow-list, read-only, revoke, `?access_token=` and log redaction."""

import logging
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone
from rest_framework.test import APIClient

from portal.logging import RedactAccessTokenFilter
from portal.models import ApiToken
from portal.tokens import issue_token

pytestmark = pytest.mark.django_db


def bearer(raw: str, **extra) -> APIClient:
    client = APIClient(**extra)
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    return client


def test_raw_token_is_nowhere_in_the_database(account, admin_user):
    issued = issue_token(account, admin_user, "ci")
    secret_part = issued.raw.split("_", 2)[2]
    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM portal_apitoken")
        rows = cursor.fetchall()
    dumped = repr(rows)
    assert issued.raw not in dumped and secret_part not in dumped
    assert issued.token.token_hash != issued.raw and len(issued.token.token_hash) == 64
    assert issued.raw.startswith(issued.token.display_prefix)


def test_me_shows_account_user_role_and_scopes(account, admin_user):
    issued = issue_token(account, admin_user, "me")
    body = bearer(issued.raw).get("/api/v2/auth/me").json()
    assert body["data"]["account"]["slug"] == account.slug
    assert body["data"]["user"]["email"] == admin_user.email
    assert body["data"]["role"] == "admin"
    assert set(body["data"]["scopes"]) == {"read", "write", "review", "manage"}
    assert body["data"]["token"]["prefix"] == issued.token.display_prefix


def test_wrong_secret_with_a_real_prefix_is_401(account, admin_user):
    issued = issue_token(account, admin_user, "x")
    forged = issued.token.display_prefix + "A" * 43
    assert bearer(forged).get("/api/v2/auth/me").status_code == 401


def test_expired_token_is_401(account, admin_user):
    issued = issue_token(account, admin_user, "short", expires_at=timezone.now() + timedelta(minutes=1))
    ApiToken.objects.filter(pk=issued.token.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    response = bearer(issued.raw).get("/api/v2/auth/me")
    assert response.status_code == 401 and "expired" in response.json()["message"]


def test_expiry_in_the_past_is_refused(api):
    past = (timezone.now() - timedelta(days=1)).isoformat()
    response = api().post("/api/v2/auth/tokens", {"name": "old", "expires_at": past}, format="json")
    assert response.status_code == 422


def test_revoked_token_is_401(api, account):
    client = api()
    other = api("marketer")
    assert client.delete(f"/api/v2/auth/tokens/{other.token.uid}").status_code == 200
    response = other.get("/api/v2/auth/me")
    assert response.status_code == 401 and "revoked" in response.json()["message"]


@pytest.mark.parametrize(
    ("allowed", "remote", "ok"),
    [
        (["203.0.113.7"], "203.0.113.7", True),
        (["203.0.113.7"], "203.0.113.8", False),
        (["198.51.100.0/24"], "198.51.100.200", True),
        (["198.51.100.0/24"], "198.51.101.1", False),
        (["2001:db8::/32"], "2001:db8::1", True),
        (["10.0.0.0/8"], "::ffff:10.1.2.3", True),
        ([], "192.0.2.1", True),
    ],
)
def test_ip_allow_list_with_cidrs(account, admin_user, allowed, remote, ok):
    issued = issue_token(account, admin_user, "ips", allowed_ips=allowed)
    response = bearer(issued.raw, REMOTE_ADDR=remote).get("/api/v2/auth/me")
    assert (response.status_code == 200) is ok
    if not ok:
        assert response.status_code == 403


def test_forwarded_for_is_ignored_unless_trusted(account, admin_user, settings):
    issued = issue_token(account, admin_user, "proxy", allowed_ips=["203.0.113.7"])
    client = bearer(issued.raw, REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR="203.0.113.7")
    assert client.get("/api/v2/auth/me").status_code == 403
    settings.TRUST_PROXY_HEADERS = True
    assert client.get("/api/v2/auth/me").status_code == 200


def test_bad_allow_list_entry_is_422(api):
    response = api().post("/api/v2/auth/tokens", {"name": "x", "allowed_ips": ["not-an-ip"]}, format="json")
    assert response.status_code == 422
    assert "not-an-ip" in response.json()["errors"]["allowed_ips"][0]


def test_token_is_shown_once_on_create(api):
    client = api()
    created = client.post("/api/v2/auth/tokens", {"name": "deploy", "read_only": True}, format="json").json()
    assert created["data"]["token"].startswith("cp_")
    listed = client.get("/api/v2/auth/tokens").json()["data"]
    assert all("token" not in row for row in listed)
    new_client = bearer(created["data"]["token"])
    assert new_client.get("/api/v2/auth/me").json()["data"]["scopes"] == ["read"]


def test_non_admins_see_only_their_own_tokens(api):
    admin, marketer = api(), api("marketer")
    marketer_ids = {row["id"] for row in marketer.get("/api/v2/auth/tokens").json()["data"]}
    assert marketer_ids == {str(marketer.token.uid)}
    assert marketer.delete(f"/api/v2/auth/tokens/{admin.token.uid}").status_code == 404
    all_ids = {row["id"] for row in admin.get("/api/v2/auth/tokens").json()["data"]}
    assert str(marketer.token.uid) in all_ids


def test_access_token_query_parameter(account, admin_user):
    issued = issue_token(account, admin_user, "query")
    response = APIClient().get(f"/api/v2/auth/me?access_token={issued.raw}")
    assert response.status_code == 200


def test_access_token_is_redacted_from_log_lines():
    record = logging.LogRecord(
        "django.server",
        logging.INFO,
        __file__,
        1,
        '"%s" %s %s',
        ("GET /api/v2/auth/me?access_token=cp_ab_secret HTTP/1.1", 200, 10),
        None,
    )
    RedactAccessTokenFilter().filter(record)
    line = record.getMessage()
    assert "cp_ab_secret" not in line and "access_token=[REDACTED]" in line


def test_last_used_is_recorded(account, admin_user):
    issued = issue_token(account, admin_user, "used")
    bearer(issued.raw, REMOTE_ADDR="192.0.2.10").get("/api/v2/auth/me")
    issued.token.refresh_from_db()
    assert issued.token.last_used_at is not None and issued.token.last_used_ip == "192.0.2.10"
