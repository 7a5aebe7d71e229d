"""Every API error becomes the JSON envelope `{"status": "error", "code", "message", "errors"}`."""

import logging

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig, SuspiciousOperation
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError, OperationalError
from django.http import Http404
from rest_framework import exceptions, status
from rest_framework.response import Response

from portal.service_errors import ServiceError

logger = logging.getLogger("portal.api")


class Conflict(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = "The request conflicts with the current state of the object."
    default_code = "conflict"


class InactiveAccount(exceptions.APIException):
    status_code = status.HTTP_400_BAD_REQUEST
    default_detail = "Inactive account"
    default_code = "inactive_account"


class DatabaseUnavailable(exceptions.APIException):
    """No database connection within DB_POOL_TIMEOUT (every pooled one busy), or the database refused one."""

    status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    default_detail = "The database is busy or unreachable; retry shortly."
    default_code = "database_unavailable"
    wait = 1


class PayloadTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = "The upload is larger than allowed."
    default_code = "too_large"


MESSAGES = {
    400: "Bad request",
    401: "Unauthenticated",
    403: "Forbidden",
    404: "Not found",
    405: "Method not allowed",
    409: "Conflict",
    413: "Payload too large",
    415: "Unsupported media type",
    422: "Validation error",
    429: "Too many requests",
    500: "Server error",
    503: "Service unavailable",
}


def error_body(code: int, message: str, errors=None) -> dict:
    body = {"status": "error", "code": code, "message": message}
    if errors:
        body["errors"] = errors
    return body


def _validation_errors(detail) -> dict:
    if isinstance(detail, dict):
        return {key: _as_list(value) for key, value in detail.items()}
    return {"non_field_errors": _as_list(detail)}


def _as_list(value) -> list:
    if isinstance(value, dict):
        return [value]
    if isinstance(value, list | tuple):
        return [item if isinstance(item, dict | list) else str(item) for item in value]
    return [str(value)]


class InsufficientFundsError(exceptions.APIException):
    """Seed error 6 (HTTP 403)."""

    status_code = status.HTTP_403_FORBIDDEN
    default_detail = "Insufficient funds: your account balance is too low to process the request. (error 6)"
    default_code = "insufficient_funds"


def service_error_as_api(error: ServiceError) -> exceptions.APIException:
    """The API answer of a refusal from a service: the one translation every API view relies on."""
    if error.code == "insufficient_funds":
        return InsufficientFundsError()
    if error.code == ServiceError.FORBIDDEN:
        return exceptions.PermissionDenied(str(error))
    if error.code == ServiceError.RATE_LIMITED:
        return exceptions.Throttled(detail=str(error))
    if error.field:
        return exceptions.ValidationError({error.field: [str(error)]})
    return Conflict(str(error))


def _translate(exc):
    if isinstance(exc, ServiceError):
        return service_error_as_api(exc)
    if isinstance(exc, DjangoValidationError):
        return exceptions.ValidationError(exc.message_dict if hasattr(exc, "error_dict") else exc.messages)
    if isinstance(exc, exceptions.UnsupportedMediaType):
        return exceptions.ParseError(f"Unsupported content type: {exc.detail}")
    if isinstance(exc, Http404):
        return exceptions.NotFound()
    if isinstance(exc, DjangoPermissionDenied):
        return exceptions.PermissionDenied()
    if isinstance(exc, RequestDataTooBig):
        return PayloadTooLarge("The request body is larger than allowed.")
    if isinstance(exc, IntegrityError):
        return Conflict("A record with these values already exists.")
    if isinstance(exc, OperationalError):
        logger.warning("Database unavailable: %s", exc)
        return DatabaseUnavailable()
    if isinstance(exc, SuspiciousOperation):
        return exceptions.ParseError(str(exc) or "Bad request.")
    return exc


def envelope_exception_handler(exc, context):
    from rest_framework.views import set_rollback

    exc = _translate(exc)
    if not isinstance(exc, exceptions.APIException):
        logger.exception("Unhandled API error", exc_info=exc)
        set_rollback()
        return Response(error_body(500, MESSAGES[500]), status=500)
    headers = {}
    if getattr(exc, "auth_header", None):
        headers["WWW-Authenticate"] = exc.auth_header
    if getattr(exc, "wait", None) is not None:
        headers["Retry-After"] = str(max(1, int(exc.wait + 0.999)))
    if isinstance(exc, exceptions.ValidationError):
        code = 422
        body = error_body(code, MESSAGES[422], _validation_errors(exc.detail))
    else:
        code = exc.status_code
        if isinstance(exc, exceptions.NotAuthenticated | exceptions.AuthenticationFailed):
            code = 401
        detail = exc.detail if isinstance(exc.detail, str) else MESSAGES.get(code, "Error")
        body = error_body(code, str(detail))
    set_rollback()
    return Response(body, status=code, headers=headers)
