"""How a connector authenticates its inbound POST: the account's inbound token (not an API token), refused with a
429 unchecked while the caller's address has too many failed tokens (portal.brute_force)."""

from django.contrib.auth.models import AnonymousUser
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import exceptions, permissions
from rest_framework.authentication import BaseAuthentication, get_authorization_header

from contacts.services_unsubscribers import account_for_inbound_token
from portal import brute_force
from portal.api.brute_force import guarded
from portal.api.exceptions import InactiveAccount
from portal.api.throttling import TokenRateThrottle


class InboundCredential:
    """`request.auth` of an inbound POST: the account whose inbound token was presented."""

    def __init__(self, account):
        self.account = account


class InboundTokenAuthentication(BaseAuthentication):
    """`X-Inbound-Token: in_…` or `Authorization: Bearer in_…`; a throttled address gets a 429 unchecked."""

    def authenticate(self, request):
        raw = request.META.get("HTTP_X_INBOUND_TOKEN", "").strip()
        if not raw:
            scheme, _, value = get_authorization_header(request).decode("latin-1").strip().partition(" ")
            raw = value.strip() if scheme.lower() == "bearer" else ""
        if not raw:
            return None
        with guarded(brute_force.INBOUND, request):
            account = account_for_inbound_token(raw)
            if account is None:
                raise exceptions.AuthenticationFailed("Invalid inbound token.")
        return AnonymousUser(), InboundCredential(account)

    def authenticate_header(self, request):
        return 'Bearer realm="inbound"'


class InboundTokenScheme(OpenApiAuthenticationExtension):
    target_class = "contacts.api.inbound_auth.InboundTokenAuthentication"
    name = "inboundToken"

    def get_security_definition(self, auto_schema):
        return {"type": "apiKey", "in": "header", "name": "X-Inbound-Token"}


class HasInboundToken(permissions.BasePermission):
    def has_permission(self, request, view) -> bool:
        if not isinstance(request.auth, InboundCredential):
            raise exceptions.NotAuthenticated("Send the account's inbound token in X-Inbound-Token.")
        request.account, request.role, request.token = request.auth.account, None, None
        if not request.account.is_active:
            raise InactiveAccount()
        return True


class InboundRateThrottle(TokenRateThrottle):
    @staticmethod
    def identity(request) -> str:
        return f"inbound{request.account.pk}"
