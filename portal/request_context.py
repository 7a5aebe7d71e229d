"""Who and what a log line belongs to: the request id and the caller's account, kept in context variables for the
length of a request (portal.logging.JsonFormatter writes them on every line), and one access line per request."""

import logging
import re
import time
import uuid
from contextvars import ContextVar

request_id_var: ContextVar[str] = ContextVar("request_id", default="")
account_var: ContextVar[str] = ContextVar("account", default="")

REQUEST_ID_HEADER = "X-Request-ID"
ACCEPTED_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{8,64}")
access_log = logging.getLogger("portal.access")


def bind_account_to_log(account) -> None:
    """The account a request acts for, once it is known (session middleware or API authentication)."""
    account_var.set(account.slug if account is not None else "")


def request_id_from(request) -> str:
    """A proxy's or client's X-Request-ID when it looks like one, else a new one."""
    offered = request.headers.get(REQUEST_ID_HEADER, "")
    return offered if ACCEPTED_REQUEST_ID.fullmatch(offered) else uuid.uuid4().hex


class RequestContextMiddleware:
    """Sets the request id (answered in X-Request-ID) and clears the account for the request; logs its access
    line (method, path, status, duration, client address) on `portal.access`."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.request_id = request_id_from(request)
        id_token = request_id_var.set(request.request_id)
        account_token = account_var.set("")
        started = time.perf_counter()
        try:
            response = self.get_response(request)
            response[REQUEST_ID_HEADER] = request.request_id
            self.log_access(request, response.status_code, started)
            return response
        finally:
            request_id_var.reset(id_token)
            account_var.reset(account_token)

    @staticmethod
    def log_access(request, status: int, started: float) -> None:
        if not access_log.isEnabledFor(logging.INFO):
            return
        access_log.info(
            "%s %s %s %.1fms",
            request.method,
            request.get_full_path(),
            status,
            (time.perf_counter() - started) * 1000,
            extra={
                "http_method": request.method,
                "http_status": status,
                "duration_ms": round((time.perf_counter() - started) * 1000, 2),
                "client_ip": getattr(request, "client_ip", "") or request.META.get("REMOTE_ADDR", ""),
            },
        )
