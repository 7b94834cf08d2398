"""The writes of two-step sign-in: set up an authenticator app, renew the recovery codes, check
a code, reset someone's second factor. Each writes its audit row."""

from __future__ import annotations

import re
from base64 import b32encode
from binascii import unhexlify
from dataclasses import dataclass

from django.db import transaction
from django_otp import devices_for_user, verify_token
from django_otp.oath import TOTP
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice, default_key

from ..models import AuditLog, User
from ..services import audit

RECOVERY_CODE_COUNT = 10
TOTP_DEVICE_NAME = "Authenticator-app"
RECOVERY_DEVICE_NAME = "Herstelcodes"
_TOTP_CODE = re.compile(r"\d{6}")


def new_totp_key() -> str:
    """A new secret (hex, 20 random bytes), kept in the session until the user confirms it."""
    return default_key()


def totp_device_for(user: User, key: str) -> TOTPDevice:
    """An unsaved device for the enrolment page: its otpauth:// URL and the secret as text."""
    return TOTPDevice(user=user, key=key, name=TOTP_DEVICE_NAME)


def secret_as_text(key: str) -> str:
    """The secret as authenticator apps expect it typed: base32, in groups of four."""
    text = b32encode(unhexlify(key)).decode()
    return " ".join(text[i : i + 4] for i in range(0, len(text), 4))


def normalise_code(code: str) -> str:
    """What people type: spaces, dashes, capitals. Codes have none of those."""
    return re.sub(r"[\s-]", "", code or "").lower()


def totp_matches(key: str, code: str) -> bool:
    """Whether `code` is the current code (or the one before or after: phone clocks drift) of
    the secret `key`. Only for the enrolment, where the key is not a device yet."""
    code = normalise_code(code)
    if not _TOTP_CODE.fullmatch(code):
        return False
    return TOTP(unhexlify(key)).verify(int(code), tolerance=1)


def _new_recovery_codes(user: User) -> list[str]:
    """Replace the user's recovery codes by ten new ones; the old ones stop working."""
    StaticDevice.objects.filter(user=user).delete()
    device = StaticDevice.objects.create(user=user, name=RECOVERY_DEVICE_NAME, confirmed=True)
    codes = [StaticToken.random_token() for _ in range(RECOVERY_CODE_COUNT)]
    StaticToken.objects.bulk_create(StaticToken(device=device, token=c) for c in codes)
    return codes


@transaction.atomic
def two_factor_enrol(
    *, user: User, key: str, ip: str | None = None
) -> tuple[TOTPDevice, list[str]]:
    """The user confirmed the secret with a code: it becomes their only authenticator app, with
    ten new recovery codes (shown once). A previous app stops working."""
    had = TOTPDevice.objects.filter(user=user, confirmed=True).exists()
    TOTPDevice.objects.filter(user=user).delete()
    device = TOTPDevice.objects.create(user=user, key=key, name=TOTP_DEVICE_NAME, confirmed=True)
    # The code just typed must not be accepted a second time, on the verification page.
    device.last_t = TOTP(device.bin_key).t()
    device.save(update_fields=["last_t"])
    codes = _new_recovery_codes(user)
    audit(
        action=AuditLog.Action.TWO_FACTOR_ENROLLED,
        actor=user,
        target=user,
        before={"two_factor": "set" if had else "none"},
        after={"two_factor": "set"},
        ip=ip,
    )
    return device, codes


@transaction.atomic
def recovery_codes_renew(*, user: User, ip: str | None = None) -> list[str]:
    codes = _new_recovery_codes(user)
    audit(action=AuditLog.Action.RECOVERY_CODES_RENEWED, actor=user, target=user, ip=ip)
    return codes


def recovery_codes_left(user: User) -> int:
    return StaticToken.objects.filter(device__user=user, device__confirmed=True).count()


@dataclass(frozen=True)
class Verification:
    device: TOTPDevice | StaticDevice | None
    throttled: bool = False
    recovery_codes_left: int | None = None  # set when a recovery code was used


def _device_for(user: User, code: str) -> TOTPDevice | StaticDevice | None:
    model = TOTPDevice if _TOTP_CODE.fullmatch(code) else StaticDevice
    return model.objects.filter(user=user, confirmed=True).first()


def verify_code(*, user: User, code: str, ip: str | None = None) -> Verification:
    """Check a code from the authenticator app (six digits) or a recovery code. django-otp
    locks the device while it checks, uses a recovery code up, refuses a TOTP code used
    before, and throttles: after each wrong code the next try waits longer (1, 2, 4 … s)."""
    code = normalise_code(code)
    device = _device_for(user, code) if code else None
    if device is None:
        _audit_failure(user, ip, "wrong")
        return Verification(device=None)
    allowed, _details = device.verify_is_allowed()
    if not allowed:
        _audit_failure(user, ip, "throttled")
        return Verification(device=None, throttled=True)
    verified = verify_token(user, device.persistent_id, code)
    if verified is None:
        _audit_failure(user, ip, "wrong")
        return Verification(device=None)
    if isinstance(verified, StaticDevice):
        left = recovery_codes_left(user)
        audit(
            action=AuditLog.Action.RECOVERY_CODE_USED,
            actor=user,
            target=user,
            after={"recovery_codes_left": left},
            ip=ip,
        )
        return Verification(device=verified, recovery_codes_left=left)
    return Verification(device=verified)


def _audit_failure(user: User, ip: str | None, reason: str) -> None:
    audit(
        action=AuditLog.Action.TWO_FACTOR_FAILED,
        actor=user,
        target=user,
        after={"two_factor_failure": reason},
        ip=ip,
    )


@transaction.atomic
def two_factor_reset(*, actor: User, user: User, ip: str | None = None) -> bool:
    """Remove every authenticator app and recovery code of `user` (lost phone): at the next
    sign-in they set up a new one, if their role requires it. Returns whether there was any."""
    devices = list(devices_for_user(user, confirmed=None))
    had = any(d.confirmed for d in devices)
    for device in devices:
        device.delete()
    audit(
        action=AuditLog.Action.TWO_FACTOR_RESET,
        actor=actor,
        target=user,
        before={"two_factor": "set" if had else "none"},
        after={"two_factor": "none"},
        ip=ip,
    )
    return had
