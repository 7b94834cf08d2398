"""Generated passwords: long, random and readable on a printed login slip."""

import math
import secrets

# No 0/O, 1/l/I, 5/S, 2/Z: a teacher reads these aloud and a pupil types them from paper.
ALPHABET = "abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRTUVWXY346789"
MIN_LENGTH = 12


def entropy_bits(length: int) -> float:
    return length * math.log2(len(ALPHABET))


def generate_password(length: int = 14) -> str:
    """At least 12 characters from a 51-character alphabet: >= 68 bits, >= 79 bits at 14.

    One digit and one letter are guaranteed so every configured validator (numeric-only,
    common passwords) accepts the result.
    """
    length = max(length, MIN_LENGTH)
    while True:
        password = "".join(secrets.choice(ALPHABET) for _ in range(length))
        if any(c.isdigit() for c in password) and any(c.isalpha() for c in password):
            return password
