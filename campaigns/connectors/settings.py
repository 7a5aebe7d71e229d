"""The settings of each connector kind: one home for their names, defaults and limits.

`validate_settings(kind, config, secret, current=...)` checks what staff give (API, admin) and returns the
config with defaults applied, or raises `SettingsError({field: message})`; `smpp_settings(connector)` is the typed
view the SMPP worker reads. The password is `Connector.secret`, never part of `config`.
"""

from dataclasses import dataclass, field, fields

INDIA_TLV_TAGS = {"pe_id": 0x1400, "template_id": 0x1401, "tm_id": 0x1402}
VENDOR_TAGS = range(0x1400, 0x4000)
BIND_MODES = ("transceiver", "transmitter_receiver")
LONG_MESSAGES = ("udh", "sar", "payload")


class SettingsError(ValueError):
    def __init__(self, errors: dict[str, str]):
        super().__init__("; ".join(f"{name}: {message}" for name, message in errors.items()))
        self.errors = errors


@dataclass(frozen=True)
class SmppSettings:
    host: str
    system_id: str
    password: str = ""
    port: int = 2775
    ssl: bool = False
    ssl_verify: bool = True
    system_type: str = ""
    address_range: str = ""
    interface_version: int = 0x34
    bind_mode: str = "transceiver"
    binds: int = 1
    window: int = 10
    throughput: float = 0
    enquire_link_seconds: float = 30
    reconnect_min_seconds: float = 1
    reconnect_max_seconds: float = 60
    response_timeout_seconds: float = 30
    gsm_packed: bool = False
    long_messages: str = "udh"
    latin1: bool = False
    validity_minutes: int = 0
    india_tlv_tags: dict = field(default_factory=lambda: dict(INDIA_TLV_TAGS))
    tm_id: str = ""
    unknown_timeout_hours: float = 48


# name: (type, minimum, maximum) for numbers; (type, max length) for text; (bool,) for flags
_SMPP_RULES = {
    "host": (str, 253),
    "system_id": (str, 16),
    "port": (int, 1, 65535),
    "ssl": (bool,),
    "ssl_verify": (bool,),
    "system_type": (str, 12),
    "address_range": (str, 40),
    "interface_version": (int, 0x33, 0x34),
    "binds": (int, 1, 64),
    "window": (int, 1, 1000),
    "throughput": (float, 0, 10000),
    "enquire_link_seconds": (float, 1, 600),
    "reconnect_min_seconds": (float, 0.1, 600),
    "reconnect_max_seconds": (float, 0.1, 3600),
    "response_timeout_seconds": (float, 1, 300),
    "gsm_packed": (bool,),
    "latin1": (bool,),
    "validity_minutes": (int, 0, 10080),
    "tm_id": (str, 40),
    "unknown_timeout_hours": (float, 1, 720),
}
_CHOICES = {"bind_mode": BIND_MODES, "long_messages": LONG_MESSAGES}
_REQUIRED = ("host", "system_id")


def _checked(name: str, value, rule: tuple):
    kind = rule[0]
    if kind is bool:
        if not isinstance(value, bool):
            raise ValueError("Give true or false.")
        return value
    if kind is str:
        if not isinstance(value, str) or len(value) > rule[1] or "\x00" in value:
            raise ValueError(f"Give a text of at most {rule[1]} characters.")
        return value.strip()
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise ValueError("Give a number.")
    try:
        number = kind(value)
    except ValueError:
        raise ValueError("Give a number.") from None
    if kind is int and number != float(value):
        raise ValueError("Give a whole number.")
    if not rule[1] <= number <= rule[2]:
        raise ValueError(f"Give a number from {rule[1]:g} to {rule[2]:g}.")
    return number


def _tlv_tags(value) -> dict:
    if not isinstance(value, dict) or set(value) - set(INDIA_TLV_TAGS):
        raise ValueError(f"Give an object with the tags {', '.join(INDIA_TLV_TAGS)}.")
    tags = dict(INDIA_TLV_TAGS)
    for name, tag in value.items():
        if isinstance(tag, str):
            tag = int(tag, 0) if tag.strip() else -1
        if isinstance(tag, bool) or not isinstance(tag, int) or tag not in VENDOR_TAGS:
            raise ValueError(f"{name}: give a vendor tag from 0x1400 to 0x3FFF.")
        tags[name] = tag
    return tags


def validate_smpp(config: dict, secret: str | None, *, current=None) -> dict:
    errors, clean = {}, {}
    known = set(_SMPP_RULES) | set(_CHOICES) | {"india_tlv_tags"}
    for name in sorted(set(config) - known):
        errors[name] = "Unknown setting."
    for name, rule in _SMPP_RULES.items():
        if name in config and config[name] is not None:
            try:
                clean[name] = _checked(name, config[name], rule)
            except ValueError as exc:
                errors[name] = str(exc)
    for name, choices in _CHOICES.items():
        if name in config:
            if config[name] in choices:
                clean[name] = config[name]
            else:
                errors[name] = f"Choose one of {', '.join(choices)}."
    if "india_tlv_tags" in config:
        try:
            clean["india_tlv_tags"] = _tlv_tags(config["india_tlv_tags"])
        except (ValueError, TypeError) as exc:
            errors["india_tlv_tags"] = str(exc)
    for name in _REQUIRED:
        if not clean.get(name) and name not in errors:
            errors[name] = "This setting is required."
    if not (secret or (current is not None and current.secret)):
        errors["password"] = "The SMPP password is required."
    if clean.get("reconnect_max_seconds", 60) < clean.get("reconnect_min_seconds", 1):
        errors["reconnect_max_seconds"] = "Give at least reconnect_min_seconds."
    if errors:
        raise SettingsError(errors)
    defaults = {f.name: f.default for f in fields(SmppSettings) if f.name not in ("password", "india_tlv_tags")}
    return {**defaults, "india_tlv_tags": dict(INDIA_TLV_TAGS), **clean} | {"host": clean["host"]}


def smpp_settings(connector) -> SmppSettings:
    """The typed settings of an SMPP connector row (defaults for what its config leaves out)."""
    known = {f.name for f in fields(SmppSettings)} - {"password"}
    values = {name: value for name, value in (connector.config or {}).items() if name in known}
    tags = dict(INDIA_TLV_TAGS) | {k: int(v) for k, v in (values.pop("india_tlv_tags", None) or {}).items()}
    return SmppSettings(password=connector.secret, india_tlv_tags=tags, **values)


def _unknown(config: dict, known: set[str]) -> dict[str, str]:
    return {name: "Unknown setting." for name in sorted(set(config) - known)}


def validate_http(config: dict) -> dict:
    """An HTTP upstream: `url` (http/https) with placeholders, method, headers, body, the answer's id field…"""
    known = {"url", "method", "headers", "body", "timeout", "message_id_field", "reject_field", "reject_values"}
    known |= {"transient_status", "variables"}
    errors = _unknown(config, known)
    url = config.get("url")
    if not isinstance(url, str) or not url.lower().startswith(("http://", "https://")):
        errors["url"] = "Give the upstream's http:// or https:// URL."
    if config.get("method", "POST") not in ("GET", "POST", "PUT"):
        errors["method"] = "Choose GET, POST or PUT."
    headers = config.get("headers", {})
    if not isinstance(headers, dict) or not all(isinstance(v, str) for v in headers.values()):
        errors["headers"] = "Give an object of header names and text values."
    for name in ("body", "message_id_field", "reject_field"):
        if name in config and not isinstance(config[name], str):
            errors[name] = "Give a text."
    if "timeout" in config:
        try:
            _checked("timeout", config["timeout"], (float, 1, 60))
        except ValueError as exc:
            errors["timeout"] = str(exc)
    statuses = config.get("transient_status", [])
    if not isinstance(statuses, list) or not all(isinstance(s, int) and 100 <= s <= 599 for s in statuses):
        errors["transient_status"] = "Give a list of HTTP status codes."
    if errors:
        raise SettingsError(errors)
    return dict(config)


def validate_simulator(config: dict) -> dict:
    errors = _unknown(config, {"dlr_delay_seconds"})
    if "dlr_delay_seconds" in config:
        try:
            _checked("dlr_delay_seconds", config["dlr_delay_seconds"], (float, 0, 3600))
        except ValueError as exc:
            errors["dlr_delay_seconds"] = str(exc)
    if errors:
        raise SettingsError(errors)
    return dict(config)


def validate_settings(kind: str, config: dict, secret: str | None, *, current=None) -> dict:
    """The config of a connector of `kind`, checked and completed; raises SettingsError naming each field."""
    if not isinstance(config, dict):
        raise SettingsError({"config": "Give an object of settings."})
    if kind == "smpp":
        return validate_smpp(config, secret, current=current)
    if kind == "http":
        return validate_http(config)
    if kind == "simulator":
        return validate_simulator(config)
    raise SettingsError({"kind": f"Unknown connector kind {kind!r}."})
