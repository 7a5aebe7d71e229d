"""Resolves the caller's account and role, then checks the capability the action needs."""

from django.utils import timezone
from rest_framework import exceptions, permissions

from portal.accounts import role_in, zone_of
from portal.api.exceptions import InactiveAccount
from portal.models import ApiToken
from portal.request_context import bind_account_to_log
from portal.roles import READ, WRITE, has_capability


def bind_account(request) -> None:
    """Sets request.account and request.role from the token, or from the browser session."""
    token = request.auth if isinstance(request.auth, ApiToken) else None
    if token is not None:
        account = token.account
        role = role_in(request.user, account)
    else:
        account = getattr(request._request, "account", None)
        role = getattr(request._request, "role", None)
    request.account, request.role, request.token = account, role, token
    bind_account_to_log(account)
    if account is not None:
        timezone.activate(zone_of(account))


def required_capability(request, view) -> str:
    declared = getattr(view, "capabilities", {}) or {}
    action = getattr(view, "action", None)
    if action in declared:
        return declared[action]
    if request.method in declared:
        return declared[request.method]
    return READ if request.method in permissions.SAFE_METHODS else WRITE


class AccountRolePermission(permissions.BasePermission):
    def has_permission(self, request, view) -> bool:
        if not request.user or not request.user.is_authenticated:
            raise exceptions.NotAuthenticated("Authentication credentials were not provided.")
        bind_account(request)
        if request.account is None or request.role is None:
            raise exceptions.PermissionDenied("You are not a member of any account.")
        if not request.account.is_active:
            raise InactiveAccount()
        if request.token is not None and request.token.read_only and request.method not in permissions.SAFE_METHODS:
            raise exceptions.PermissionDenied("This token is read-only.")
        capability = required_capability(request, view)
        if not has_capability(request.role, capability):
            raise exceptions.PermissionDenied(f"Your role ({request.role}) may not do this.")
        return True
