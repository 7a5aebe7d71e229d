"""Content-Security-Policy on every response, and the endpoint browsers report violations to.

The portal's own pages run no inline script or style (behaviour lives in static/js/app.js, bar heights are CSS
classes), so they get the strict policy: everything from this origin, images also as data: URIs (the two-factor
QR code), nothing framed, forms posting only here. The third-party API pages under /api/ get what they need and no
more: DRF's browsable API has style attributes (`'unsafe-inline'` styles); Swagger UI and Redoc start from inline
scripts (Swagger's carries the CSRF token, so no fixed hash fits) and Redoc runs its search in a blob: worker.
Those pages show the schema and the caller's own API data; Redoc's Google Fonts stylesheet stays refused (the page
falls back to local fonts). CSP_REPORT_ONLY sends the same policy as Content-Security-Policy-Report-Only, to roll
it out watching the reports (logged by `report`) before enforcing it.
"""

import json
import logging

from django.conf import settings
from django.http import HttpResponse
from django.urls import reverse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

logger = logging.getLogger("portal.csp")

STRICT = {
    "default-src": "'self'",
    "script-src": "'self'",
    "style-src": "'self'",
    "img-src": "'self' data:",
    "font-src": "'self'",
    "connect-src": "'self'",
    "object-src": "'none'",
    "frame-ancestors": "'none'",
    "form-action": "'self'",
    "base-uri": "'self'",
}
API_PAGES = {**STRICT, "style-src": "'self' 'unsafe-inline'"}
API_DOCS = {**API_PAGES, "script-src": "'self' 'unsafe-inline'", "worker-src": "'self' blob:"}
API_DOCS_VIEWS = {"portal-api:docs", "portal-api:redoc"}
ENFORCING, REPORT_ONLY = "Content-Security-Policy", "Content-Security-Policy-Report-Only"
MAX_REPORT_BYTES = 16 * 1024


def policy_for(request) -> dict[str, str]:
    match = getattr(request, "resolver_match", None)
    if match is not None and match.view_name in API_DOCS_VIEWS:
        return API_DOCS
    return API_PAGES if request.path.startswith("/api/") else STRICT


def header_value(policy: dict[str, str]) -> str:
    directives = [*(f"{name} {sources}" for name, sources in policy.items()), f"report-uri {reverse('csp_report')}"]
    return "; ".join(directives)


class ContentSecurityPolicyMiddleware:
    """Adds the policy unless the view set one of its own."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if ENFORCING not in response and REPORT_ONLY not in response:
            name = REPORT_ONLY if settings.CSP_REPORT_ONLY else ENFORCING
            response[name] = header_value(policy_for(request))
        return response


@csrf_exempt
@require_POST
def report(request):
    """A browser's violation report (`application/csp-report`), logged as a warning; always 204."""
    try:
        too_big = int(request.headers.get("Content-Length") or 0) > MAX_REPORT_BYTES
        violation = {} if too_big else json.loads(request.body or b"{}").get("csp-report", {})
    except (ValueError, AttributeError):
        violation = {}
    if isinstance(violation, dict) and violation:
        logger.warning(
            "CSP violation: %s blocked %s on %s",
            str(violation.get("effective-directive") or violation.get("violated-directive"))[:100],
            str(violation.get("blocked-uri"))[:300],
            str(violation.get("document-uri"))[:300],
        )
    return HttpResponse(status=204)
