"""In Chromium: a marketer opens the Verify page, sends a test code to their phone and checks it."""

from decimal import Decimal

import pytest
from playwright.sync_api import expect

from campaigns.models import Verification, VerifySettings
from campaigns.sending import work
from tests.campaigns.sending_support import approved_sender, approved_template, prices
from tests.campaigns.test_verify_api import NUMBER, sent_code

pytestmark = pytest.mark.browser


def test_marketer_sends_a_test_code_and_checks_it(page, login, marketer, account, settings, monkeypatch):
    # the code's SMS stays in the outbox, so its sealed text can be read as the phone would receive it (once a
    # message has left, only the masked body is kept)
    monkeypatch.setattr(work, "dispatch_soon", lambda: None)
    prices(service="ENT", IN="0.01")
    account.balance = Decimal("2")
    account.save()
    sender = approved_sender(account, "ACMEOT", service="ENT")
    template = approved_template(account, sender, "{{code}} is your Acme code.", template_type="SI", name="otp")
    VerifySettings.objects.create(account=account, sender=sender, template=template)

    login(marketer)
    page.get_by_label("Main navigation").get_by_role("link", name="Verify", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Verify")
    page.get_by_label("Your number").fill(NUMBER)
    page.get_by_role("button", name="Send a test code to me").click()
    expect(page.get_by_test_id("test-sent")).to_contain_text(f"Code sent to {NUMBER}")

    verification = Verification.objects.get(account=account)
    code = sent_code(str(verification.uid))
    expect(page.get_by_test_id("test-sent")).to_contain_text(str(verification.uid))
    page.get_by_label("Code you received").fill(code)
    page.get_by_role("button", name="Check the code").click()
    expect(page.get_by_test_id("check-outcome")).to_contain_text("success")
    expect(page.get_by_test_id("check-form")).to_have_count(0)
    assert code not in page.content()
    verification.refresh_from_db()
    assert verification.status == "verified"
