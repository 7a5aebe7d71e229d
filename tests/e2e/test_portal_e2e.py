"""In Chromium: log in, switch account, see the dashboard, create an API token and use it."""

import pytest
from playwright.sync_api import expect
from rest_framework.test import APIClient

from portal.accounts import add_member
from portal.roles import Role

pytestmark = pytest.mark.browser


def test_login_switch_account_and_create_token(page, login, admin_user, account, other_account):
    add_member(other_account, admin_user, Role.MARKETER)
    login(admin_user)
    expect(page.get_by_role("heading", level=1)).to_have_text(account.name)

    page.get_by_label("Account").select_option(label=other_account.name)
    page.get_by_role("button", name="Switch").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(other_account.name)
    expect(page.locator(".role-badge")).to_have_text("marketer")
    expect(page.get_by_test_id("balance-card")).to_be_visible()

    page.get_by_role("link", name="API tokens").click()
    page.get_by_label("Name").fill("Browser token")
    page.get_by_role("button", name="Create token").click()
    raw = page.locator("#new-token-value").inner_text()
    assert raw.startswith("cp_")
    expect(page.get_by_test_id("token-table")).to_contain_text("Browser token")

    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    body = client.get("/api/v2/auth/me").json()
    assert body["data"]["account"]["slug"] == other_account.slug
