"""Brute-force protection of API credentials: a throttled address gets a 429 before its credential is looked at."""

from contextlib import contextmanager

from rest_framework import exceptions, status

from portal import brute_force
from portal.middleware import client_ip


class TooManyAttempts(exceptions.APIException):
    """Too many failed credentials from the caller's address; `wait` becomes Retry-After."""

    status_code = status.HTTP_429_TOO_MANY_REQUESTS
    default_detail = "Too many failed attempts from your address; try again later."
    default_code = brute_force.TOO_MANY_ATTEMPTS

    def __init__(self, refusal: brute_force.Refusal):
        super().__init__(refusal.message)
        self.wait = refusal.retry_after


@contextmanager
def guarded(scope: str, request):
    """Refuse a throttled address with TooManyAttempts; count an AuthenticationFailed raised inside as a failure."""
    address = client_ip(request._request)
    refusal = brute_force.address_refusal(scope, address)
    if refusal is not None:
        raise TooManyAttempts(refusal)
    try:
        yield address
    except exceptions.AuthenticationFailed:
        brute_force.address_failed(scope, address)
        raise
