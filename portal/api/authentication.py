"""Bearer tokens (header or `?access_token=`) and browser sessions with CSRF."""

from rest_framework import authentication, exceptions

from portal import brute_force
from portal.api.brute_force import guarded
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
    """A throttled address (too many failed tokens, portal.brute_force) gets a 429 before its token is checked; a
    valid token from an address outside its allow-list is a 403 (known caller, refused), not a failed attempt."""

    def authenticate(self, request):
        raw = raw_token_from(request)
        if raw is None:
            return None
        with guarded(brute_force.API, request) as ip:
            return self.check(raw, ip)

    @staticmethod
    def check(raw: str, ip: str):
        token = find_token(raw)
        if token is None:
            raise exceptions.AuthenticationFailed("Invalid token.")
        if not token.is_active:
            raise exceptions.AuthenticationFailed("Token has been revoked.")
        if token.is_expired:
            raise exceptions.AuthenticationFailed("Token has expired.")
        if not token.allows_ip(ip):
            raise exceptions.PermissionDenied(
                f"This token does not accept requests from {ip or 'an unknown address'}: "
                "the address is outside the token's IP allow-list."
            )
        if not token.user.is_active:
            raise exceptions.AuthenticationFailed("The token's user is inactive.")
        touch(token, ip)
        return token.user, token

    def authenticate_header(self, request):
        return 'Bearer realm="api"'


class SessionAuthentication(authentication.SessionAuthentication):
    """Session auth for the browsable API and HTMX; CSRF enforced on unsafe methods."""
