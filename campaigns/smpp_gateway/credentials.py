"""SMPP credentials of an account: issue one (a system_id given by the user or made from the account's slug, and a
generated password shown once, stored hashed), rotate the password, change the label, IP allow-list, limits and
active flag, delete. Every change is audited; the password never is.

Field errors are raised as `ValidationError({field: [message]})`, so the API answers them as a 422 and the SMPP
page shows them on the form, in the same words.
"""

import re
import secrets
import string
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from campaigns.models import SmppCredential
from campaigns.smpp_gateway.conf import setting
from portal.audit import record
from portal.ip_lists import clean_allowed_ips

SYSTEM_ID_MAX_LENGTH = 15  # SMPP 3.4: system_id is a C-Octet String of at most 16 octets, its NUL included
SYSTEM_ID_PATTERN = re.compile(rf"[\x21-\x7e]{{1,{SYSTEM_ID_MAX_LENGTH}}}")  # printable ASCII, no space
PASSWORD_LENGTH = 8  # SMPP 3.4: password is a C-Octet String of at most 9 octets
PASSWORD_ALPHABET = string.ascii_letters + string.digits
LIMIT_MAXIMUMS = {"bind_limit": "SMPP_MAX_BIND_LIMIT", "throughput": "SMPP_MAX_THROUGHPUT", "window": "SMPP_MAX_WINDOW"}
EDITABLE_FIELDS = ("label", "allowed_ips", "bind_limit", "throughput", "window", "is_active")
AUDITED_FIELDS = ("system_id", *EDITABLE_FIELDS)
LABEL_MAX_LENGTH = 80
SYSTEM_ID_RULE = f"A system_id is 1 to {SYSTEM_ID_MAX_LENGTH} printable ASCII characters, without spaces."


@dataclass(frozen=True)
class IssuedCredential:
    """A credential just issued or re-keyed, with its password in clear: shown once, never stored."""

    credential: SmppCredential
    password: str


def new_password() -> str:
    """8 random letters and digits (the most an SMPP 3.4 password holds)."""
    return "".join(secrets.choice(PASSWORD_ALPHABET) for _ in range(PASSWORD_LENGTH))


def system_id_taken(system_id: str, *, exclude_pk: int | None = None) -> bool:
    """True when any account's credential has this system_id (compared case-insensitively, so no two differ only
    by case)."""
    return SmppCredential.objects.filter(system_id__iexact=system_id).exclude(pk=exclude_pk).exists()


def clean_system_id(raw) -> str:
    """A system_id as the user typed it, checked: printable ASCII, at most 15 characters, free on the platform."""
    value = str(raw or "").strip()
    if not SYSTEM_ID_PATTERN.fullmatch(value):
        raise ValidationError({"system_id": [SYSTEM_ID_RULE]})
    if system_id_taken(value):
        raise taken_error(value)
    return value


def taken_error(system_id: str) -> ValidationError:
    return ValidationError({"system_id": [f"The system_id “{system_id}” is already taken: choose another one."]})


def system_id_from_slug(account) -> str:
    """A free system_id made from the account's slug: the slug cut to 15 characters, else with a number at its
    end, else random."""
    base = "".join(ch for ch in account.slug if "\x21" <= ch <= "\x7e")[:SYSTEM_ID_MAX_LENGTH] or "esme"
    candidates = [base] + [f"{base[: SYSTEM_ID_MAX_LENGTH - len(str(n))]}{n}" for n in range(2, 100)]
    for candidate in candidates:
        if not system_id_taken(candidate):
            return candidate
    return f"esme{secrets.token_hex(5)}"


def clean_fields(values: dict) -> dict:
    """The editable fields given, cleaned: label trimmed, IP list normalised, limits within 1 and the platform
    maximum (`SMPP_MAX_BIND_LIMIT`, `SMPP_MAX_THROUGHPUT`, `SMPP_MAX_WINDOW`). Raises every field's error at once."""
    cleaned, errors = {}, {}
    for name, value in values.items():
        if name not in EDITABLE_FIELDS:
            raise ValueError(f"{name} is not an editable field of an SMPP credential")
        try:
            cleaned[name] = _clean_field(name, value)
        except ValidationError as exc:
            errors[name] = exc.messages
    if errors:
        raise ValidationError(errors)
    return cleaned


def _clean_field(name: str, value):
    if name == "label":
        label = str(value or "").strip()
        if len(label) > LABEL_MAX_LENGTH:
            raise ValidationError(f"At most {LABEL_MAX_LENGTH} characters.")
        return label
    if name == "allowed_ips":
        return clean_allowed_ips(value)
    if name == "is_active":
        return bool(value)
    maximum = setting(LIMIT_MAXIMUMS[name])
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise ValidationError("A whole number is required.") from None
    if not 1 <= number <= maximum:
        raise ValidationError(f"Between 1 and {maximum} (the platform maximum).")
    return number


def snapshot(credential: SmppCredential) -> dict:
    """What the audit trail keeps of a credential: everything but the password."""
    return {name: getattr(credential, name) for name in AUDITED_FIELDS}


def issue_credential(account, *, acting_user=None, system_id: str = "", **fields) -> IssuedCredential:
    """A new credential of `account`; a blank `system_id` is made from the account's slug. The password is
    generated and returned once. Every field's error (the system_id's too) is raised at once."""
    errors: dict[str, list[str]] = {}
    try:
        cleaned = clean_fields(fields)
    except ValidationError as exc:
        errors.update(exc.message_dict)
    try:
        chosen = clean_system_id(system_id) if str(system_id or "").strip() else system_id_from_slug(account)
    except ValidationError as exc:
        errors.update(exc.message_dict)
    if errors:
        raise ValidationError(errors)
    password = new_password()
    credential = SmppCredential(account=account, system_id=chosen, **cleaned)
    if getattr(acting_user, "is_authenticated", False):
        credential.created_by = acting_user
    credential.set_password(password)
    try:
        with transaction.atomic():
            credential.save()
            record(account, acting_user, "smpp.credential.created", credential, after=snapshot(credential))
    except IntegrityError:  # the same system_id issued meanwhile, in another request
        raise taken_error(chosen) from None
    return IssuedCredential(credential, password)


@transaction.atomic
def rotate_password(credential: SmppCredential, *, acting_user=None) -> IssuedCredential:
    """A new generated password (returned once); the old one no longer binds. Sessions bound with it stay bound."""
    password = new_password()
    credential.set_password(password)
    credential.save(update_fields=["password_hash", "updated_at"])
    record(credential.account, acting_user, "smpp.credential.password_rotated", credential)
    return IssuedCredential(credential, password)


@transaction.atomic
def update_credential(credential: SmppCredential, changes: dict, *, acting_user=None) -> SmppCredential:
    """Change the editable fields given (the system_id never changes: binds name it); audited with the fields
    that changed, before and after."""
    cleaned = clean_fields(changes)
    before = snapshot(credential)
    changed = [name for name, value in cleaned.items() if before[name] != value]
    if not changed:
        return credential
    for name in changed:
        setattr(credential, name, cleaned[name])
    credential.save(update_fields=[*changed, "updated_at"])
    record(
        credential.account,
        acting_user,
        "smpp.credential.updated",
        credential,
        before={name: before[name] for name in changed},
        after={name: cleaned[name] for name in changed},
    )
    return credential


@transaction.atomic
def delete_credential(credential: SmppCredential, *, acting_user=None) -> None:
    """Delete the credential with its session rows and waiting receipts; its system_id no longer binds."""
    record(credential.account, acting_user, "smpp.credential.deleted", credential, before=snapshot(credential))
    credential.delete()
