"""The Verify page: who sees and does what, settings saved and refused, a test code sent and checked, paused
prefixes lifted, numbers masked for mobile_secure, and never a code in a page."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from campaigns.models import Verification, VerifyPrefixPause, VerifySettings
from campaigns.verify.service import VerifyRequest, start
from portal.models import AuditEvent
from tests.campaigns.sending_support import approved_sender, approved_template, prices
from tests.campaigns.test_verify_api import NUMBER, sent_code

pytestmark = pytest.mark.django_db

PAGE = reverse("campaigns:verify")
HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture(autouse=True)
def config(settings, account):
    settings.SMS_SIMULATOR_DLR_DELAY_SECONDS = 0
    prices(service="ENT", IN="0.01", GB="0.04")
    account.balance = Decimal("5")
    account.save()
    sender = approved_sender(account, "ACMEOT", service="ENT")
    template = approved_template(
        account, sender, "{{code}} is your Acme code. Valid {{minutes}} minutes.", template_type="SI", name="otp"
    )
    # 8 digits: a code cannot turn up by chance in a page's ids and dates
    return VerifySettings.objects.create(account=account, sender=sender, template=template, code_length=8)


def settings_data(config, **changes) -> dict:
    data = {
        "sender": str(config.sender.uid),
        "template": str(config.template.uid),
        "text": "{{code}} is your code.",
        "code_length": "6",
        "expiry_seconds": "300",
        "channels": "sms_flash",
        "fallback_seconds": "30",
        "allowed_countries": "in, gb",
        "on_repeat": "refuse",
        "sends_per_number_per_hour": "3",
        "sends_per_account_per_minute": "100",
        "prefix_limit": "15",
    }
    return {**data, **changes}


def pause(account) -> VerifyPrefixPause:
    return VerifyPrefixPause.objects.create(
        account=account, prefix="+919876", until=timezone.now() + timedelta(hours=1), sends=25
    )


@pytest.mark.parametrize("role", ["admin_user", "marketer", "viewer"])
def test_the_page_renders_for_every_role_with_what_the_role_may_do(request, client_for, account, role):
    start(account, VerifyRequest(to=NUMBER, reference="signup-7"))
    pause(account)
    user = request.getfixturevalue(role)
    response = client_for(user).get(PAGE)
    assert response.status_code == 200
    content = response.content.decode()
    for part in ("verify-summary", "verify-table", "signup-7", "SMS: queued", "+919876…", "Last 7 days"):
        assert part in content
    assert ('data-testid="send-form"' in content) == (role != "viewer")
    assert ('data-testid="verify-settings-form"' in content) == (role == "admin_user")
    assert (">Lift</button>" in content) == (role == "admin_user")
    assert f'href="{PAGE}"' in content  # the menu entry


def test_a_viewer_can_neither_send_a_test_code_nor_change_settings(client_for, viewer, marketer, config):
    client = client_for(viewer)
    assert client.post(reverse("campaigns:verify_test_send"), {"number": NUMBER}).status_code == 403
    assert client.post(reverse("campaigns:verify_settings"), settings_data(config)).status_code == 403
    assert client_for(marketer).post(reverse("campaigns:verify_settings"), settings_data(config)).status_code == 403
    assert Verification.objects.count() == 0
    config.refresh_from_db()
    assert (config.code_length, config.on_repeat) == (8, "reuse")


def test_an_admin_saves_the_settings_audited(client_for, admin_user, account, config):
    response = client_for(admin_user).post(reverse("campaigns:verify_settings"), settings_data(config))
    assert response.status_code == 302
    config.refresh_from_db()
    assert config.channels == [{"channel": "sms"}, {"channel": "flash"}]
    assert (config.allowed_countries, config.code_length, config.on_repeat) == (["IN", "GB"], 6, "refuse")
    assert (config.text, config.prefix_limit, config.fallback_seconds) == ("{{code}} is your code.", 15, 30)
    event = AuditEvent.objects.get(account=account, verb="verify.settings_changed")
    assert (event.before["code_length"], event.after["code_length"]) == (8, 6)
    assert event.after["allowed_countries"] == ["IN", "GB"] and event.after["sender"] == "ACMEOT"


@pytest.mark.parametrize(
    ("field", "value", "error"),
    [
        ("allowed_countries", "IN, XX", "Not ISO country codes: XX"),
        ("code_length", "3", "greater than or equal to 4"),
        ("text", "Your code is ready.", "must contain {{code}}"),
    ],
)
def test_bad_settings_re_render_with_the_field_error_and_save_nothing(
    client_for, admin_user, account, config, field, value, error
):
    response = client_for(admin_user).post(
        reverse("campaigns:verify_settings"), settings_data(config, **{field: value})
    )
    assert response.status_code == 422
    assert error in response.content.decode()
    assert f'id="id_{field}_error"' in response.content.decode()
    config.refresh_from_db()
    assert (config.allowed_countries, config.code_length, config.on_repeat) == ([], 8, "reuse")
    assert not AuditEvent.objects.filter(account=account, verb="verify.settings_changed").exists()


def test_a_test_code_is_sent_then_checked_without_the_code_in_any_page(client_for, marketer):
    client = client_for(marketer)
    sent = client.post(reverse("campaigns:verify_test_send"), {"number": NUMBER}, **HTMX)
    assert sent.status_code == 200
    verification = Verification.objects.get()
    assert (verification.to, verification.reference) == (NUMBER, "Verify page test")
    code = sent_code(str(verification.uid))
    assert f"Code sent to {NUMBER} (request id <code>{verification.uid}</code>)" in sent.content.decode()
    assert "<html" not in sent.content.decode()  # the panel only

    wrong = "0" * 8 if code != "0" * 8 else "1" * 8
    retry = client.post(
        reverse("campaigns:verify_test_check"), {"verification": verification.uid, "code": wrong}, **HTMX
    )
    assert "invalid" in retry.content.decode() and 'data-testid="check-form"' in retry.content.decode()
    checked = client.post(
        reverse("campaigns:verify_test_check"), {"verification": verification.uid, "code": code}, **HTMX
    )
    assert "<strong>success</strong>" in checked.content.decode()
    assert 'data-testid="check-form"' not in checked.content.decode()
    verification.refresh_from_db()
    assert verification.status == "verified"
    page = client.get(PAGE)
    for response in (sent, retry, checked, page):
        assert code not in response.content.decode()


def test_without_htmx_the_test_forms_answer_the_whole_page(client_for, admin_user):
    client = client_for(admin_user)
    sent = client.post(reverse("campaigns:verify_test_send"), {"number": NUMBER})
    assert sent.status_code == 200
    content = sent.content.decode()
    assert "<html" in content and "Code sent to" in content and 'data-testid="verify-table"' in content
    uid = Verification.objects.get().uid
    checked = client.post(reverse("campaigns:verify_test_check"), {"verification": uid, "code": "12"})
    assert checked.status_code == 422
    assert "Type the 4 to 10 digits" in checked.content.decode()
    assert 'value="12"' not in checked.content.decode()


def test_a_refused_test_code_shows_the_reason_next_to_the_number(client_for, marketer):
    response = client_for(marketer).post(reverse("campaigns:verify_test_send"), {"number": "+447400123456"}, **HTMX)
    assert response.status_code == 200
    content = response.content.decode()
    assert 'id="id_number_error"' in content and "Verify may not send to GB" in content
    assert Verification.objects.count() == 0


def test_a_marketer_cannot_lift_a_pause_an_admin_can_and_another_accounts_is_a_404(
    client_for, marketer, admin_user, account, other_account
):
    paused = pause(account)
    lift = reverse("campaigns:verify_prefix_lift", args=[paused.uid])
    assert client_for(marketer).post(lift).status_code == 403
    assert VerifyPrefixPause.objects.filter(pk=paused.pk).exists()
    client = client_for(admin_user)
    foreign = pause(other_account)
    assert client.post(reverse("campaigns:verify_prefix_lift", args=[foreign.uid])).status_code == 404
    assert VerifyPrefixPause.objects.filter(pk=foreign.pk).exists()
    assert client.post(lift).status_code == 302
    assert VerifyPrefixPause.objects.get(pk=paused.pk).until <= timezone.now()  # ended: no longer listed
    event = AuditEvent.objects.get(account=account, verb="verify.prefix_lifted")
    assert (event.actor, event.before["prefix"]) == (admin_user, "+919876")


def test_mobile_secure_masks_the_numbers(client_for, marketer, account):
    account.mobile_secure = True
    account.save()
    start(account, VerifyRequest(to="+919876512399"))
    client = client_for(marketer)
    sent = client.post(reverse("campaigns:verify_test_send"), {"number": NUMBER}, **HTMX).content.decode()
    assert "Code sent to +91987651XXXX" in sent and NUMBER not in sent
    page = client.get(PAGE).content.decode()
    assert page.count("+91987651XXXX") >= 2
    assert NUMBER not in page and "+919876512399" not in page


def test_the_table_filters_by_status_and_number_newest_first(client_for, viewer, account):
    first = start(account, VerifyRequest(to=NUMBER, reference="first"))[0]
    start(account, VerifyRequest(to="+919876512399", reference="second"))
    Verification.objects.filter(pk=first.pk).update(status="verified")
    client = client_for(viewer)
    content = client.get(PAGE).content.decode()
    assert content.index("second") < content.index("first")
    rows = client.get(PAGE, {"status": "verified"}, **HTMX).content.decode()
    assert "first" in rows and "second" not in rows and "<html" not in rows
    by_number = client.get(PAGE, {"to": "512399"}, **HTMX).content.decode()
    assert "second" in by_number and "first" not in by_number
