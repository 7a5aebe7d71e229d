"""Codes: drawn from `secrets`, kept as a keyed HMAC of (verification id, code), compared in constant time.

The HMAC key is derived from VERIFY_HMAC_KEY (default: SECRET_KEY) for this purpose only, so a database dump
alone does not let anyone test codes. `seal`/`unseal` keep the one encrypted copy a fallback channel needs.
"""

import hashlib
import hmac
import secrets

from django.conf import settings

from portal.secrets_at_rest import decrypt, encrypt

MIN_LENGTH, MAX_LENGTH = 4, 10


def new_code(length: int) -> str:
    """`length` decimal digits, uniformly drawn (leading zeros kept)."""
    if not MIN_LENGTH <= length <= MAX_LENGTH:
        raise ValueError(f"code length must be {MIN_LENGTH} to {MAX_LENGTH}")
    return f"{secrets.randbelow(10**length):0{length}d}"


def _key() -> bytes:
    base = getattr(settings, "VERIFY_HMAC_KEY", "") or settings.SECRET_KEY
    return hashlib.sha256(b"cpaas-verify-code:" + base.encode()).digest()


def code_hash(verification_uid, code: str) -> str:
    return hmac.new(_key(), f"{verification_uid}:{code}".encode(), hashlib.sha256).hexdigest()


def code_matches(verification, code: str) -> bool:
    """True when `code` is the verification's code (constant time whatever the input)."""
    given = str(code or "").strip()
    return hmac.compare_digest(code_hash(verification.uid, given), verification.code_hash)


def seal(code: str) -> str:
    return encrypt(code)


def unseal(sealed: str) -> str:
    return decrypt(sealed, label="a Verify code")
