"""In Chromium: a marketer runs the campaign wizard to the end and watches the campaign complete."""

from decimal import Decimal

import pytest
from playwright.sync_api import expect

from contacts.models import Contact, Tag, Unsubscriber
from tests.campaigns.sending_support import approved_sender, approved_template, prices, run_sweeps

pytestmark = pytest.mark.browser


def test_wizard_to_completed_campaign(page, login, marketer, account, settings):
    settings.SMS_SIMULATOR_DLR_DELAY_SECONDS = 0
    settings.SMS_INDIA_PROMOTIONAL_HOLD = False
    prices(IN="0.01")
    account.balance = Decimal("2")
    account.save()
    sender = approved_sender(account)
    template = approved_template(account, sender, "Hi {{name}}, Acme sale in {{city}} this weekend")
    vip = Tag.objects.create(account=account, name="vip")
    for n, (name, city) in enumerate([("Asha", "Pune"), ("Ravi", ""), ("Meera", "Goa")]):
        Contact.objects.create(
            account=account, phone=f"+91987654320{n}", first_name=name, attributes={"city": city} if city else {}
        ).tags.add(vip)
    Unsubscriber.objects.create(account=account, receiver="+919876543202", type="all")

    login(marketer)
    page.get_by_label("Main navigation").get_by_role("link", name="Campaigns", exact=True).click()
    page.get_by_role("button", name="New campaign").click()
    page.get_by_label("Name").fill("Weekend sale")
    page.get_by_label("Tags").select_option(["vip"])
    page.get_by_label("Sender").select_option(label=str(sender))
    page.get_by_label("Template").select_option(label=template.name)
    review = page.get_by_test_id("wizard-review")
    expect(review.get_by_label("Source of city")).to_be_visible()
    review.get_by_label("Source of name").fill("first_name")
    review.get_by_label("Source of city").fill("attributes.city")
    review.get_by_label("Default of city").fill("your city")
    review.get_by_label("Default of city").press("Tab")
    expect(page.get_by_test_id("sample-previews")).to_contain_text("Hi Ravi, Acme sale in your city this weekend")
    expect(page.get_by_test_id("recipient-count")).to_have_text("2")
    expect(page.get_by_test_id("suppressed-count")).to_contain_text("all: 1")
    expect(page.get_by_test_id("estimated-cost")).to_contain_text("0.02")

    page.get_by_label("Schedule for the start time").check()
    page.get_by_role("textbox", name="Start time").fill("2020-01-01T10:00")
    page.get_by_role("textbox", name="Start time").press("Tab")
    expect(page.get_by_test_id("schedule-error")).to_contain_text("is in the past")
    page.get_by_role("textbox", name="Start time").fill("")
    page.get_by_label("Send now").check()
    expect(page.get_by_test_id("schedule-summary")).to_contain_text("Sends as soon as you confirm")
    page.get_by_test_id("schedule-button").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Weekend sale")
    expect(page.get_by_text("“Weekend sale” is sending now.")).to_be_visible()
    state = page.get_by_test_id("campaign-state")
    for _ in range(30):
        run_sweeps(rounds=1)
        if state.inner_text() == "completed":
            break
        page.wait_for_timeout(700)
    expect(state).to_have_text("completed", timeout=5000)
    expect(page.get_by_test_id("count-delivered")).to_have_text("2")
    expect(page.get_by_test_id("delivery-rate")).to_have_text("100.0%")
