"""The staff's second factor (TOTP and recovery codes, through django-otp): who owes one, enrolment, reset.

``STAFF_MFA``: ``required`` (every staff user), ``optional`` (staff users who
enrolled) or ``off``. Enrolment makes an unconfirmed TOTP device, confirmed by a
first correct code, and ten single-use recovery codes (django-otp's static
device: a used code is deleted).
"""

from __future__ import annotations

import datetime as dt
from base64 import b32encode
from urllib.parse import quote, urlencode

import segno
from django.conf import settings
from django.db import transaction
from django_otp import devices_for_user
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from access.models import SecurityEventKind
from access.security_log import Origin, security_event_write

ISSUER = "CertHub"
RECOVERY_CODES = 10


def owes_factor(user) -> bool:
    """Whether a signed-in ``user`` must give a second factor (enrol first when they have none and it is required)."""
    if settings.STAFF_MFA == "off" or not (user.is_authenticated and user.is_staff):
        return False
    return settings.STAFF_MFA == "required" or has_factor(user)


def has_factor(user) -> bool:
    """Whether the user enrolled (one query: recovery codes exist only beside a confirmed TOTP device)."""
    return TOTPDevice.objects.filter(user=user, confirmed=True).exists()


def enrolment_device(user) -> TOTPDevice:
    """The user's TOTP device awaiting its first code: the one started before, or a new one."""
    device = TOTPDevice.objects.filter(user=user, confirmed=False).order_by("-id").first()
    return device or TOTPDevice.objects.create(user=user, name="authenticator", confirmed=False)


def otpauth_url(device: TOTPDevice) -> str:
    """The ``otpauth://`` URL an authenticator app reads from the QR code."""
    label = quote(f"{ISSUER}:{device.user.get_username()}")
    params = {
        "secret": b32encode(device.bin_key).decode(),
        "issuer": ISSUER,
        "digits": device.digits,
        "period": device.step,
    }
    return f"otpauth://totp/{label}?{urlencode(params)}"


def qr_svg(device: TOTPDevice) -> str:
    """The QR code of the device's URL as inline SVG, drawn here (no outside service sees the secret)."""
    return segno.make(otpauth_url(device), error="m").svg_inline(scale=5)


def secret_text(device: TOTPDevice) -> str:
    """The key in base32, for typing into an app that cannot scan."""
    return b32encode(device.bin_key).decode()


def factor_confirm(*, user, device: TOTPDevice, code: str, now: dt.datetime, origin: Origin) -> list[str] | None:
    """Confirm enrolment with a first code: the device is kept and ten recovery codes made (returned); None if wrong."""
    if not device.verify_token(code.strip()):
        return None
    with transaction.atomic():
        TOTPDevice.objects.filter(user=user).exclude(pk=device.pk).delete()
        StaticDevice.objects.filter(user=user).delete()
        TOTPDevice.objects.filter(pk=device.pk).update(confirmed=True)
        device.confirmed = True
        codes = StaticDevice.objects.create(user=user, name="recovery codes")
        tokens = [StaticToken.random_token() for _ in range(RECOVERY_CODES)]
        StaticToken.objects.bulk_create([StaticToken(device=codes, token=token) for token in tokens])
        security_event_write(kind=SecurityEventKind.FACTOR_ENROLLED, user=user, origin=origin, now=now)
    return tokens


def recovery_codes(user) -> list[str]:
    """The recovery codes the user has left."""
    return list(StaticToken.objects.filter(device__user=user).order_by("id").values_list("token", flat=True))


def factor_reset(*, user, now: dt.datetime, by, origin: Origin) -> bool:
    """Remove every device of ``user`` (a superuser's act, logged); False when there was none."""
    with transaction.atomic():
        had = any(True for _ in devices_for_user(user, confirmed=None))
        TOTPDevice.objects.filter(user=user).delete()
        StaticDevice.objects.filter(user=user).delete()
        if had:
            security_event_write(kind=SecurityEventKind.FACTOR_RESET, user=user, actor=by, origin=origin, now=now)
    return had
