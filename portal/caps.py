"""Setting the spending caps of an account or of one of its API tokens, audited (`account.caps_changed`,
`token.caps_changed`). Who may: account admins (pages and API) and platform staff (Django admin); the callers
check the role. The caps are enforced by `campaigns.sending.caps`.
"""

from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction

from portal.audit import record
from portal.models import SPENDING_CAP_FIELDS, Account, ApiToken


def shown(value) -> str | int | None:
    """A cap as the API and the audit trail show it: an integer, a decimal string without trailing zeros, or None."""
    if value is None:
        return None
    if isinstance(value, Decimal):
        return f"{value.normalize():f}"
    return int(value)


def caps_of(holder: Account | ApiToken) -> dict:
    return {name: shown(getattr(holder, name)) for name in SPENDING_CAP_FIELDS}


def _verb(holder: Account | ApiToken) -> str:
    return "token.caps_changed" if isinstance(holder, ApiToken) else "account.caps_changed"


def record_change(holder: Account | ApiToken, before: dict, *, actor) -> bool:
    """Audit a change of caps already saved (the Django admin saves them itself); False when none changed."""
    after = caps_of(holder)
    if after == before:
        return False
    account = holder.account if isinstance(holder, ApiToken) else holder
    record(account, actor, _verb(holder), holder, before=before, after=after)
    return True


def clean_caps(holder: Account | ApiToken, values: dict) -> dict:
    """The caps named in `values`, checked by the model's fields (a negative or malformed cap raises
    ValidationError naming it); empty means no cap."""
    cleaned, errors = {}, {}
    for name in SPENDING_CAP_FIELDS:
        if name not in values:
            continue
        value = values[name]
        try:
            cleaned[name] = None if value in (None, "") else holder._meta.get_field(name).clean(value, holder)
        except ValidationError as error:
            errors[name] = error.messages
    if errors:
        raise ValidationError(errors)
    return cleaned


@transaction.atomic
def set_caps(holder: Account | ApiToken, values: dict, *, actor) -> bool:
    """Save the caps named in `values` (None: no cap), checked by the model's validators (a negative cap raises
    ValidationError); others are kept. True when one changed."""
    before = caps_of(holder)
    cleaned = clean_caps(holder, values)
    if not cleaned:
        return False
    for name, value in cleaned.items():
        setattr(holder, name, value)
    holder.save(update_fields=list(cleaned))
    return record_change(holder, before, actor=actor)
