"""In Chromium: add pasted opt-outs, filter the list with HTMX, import a file, delete all with the typed text."""

import pytest
from playwright.sync_api import expect

from contacts.models.unsubscribers import Unsubscriber

pytestmark = pytest.mark.browser


def test_opt_out_pages(page, login, admin_user, account, tmp_path):
    login(admin_user)
    page.get_by_role("link", name="Unsubscribers").click()
    page.get_by_role("button", name="Add opt-outs").click()
    page.get_by_label("Numbers").fill("+91 98765 43210\n919876543211")
    page.get_by_label("Type").select_option("sender")
    page.get_by_label("Value").fill("ACMEBK")
    page.get_by_role("button", name="Add").click()
    table = page.get_by_test_id("unsubscriber-table")
    expect(table).to_contain_text("+919876543210")
    expect(table).to_contain_text("+919876543211")

    page.get_by_role("searchbox", name="Search").fill("09876543211")
    expect(table).not_to_contain_text("+919876543210")
    expect(table).to_contain_text("+919876543211")
    assert "q=09876543211" in page.url

    listing = tmp_path / "optouts.csv"
    listing.write_text("number,type,value\n9876543212,tag,vip\n12,,\n")
    page.goto("/contacts/unsubscribers/import/")
    page.get_by_label("File").set_input_files(str(listing))
    page.get_by_role("button", name="Import").click()
    expect(page.get_by_test_id("import-result")).to_contain_text("1 added")
    assert Unsubscriber.objects.filter(account=account).count() == 3

    page.goto("/contacts/unsubscribers/delete-all/")
    page.get_by_label("Type DELETE ALL to confirm").fill("delete")
    page.get_by_role("button", name="Delete all opt-outs").click()
    expect(page.locator(".field-error")).to_contain_text("DELETE ALL")
    assert Unsubscriber.objects.filter(account=account).count() == 3
    page.get_by_label("Type DELETE ALL to confirm").fill("DELETE ALL")
    page.get_by_role("button", name="Delete all opt-outs").click()
    expect(page.locator("#messages")).to_contain_text("All 3 opt-outs deleted")
    assert not Unsubscriber.objects.filter(account=account).exists()
