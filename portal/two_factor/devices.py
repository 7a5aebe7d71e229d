"""A user's two-factor devices (django-otp models, no HTTP): one authenticator app (`TOTPDevice`) and one set of
single-use backup codes (`StaticDevice` with its `StaticToken`s).

Enrolment makes an unconfirmed TOTP device (its QR code and secret shown to the user); a correct code from the app
confirms it and issues the backup codes, shown once. A code is checked against the authenticator app when it is
all digits and against the backup codes otherwise; each device keeps django-otp's own throttling.
"""

import base64
import io

import django_otp
from django.db import transaction
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice
from django_otp.qr import write_qrcode_image

from portal.audit import record
from portal.models import Account

BACKUP_CODE_COUNT = 10
APP_DEVICE_NAME = "Authenticator app"
BACKUP_DEVICE_NAME = "Backup codes"
ENABLED_VERB, DISABLED_VERB, BACKUP_CODES_VERB = (
    "two_factor.enabled",
    "two_factor.disabled",
    "two_factor.backup_codes_replaced",
)


def is_enabled(user) -> bool:
    """True when the user has a confirmed authenticator app: their login then asks for a code."""
    return TOTPDevice.objects.devices_for_user(user, confirmed=True).exists()


def confirmed_app(user) -> TOTPDevice | None:
    return TOTPDevice.objects.devices_for_user(user, confirmed=True).first()


def pending_app(user) -> TOTPDevice:
    """The unconfirmed authenticator app being enrolled (made on first call, the same one until confirmed)."""
    device = TOTPDevice.objects.devices_for_user(user, confirmed=False).order_by("id").first()
    return device or TOTPDevice.objects.create(user=user, name=APP_DEVICE_NAME, confirmed=False)


def secret_of(device: TOTPDevice) -> str:
    """The key as the base32 text authenticator apps accept when typed, in groups of four."""
    text = base64.b32encode(device.bin_key).decode().rstrip("=")
    return " ".join(text[start : start + 4] for start in range(0, len(text), 4))


def qr_data_uri(device: TOTPDevice) -> str:
    """The device's otpauth:// URL as an SVG QR code in a data: URI (drawn here, no outside service)."""
    svg = io.BytesIO()
    write_qrcode_image(device.config_url, svg)
    return "data:image/svg+xml;base64," + base64.b64encode(svg.getvalue()).decode()


def normalized(code: str) -> str:
    return "".join((code or "").split()).replace("-", "").lower()


def verify(user, code: str):
    """The confirmed device that accepts `code` (a used backup code is spent), or None."""
    code = normalized(code)
    if not code:
        return None
    if code.isdigit():
        candidates = list(TOTPDevice.objects.devices_for_user(user, confirmed=True))
    else:
        candidates = list(StaticDevice.objects.devices_for_user(user, confirmed=True))
    for device in candidates:
        matched = django_otp.verify_token(user, device.persistent_id, code)
        if matched is not None:
            return matched
    return None


def confirm_enrolment(user, code: str, *, actor) -> tuple[TOTPDevice | None, list[str]]:
    """Confirm the pending authenticator app with a code from it: (the device, the new backup codes), or
    (None, []) when the code is wrong. Other unconfirmed apps of the user are removed."""
    device = pending_app(user)
    if django_otp.verify_token(user, device.persistent_id, normalized(code)) is None:
        return None, []
    with transaction.atomic():
        TOTPDevice.objects.filter(pk=device.pk).update(confirmed=True)
        device.confirmed = True
        TOTPDevice.objects.devices_for_user(user, confirmed=False).delete()
        codes = _replace_backup_codes(user)
    _audit(user, actor, ENABLED_VERB)
    return device, codes


def replace_backup_codes(user, *, actor) -> list[str]:
    """New backup codes for an enrolled user; the old ones stop working."""
    codes = _replace_backup_codes(user)
    _audit(user, actor, BACKUP_CODES_VERB)
    return codes


def backup_codes_left(user) -> int:
    return StaticToken.objects.filter(device__user=user, device__confirmed=True).count()


def disable(user, *, actor) -> None:
    """Remove every two-factor device of the user: their login asks for the password only again."""
    with transaction.atomic():
        TOTPDevice.objects.filter(user=user).delete()
        StaticDevice.objects.filter(user=user).delete()
    _audit(user, actor, DISABLED_VERB)


def _replace_backup_codes(user) -> list[str]:
    with transaction.atomic():
        StaticDevice.objects.filter(user=user).delete()
        device = StaticDevice.objects.create(user=user, name=BACKUP_DEVICE_NAME, confirmed=True)
        codes = [_backup_code() for _ in range(BACKUP_CODE_COUNT)]
        StaticToken.objects.bulk_create(StaticToken(device=device, token=code) for code in codes)
    return [f"{code[:4]}-{code[4:]}" for code in codes]


def _backup_code() -> str:
    """Eight base32 characters with at least one letter, so that it is never taken for an app's code."""
    while (code := StaticToken.random_token()).isdigit():
        continue
    return code


def _audit(user, actor, verb: str) -> None:
    """One audit row in each account of the user (a platform-wide row for a user without any)."""
    for account in list(Account.objects.filter(memberships__user=user)) or [None]:
        record(account, actor, verb, user)
