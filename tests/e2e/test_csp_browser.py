"""In Chromium, under the enforced Content-Security-Policy: the login (with its two-factor code step), the
dashboard, the contacts list, the campaign wizard, the two-factor page and Swagger UI raise no CSP violation
(Redoc only the refused outside web fonts and logo), and what moved out of inline handlers into static/js/app.js
still works (select all, confirm before a submit)."""

import time

import pytest
from django_otp.oath import TOTP
from playwright.sync_api import expect

from contacts.models import Contact, Tag
from portal.two_factor import devices
from tests.campaigns.sending_support import approved_sender, approved_template, prices

pytestmark = pytest.mark.browser

RECORD_VIOLATIONS = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (event) => {
  window.__cspViolations.push(`${event.violatedDirective} blocked ${event.blockedURI} on ${event.documentURI}`);
});
"""
REDOC_OUTSIDE = ("https://fonts.googleapis.com/", "https://cdn.redoc.ly/")  # Redoc's web fonts and footer logo


@pytest.fixture
def violations(page):
    """CSP violations of every page the test opens: `securitypolicyviolation` events and console errors."""
    found: list[str] = []
    page.add_init_script(RECORD_VIOLATIONS)
    page.on(
        "console",
        lambda message: (
            found.append(message.text)
            if message.type == "error" and "Content Security Policy" in message.text
            else None
        ),
    )

    def collect() -> list[str]:
        found.extend(page.evaluate("window.__cspViolations || []"))
        page.evaluate("window.__cspViolations = []")
        taken = list(found)
        found.clear()
        return taken

    return collect


def current_code(device) -> str:
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.time = time.time() + device.step  # the next step: the enrolment used the current one
    return f"{totp.token():0{device.digits}d}"


def test_main_pages_raise_no_csp_violation(page, violations, admin_user, account, settings):
    settings.SMS_INDIA_PROMOTIONAL_HOLD = False
    prices(IN="0.01")
    sender = approved_sender(account)
    approved_template(account, sender, "Acme sale this weekend, reply STOP to opt out")
    vip = Tag.objects.create(account=account, name="vip")
    for n in range(3):
        Contact.objects.create(account=account, phone=f"+91987654321{n}", first_name=f"C{n}").tags.add(vip)
    pending = devices.pending_app(admin_user)
    first = TOTP(pending.bin_key, pending.step, pending.t0, pending.digits, pending.drift)
    first.time = time.time()
    device, _ = devices.confirm_enrolment(admin_user, f"{first.token():06d}", actor=admin_user)

    page.goto("/accounts/login/")
    page.get_by_label("E-mail or username").fill(admin_user.username)
    page.get_by_label("Password").fill("correct-horse-9")
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url("**/accounts/login/code/**")
    assert violations() == []
    page.get_by_label("Authentication code").fill(current_code(device))
    page.get_by_role("button", name="Verify").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(account.name)
    assert violations() == []

    page.goto("/contacts/")
    page.get_by_label("Select all on this page").check()
    expect(page.locator(".row-check:checked")).to_have_count(3)
    assert violations() == []

    page.goto("/campaigns/new/")
    page.get_by_label("Name").fill("CSP check")
    page.get_by_label("Tags").select_option(["vip"])
    page.get_by_label("Sender").select_option(label=str(sender))
    page.get_by_label("Template").select_option(label="Offer")
    expect(page.get_by_test_id("recipient-count")).to_have_text("3")
    assert violations() == []

    page.goto("/settings/two-factor/")
    expect(page.get_by_test_id("backup-codes-left")).to_have_text("10")
    page.goto("/developers/tokens/")
    page.get_by_label("Name").fill("CSP token")
    page.get_by_role("button", name="Create token").click()
    revoke = page.get_by_test_id("token-table").get_by_role("button", name="Revoke")
    page.once("dialog", lambda dialog: dialog.dismiss())
    revoke.click()
    expect(page.get_by_test_id("token-table")).to_contain_text("active")
    page.once("dialog", lambda dialog: dialog.accept())
    revoke.click()
    expect(page.get_by_test_id("token-table")).to_contain_text("revoked")
    assert violations() == []

    page.goto("/api/v2/docs/")
    expect(page.locator(".swagger-ui .opblock").first).to_be_visible()
    assert violations() == []

    page.goto("/api/v2/redoc/")
    expect(page.get_by_role("menuitem", name="contacts", exact=True)).to_be_visible(timeout=60_000)
    assert all(any(outside in found for outside in REDOC_OUTSIDE) for found in violations())


def test_the_enrolment_qr_code_is_drawn_under_the_policy(page, violations, login, viewer):
    login(viewer)
    page.goto("/settings/two-factor/")
    qr = page.get_by_test_id("two-factor-qr")
    expect(qr).to_be_visible()
    assert qr.evaluate("image => image.complete && image.naturalWidth > 0")
    assert violations() == []
