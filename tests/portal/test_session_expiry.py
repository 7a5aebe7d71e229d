"""Session expiry (portal/session_expiry.py): logged out after SESSION_IDLE_SECONDS without activity (background
HTMX requests do not count) and SESSION_AGE_SECONDS after login, pages sent to the login, the API going on as
anonymous; the activity stamp is written at most once a minute."""

import pytest
from django.conf import settings
from django.contrib.sessions.models import Session

from portal import session_expiry

pytestmark = pytest.mark.django_db

START = 1_900_000_000.0
BACKGROUND = {"HTTP_X_BACKGROUND_REQUEST": "1", "HTTP_HX_REQUEST": "true"}


@pytest.fixture
def clock(monkeypatch):
    class Clock:
        now = START

        def move(self, seconds: float) -> None:
            self.now += seconds

    moment = Clock()
    monkeypatch.setattr(session_expiry, "clock", lambda: moment.now)
    return moment


@pytest.fixture
def web(client, admin_user, clock):
    """A browser logged in through the login form at START."""
    response = client.post("/accounts/login/", {"username": admin_user.username, "password": "correct-horse-9"})
    assert response.status_code == 302
    return client


def logged_in(client) -> bool:
    return "_auth_user_id" in client.session


def test_the_defaults_are_eight_hours_and_thirty_minutes():
    assert (settings.SESSION_AGE_SECONDS, settings.SESSION_IDLE_SECONDS) == (8 * 3600, 30 * 60)
    assert settings.SESSION_COOKIE_AGE == settings.SESSION_AGE_SECONDS


def test_activity_keeps_the_session_and_idleness_ends_it(web, clock):
    idle = settings.SESSION_IDLE_SECONDS
    for _ in range(3):
        clock.move(idle - 60)
        assert web.get("/").status_code == 200
    clock.move(idle)
    expired = web.get("/contacts/?page=2")
    assert expired.status_code == 302 and expired["Location"] == "/accounts/login/?next=/contacts/%3Fpage%3D2"
    assert not logged_in(web)
    page = web.get(expired["Location"]).content.decode()
    assert "You were logged out after 30 minutes without activity." in page


def test_background_htmx_requests_do_not_keep_the_session_alive(web, clock):
    idle = settings.SESSION_IDLE_SECONDS
    for _ in range(idle // 300 - 1):
        clock.move(300)
        assert web.get("/", **BACKGROUND).status_code == 200
    clock.move(300)
    polled = web.get("/", HTTP_HX_CURRENT_URL="http://testserver/campaigns/", **BACKGROUND)
    assert polled.status_code == 200 and polled["HX-Redirect"] == "/accounts/login/?next=/campaigns/"
    assert not logged_in(web)


def test_a_user_triggered_htmx_request_counts_as_activity(web, clock):
    clock.move(settings.SESSION_IDLE_SECONDS - 1)
    assert web.get("/contacts/", HTTP_HX_REQUEST="true").status_code == 200
    clock.move(settings.SESSION_IDLE_SECONDS - 1)
    assert web.get("/").status_code == 200 and logged_in(web)


def test_the_session_ends_after_its_age_whatever_the_activity(web, clock):
    for _ in range(settings.SESSION_AGE_SECONDS // 600 - 1):
        clock.move(600)
        assert web.get("/").status_code == 200
    clock.move(600)
    expired = web.get("/")
    assert expired.status_code == 302 and not logged_in(web)
    assert "Your session ended 480 minutes after you logged in." in web.get(expired["Location"]).content.decode()


def test_the_activity_stamp_is_written_at_most_once_a_minute(web, clock):
    stamped = web.session[session_expiry.ACTIVITY_KEY]
    clock.move(30)
    web.get("/")
    assert web.session[session_expiry.ACTIVITY_KEY] == stamped
    clock.move(31)
    web.get("/")
    assert web.session[session_expiry.ACTIVITY_KEY] == START + 61


def test_an_expired_session_calling_the_api_is_anonymous(web, api, admin_user, clock):
    clock.move(settings.SESSION_IDLE_SECONDS)
    response = web.get("/api/v2/auth/me")
    assert response.status_code == 401 and not logged_in(web)
    token = api(user=admin_user)
    assert token.get("/api/v2/auth/me").status_code == 200


def test_zero_turns_the_limits_off(web, clock, settings):
    settings.SESSION_IDLE_SECONDS = settings.SESSION_AGE_SECONDS = 0
    clock.move(30 * 24 * 3600)
    assert web.get("/").status_code == 200 and logged_in(web)


def test_api_calls_with_a_token_create_no_session(api, clock):
    assert api().get("/api/v2/auth/me").status_code == 200
    assert not Session.objects.exists()


def test_every_login_starts_the_clocks(client, admin_user, clock):
    client.force_login(admin_user)
    assert client.session[session_expiry.STARTED_KEY] == client.session[session_expiry.ACTIVITY_KEY] == START
    clock.move(settings.SESSION_IDLE_SECONDS)
    assert client.get("/").status_code == 302
