"""One rule for full page versus partial: HTMX requests (not boosted) get only the named partial."""

from django.shortcuts import render as django_render
from django.utils.cache import patch_vary_headers


def is_partial_request(request) -> bool:
    htmx = getattr(request, "htmx", None)
    return bool(htmx) and not htmx.boosted


def render(request, template_name: str, context: dict | None = None, *, partial: str | None = None, status=200):
    name = f"{template_name}#{partial}" if partial and is_partial_request(request) else template_name
    response = django_render(request, name, context or {}, status=status)
    patch_vary_headers(response, ["HX-Request"])
    return response
