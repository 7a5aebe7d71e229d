"""Validation of webhook and subscription input, shared by the API serializers and the UI forms."""

from urllib.parse import urlsplit

from django.core.exceptions import ValidationError

from portal.webhooks import conf, custom, registry, signing, ssrf, transport

MAX_CUSTOM_ENTRIES = 30
FORBIDDEN_HEADERS = {"host", "content-length", "transfer-encoding", "connection", "webhook-id", "webhook-signature"}


def clean_uri(uri: str, *, allow_placeholders: bool = False, values: dict | None = None) -> str:
    """A URL webhooks may call: http(s), host fixed (no placeholders), every resolved address public."""
    uri = (uri or "").strip()
    if not uri:
        raise ValidationError("Enter the URL that receives the webhook requests.")
    netloc = urlsplit(uri).netloc
    if allow_placeholders:
        if "{{" in netloc or "}}" in netloc:
            raise ValidationError("Placeholders may appear in the path and query only, not in the host.")
        if custom.malformed_braces(uri):
            raise ValidationError("Write placeholders as {{name}}.")
        unknown = custom.placeholders(uri) - set(values or {})
        if unknown:
            raise ValidationError(f"Unknown placeholder(s): {', '.join(sorted(unknown))}.")
        checked = custom.render(uri, values or {}, url_encode=True)
    else:
        checked = uri
    try:
        ssrf.check_url(checked, policy=conf.policy())
    except ssrf.UnsafeURL as exc:
        raise ValidationError(str(exc)) from None
    return uri


def clean_secret(secret: str | None) -> str:
    """The given secret in whsec_ form, or a new one when none is given."""
    if not secret:
        return signing.generate_secret()
    try:
        return signing.normalize_secret(secret)
    except signing.InvalidSecret as exc:
        raise ValidationError(str(exc)) from None


def clean_timeout(value) -> float | None:
    if value in (None, ""):
        return None
    try:
        seconds = float(value)
    except (TypeError, ValueError):
        raise ValidationError("Enter a number of seconds.") from None
    if not transport.MIN_TIMEOUT <= seconds <= transport.MAX_TIMEOUT:
        raise ValidationError(f"The timeout must be between {transport.MIN_TIMEOUT:g} and {transport.MAX_TIMEOUT:g} s.")
    return seconds


def clean_mapping(value, *, field: str, values: dict, header_names: bool = False) -> dict[str, str]:
    """A {name: template} mapping with known placeholders only."""
    if value in (None, ""):
        return {}
    if not isinstance(value, dict):
        raise ValidationError(f"{field} must be an object of names to values.")
    if len(value) > MAX_CUSTOM_ENTRIES:
        raise ValidationError(f"At most {MAX_CUSTOM_ENTRIES} {field}.")
    cleaned = {}
    for key, template in value.items():
        key, template = str(key).strip(), "" if template is None else str(template)
        if not key:
            raise ValidationError(f"Every entry of {field} needs a name.")
        if header_names and (key.lower() in FORBIDDEN_HEADERS or not key.replace("-", "").isalnum()):
            raise ValidationError(f"{key!r} cannot be set as a header.")
        unknown = custom.placeholders(template) - set(values)
        if unknown or custom.malformed_braces(template):
            raise ValidationError(f"{key}: unknown or malformed placeholder ({', '.join(sorted(unknown)) or '{{'}).")
        cleaned[key] = template
    return cleaned


def clean_raw_body(body: str, values: dict) -> str:
    unknown = custom.placeholders(body) - set(values)
    if unknown or custom.malformed_braces(body):
        raise ValidationError(f"Unknown or malformed placeholder(s): {', '.join(sorted(unknown)) or '{{'}.")
    return body


def placeholder_values() -> dict:
    """The fields a customized webhook may use: those of the customizable events' payloads."""
    values = {"event": "sms:message:status", "event_id": "evt"}
    for event in registry.all_events():
        if event.customizable:
            values.update(event.sample_payload)
    return values


def clean_event(name: str) -> str:
    try:
        event = registry.get(name)
    except ValueError:
        allowed = ", ".join(event.name for event in registry.subscribable_events())
        raise ValidationError(f"Unknown event. Allowed: {allowed}.") from None
    if not event.subscribable:
        raise ValidationError(f"{name} is only sent to the webhook being tested; it cannot be subscribed to.")
    return name


def clean_identity(identity: str | None) -> str:
    identity = (identity or "").strip() or "all"
    if len(identity) > 64:
        raise ValidationError("The identity is a sender, a number or all (64 characters at most).")
    return "all" if identity.lower() == "all" else identity


WEBHOOK_FIELDS = (
    "name",
    "uri",
    "kind",
    "status",
    "token",
    "send_bearer",
    "timeout_seconds",
    "custom_method",
    "custom_headers",
    "custom_params",
    "custom_body_type",
    "custom_body",
    "custom_form",
)


def clean_webhook(data: dict, current: dict | None = None) -> dict:
    """Validate webhook fields (merged over `current` for updates); ValidationError maps field → messages."""
    from portal.models import Webhook

    merged = {**(current or {}), **{key: value for key, value in data.items() if key in WEBHOOK_FIELDS}}
    errors: dict[str, list[str]] = {}
    cleaned: dict = {}

    def check(field: str, cleaner) -> None:
        try:
            cleaned[field] = cleaner()
        except ValidationError as exc:
            errors.setdefault(field, []).extend(exc.messages)

    name = str(merged.get("name") or "").strip()
    if not name:
        errors["name"] = ["Give the webhook a name."]
    cleaned["name"] = name[:120]
    kind = merged.get("kind") or Webhook.Kind.STANDARD
    if kind not in Webhook.Kind.values:
        errors["kind"] = [f"Choose one of: {', '.join(Webhook.Kind.values)}."]
    cleaned["kind"] = kind
    is_custom = kind == Webhook.Kind.CUSTOM
    values = placeholder_values()
    check("uri", lambda: clean_uri(merged.get("uri", ""), allow_placeholders=is_custom, values=values))
    check("timeout_seconds", lambda: clean_timeout(merged.get("timeout_seconds")))
    status = merged.get("status", Webhook.Status.ACTIVE)
    if str(status) not in ("0", "1"):
        errors["status"] = ["The status is 1 (active) or 0 (inactive)."]
    else:
        cleaned["status"] = int(status)
    cleaned["token"] = str(merged.get("token") or "").strip()[:200]
    cleaned["send_bearer"] = bool(merged.get("send_bearer"))
    if (
        cleaned["send_bearer"]
        and is_custom
        and any(str(key).strip().lower() == "authorization" for key in merged.get("custom_headers") or {})
    ):
        errors["send_bearer"] = ["The headers already set Authorization: remove it, or leave the Bearer option off."]
    if is_custom:
        method = str(merged.get("custom_method") or Webhook.Method.GET).upper()
        if method not in Webhook.Method.values:
            errors["custom_method"] = ["A customized webhook uses GET or POST."]
        cleaned["custom_method"] = method
        body_type = merged.get("custom_body_type") or Webhook.BodyType.FORM
        if body_type not in Webhook.BodyType.values:
            errors["custom_body_type"] = ["The body is raw or form."]
        cleaned["custom_body_type"] = body_type
        check(
            "custom_headers",
            lambda: clean_mapping(merged.get("custom_headers"), field="headers", values=values, header_names=True),
        )
        check("custom_params", lambda: clean_mapping(merged.get("custom_params"), field="params", values=values))
        check("custom_form", lambda: clean_mapping(merged.get("custom_form"), field="form fields", values=values))
        check("custom_body", lambda: clean_raw_body(str(merged.get("custom_body") or ""), values))
    if errors:
        raise ValidationError(errors)
    return cleaned
