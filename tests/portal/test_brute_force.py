"""Brute-force protection: failed logins, API tokens and inbound tokens throttled per client address (429 with
Retry-After), per-user lock-out after failed passwords that ends by itself, on a password reset or an unlock."""

from datetime import timedelta

import pytest
from django.conf import settings
from rest_framework.test import APIClient

from contacts.services_unsubscribers import rotate_inbound_token
from portal import brute_force
from portal.accounts import add_member
from portal.models import AuditEvent, LoginLockout, Notification
from portal.roles import Role
from portal.tokens import issue_token
from tests.conftest import make_user

pytestmark = pytest.mark.django_db

PASSWORD = "correct-horse-9"
ATTACKER = "203.0.113.66"
ELSEWHERE = "198.51.100.9"
START = 1_900_000_200.0  # a moment at the start of an address window (a multiple of 5 minutes)


@pytest.fixture
def clock(monkeypatch):
    """`clock.move(seconds)` moves the time portal.brute_force sees."""

    class Clock:
        now = START

        def move(self, seconds: float) -> None:
            self.now += seconds

    moment = Clock()
    monkeypatch.setattr(brute_force, "clock", lambda: moment.now)
    return moment


def log_in(client, username, password, address=ATTACKER, url="/accounts/login/"):
    return client.post(url, {"username": username, "password": password}, REMOTE_ADDR=address)


def fail_password(client, user, times, address=ATTACKER):
    for _ in range(times):
        response = log_in(client, user.username, "wrong-guess", address)
    return response


# --- login: per address ---------------------------------------------------------------------------------


def test_failed_logins_from_one_address_get_a_429_until_the_window_ends(client, admin_user, clock):
    for attempt in range(settings.BRUTE_FORCE_ADDRESS_LIMIT):
        response = log_in(client, f"nobody{attempt}@x.example", "guess")
        assert response.status_code == 200 and "did not match" in response.content.decode()
    clock.move(60)
    refused = log_in(client, admin_user.username, PASSWORD)
    assert refused.status_code == 429
    assert int(refused["Retry-After"]) == settings.BRUTE_FORCE_ADDRESS_WINDOW_MINUTES * 60 - 60
    assert "Too many failed attempts from your address; try again in 4 minutes." in refused.content.decode()
    assert "_auth_user_id" not in client.session
    assert log_in(client, admin_user.username, PASSWORD, address=ELSEWHERE).status_code == 302
    client.logout()
    clock.move(settings.BRUTE_FORCE_ADDRESS_WINDOW_MINUTES * 60)
    assert log_in(client, admin_user.username, PASSWORD).status_code == 302


def test_successful_logins_do_not_count(client, admin_user, clock):
    for _ in range(settings.BRUTE_FORCE_ADDRESS_LIMIT + 5):
        assert log_in(client, admin_user.username, PASSWORD).status_code == 302
        client.logout()


# --- login: per user ------------------------------------------------------------------------------------


@pytest.fixture
def colleague(account):
    """A second admin of the account, told about lock-outs."""
    user = make_user("second-admin@acme.example")
    add_member(account, user, Role.ADMIN)
    return user


def test_failed_passwords_lock_the_user_out_audited_and_admins_told(client, account, admin_user, colleague, clock):
    limit = settings.BRUTE_FORCE_USER_FAILURES
    assert fail_password(client, admin_user, limit - 1).status_code == 200
    locking = fail_password(client, admin_user, 1)
    html = locking.content.decode()
    assert locking.status_code == 429 and int(locking["Retry-After"]) == settings.BRUTE_FORCE_LOCKOUT_MINUTES * 60
    assert "This account is locked after too many failed passwords; try again in 15 minutes" in html
    lockout = LoginLockout.objects.get(user=admin_user)
    assert lockout.failures == limit and lockout.last_address == ATTACKER
    assert lockout.locked_until == brute_force.now() + timedelta(minutes=settings.BRUTE_FORCE_LOCKOUT_MINUTES)

    event = AuditEvent.objects.get(verb="login.locked_out")
    assert event.account == account and event.actor is None and event.object_repr == admin_user.username
    assert event.after == {"failures": limit, "locked_until": lockout.locked_until.isoformat(), "address": ATTACKER}
    told = Notification.objects.filter(account=account, level="warning")
    assert {n.user for n in told} == {admin_user, colleague}
    assert f"after {limit} failed passwords (the last from {ATTACKER})" in told.first().text


def test_a_lockout_refuses_the_right_password_without_extending_and_ends_by_itself(client, admin_user, clock):
    fail_password(client, admin_user, settings.BRUTE_FORCE_USER_FAILURES)
    locked_until = LoginLockout.objects.get(user=admin_user).locked_until
    clock.move(14 * 60)
    for password in (PASSWORD, "wrong-guess"):
        refused = log_in(client, admin_user.username, password, address=ELSEWHERE)
        assert refused.status_code == 429 and int(refused["Retry-After"]) == 60
    assert LoginLockout.objects.get(user=admin_user).locked_until == locked_until
    assert AuditEvent.objects.filter(verb="login.locked_out").count() == 1
    clock.move(61)
    assert log_in(client, admin_user.username, PASSWORD, address=ELSEWHERE).status_code == 302
    assert not LoginLockout.objects.filter(user=admin_user).exists()


def test_failures_from_many_addresses_add_up_and_old_ones_are_forgotten(client, admin_user, clock):
    for number in range(settings.BRUTE_FORCE_USER_FAILURES - 1):
        log_in(client, admin_user.username, "wrong-guess", address=f"192.0.2.{number + 1}")
    clock.move(settings.BRUTE_FORCE_USER_WINDOW_MINUTES * 60)
    assert fail_password(client, admin_user, 1).status_code == 200
    assert LoginLockout.objects.get(user=admin_user).failures == 1
    assert fail_password(client, admin_user, settings.BRUTE_FORCE_USER_FAILURES - 1, ELSEWHERE).status_code == 429


def test_a_correct_password_forgets_earlier_failures(client, admin_user, clock):
    fail_password(client, admin_user, settings.BRUTE_FORCE_USER_FAILURES - 1)
    assert log_in(client, admin_user.username, PASSWORD).status_code == 302
    client.logout()
    assert fail_password(client, admin_user, settings.BRUTE_FORCE_USER_FAILURES - 1).status_code == 200
    assert not LoginLockout.objects.locked(brute_force.now()).exists()


def test_a_password_reset_ends_the_lockout(client, admin_user, mailoutbox, clock):
    fail_password(client, admin_user, settings.BRUTE_FORCE_USER_FAILURES)
    client.post("/accounts/password/reset/", {"email": admin_user.email})
    link = next(word for word in mailoutbox[0].body.split() if "/accounts/password/reset/" in word)
    form_page = client.get(link.replace("http://testserver", ""), follow=True)
    new = {"new_password1": "A-much-better-pw-42", "new_password2": "A-much-better-pw-42"}
    assert client.post(form_page.redirect_chain[-1][0], new).status_code == 302
    assert not LoginLockout.objects.filter(user=admin_user).exists()
    unlocked = AuditEvent.objects.get(verb="login.unlocked")
    assert unlocked.actor == admin_user and unlocked.after == {"via": "password reset"}
    assert log_in(client, admin_user.username, "A-much-better-pw-42").status_code == 302


def test_the_admin_login_is_guarded_too(client, staff_user, clock):
    fail_password(client, staff_user, settings.BRUTE_FORCE_USER_FAILURES)
    html = log_in(client, staff_user.username, PASSWORD, url="/admin/login/").content.decode()
    assert "This account is locked after too many failed passwords" in html
    assert "_auth_user_id" not in client.session


# --- admin unlock ---------------------------------------------------------------------------------------


@pytest.fixture
def superuser(db, django_user_model):
    return django_user_model.objects.create_superuser("root@platform.example", "root@platform.example", "root-pw-42")


def test_django_admin_lists_filters_searches_and_unlocks(client, account, admin_user, superuser, clock):
    fail_password(client, admin_user, settings.BRUTE_FORCE_USER_FAILURES)
    client.force_login(superuser)
    listing = client.get("/admin/portal/loginlockout/", {"locked": "yes", "q": "admin@acme"})
    assert listing.status_code == 200 and admin_user.username in listing.content.decode()
    assert admin_user.username not in client.get("/admin/portal/loginlockout/", {"locked": "no"}).content.decode()
    lockout = LoginLockout.objects.get(user=admin_user)
    response = client.post(
        "/admin/portal/loginlockout/", {"action": "unlock", "_selected_action": [lockout.pk]}, follow=True
    )
    assert "1 user(s) unlocked." in response.content.decode()
    assert not LoginLockout.objects.exists()
    event = AuditEvent.objects.get(verb="login.unlocked")
    assert (event.account, event.actor, event.after) == (account, superuser, {"via": "platform admin"})
    client.logout()
    assert log_in(client, admin_user.username, PASSWORD).status_code == 302


def test_account_admins_see_and_end_a_members_lockout(client, client_for, account, admin_user, marketer, clock):
    fail_password(client, marketer, settings.BRUTE_FORCE_USER_FAILURES)
    page = client_for(admin_user).get("/settings/members/").content.decode()
    assert 'data-testid="locked-out"' in page and "Unlock" in page
    membership = marketer.memberships.get(account=account)
    response = client.post(f"/settings/members/{membership.pk}/unlock/")
    assert response.status_code == 302
    assert not LoginLockout.objects.filter(user=marketer).exists()
    event = AuditEvent.objects.get(verb="login.unlocked")
    assert (event.account, event.actor, event.after) == (account, admin_user, {"via": "account admin"})
    assert 'data-testid="locked-out"' not in client.get("/settings/members/").content.decode()


def test_only_admins_of_the_members_account_unlock(client, client_for, account, marketer, outsider, clock):
    fail_password(client, marketer, settings.BRUTE_FORCE_USER_FAILURES)
    membership = marketer.memberships.get(account=account)
    assert client_for(outsider).post(f"/settings/members/{membership.pk}/unlock/").status_code == 404
    client.logout()
    assert client_for(marketer).post(f"/settings/members/{membership.pk}/unlock/").status_code == 403
    assert LoginLockout.objects.locked(brute_force.now()).filter(user=marketer).exists()


# --- API tokens and inbound tokens ----------------------------------------------------------------------


def bearer(raw: str, address: str = ATTACKER) -> APIClient:
    client = APIClient(REMOTE_ADDR=address)
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    return client


def test_invalid_api_tokens_from_one_address_get_the_429_envelope(client, account, admin_user, clock):
    valid = issue_token(account, admin_user, "ci").raw
    for attempt in range(settings.BRUTE_FORCE_ADDRESS_LIMIT):
        assert bearer(f"cp_deadbeef_guess{attempt}").get("/api/v2/auth/me").status_code == 401
    refused = bearer(valid).get("/api/v2/auth/me")
    assert refused.status_code == 429
    assert refused["Retry-After"] == str(settings.BRUTE_FORCE_ADDRESS_WINDOW_MINUTES * 60)
    assert refused.json() == {
        "status": "error",
        "code": 429,
        "message": "Too many failed attempts from your address; try again in 5 minutes.",
    }
    assert bearer(valid, address=ELSEWHERE).get("/api/v2/auth/me").status_code == 200
    assert log_in(client, admin_user.username, PASSWORD).status_code == 302
    clock.move(settings.BRUTE_FORCE_ADDRESS_WINDOW_MINUTES * 60)
    assert bearer(valid).get("/api/v2/auth/me").status_code == 200


def test_revoked_and_expired_tokens_count_as_failures(api, clock):
    client = api()
    client.token.is_active = False
    client.token.save()
    for _ in range(settings.BRUTE_FORCE_ADDRESS_LIMIT):
        assert client.get("/api/v2/auth/me", REMOTE_ADDR=ATTACKER).status_code == 401
    assert client.get("/api/v2/auth/me", REMOTE_ADDR=ATTACKER).status_code == 429


def test_invalid_inbound_tokens_from_one_address_get_a_429(client, account, admin_user, clock):
    valid = rotate_inbound_token(account, admin_user)
    message = {"from": "919876543210", "to": "ACMEBK", "text": "hello", "provider_id": "mo-1"}

    def post(token, address=ATTACKER):
        return client.post(
            "/api/v2/sms/inbound",
            message,
            content_type="application/json",
            HTTP_X_INBOUND_TOKEN=token,
            REMOTE_ADDR=address,
        )

    for attempt in range(settings.BRUTE_FORCE_ADDRESS_LIMIT):
        assert post(f"in_abcdef123456_guess{attempt}").status_code == 401
    refused = post(valid)
    assert refused.status_code == 429 and refused.json()["code"] == 429 and "Retry-After" in refused
    assert post(valid, address=ELSEWHERE).status_code == 201
    assert bearer(issue_token(account, admin_user, "ci").raw).get("/api/v2/auth/me").status_code == 200
