"""In Chromium: delete every opt-out, then restore the clean-up with the in-place HTMX confirmation."""

import pytest
from playwright.sync_api import expect

from contacts.models.unsubscribers import Unsubscriber
from contacts.services_unsubscribers import add_unsubscriber

pytestmark = pytest.mark.browser


def test_restore_a_clean_up_from_the_unsubscribers_page(page, login, admin_user, account):
    add_unsubscriber(account, admin_user, receiver="+919876543210")
    add_unsubscriber(account, admin_user, receiver="+919876543211", type="tag", value="vip")
    login(admin_user)
    page.goto("/contacts/unsubscribers/delete-all/")
    page.get_by_label("Type DELETE ALL to confirm").fill("DELETE ALL")
    page.get_by_role("button", name="Delete all opt-outs").click()
    expect(page.locator("#messages")).to_contain_text("All 2 opt-outs deleted")
    batches = page.get_by_test_id("cleanup-batches")
    expect(batches).to_contain_text("restorable")

    page.get_by_role("button", name="Restore…").click()
    confirm = page.get_by_test_id("cleanup-restore-confirm")
    expect(confirm).to_contain_text("Put back the 2 opt-outs")
    assert "/restore/" not in page.url  # the confirmation came in place, the page stayed
    assert not Unsubscriber.objects.filter(account=account).exists()
    confirm.get_by_role("button", name="Restore 2").click()
    expect(page.locator("#messages")).to_contain_text("Restored 2 opt-outs.")
    expect(page.get_by_test_id("unsubscriber-table")).to_contain_text("+919876543211")
    expect(batches).to_contain_text("restored")
    assert Unsubscriber.objects.filter(account=account).count() == 2
