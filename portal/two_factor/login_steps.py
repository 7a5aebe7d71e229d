"""The two steps of a login with two-factor: after the right password the user waits in the (still anonymous)
session for PENDING_SECONDS; the right code logs them in with the session marked verified (django-otp)."""

import django_otp
from django.contrib.auth import get_user_model
from django.contrib.auth import login as auth_login

from portal import brute_force

PENDING_KEY = "two_factor_login"
PENDING_SECONDS = 300


def begin(request, user) -> None:
    """The password was right: the code step may now log `user` in (with the backend that checked the password)."""
    request.session[PENDING_KEY] = {"user": user.pk, "backend": user.backend, "at": brute_force.clock()}


def pending_user(request):
    """The user waiting for their code step in this session, or None (none, or waited too long)."""
    state = request.session.get(PENDING_KEY)
    if not state:
        return None
    if brute_force.clock() - state["at"] > PENDING_SECONDS:
        del request.session[PENDING_KEY]
        return None
    user = get_user_model()._default_manager.filter(pk=state["user"], is_active=True).first()
    if user is not None:
        user.backend = state["backend"]
    return user


def complete(request, user, device) -> None:
    """Log the waiting user in, the session verified by `device` (Django's login cycles the session key)."""
    request.session.pop(PENDING_KEY, None)
    auth_login(request, user, backend=user.backend)
    django_otp.login(request, device)
