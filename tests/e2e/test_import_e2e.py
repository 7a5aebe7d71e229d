"""In Chromium: upload a workbook, check and change the mapping in the preview, import, see the counts."""

import pytest
from playwright.sync_api import expect

from contacts.models import Contact
from tests.contacts import import_files

pytestmark = pytest.mark.browser


def test_upload_map_preview_import_and_see_counts(page, login, marketer, account, tmp_path):
    workbook = import_files.xlsx_rows(
        tmp_path / "crm-export.xlsx",
        [
            ["Customer", "Mobile No.", "Internal code"],
            ["Asha Rao", 919876543210.0, "X1"],
            ["Bad Row", "12345", "X2"],
            ["Oliver Smith", "+44 7400 123456", "X3"],
        ],
    )
    login(marketer)
    page.get_by_role("link", name="Import").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Import contacts")
    page.get_by_label("Spreadsheet or text file").set_input_files(str(workbook))
    page.get_by_label("Tags to apply").fill("crm")
    page.get_by_role("button", name="Upload and map columns").click()

    preview = page.get_by_test_id("import-preview")
    expect(preview).to_contain_text("+919876543210")
    expect(preview.locator("td.cell-problem")).to_have_count(1)
    expect(preview.locator("td.cell-problem")).to_contain_text("too short")
    expect(page.get_by_label("Field for column Mobile No.")).to_have_value("phone")
    expect(page.get_by_label("Field for column Customer")).to_have_value("attribute")

    page.get_by_label("Field for column Customer").select_option("full_name")
    expect(preview).to_contain_text("→ Asha / Rao")
    page.get_by_label("Field for column Internal code").select_option("ignore")
    expect(page.get_by_label("Field for column Internal code")).to_have_value("ignore")
    page.get_by_role("button", name="Import", exact=True).click()

    status = page.get_by_test_id("import-status")
    expect(page.get_by_test_id("import-state")).to_have_text("Done")
    expect(status.get_by_test_id("count-read")).to_have_text("3")
    expect(status.get_by_test_id("count-created")).to_have_text("2")
    expect(status.get_by_test_id("count-failed")).to_have_text("1")
    expect(page.get_by_test_id("import-errors")).to_contain_text("12345")
    expect(page.get_by_role("link", name="CSV")).to_be_visible()

    asha = Contact.objects.get(account=account, phone="+919876543210")
    assert (asha.first_name, asha.last_name, asha.attributes) == ("Asha", "Rao", {})
    page.get_by_role("link", name="Import", exact=True).first.click()
    expect(page.get_by_test_id("import-history")).to_contain_text("crm-export.xlsx")
