"""Text no endpoint accepts: NUL characters (PostgreSQL can neither store nor compare them in text).

Checked once per request, before any view code runs, in the query string, the URL's parts and the parsed body
(JSON, form fields; uploaded files are left alone), so a lookup never reaches the database with one.
"""

from django.http import QueryDict
from rest_framework import exceptions

NUL = "\x00"


def find_nul(value, path: str = "") -> str | None:
    """The path of the first text inside `value` (nested dicts and lists, keys too) that holds a NUL character."""
    if isinstance(value, str):
        return path or "value" if NUL in value else None
    if isinstance(value, QueryDict):
        value = {key: value.getlist(key) for key in value}
    if isinstance(value, dict):
        for key, item in value.items():
            inner = f"{path}.{key}" if path else str(key)
            found = find_nul(str(key), inner) or find_nul(item, inner)
            if found:
                return found
    elif isinstance(value, list | tuple):
        for item in value:
            found = find_nul(item, path)
            if found:
                return found
    return None


def reject_nul_characters(request, url_kwargs: dict) -> None:
    """A 400 naming the first query parameter, URL part or body field that holds a NUL character."""
    for where, value in (("query parameter", request.query_params), ("URL part", url_kwargs)):
        name = find_nul(value)
        if name:
            raise exceptions.ParseError(f"The {where} '{name}' contains a NUL character, which is not allowed.")
    if request.method in ("POST", "PUT", "PATCH", "DELETE") and request.content_type:
        name = find_nul(request.data)
        if name:
            raise exceptions.ParseError(f"The field '{name}' contains a NUL character, which is not allowed.")


class RejectNulMixin:
    """Runs `reject_nul_characters` before every handler of an API view."""

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        reject_nul_characters(request, kwargs)
