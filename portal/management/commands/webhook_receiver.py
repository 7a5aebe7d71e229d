"""`manage.py webhook_receiver`: a local endpoint that prints and verifies incoming webhook deliveries."""

import json
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from django.core.management.base import BaseCommand, CommandError
from standardwebhooks.webhooks import Webhook as StandardWebhook
from standardwebhooks.webhooks import WebhookVerificationError

from portal.models import Webhook


def verification(secret: str | None, body: bytes, headers: dict[str, str]) -> str:
    """`signature ok`, or why the delivery does not verify (or `not checked` without a secret)."""
    if not secret:
        return "signature not checked (pass --secret or --webhook)"
    if "webhook-signature" not in headers:
        return "NOT SIGNED: no webhook-signature header"
    try:
        StandardWebhook(secret).verify(body, headers)
    except WebhookVerificationError as exc:
        return f"INVALID SIGNATURE: {exc}"
    return "signature ok"


def challenge_answer(body: bytes, validation_key: str | None) -> tuple[int, bytes] | None:
    """The seed's verification handshake: a `{validation_key, challenge}` body is answered `{"challenge": …}` (403
    when --validation-key is given and differs); None for an ordinary delivery."""
    try:
        payload = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return None
    if not isinstance(payload, dict) or not {"validation_key", "challenge"} <= payload.keys():
        return None
    if validation_key is not None and payload["validation_key"] != validation_key:
        return 403, b'{"error": "unknown validation key"}'
    return 200, json.dumps({"challenge": payload["challenge"]}).encode()


def render_body(body: bytes) -> str:
    try:
        return json.dumps(json.loads(body), indent=2, ensure_ascii=False)
    except (ValueError, UnicodeDecodeError):
        return body.decode("utf-8", errors="replace")


class Command(BaseCommand):
    help = "Listen for webhook deliveries on a local port; print each one and verify its Standard Webhooks signature."

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8765)
        parser.add_argument("--secret", help="whsec_… secret to verify signatures with")
        parser.add_argument("--webhook", help="id of a webhook in this database whose secrets verify signatures")
        parser.add_argument("--status", type=int, default=200, help="HTTP status to answer with (default 200)")
        parser.add_argument(
            "--validation-key", help="answer the verification handshake only for this key (default: any key)"
        )

    def handle(self, *args, **options):
        secrets_in_use = self.secrets(options)
        command = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True

            def handle_one(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                headers = {key.lower(): value for key, value in self.headers.items()}
                command.report(self.command, self.path, headers, body, secrets_in_use)
                status, answer = challenge_answer(body, options["validation_key"]) or (options["status"], b"")
                self.send_response(status)
                if answer:
                    self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            do_GET = do_POST = do_PUT = handle_one

            def log_message(self, format, *args):
                return

        server = ThreadingHTTPServer((options["host"], options["port"]), Handler)
        self.stdout.write(f"Listening on http://{options['host']}:{server.server_address[1]}/ (Ctrl-C stops)")
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            pass
        finally:
            server.server_close()

    def secrets(self, options) -> list[str]:
        if options["webhook"]:
            try:
                webhook = Webhook.objects.get(uid=uuid.UUID(options["webhook"]))
            except (ValueError, Webhook.DoesNotExist):
                raise CommandError(f"No webhook with id {options['webhook']}.") from None
            return webhook.signing_secrets()
        return [options["secret"]] if options["secret"] else []

    def report(self, method: str, path: str, headers: dict[str, str], body: bytes, secrets_in_use: list[str]) -> None:
        results = [verification(secret, body, headers) for secret in secrets_in_use or [None]]
        outcome = "signature ok" if "signature ok" in results else results[0]
        style = self.style.SUCCESS if outcome == "signature ok" else self.style.WARNING
        lines = [style(f"{method} {path} — {outcome}")]
        lines += [f"  {key}: {value}" for key, value in headers.items() if key.startswith("webhook-")]
        lines.append(render_body(body))
        self.stdout.write("\n".join(lines) + "\n")
