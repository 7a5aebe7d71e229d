"""Two-factor login (portal/two_factor): enrolment with a code computed from the device's key, the login's code
step guarded like the password, single-use backup codes, turning it off, OTP_REQUIRED_FOR_STAFF for pages and
/admin/, the admin login going through the same steps, and the API left to its tokens."""

import base64
import re
import types

import pytest
from django.conf import settings
from django.contrib.admin import site as admin_site
from django.test import RequestFactory
from django_otp.oath import TOTP
from django_otp.plugins.otp_static.models import StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from portal import brute_force
from portal.models import AuditEvent, LoginLockout
from portal.two_factor import devices, login_steps
from portal.two_factor.admin_site import PortalAdminSite

pytestmark = pytest.mark.django_db

PASSWORD = "correct-horse-9"
ADDRESS = "203.0.113.7"
START = 1_900_000_200.0


@pytest.fixture
def clock(monkeypatch):
    """One clock for the brute-force windows, the code step's wait and the TOTP steps: `clock.move(seconds)`."""

    class Clock:
        now = START

        def move(self, seconds: float) -> None:
            self.now += seconds

    moment = Clock()
    monkeypatch.setattr(brute_force, "clock", lambda: moment.now)
    monkeypatch.setattr("django_otp.plugins.otp_totp.models.time", types.SimpleNamespace(time=lambda: moment.now))
    return moment


@pytest.fixture
def no_device_throttle(settings):
    """django-otp's own delay after a wrong code (1 s, doubling) is off, to try the right code at once."""
    settings.OTP_TOTP_THROTTLE_FACTOR = 0
    settings.OTP_STATIC_THROTTLE_FACTOR = 0


def code_for(device: TOTPDevice, clock) -> str:
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.time = clock.now
    return f"{totp.token():0{device.digits}d}"


def enrol(user, clock) -> tuple[TOTPDevice, list[str]]:
    device, codes = devices.confirm_enrolment(user, code_for(devices.pending_app(user), clock), actor=user)
    clock.move(30)
    return device, codes


def password_step(client, user, password=PASSWORD, url="/accounts/login/", **extra):
    return client.post(url, {"username": user.username, "password": password, **extra}, REMOTE_ADDR=ADDRESS)


def code_step(client, code, next_url="/"):
    return client.post("/accounts/login/code/", {"code": code, "next": next_url}, REMOTE_ADDR=ADDRESS)


def logged_in(client) -> bool:
    return "_auth_user_id" in client.session


# --- enrolment -------------------------------------------------------------------------------------------


def test_enrolment_shows_a_qr_code_and_the_secret_and_is_confirmed_by_a_code(
    client_for, admin_user, clock, no_device_throttle
):
    client = client_for(admin_user)
    page = client.get("/settings/two-factor/").content.decode()
    device = TOTPDevice.objects.get(user=admin_user, confirmed=False)
    qr = re.search(r'src="data:image/svg\+xml;base64,([^"]+)"', page).group(1)
    assert base64.b64decode(qr).lstrip().startswith((b"<?xml", b"<svg"))
    secret = re.search(r'data-testid="two-factor-secret">([^<]+)<', page).group(1).replace(" ", "")
    assert base64.b32decode(secret + "=" * (-len(secret) % 8)) == device.bin_key
    again = client.get("/settings/two-factor/").content.decode()
    assert re.search(r'data-testid="two-factor-secret">([^<]+)<', again).group(1).replace(" ", "") == secret

    wrong = client.post("/settings/two-factor/", {"action": "enrol", "code": "000000"})
    assert "That code is not valid" in wrong.content.decode()
    assert not devices.is_enabled(admin_user)

    confirmed = client.post("/settings/two-factor/", {"action": "enrol", "code": code_for(device, clock)})
    html = confirmed.content.decode()
    shown = re.findall(r"\b([a-z2-7]{4}-[a-z2-7]{4})\b", html.split('id="backup-code-list"')[1].split("</pre>")[0])
    assert len(shown) == devices.BACKUP_CODE_COUNT
    assert devices.is_enabled(admin_user) and client.session["otp_device_id"] == device.persistent_id
    assert AuditEvent.objects.filter(verb=devices.ENABLED_VERB, actor=admin_user).count() == 1
    after = client.get("/settings/two-factor/").content.decode()
    assert shown[0] not in after and 'data-testid="backup-codes-left">10<' in after
    assert "no-store" in confirmed["Cache-Control"]


def test_the_page_is_linked_from_the_menu_and_the_user_menu(client_for, viewer):
    page = client_for(viewer).get("/").content.decode()
    assert page.count('href="/settings/two-factor/"') == 2


# --- the login's code step -------------------------------------------------------------------------------


def test_a_user_with_two_factor_logs_in_with_password_then_code(client, admin_user, clock):
    device, _ = enrol(admin_user, clock)
    first = password_step(client, admin_user, next="/contacts/")
    assert first.status_code == 302 and first["Location"] == "/accounts/login/code/?next=%2Fcontacts%2F"
    assert not logged_in(client)
    assert client.get("/").status_code == 302
    page = client.get(first["Location"])
    assert page.status_code == 200 and "Authentication code" in page.content.decode()
    second = code_step(client, code_for(device, clock), next_url="/contacts/")
    assert second.status_code == 302 and second["Location"] == "/contacts/"
    assert logged_in(client) and client.session["otp_device_id"] == device.persistent_id
    assert client.get("/").status_code == 200


def test_a_user_without_two_factor_logs_in_with_the_password_alone(client, admin_user, clock):
    assert password_step(client, admin_user)["Location"] == "/"
    assert logged_in(client) and "otp_device_id" not in client.session


def test_the_code_step_needs_a_recent_password_step(client, admin_user, clock):
    device, _ = enrol(admin_user, clock)
    alone = client.get("/accounts/login/code/?next=/contacts/")
    assert alone.status_code == 302 and alone["Location"] == "/accounts/login/?next=%2Fcontacts%2F"
    password_step(client, admin_user)
    clock.move(login_steps.PENDING_SECONDS + 1)
    late = code_step(client, code_for(device, clock))
    assert late.status_code == 302 and late["Location"].startswith("/accounts/login/")
    assert not logged_in(client)


def test_the_code_step_refuses_a_foreign_next(client, admin_user, clock):
    device, _ = enrol(admin_user, clock)
    password_step(client, admin_user)
    assert code_step(client, code_for(device, clock), next_url="https://evil.example/")["Location"] == "/"


def test_wrong_codes_are_refused_and_lock_the_user_out_like_wrong_passwords(
    client, admin_user, clock, no_device_throttle
):
    enrol(admin_user, clock)
    limit = settings.BRUTE_FORCE_USER_FAILURES
    password_step(client, admin_user)
    for _ in range(limit // 2):
        wrong = code_step(client, "123456")
        assert wrong.status_code == 200 and "That code is not valid" in wrong.content.decode()
    # the right password again does not forget the wrong codes (they count until a code is right)
    assert password_step(client, admin_user).status_code == 302
    for _ in range(limit - limit // 2 - 1):
        assert code_step(client, "123456").status_code == 200
    locking = code_step(client, "123456")
    assert locking.status_code == 429 and "locked after too many failed passwords" in locking.content.decode()
    assert int(locking["Retry-After"]) == settings.BRUTE_FORCE_LOCKOUT_MINUTES * 60
    assert LoginLockout.objects.get(user=admin_user).failures == limit
    assert login_steps.PENDING_KEY not in client.session
    assert password_step(client, admin_user).status_code == 429
    assert not logged_in(client)


def test_a_right_code_forgets_the_failures(client, admin_user, clock, no_device_throttle):
    device, _ = enrol(admin_user, clock)
    password_step(client, admin_user)
    code_step(client, "123456")
    assert LoginLockout.objects.get(user=admin_user).failures == 1
    assert code_step(client, code_for(device, clock)).status_code == 302
    assert not LoginLockout.objects.filter(user=admin_user).exists()


def test_wrong_codes_use_up_the_address_budget(client, admin_user, marketer, clock, settings):
    settings.BRUTE_FORCE_USER_FAILURES = 0
    device, _ = enrol(admin_user, clock)
    password_step(client, admin_user)
    for _ in range(settings.BRUTE_FORCE_ADDRESS_LIMIT):
        assert code_step(client, "123456").status_code == 200
    refused = code_step(client, code_for(device, clock))
    assert refused.status_code == 429 and "Too many failed attempts from your address" in refused.content.decode()
    assert not logged_in(client)
    assert password_step(client, marketer).status_code == 429


def test_a_backup_code_logs_in_once(client, admin_user, clock):
    _, codes = enrol(admin_user, clock)
    password_step(client, admin_user)
    assert code_step(client, codes[0].upper().replace("-", " ")).status_code == 302
    assert logged_in(client) and devices.backup_codes_left(admin_user) == devices.BACKUP_CODE_COUNT - 1
    client.logout()
    password_step(client, admin_user)
    assert "That code is not valid" in code_step(client, codes[0]).content.decode()
    assert not logged_in(client)


def test_backup_codes_always_hold_a_letter():
    assert all(not devices._backup_code().isdigit() for _ in range(200))


# --- turning it off, new backup codes --------------------------------------------------------------------


def test_turning_two_factor_off_needs_the_password_and_a_code(
    client, client_for, admin_user, clock, no_device_throttle
):
    device, _ = enrol(admin_user, clock)
    page = client_for(admin_user)
    bad_password = page.post(
        "/settings/two-factor/",
        {"action": "disable", "disable-password": "wrong", "disable-code": code_for(device, clock)},
        REMOTE_ADDR=ADDRESS,
    )
    assert "Your password is not right." in bad_password.content.decode() and devices.is_enabled(admin_user)
    assert LoginLockout.objects.get(user=admin_user).failures == 1
    bad_code = page.post(
        "/settings/two-factor/", {"action": "disable", "disable-password": PASSWORD, "disable-code": "000000"}
    )
    assert "That code is not valid" in bad_code.content.decode() and devices.is_enabled(admin_user)
    clock.move(30)
    done = page.post(
        "/settings/two-factor/",
        {"action": "disable", "disable-password": PASSWORD, "disable-code": code_for(device, clock)},
    )
    assert done.status_code == 302 and not devices.is_enabled(admin_user)
    assert not StaticToken.objects.filter(device__user=admin_user).exists()
    assert AuditEvent.objects.filter(verb=devices.DISABLED_VERB).count() == 1
    page.logout()
    assert password_step(client, admin_user)["Location"] == "/" and logged_in(client)


def test_new_backup_codes_replace_the_old_ones(client, client_for, admin_user, clock):
    _, old_codes = enrol(admin_user, clock)
    page = client_for(admin_user)
    response = page.post(
        "/settings/two-factor/",
        {"action": "backup_codes", "backup_codes-password": PASSWORD, "backup_codes-code": old_codes[0]},
    )
    assert 'data-testid="backup-codes"' in response.content.decode()
    assert devices.backup_codes_left(admin_user) == devices.BACKUP_CODE_COUNT
    assert devices.verify(admin_user, old_codes[1]) is None
    assert AuditEvent.objects.filter(verb=devices.BACKUP_CODES_VERB).count() == 1


# --- required for staff ----------------------------------------------------------------------------------


@pytest.fixture
def staff_required(settings):
    settings.OTP_REQUIRED_FOR_STAFF = True


def test_staff_without_a_device_are_sent_to_enrol_before_any_page(client, staff_user, viewer, clock, staff_required):
    assert password_step(client, staff_user).status_code == 302
    for path in ["/", "/contacts/", "/admin/"]:
        response = client.get(path)
        assert response.status_code == 302 and response["Location"].startswith("/settings/two-factor/?next=")
    partial = client.get("/contacts/", HTTP_HX_REQUEST="true")
    assert partial["HX-Redirect"].startswith("/settings/two-factor/?next=")
    page = client.get("/settings/two-factor/?next=/admin/").content.decode()
    assert "Platform staff must use two-factor authentication" in page
    device = TOTPDevice.objects.get(user=staff_user, confirmed=False)
    confirmed = client.post(
        "/settings/two-factor/", {"action": "enrol", "code": code_for(device, clock), "next": "/admin/"}
    )
    assert 'href="/admin/" role="button"' in confirmed.content.decode()
    assert client.get("/admin/").status_code == 200 and client.get("/").status_code == 200
    # staff keep it on
    assert "must keep two-factor" in client.get("/settings/two-factor/").content.decode()
    client.post("/settings/two-factor/", {"action": "disable", "disable-password": PASSWORD})
    assert devices.is_enabled(staff_user)
    client.logout()
    assert password_step(client, viewer)["Location"] == "/" and client.get("/").status_code == 200


def test_an_unverified_staff_session_with_a_device_logs_in_again(client, staff_user, clock, staff_required):
    enrol(staff_user, clock)
    client.force_login(staff_user)
    response = client.get("/admin/")
    assert response.status_code == 302 and response["Location"] == "/accounts/login/?next=/admin/"
    assert not logged_in(client)


def test_the_admin_site_refuses_an_unverified_staff_session(staff_user, settings):
    assert isinstance(admin_site, PortalAdminSite)
    request = RequestFactory().get("/admin/")
    request.user = staff_user
    staff_user.is_verified = lambda: False
    assert admin_site.has_permission(request)
    settings.OTP_REQUIRED_FOR_STAFF = True
    assert not admin_site.has_permission(request)
    staff_user.is_verified = lambda: True
    assert admin_site.has_permission(request)


def test_a_staff_browser_session_gets_403_from_the_api_a_token_does_not(client, api, staff_user, staff_required):
    client.force_login(staff_user)
    refused = client.get("/api/v2/auth/me")
    assert refused.status_code == 403 and refused.json()["status"] == "error"
    assert api(user=staff_user).get("/api/v2/auth/me").status_code == 200


def test_the_api_is_unaffected_by_two_factor(api, admin_user, clock):
    enrol(admin_user, clock)
    assert api(user=admin_user).get("/api/v2/auth/me").status_code == 200


# --- the Django admin's login ----------------------------------------------------------------------------


def test_the_admin_login_asks_for_the_code_too(client, staff_user, clock):
    device, _ = enrol(staff_user, clock)
    first = password_step(client, staff_user, url="/admin/login/", next="/admin/")
    assert first.status_code == 302 and first["Location"] == "/accounts/login/code/?next=%2Fadmin%2F"
    assert not logged_in(client) and client.get("/admin/").status_code == 302
    assert code_step(client, code_for(device, clock), next_url="/admin/")["Location"] == "/admin/"
    assert client.get("/admin/").status_code == 200


def test_the_admin_login_counts_failures_and_answers_429(client, staff_user, clock):
    for _ in range(settings.BRUTE_FORCE_USER_FAILURES - 1):
        assert password_step(client, staff_user, "wrong-guess", url="/admin/login/").status_code == 200
    locking = password_step(client, staff_user, "wrong-guess", url="/admin/login/")
    assert locking.status_code == 429 and "locked after too many failed passwords" in locking.content.decode()
    assert password_step(client, staff_user).status_code == 429
    clock.move(settings.BRUTE_FORCE_LOCKOUT_MINUTES * 60)
    for number in range(settings.BRUTE_FORCE_ADDRESS_LIMIT):
        password_step(client, staff_user, url="/admin/login/", username=f"nobody{number}")
    throttled = password_step(client, staff_user, url="/admin/login/")
    assert throttled.status_code == 429 and "Too many failed attempts from your address" in throttled.content.decode()


def test_the_two_factor_models_are_in_the_admin(client, django_user_model):
    root = django_user_model.objects.create_superuser("root@platform.example", "root@platform.example", "r00t-pw-42")
    client.force_login(root)
    for path in ["/admin/otp_totp/totpdevice/", "/admin/otp_static/staticdevice/"]:
        assert client.get(path).status_code == 200


def test_django_otp_delays_the_next_try_after_a_wrong_code(client, admin_user, clock):
    device, _ = enrol(admin_user, clock)
    password_step(client, admin_user)
    code_step(client, "123456")
    assert "That code is not valid" in code_step(client, code_for(device, clock)).content.decode()
    assert not logged_in(client)
