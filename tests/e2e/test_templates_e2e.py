"""In Chromium: a marketer writes a template, sees the lint underline a double space, fixes it and submits;
a compliance user approves it from the review queue."""

import pytest
from playwright.sync_api import expect

from campaigns.models import Template, TemplateStatus
from tests.campaigns.template_factories import make_sender, make_template

pytestmark = pytest.mark.browser


def test_marketer_fixes_a_double_space_and_compliance_approves(page, login, marketer, compliance_user, account):
    make_sender(account, "ACMEIN")
    login(marketer)
    page.get_by_role("link", name="Templates", exact=True).click()
    page.get_by_role("button", name="New template").click()
    page.get_by_label("Name").first.fill("Order ready")
    page.get_by_label("Sender").select_option(label="ACMEIN (IN)")
    page.get_by_label("Type").select_option("SI")
    body = page.get_by_label("Body")
    body.fill("Hello  {{name}}, your Acme order is ready.")

    mark = page.get_by_test_id("lint-mark")
    expect(mark).to_have_count(1)
    expect(mark).to_have_class("lint-error")
    expect(mark).to_have_attribute("title", "Two or more consecutive spaces at position 6.")
    expect(page.get_by_test_id("lint-findings")).to_contain_text("consecutive spaces")
    submit = page.locator("#template-submit")
    expect(submit).to_be_disabled()

    body.fill("Hello {{name}}, your Acme order is ready.")
    expect(page.get_by_test_id("lint-mark")).to_have_count(0)
    expect(page.get_by_test_id("lint-variables")).to_contain_text("name")
    expect(page.get_by_test_id("lint-summary")).to_contain_text("GSM-7")
    expect(submit).to_be_enabled()
    submit.click()
    expect(page.get_by_test_id("status")).to_have_text("Pending")

    page.context.clear_cookies()
    login(compliance_user)
    page.get_by_role("link", name="Review queue").click()
    row = page.get_by_test_id("pending-template").filter(has_text="Order ready")
    row.get_by_role("button", name="Approve", exact=True).click()
    expect(page.get_by_test_id("pending-template")).to_have_count(0)
    template = Template.objects.get(name="Order ready")
    assert (template.status, template.reviewed_by) == (TemplateStatus.APPROVED, compliance_user)
    page.goto(f"/campaigns/templates/{template.uid}/")
    expect(page.get_by_test_id("status")).to_have_text("Approved")
    expect(page.get_by_test_id("audit-trail")).to_contain_text("template.approved")


def test_template_list_filters_as_you_type(page, login, marketer, account):
    sender = make_sender(account, "ACMEIN")
    make_template(account, sender, name="Order ready", body="Your Acme order {{id}} is ready.")
    make_template(account, sender, name="Login code", body="Your Acme login code is {{code}}.")
    login(marketer)
    page.goto("/campaigns/templates/")
    expect(page.get_by_test_id("template-table").get_by_role("row")).to_have_count(3)
    page.get_by_label("Search").fill("login")
    expect(page.get_by_test_id("template-table").get_by_role("row")).to_have_count(2)
    expect(page.get_by_test_id("template-table")).to_contain_text("Login code")
    page.get_by_label("Status").select_option("approved")
    expect(page.get_by_text("No templates match.")).to_be_visible()
