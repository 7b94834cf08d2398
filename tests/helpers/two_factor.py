"""Two-step sign-in in tests: a real authenticator app (a TOTP device with a known secret), its
current code computed as a phone would, and a session that passed it."""

from __future__ import annotations

import re
import time
from base64 import b32decode

from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.models import default_two_factor_roles


def totp_code(secret: bytes, *, at: float | None = None) -> str:
    """The six digits an authenticator app shows for `secret` (raw bytes) at time `at`."""
    totp = TOTP(secret)
    totp.time = time.time() if at is None else at
    return f"{totp.token():06d}"


def code_from_text(secret_text: str, *, at: float | None = None) -> str:
    """The code for a secret as the enrolment page shows it ('ABCD EFGH …', base32)."""
    return totp_code(b32decode(secret_text.replace(" ", "")), at=at)


def give_app(user) -> TOTPDevice:
    """A confirmed authenticator app for `user`."""
    return TOTPDevice.objects.create(user=user, name="Authenticator-app", confirmed=True)


def code_for(device: TOTPDevice, *, steps_later: int = 0) -> str:
    """The device's code now (or `steps_later` periods of 30 s on)."""
    return totp_code(device.bin_key, at=time.time() + steps_later * device.step)


def verified(client, user, device: TOTPDevice | None = None):
    """`client` logged in as `user` in a session that passed the second factor."""
    client.force_login(user)
    device = device or TOTPDevice.objects.filter(user=user, confirmed=True).first()
    device = device or give_app(user)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()
    return client


def require_two_factor(college, roles=None):
    """The college as a real one is made: two-step sign-in required of beheerders and
    toetscoördinatoren (the model's default), or of `roles`."""
    college.two_factor_roles = default_two_factor_roles() if roles is None else list(roles)
    college.save(update_fields=["two_factor_roles"])
    return college


def secret_on(page: str) -> str:
    """The secret as the enrolment page shows it for typing in by hand."""
    match = re.search(r'id="two-factor-secret">([A-Z2-7 ]+)<', page)
    assert match, "no secret on the page"
    return match.group(1)


def recovery_codes_on(page: str) -> list[str]:
    return re.findall(r"<li><code>([a-z2-7]{8})</code></li>", page)
