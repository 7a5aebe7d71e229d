"""Secrets encrypted at rest: `EncryptedTextField` and the key ring behind it.

A stored value is `enc1:` followed by a Fernet token (AES-128-CBC with HMAC-SHA256). The keys are the setting
FIELD_ENCRYPTION_KEYS (env `FIELD_ENCRYPTION_KEYS`, comma-separated Fernet keys): the first encrypts, every one
decrypts, so a key is rotated by putting a new one first, running `manage.py rotate_encryption_keys`, then
dropping the old one. Unset, one key is derived from SECRET_KEY (development only: production sets its own).

Python code always sees the plain text; only the database holds the tokens. A value without the prefix is a
legacy plain value: it reads as it is, and the next save (or the data migration, or the rotation command)
encrypts it. The empty string stays empty. Tokens differ on every save, so the field cannot be filtered on.
"""

import base64
from collections import Counter
from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django import forms
from django.conf import settings
from django.core import checks
from django.core.exceptions import ImproperlyConfigured
from django.db import models, transaction
from django.db.models.functions import Cast

__all__ = [
    "PREFIX",
    "EncryptedTextField",
    "SecretDecryptionError",
    "decrypt",
    "encrypt",
    "encrypted_fields",
    "key_ring",
    "reencrypt",
    "rewrite_columns",
]

PREFIX = "enc1:"
BATCH = 500


class SecretDecryptionError(ImproperlyConfigured):
    """A stored secret that no key of FIELD_ENCRYPTION_KEYS opens."""


def derived_key(secret_key: str) -> bytes:
    """The Fernet key used when FIELD_ENCRYPTION_KEYS is unset: HKDF-SHA256 of SECRET_KEY."""
    hkdf = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=b"portal.secrets_at_rest")
    return base64.urlsafe_b64encode(hkdf.derive(secret_key.encode()))


@lru_cache(maxsize=8)
def _key_ring(keys: tuple[str, ...], secret_key: str) -> MultiFernet:
    if not keys:
        return MultiFernet([Fernet(derived_key(secret_key))])
    fernets = []
    for position, key in enumerate(keys, start=1):
        try:
            fernets.append(Fernet(key))
        except (ValueError, TypeError):
            raise ImproperlyConfigured(
                f"FIELD_ENCRYPTION_KEYS: key {position} is not a Fernet key (32 url-safe base64-encoded bytes; "
                'make one with python -c "from cryptography.fernet import Fernet; print(Fernet.generate_key())")'
            ) from None
    return MultiFernet(fernets)


def key_ring() -> MultiFernet:
    """The keys in force: FIELD_ENCRYPTION_KEYS, else the one derived from SECRET_KEY."""
    return _key_ring(tuple(getattr(settings, "FIELD_ENCRYPTION_KEYS", None) or ()), settings.SECRET_KEY)


def encrypt(plain: str) -> str:
    """`enc1:` + a Fernet token of `plain` under the first key."""
    return PREFIX + key_ring().encrypt(plain.encode()).decode()


def decrypt(stored: str, *, label: str = "a secret") -> str:
    """The plain text of a stored value (a legacy value without the prefix is already plain)."""
    if not stored.startswith(PREFIX):
        return stored
    try:
        return key_ring().decrypt(stored[len(PREFIX) :].encode()).decode()
    except InvalidToken:
        raise SecretDecryptionError(
            f"{label} cannot be decrypted with any key of FIELD_ENCRYPTION_KEYS: the key that encrypted it is "
            "missing (was it removed, or did SECRET_KEY change while FIELD_ENCRYPTION_KEYS was unset?)"
        ) from None


def reencrypt(stored: str, *, label: str = "a secret") -> str:
    """A stored value under the first key: legacy plain values are encrypted, tokens decrypted and encrypted anew."""
    return encrypt(decrypt(stored, label=label))


class EncryptedTextField(models.TextField):
    """A text column holding `enc1:<Fernet token>`; the model attribute is the plain text."""

    def from_db_value(self, value, expression, connection):
        if not value:
            return value
        return decrypt(value, label=self.label())

    def get_prep_value(self, value):
        value = super().get_prep_value(value)
        if not value:
            return value
        return encrypt(value)

    def get_lookup(self, lookup_name):
        """Only `isnull`: a token differs on every save, so comparing with one finds nothing."""
        return super().get_lookup(lookup_name) if lookup_name == "isnull" else None

    def formfield(self, **kwargs):
        """A one-line input like the CharField it replaces (admin forms exclude or mask secrets)."""
        return super().formfield(**{"form_class": forms.CharField, "widget": forms.TextInput, **kwargs})

    def label(self) -> str:
        model = getattr(self, "model", None)
        return f"{model._meta.label}.{self.name}" if model is not None else self.name


def encrypted_fields(app_models) -> list[tuple[type[models.Model], list[str]]]:
    """(model, names of its encrypted columns) for each of `app_models` that has some."""
    found = []
    for model in app_models:
        names = [field.name for field in model._meta.concrete_fields if isinstance(field, EncryptedTextField)]
        if names:
            found.append((model, names))
    return found


def rewrite_columns(model, names: list[str], transform) -> dict[str, Counter]:
    """Replace each non-empty stored value of the `names` columns of `model` by `transform(stored, label=...)`,
    one UPDATE per row, in batches whose rows are locked while they are rewritten. Counts per column the values
    `rotated` (were tokens) and `encrypted` (were plain)."""
    counts = {name: Counter() for name in names}
    manager = model._base_manager
    raw = {f"_raw_{name}": Cast(name, output_field=models.TextField()) for name in names}
    pks = list(manager.order_by("pk").values_list("pk", flat=True))
    for start in range(0, len(pks), BATCH):
        with transaction.atomic():
            rows = manager.select_for_update().filter(pk__in=pks[start : start + BATCH]).annotate(**raw)
            for pk, *stored_values in rows.values_list("pk", *raw):
                changes = {}
                for name, stored in zip(names, stored_values, strict=True):
                    if not stored:
                        continue
                    new = transform(stored, label=f"{model._meta.label}.{name} (pk {pk})")
                    changes[name] = models.Value(new, output_field=models.TextField())
                    counts[name]["rotated" if stored.startswith(PREFIX) else "encrypted"] += 1
                if changes:
                    manager.filter(pk=pk).update(**changes)
    return counts


@checks.register(checks.Tags.security, deploy=True)
def check_encryption_keys(app_configs=None, **kwargs):
    """`check --deploy`: FIELD_ENCRYPTION_KEYS is set and every key parses."""
    if not getattr(settings, "FIELD_ENCRYPTION_KEYS", None):
        return [
            checks.Warning(
                "FIELD_ENCRYPTION_KEYS is not set: secrets at rest use a key derived from SECRET_KEY.",
                hint="Set FIELD_ENCRYPTION_KEYS to one or more Fernet keys (comma-separated, the first encrypts).",
                id="portal.W101",
            )
        ]
    try:
        key_ring()
    except ImproperlyConfigured as exc:
        return [checks.Error(str(exc), id="portal.E101")]
    return []
