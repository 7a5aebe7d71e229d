"""Request middleware: credential-free API redirects, client IP, `_method` override for the API, and the current
account of a browser session."""

from django.conf import settings
from django.utils import timezone

from portal.accounts import resolve_session_account, zone_of
from portal.credentials import without_credentials
from portal.request_context import bind_account_to_log

OVERRIDABLE_METHODS = {"PUT", "PATCH", "DELETE"}


def client_ip(request) -> str:
    """The caller's address; X-Forwarded-For is only believed when TRUST_PROXY_HEADERS is set."""
    if settings.TRUST_PROXY_HEADERS:
        forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
        if forwarded:
            return forwarded.split(",")[0].strip()
    return request.META.get("REMOTE_ADDR", "")


class CredentialFreeRedirectMiddleware:
    """A redirect answering an /api/ request (HTTPS, trailing slash) never repeats `?access_token=` and the other
    credential parameters in its Location. First in MIDDLEWARE, so it sees SecurityMiddleware's redirects too."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if request.path.startswith("/api/") and response.has_header("Location"):
            response["Location"] = without_credentials(response["Location"])
        return response


class ClientIpMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.client_ip = client_ip(request)
        return self.get_response(request)


class MethodOverrideMiddleware:
    """`POST /api/...?_method=PUT` is handled as a PUT, for clients that can only send GET and POST."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.method == "POST" and request.path.startswith("/api/"):
            override = request.GET.get("_method", "").upper()
            if override in OVERRIDABLE_METHODS:
                request.method = override
                request.META["REQUEST_METHOD"] = override
        return self.get_response(request)


class CurrentAccountMiddleware:
    """Sets `request.account` and `request.role` for logged-in browser users (the account switcher's choice)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.account, request.role = resolve_session_account(request)
        bind_account_to_log(request.account)
        try:
            if request.account is not None:
                timezone.activate(zone_of(request.account))
            return self.get_response(request)
        finally:
            timezone.deactivate()
