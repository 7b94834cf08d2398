"""The RSA key that signs the id_tokens of the OpenID Connect provider (exam environments).

Read by settings at start-up, before any app is loaded, so it imports nothing of ours. Where
the key comes from, in order: KB_OIDC_PRIVATE_KEY (the PEM itself), KB_OIDC_PRIVATE_KEY_FILE
(a path to it); without either, under DEBUG a development key is made once and kept in the
local var/ directory (ignored by git), and in the tests a key lives in memory for the run.
In production without a key the provider stays switched off (see accounts/checks.py).
"""

from __future__ import annotations

import os
from functools import cache
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from django.core.exceptions import ImproperlyConfigured

DEV_KEY_NAME = "oidc-dev-key.pem"


def _new_pem() -> str:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()


def _checked(pem: str, where: str) -> str:
    """The PEM if it is an unencrypted RSA private key; a clear start-up error otherwise."""
    try:
        key = serialization.load_pem_private_key(pem.encode(), password=None)
    except (ValueError, TypeError) as error:
        raise ImproperlyConfigured(
            f"{where} is not an unencrypted PEM private key: {error}"
        ) from None
    if not isinstance(key, rsa.RSAPrivateKey) or key.key_size < 2048:
        raise ImproperlyConfigured(f"{where} must be an RSA private key of at least 2048 bits.")
    return pem


def _read(path: str, where: str) -> str:
    try:
        return Path(path).read_text()
    except OSError as error:
        raise ImproperlyConfigured(f"{where}: cannot read {path}: {error.strerror}") from None


@cache
def _memory_key() -> str:
    return _new_pem()


def _dev_key(var_dir: Path) -> str:
    """Made once and kept, so id_tokens stay verifiable across restarts of `make run`."""
    path = var_dir / DEV_KEY_NAME
    if not path.exists():
        var_dir.mkdir(parents=True, exist_ok=True)
        # Created readable by the owner only, and never over an existing file.
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(_new_pem())
    return path.read_text()


def signing_key(*, pem: str, path: str, debug: bool, testing: bool, var_dir: Path) -> str:
    """The active signing key as PEM, or "" when none is configured (production only)."""
    if pem:
        return _checked(pem.replace("\\n", "\n"), "KB_OIDC_PRIVATE_KEY")
    if path:
        return _checked(_read(path, "KB_OIDC_PRIVATE_KEY_FILE"), "KB_OIDC_PRIVATE_KEY_FILE")
    if testing:
        return _memory_key()
    if debug:
        return _dev_key(var_dir)
    return ""


def previous_keys(paths: list[str]) -> list[str]:
    """Retired keys (KB_OIDC_PREVIOUS_KEY_FILES): no longer used to sign, still published in the
    JWKS so that tokens they signed can be verified until those expire."""
    return [_checked(_read(p, "KB_OIDC_PREVIOUS_KEY_FILES"), p) for p in paths]
