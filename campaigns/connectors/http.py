"""A configurable upstream HTTP SMS API.

Configuration (the Connector row's JSON):
    method            "POST" (default) or "GET"
    url               "https://upstream.example/send?to={{to}}"
    headers           {"Authorization": "Bearer {{api_key}}", "Content-Type": "application/json"}
    body              '{"from": "{{sender}}", "to": "{{to}}", "text": "{{text}}", "ref": "{{message_id}}"}'
    variables         constants for the placeholders, e.g. {"api_key": "…"}
    message_id_field  dotted path of the upstream id in a JSON answer ("data.id"); default: our message id
    reject_field / reject_values   a JSON field whose value marks a refusal even with a 2xx status
    transient_status  statuses retried later (default 408, 425, 429, 500, 502, 503, 504)
    timeout           seconds (default 10)

Placeholders: message_id, to, to_digits, sender, text, type, parts, flash ("1" for a class-0 message, else
"0"), port (the destination application port, "" when none), callback_url, password (the connector's password,
kept encrypted at rest: put an upstream credential there rather than in `variables`) and every configured
variable.
Values are escaped for where they land: URL-quoted in the URL and in form bodies, JSON-escaped in JSON bodies,
verbatim in headers.
"""

import json
import re
import urllib.error
import urllib.parse
import urllib.request

from campaigns.connectors.base import BaseConnector, ConnectorResult

PLACEHOLDER = re.compile(r"\{\{\s*([A-Za-z][A-Za-z0-9_]*)\s*\}\}")
DEFAULT_TRANSIENT = (408, 425, 429, 500, 502, 503, 504)


def fill(template: str, values: dict, escape=str) -> str:
    """Replace each `{{name}}` with the escaped value (unknown names become empty)."""
    return PLACEHOLDER.sub(lambda match: escape(str(values.get(match.group(1), ""))), template)


def json_escape(value: str) -> str:
    return json.dumps(value, ensure_ascii=False)[1:-1]


def url_escape(value: str) -> str:
    return urllib.parse.quote(value, safe="")


def dig(data, dotted: str):
    for key in dotted.split("."):
        if isinstance(data, dict):
            data = data.get(key)
        elif isinstance(data, list) and key.isdigit() and int(key) < len(data):
            data = data[int(key)]
        else:
            return None
    return data


class HttpConnector(BaseConnector):
    kind = "http"

    def placeholder_values(self, message) -> dict:
        values = dict(self.config.get("variables") or {})
        values.update(
            message_id=str(message.uid),
            to=message.recipient,
            to_digits=message.recipient.lstrip("+"),
            sender=message.sender_name,
            text=message.outgoing_text(),
            type=message.message_type,
            parts=message.parts,
            flash="1" if message.flash else "0",
            port="" if message.destination_port is None else str(message.destination_port),
            callback_url=self.callback_url(message),
        )
        if self.connector is not None and self.connector.secret:
            values["password"] = self.connector.secret
        return values

    def build_request(self, message) -> urllib.request.Request:
        values = self.placeholder_values(message)
        headers = {name: fill(value, values) for name, value in (self.config.get("headers") or {}).items()}
        content_type = next((v for k, v in headers.items() if k.lower() == "content-type"), "")
        body_template = self.config.get("body")
        data = None
        if body_template:
            escape = json_escape if "json" in content_type else url_escape if "form" in content_type else str
            data = fill(body_template, values, escape).encode()
        url = fill(self.config["url"], values, url_escape)
        method = (self.config.get("method") or ("POST" if data is not None else "GET")).upper()
        return urllib.request.Request(url, data=data, headers=headers, method=method)

    def options_it_cannot_carry(self, message) -> list[str]:
        """`flash`/`port` asked for by the message but absent from this upstream's request templates: such a
        message is refused, never sent without them."""
        templates = json.dumps([self.config.get("url"), self.config.get("body"), self.config.get("headers")])
        carried = set(PLACEHOLDER.findall(templates))
        asked = {"flash": bool(message.flash), "port": message.destination_port is not None}
        return [name for name, wanted in asked.items() if wanted and name not in carried]

    def send(self, message) -> ConnectorResult:
        missing = self.options_it_cannot_carry(message)
        if missing:
            return ConnectorResult.rejected("", f"this connector cannot carry {' and '.join(missing)}")
        request = self.build_request(message)
        timeout = float(self.config.get("timeout", 10))
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                status, text = response.status, response.read().decode(errors="replace")
        except urllib.error.HTTPError as exc:
            status, text = exc.code, exc.read().decode(errors="replace")
        except (urllib.error.URLError, TimeoutError, OSError) as exc:
            return ConnectorResult.retry(f"upstream unreachable: {exc}", connector_down=True)
        return self.interpret(message, status, text)

    def interpret(self, message, status: int, text: str) -> ConnectorResult:
        """Map the upstream's answer to accepted / rejected / retry."""
        try:
            payload = json.loads(text) if text else {}
        except ValueError:
            payload = {}
        raw = {"status": status, "body": text[:500]}
        if status in tuple(self.config.get("transient_status") or DEFAULT_TRANSIENT):
            return ConnectorResult.retry(f"upstream answered {status}", raw=raw, connector_down=status >= 500)
        if not 200 <= status < 300:
            return ConnectorResult.rejected("", f"upstream refused with {status}: {text[:200]}", raw=raw)
        reject_field = self.config.get("reject_field")
        if reject_field and str(dig(payload, reject_field)) in {str(v) for v in self.config.get("reject_values", [])}:
            return ConnectorResult.rejected("", f"upstream refused: {text[:200]}", raw=raw)
        id_field = self.config.get("message_id_field")
        upstream = dig(payload, id_field) if id_field else None
        return ConnectorResult.accepted(str(upstream or message.uid), raw=raw)
