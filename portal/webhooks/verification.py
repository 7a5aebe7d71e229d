"""The seed's webhook verification (BICS "Webhook Verification"): the challenge handshake.

A webhook with a validation key (its `token`) receives nothing until its endpoint has answered one handshake: a
POST to its URL with `?token=<key>` and the JSON body `{"validation_key": <key>, "challenge": <random>}`, signed
like every delivery (Standard Webhooks headers, plus `Authorization: Bearer <secret>` when the webhook sends it),
answered with HTTP 200 and `{"challenge": <the same>}`. Meanwhile its deliveries are created and held pending
(`Webhook.objects.sending()` leaves its queue alone); a success starts the queue, which sends them in order.

The handshake runs after a key or a URL is set (a task, `portal.webhooks.verify`) and when a user asks (the Verify
button, `POST /api/v2/webhooks/{id}/verify`), always through the SSRF-checked transport. A new key or URL starts
over (`Webhook.reset_verification`); a failed check of a verified webhook is recorded and holds nothing.
"""

import json
import secrets
import uuid
from datetime import datetime
from urllib.parse import urlencode, urlsplit, urlunsplit

from django.db import transaction
from django.utils import timezone

from portal.audit import record
from portal.models import Webhook
from portal.service_errors import ServiceError
from portal.webhooks import conf, custom, delivery, signing, transport

CHALLENGE_BYTES = 16
ANSWER_EXCERPT_CHARS = 120
NO_KEY = "This webhook has no validation key (token), so it needs no verification: set one to require the handshake."
EXPECTED = 'HTTP 200 with {"challenge": "<the challenge sent>"}'


def challenge_url(webhook: Webhook) -> str:
    """The webhook's URL (a customized one with its placeholders empty) with `token=<key>` added to the query."""
    base = custom.render(webhook.uri, {}, url_encode=True) if webhook.is_custom else webhook.uri
    parts = urlsplit(base)
    token = urlencode({"token": webhook.token})
    return urlunsplit(parts._replace(query=f"{parts.query}&{token}" if parts.query else token))


def challenge_request(webhook: Webhook, challenge: str, now: datetime) -> transport.OutgoingRequest:
    body = delivery.body_bytes({"validation_key": webhook.token, "challenge": challenge})
    headers = custom.render_headers(webhook.custom_headers, {}) if webhook.is_custom else {}
    headers["Content-Type"] = "application/json"
    headers.update(signing.auth_headers(webhook, str(uuid.uuid4()), int(now.timestamp()), body, now))
    return transport.OutgoingRequest("POST", challenge_url(webhook), headers, body)


def answer_error(result: transport.AttemptResult, challenge: str) -> str:
    """Why the answer does not complete the handshake; empty when it does."""
    if result.status_code is None:
        return result.error
    if result.status_code != 200:
        return f"{result.error or f'HTTP {result.status_code}'}: the handshake needs {EXPECTED}."
    excerpt = result.response_excerpt.strip()[:ANSWER_EXCERPT_CHARS]
    try:
        answer = json.loads(result.response_excerpt)
    except ValueError:
        return f"The answer is not JSON ({excerpt!r}): the handshake needs {EXPECTED}."
    if not isinstance(answer, dict) or "challenge" not in answer:
        return f"The answer has no challenge field ({excerpt!r}): the handshake needs {EXPECTED}."
    if answer["challenge"] != challenge:
        return f"The answer's challenge {str(answer['challenge'])[:40]!r} is not the one sent ({challenge!r})."
    return ""


def handshake(webhook: Webhook, now: datetime | None = None) -> str:
    """One handshake with a fresh challenge: the error, or empty when the endpoint answered it."""
    now = now or timezone.now()
    challenge = secrets.token_urlsafe(CHALLENGE_BYTES)
    timeout = webhook.timeout_seconds or float(conf.setting("WEBHOOK_TIMEOUT_SECONDS"))
    result = transport.send(challenge_request(webhook, challenge, now), timeout=timeout, policy=conf.policy())
    return answer_error(result, challenge)


def verify_webhook(webhook: Webhook, *, acting_user=None) -> Webhook:
    """Run the handshake and record it (with its audit row); a success releases the held deliveries.

    The outcome is kept only if the webhook's settings did not change meanwhile (a new key or URL starts over)."""
    if not webhook.token:
        raise ServiceError(NO_KEY)
    error = handshake(webhook)[:500]
    now = timezone.now()
    changes = {"verification_checked_at": now, "verification_error": error}
    if not error:
        changes["verified_at"] = now
    with transaction.atomic():
        kept = Webhook.objects.filter(pk=webhook.pk, updated_at=webhook.updated_at).update(**changes)
        if not kept:
            webhook.refresh_from_db()
            return webhook
        for field, value in changes.items():
            setattr(webhook, field, value)
        verb = "webhook.verification_failed" if error else "webhook.verified"
        record(webhook.account, acting_user, verb, webhook, after={"error": error} if error else {})
        if not error:
            transaction.on_commit(lambda: delivery.kick([webhook.pk]), robust=True)
    return webhook
