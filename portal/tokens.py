"""Issuing, checking and revoking API tokens."""

from dataclasses import dataclass
from datetime import datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from portal.audit import record
from portal.caps import caps_of, clean_caps
from portal.ip_lists import clean_allowed_ips
from portal.models import Account, ApiToken, hash_token_secret


@dataclass(frozen=True)
class IssuedToken:
    token: ApiToken
    raw: str


@transaction.atomic
def issue_token(
    account: Account,
    user,
    name: str,
    *,
    read_only: bool = False,
    expires_at: datetime | None = None,
    allowed_ips=(),
    acting_user=None,
    caps: dict | None = None,
) -> IssuedToken:
    """A new token; `caps` are its spending caps (the caller makes sure only an account admin sets them)."""
    if expires_at is not None and expires_at <= timezone.now():
        raise ValidationError({"expires_at": "The expiry must be in the future."})
    prefix, raw = ApiToken.new_raw_token()
    token = ApiToken(
        account=account,
        user=user,
        name=name,
        prefix=prefix,
        token_hash=hash_token_secret(raw),
        read_only=read_only,
        expires_at=expires_at,
        allowed_ips=clean_allowed_ips(allowed_ips),
    )
    for field, value in clean_caps(token, caps or {}).items():
        setattr(token, field, value)
    token.save()
    after = {"name": name, "read_only": read_only}
    after.update({field: value for field, value in caps_of(token).items() if value is not None})
    record(account, acting_user or user, "token.created", token, after=after)
    return IssuedToken(token=token, raw=raw)


def find_token(raw: str) -> ApiToken | None:
    """The token a raw value names, compared in constant time; None when unknown."""
    parts = raw.split("_")
    if len(parts) < 3 or parts[0] != "cp":
        return None
    token = ApiToken.objects.select_related("account", "user").filter(prefix=parts[1]).first()
    if token is None or not token.matches(raw):
        return None
    return token


def touch(token: ApiToken, ip: str | None) -> None:
    """Record last use, at most once a minute per token to keep the hot path cheap."""
    now = timezone.now()
    if token.last_used_at and (now - token.last_used_at).total_seconds() < 60 and token.last_used_ip == ip:
        return
    ApiToken.objects.filter(pk=token.pk).update(last_used_at=now, last_used_ip=ip or None)


@transaction.atomic
def revoke_token(token: ApiToken, *, acting_user) -> ApiToken:
    token.is_active = False
    token.revoked_at = timezone.now()
    token.save(update_fields=["is_active", "revoked_at"])
    record(token.account, acting_user, "token.revoked", token)
    return token
