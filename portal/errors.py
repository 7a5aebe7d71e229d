"""Error pages: JSON envelopes under /api/, HTML elsewhere."""

from django.http import HttpResponsePermanentRedirect, JsonResponse
from django.shortcuts import render
from django.urls import Resolver404, resolve
from django.views.decorators.csrf import csrf_exempt

from portal.api.exceptions import MESSAGES, error_body


def _respond(request, code: int, template: str, message: str | None = None):
    if request.path.startswith("/api/"):
        return JsonResponse(error_body(code, message or MESSAGES[code]), status=code)
    return render(request, template, {"code": code, "message": message or MESSAGES[code]}, status=code)


@csrf_exempt
def api_not_found(request):
    """Unknown paths under /api/ answer with the JSON 404 envelope for every method (a POST with a Bearer token
    and no CSRF cookie too), even when DEBUG shows HTML 404 pages. A GET of a known page without its trailing
    slash is redirected (CredentialFreeRedirectMiddleware strips credentials from the Location)."""
    if request.method in ("GET", "HEAD") and not request.path.endswith("/"):
        try:
            match = resolve(request.path + "/")
        except Resolver404:
            match = None
        if match is not None and match.func is not api_not_found:
            return HttpResponsePermanentRedirect(request.get_full_path().replace(request.path, request.path + "/", 1))
    return JsonResponse(error_body(404, "Not found"), status=404)


def not_found(request, exception=None):
    return _respond(request, 404, "errors/error.html", "Not found")


def server_error(request):
    if request.path.startswith("/api/"):
        return JsonResponse(error_body(500, MESSAGES[500]), status=500)
    return render(
        request, "errors/error.html", {"code": 500, "message": "Something went wrong on our side."}, status=500
    )


def forbidden(request, exception=None):
    """The reason a view refused (the role that may not, a suspended account) is written for the user: shown."""
    return _respond(request, 403, "errors/error.html", str(exception or "") or None)


def bad_request(request, exception=None):
    return _respond(request, 400, "errors/error.html")


def csrf_failure(request, reason=""):
    return _respond(request, 403, "errors/error.html", "CSRF verification failed. Reload the page and try again.")
