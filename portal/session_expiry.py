"""Session expiry: a browser session is logged out SESSION_IDLE_SECONDS after its last activity, and
SESSION_AGE_SECONDS after it started, whichever comes first (0 turns either off).

Activity is any request except the background ones that static/js/app.js marks with `X-Background-Request: 1`
(HTMX polling and `load` triggers, which fire without a user action), so a page left open on a polling view does
not keep its session alive. The activity stamp is written at most once a minute, so an active user costs one
session write a minute rather than one per request. The cookie and the session row (SESSION_COOKIE_AGE) live
SESSION_AGE_SECONDS from their last write; this middleware enforces the limit counted from the login, stamped by
the `user_logged_in` receiver below (connected on import: the middleware and the admin site import this module
at start-up).
"""

import math
import time

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import SESSION_KEY, logout
from django.contrib.auth.signals import user_logged_in
from django.contrib.auth.views import redirect_to_login
from django.http import HttpResponseRedirect
from django_htmx.http import HttpResponseClientRedirect

STARTED_KEY, ACTIVITY_KEY = "session_started_at", "session_activity_at"
BACKGROUND_HEADER = "X-Background-Request"


def clock() -> float:
    """Seconds since the epoch; tests replace it to move time."""
    return time.time()


def page_path(request) -> str:
    """The page the browser shows: for an HTMX request the page that made it, not the partial's URL."""
    htmx = getattr(request, "htmx", None)
    return (htmx.current_url_abs_path if htmx else None) or request.get_full_path()


def browser_redirect(request, url: str):
    """A redirect of the whole page: HTMX requests get HX-Redirect, so no partial target shows the next page."""
    return HttpResponseClientRedirect(url) if getattr(request, "htmx", None) else HttpResponseRedirect(url)


def is_background(request) -> bool:
    return request.headers.get(BACKGROUND_HEADER) == "1"


def _minutes(seconds: int) -> str:
    minutes = math.ceil(seconds / 60)
    return f"{minutes} minute{'s' if minutes != 1 else ''}"


def expiry_message(session, moment: float) -> str | None:
    """Why the session has ended at `moment`, or None while it lives."""
    age, idle = settings.SESSION_AGE_SECONDS, settings.SESSION_IDLE_SECONDS
    started, active = session.get(STARTED_KEY), session.get(ACTIVITY_KEY)
    if age and started is not None and moment - started >= age:
        return f"Your session ended {_minutes(age)} after you logged in. Log in again."
    if idle and active is not None and moment - active >= idle:
        return f"You were logged out after {_minutes(idle)} without activity. Log in again."
    return None


def stamp_login(sender, request, user, **kwargs) -> None:
    """A login starts the session's clocks (the login writes the session anyway, so this costs nothing)."""
    moment = clock()
    request.session[STARTED_KEY] = moment
    request.session[ACTIVITY_KEY] = moment


user_logged_in.connect(stamp_login, dispatch_uid="portal.session_expiry.stamp_login")


def _stamp(request, moment: float) -> None:
    """Refresh the activity stamp; a session without stamps (from before this middleware) gets them now."""
    session = request.session
    if STARTED_KEY not in session:
        session[STARTED_KEY] = moment
    resolution = min(60, max(1, settings.SESSION_IDLE_SECONDS // 10))
    last = session.get(ACTIVITY_KEY)
    if last is None or (not is_background(request) and moment - last >= resolution):
        session[ACTIVITY_KEY] = moment


class SessionExpiryMiddleware:
    """After the authentication, messages and HTMX middleware. Only sessions with a logged-in user count: an API
    call with a token (DRF sets `request.user` without a session) creates no session."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        moment = clock()
        if SESSION_KEY in request.session:
            message = expiry_message(request.session, moment)
            if message is not None:
                return self._expired(request, message)
        response = self.get_response(request)
        if SESSION_KEY in request.session:
            _stamp(request, moment)
        return response

    def _expired(self, request, message: str):
        """Log out; the API goes on as anonymous (a token may still authenticate), pages go to the login."""
        path = page_path(request)
        logout(request)
        if request.path.startswith("/api/"):
            return self.get_response(request)
        messages.info(request, message)
        return browser_redirect(request, redirect_to_login(path)["Location"])
