"""Spending caps set by account admins: /account/caps, token caps on /auth/tokens, the settings page, admin."""

from decimal import Decimal

import pytest
from django.contrib.admin import site
from django.test import RequestFactory

from portal.models import Account, AuditEvent

pytestmark = pytest.mark.django_db


def test_any_role_reads_the_accounts_caps_with_usage_and_reset(api, account):
    account.daily_message_cap = 100
    account.save()
    response = api("viewer").get("/api/v2/account/caps")
    assert response.status_code == 200
    data = response.json()["data"]
    assert data["daily_message_cap"]["cap"] == 100 and data["daily_message_cap"]["used"] == 0
    assert data["monthly_spend_cap"] == {
        "cap": None,
        "used": "0",
        "resets_at": data["monthly_spend_cap"]["resets_at"],
    }
    assert data["daily_message_cap"]["resets_at"].endswith("+05:30")  # midnight in the account's zone
    assert (data["currency"], data["time_zone"]) == ("EUR", "Asia/Kolkata")


def test_admin_sets_caps_and_the_change_is_audited(api, account):
    response = api().patch(
        "/api/v2/account/caps", {"daily_message_cap": 500, "monthly_spend_cap": "250.50"}, format="json"
    )
    assert response.status_code == 200, response.json()
    assert response.json()["data"]["monthly_spend_cap"]["cap"] == "250.5"
    account.refresh_from_db()
    assert (account.daily_message_cap, account.monthly_spend_cap) == (500, Decimal("250.5"))
    event = AuditEvent.objects.get(verb="account.caps_changed")
    assert event.before["daily_message_cap"] is None and event.after["daily_message_cap"] == 500
    cleared = api().patch("/api/v2/account/caps", {"daily_message_cap": None}, format="json")
    assert cleared.json()["data"]["daily_message_cap"]["cap"] is None


def test_negative_or_malformed_caps_are_422_naming_the_field(api, account):
    response = api().patch("/api/v2/account/caps", {"daily_message_cap": -1, "daily_spend_cap": "lots"}, format="json")
    assert response.status_code == 422
    assert set(response.json()["errors"]) == {"daily_message_cap", "daily_spend_cap"}
    account.refresh_from_db()
    assert account.daily_message_cap is None
    assert not AuditEvent.objects.filter(verb="account.caps_changed").exists()


@pytest.mark.parametrize("role", ["marketer", "compliance", "viewer"])
def test_only_admins_change_account_caps(api, account, role):
    response = api(role).patch("/api/v2/account/caps", {"daily_message_cap": 1_000_000}, format="json")
    assert response.status_code == 403
    account.refresh_from_db()
    assert account.daily_message_cap is None


def test_token_caps_on_create_and_patch_by_admins_only(api, account):
    admin = api()
    created = admin.post("/api/v2/auth/tokens", {"name": "CRM", "daily_spend_cap": "5"}, format="json")
    assert created.status_code == 201, created.json()
    token_id = created.json()["data"]["id"]
    assert created.json()["data"]["daily_spend_cap"] == "5.0000"
    assert AuditEvent.objects.get(verb="token.created", object_id=token_id).after["daily_spend_cap"] == "5"

    patched = admin.patch(f"/api/v2/auth/tokens/{token_id}", {"daily_message_cap": 50}, format="json")
    assert patched.status_code == 200, patched.json()
    assert patched.json()["data"]["daily_message_cap"] == 50
    assert AuditEvent.objects.filter(verb="token.caps_changed", object_id=token_id).count() == 1

    negative = admin.patch(f"/api/v2/auth/tokens/{token_id}", {"daily_message_cap": -5}, format="json")
    assert negative.status_code == 422 and "daily_message_cap" in negative.json()["errors"]


def test_a_marketer_cannot_lift_or_set_token_caps(api, account):
    marketer = api("marketer")
    marketer.token.daily_message_cap = 10
    marketer.token.save()
    lift = marketer.patch(f"/api/v2/auth/tokens/{marketer.token.uid}", {"daily_message_cap": None}, format="json")
    assert lift.status_code == 403
    marketer.token.refresh_from_db()
    assert marketer.token.daily_message_cap == 10
    smuggled = marketer.post("/api/v2/auth/tokens", {"name": "mine", "daily_message_cap": 5}, format="json")
    assert smuggled.status_code == 403
    assert "Only account admins can set spending caps." in smuggled.json()["message"]
    plain = marketer.post("/api/v2/auth/tokens", {"name": "mine"}, format="json")
    assert plain.status_code == 201 and plain.json()["data"]["daily_message_cap"] is None


def test_another_accounts_token_is_404(api, other_account):
    foreign = api("admin", account_obj=other_account).token
    response = api().patch(f"/api/v2/auth/tokens/{foreign.uid}", {"daily_message_cap": 1}, format="json")
    assert response.status_code == 404


def test_settings_page_saves_caps_for_admins_with_validation(client_for, admin_user, marketer, account):
    client = client_for(admin_user)
    page = client.get("/settings/account/").content.decode()
    assert "Spending caps" in page and 'name="daily_message_cap"' in page

    bad = client.post("/settings/account/", {"section": "caps", "daily_message_cap": "-3", "daily_spend_cap": "-1"})
    assert bad.status_code == 422
    html = bad.content.decode()
    assert "Ensure this value is greater than or equal to 0." in html
    account.refresh_from_db()
    assert account.daily_message_cap is None

    good = client.post("/settings/account/", {"section": "caps", "daily_message_cap": "300", "monthly_spend_cap": "99"})
    assert good.status_code == 302
    account.refresh_from_db()
    assert (account.daily_message_cap, account.monthly_spend_cap, account.daily_spend_cap) == (300, Decimal("99"), None)
    assert AuditEvent.objects.filter(verb="account.caps_changed", actor=admin_user).count() == 1
    assert account.name == "Acme Retail"  # the other settings are untouched

    other = client_for(marketer)
    assert "no cap" in other.get("/settings/account/").content.decode()
    assert other.post("/settings/account/", {"section": "caps", "daily_message_cap": ""}).status_code == 403
    account.refresh_from_db()
    assert account.daily_message_cap == 300


def test_platform_staff_edit_caps_in_the_admin_audited(client_for, staff_user, account):
    staff_user.is_superuser = True
    staff_user.save()
    client = client_for(staff_user)
    changelist = client.get("/admin/portal/account/").content.decode()
    assert "column-daily_message_cap" in changelist
    form = client.get(f"/admin/portal/account/{account.pk}/change/")
    assert form.status_code == 200 and 'name="monthly_spend_cap"' in form.content.decode()
    admin_view = site._registry[Account]
    before = Account.objects.get(pk=account.pk)
    before.daily_spend_cap = Decimal("12")
    request = RequestFactory().post("/")
    request.user = staff_user
    admin_view.save_model(request, before, form=None, change=True)
    event = AuditEvent.objects.get(verb="account.caps_changed")
    assert (event.before["daily_spend_cap"], event.after["daily_spend_cap"]) == (None, "12")
