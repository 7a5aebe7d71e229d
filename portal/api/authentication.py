"""Bearer tokens (header or `?access_token=`) and browser sessions with CSRF."""

from rest_framework import authentication, exceptions

from portal.tokens import find_token, touch


def raw_token_from(request) -> str | None:
    header = authentication.get_authorization_header(request).decode("latin-1").strip()
    if header:
        scheme, _, value = header.partition(" ")
        if scheme.lower() != "bearer":
            return None
        return value.strip() or None
    return request.query_params.get("access_token") or None


class BearerTokenAuthentication(authentication.BaseAuthentication):
    def authenticate(self, request):
        raw = raw_token_from(request)
        if raw is None:
            return None
        token = find_token(raw)
        if token is None:
            raise exceptions.AuthenticationFailed("Invalid token.")
        if not token.is_active:
            raise exceptions.AuthenticationFailed("Token has been revoked.")
        if token.is_expired:
            raise exceptions.AuthenticationFailed("Token has expired.")
        ip = getattr(request._request, "client_ip", request.META.get("REMOTE_ADDR"))
        if not token.allows_ip(ip):
            raise exceptions.AuthenticationFailed("Requests from this IP address are not allowed for this token.")
        if not token.user.is_active:
            raise exceptions.AuthenticationFailed("The token's user is inactive.")
        touch(token, ip)
        return token.user, token

    def authenticate_header(self, request):
        return 'Bearer realm="api"'


class SessionAuthentication(authentication.SessionAuthentication):
    """Session auth for the browsable API and HTMX; CSRF enforced on unsafe methods."""
