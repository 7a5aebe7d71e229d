"""Customized webhooks (seed: Compose Customized Webhook): method, URL with {{placeholders}}, params, headers, body.

Placeholders name fields of the event payload (`{{id}}`, `{{mobile}}`, `{{status}}`…). In the URL and in params
values are URL-encoded; in headers and bodies they are inserted as text (form bodies are encoded as a whole).
"""

import json
import re
from urllib.parse import quote, urlencode, urlsplit, urlunsplit

PLACEHOLDER = re.compile(r"\{\{\s*([A-Za-z][A-Za-z0-9_]*)\s*\}\}")
ANY_BRACES = re.compile(r"\{\{|\}\}")


def placeholders(text: str) -> set[str]:
    return set(PLACEHOLDER.findall(text or ""))


def malformed_braces(text: str) -> bool:
    """Double braces that are not a well-formed {{name}}."""
    return bool(ANY_BRACES.search(PLACEHOLDER.sub("", text or "")))


def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, dict | list):
        return json.dumps(value, separators=(",", ":"))
    return str(value)


def render(template: str, values: dict, *, url_encode: bool = False) -> str:
    """Replace {{name}} by the value (unknown names become empty), URL-encoded when asked."""

    def replace(match: re.Match) -> str:
        value = _text(values.get(match.group(1)))
        return quote(value, safe="") if url_encode else value

    return PLACEHOLDER.sub(replace, template or "")


def render_url(uri: str, params: dict[str, str], values: dict) -> str:
    url = render(uri, values, url_encode=True)
    if not params:
        return url
    extra = urlencode({key: render(value, values) for key, value in params.items()})
    parts = urlsplit(url)
    query = f"{parts.query}&{extra}" if parts.query else extra
    return urlunsplit((parts.scheme, parts.netloc, parts.path, query, parts.fragment))


def render_headers(headers: dict[str, str], values: dict) -> dict[str, str]:
    return {key: render(value, values).replace("\r", " ").replace("\n", " ") for key, value in headers.items()}


def render_body(body_type: str, raw: str, form: dict[str, str], values: dict) -> tuple[bytes, str]:
    """The body and its default content type."""
    if body_type == "form":
        return urlencode({key: render(value, values) for key, value in form.items()}).encode(), (
            "application/x-www-form-urlencoded"
        )
    text = render(raw, values)
    looks_json = text.lstrip()[:1] in ("{", "[")
    return text.encode(), "application/json" if looks_json else "text/plain; charset=utf-8"
