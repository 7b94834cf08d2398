"""Short-lived encryption for credentials that must survive until they are delivered.

A generated password has to reach the candidate by mail or on a printed slip after the
worker created it. It is kept only Fernet-encrypted (AES-128-CBC + HMAC-SHA256), with a key
that is not in the database, and wiped once delivered (see docs/passwords.md).
"""

import base64
import hashlib
import json
from typing import Any

from cryptography.fernet import Fernet
from django.conf import settings


def _fernet() -> Fernet:
    key = settings.KB_CREDENTIALS_KEY
    if not key:
        digest = hashlib.sha256(b"kandidaatbeheer-credentials:" + settings.SECRET_KEY.encode())
        key = base64.urlsafe_b64encode(digest.digest()).decode()
    return Fernet(key)


def seal(data: bytes) -> bytes:
    return _fernet().encrypt(data)


def unseal(token: bytes | memoryview) -> bytes:
    return _fernet().decrypt(bytes(token))


def seal_json(value: Any) -> bytes:
    return seal(json.dumps(value).encode())


def unseal_json(token: bytes | memoryview) -> Any:
    return json.loads(unseal(token))
