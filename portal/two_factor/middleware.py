"""OTP_REQUIRED_FOR_STAFF: a platform staff session that no second factor verified reaches no page but the
enrolment page and the login/logout steps. A staff user without a device is sent to enrol; one with a device
(a session from before they enrolled elsewhere, or from before the setting) logs in again with their code.
API requests with a token carry no session user and are not concerned; a browser session calling the API gets 403.

Installed after django_otp's OTPMiddleware (which gives `request.user.is_verified()`).
"""

from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.urls import reverse

from portal.session_expiry import browser_redirect
from portal.two_factor import devices

EXEMPT_VIEWS = {"portal:two_factor", "login", "login_code", "logout", "csp_report"}


def lacks_required_second_factor(request) -> bool:
    """True for a staff session without a verified second factor while OTP_REQUIRED_FOR_STAFF is on."""
    if not settings.OTP_REQUIRED_FOR_STAFF:
        return False
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated or not user.is_staff:
        return False
    is_verified = getattr(user, "is_verified", None)
    return not (is_verified is not None and is_verified())


class StaffTwoFactorMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        match = request.resolver_match
        if not lacks_required_second_factor(request) or (match is not None and match.view_name in EXEMPT_VIEWS):
            return None
        if request.path.startswith("/api/"):
            raise PermissionDenied("Platform staff sessions need two-factor authentication; use an API token.")
        if devices.is_enabled(request.user):
            logout(request)
            messages.info(request, "Log in again with your authentication code: platform staff need two-factor.")
            return browser_redirect(request, redirect_to_login(request.get_full_path())["Location"])
        messages.info(request, "Platform staff need two-factor authentication: set it up to go on.")
        enrol = f"{reverse('portal:two_factor')}?{urlencode({'next': request.get_full_path()})}"
        return browser_redirect(request, enrol)
