"""Standard Webhooks signatures: `v1,<base64 HMAC-SHA256>` over `id.timestamp.body` with a `whsec_` secret.

See https://www.standardwebhooks.com/: receivers verify with any Standard Webhooks library. During a secret
rotation several secrets sign the same message and the signatures are sent space-separated. A webhook may also
ask for the seed's simpler check, its secret as `Authorization: Bearer <secret>` (`auth_headers`); the signature
is sent all the same.
"""

import base64
import binascii
import hashlib
import hmac
import secrets
from collections.abc import Iterable
from datetime import datetime

SECRET_PREFIX = "whsec_"
SECRET_BYTES = 24
MIN_SECRET_BYTES = 16
MAX_SECRET_BYTES = 64


class InvalidSecret(ValueError):
    """The secret is not usable for signing."""


def generate_secret() -> str:
    """A fresh random secret in the `whsec_<base64>` form."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode()


def secret_key(secret: str) -> bytes:
    """The HMAC key a `whsec_<base64>` secret stands for."""
    if not secret.startswith(SECRET_PREFIX):
        raise InvalidSecret("A webhook secret starts with whsec_.")
    try:
        key = base64.b64decode(secret[len(SECRET_PREFIX) :], validate=True)
    except (binascii.Error, ValueError):
        raise InvalidSecret("The part after whsec_ must be base64.") from None
    if not MIN_SECRET_BYTES <= len(key) <= MAX_SECRET_BYTES:
        raise InvalidSecret(f"The secret must hold {MIN_SECRET_BYTES} to {MAX_SECRET_BYTES} bytes.")
    return key


def normalize_secret(value: str) -> str:
    """Accept `whsec_<base64>` as is; other text of 16 to 64 bytes becomes the key itself, in `whsec_` form."""
    value = value.strip()
    if value.startswith(SECRET_PREFIX):
        secret_key(value)
        return value
    raw = value.encode()
    if not MIN_SECRET_BYTES <= len(raw) <= MAX_SECRET_BYTES:
        raise InvalidSecret(f"Use whsec_<base64> or {MIN_SECRET_BYTES} to {MAX_SECRET_BYTES} characters.")
    return SECRET_PREFIX + base64.b64encode(raw).decode()


def sign(secret: str, msg_id: str, timestamp: int, body: bytes | str) -> str:
    """One `v1,<base64>` signature of `msg_id.timestamp.body`."""
    data = body if isinstance(body, bytes) else body.encode()
    to_sign = f"{msg_id}.{int(timestamp)}.".encode() + data
    digest = hmac.new(secret_key(secret), to_sign, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def signature_header(secrets_in_use: Iterable[str], msg_id: str, timestamp: int, body: bytes | str) -> str:
    """The `webhook-signature` value: one signature per secret, space-separated (rotation overlap)."""
    signatures = [sign(secret, msg_id, timestamp, body) for secret in secrets_in_use if secret]
    if not signatures:
        raise InvalidSecret("No secret to sign with.")
    return " ".join(signatures)


def signed_headers(secrets_in_use: Iterable[str], msg_id: str, timestamp: int, body: bytes | str) -> dict[str, str]:
    """The three Standard Webhooks headers for one attempt."""
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": str(int(timestamp)),
        "webhook-signature": signature_header(secrets_in_use, msg_id, timestamp, body),
    }


def auth_headers(webhook, msg_id: str, timestamp: int, body: bytes | str, now: datetime) -> dict[str, str]:
    """The headers of one request to `webhook`: the signatures of its secrets in use, and `Authorization: Bearer
    <secret>` when it asks for that too."""
    headers = signed_headers(webhook.signing_secrets(now), msg_id, timestamp, body)
    if webhook.bearer_token:
        headers["Authorization"] = f"Bearer {webhook.bearer_token}"
    return headers
