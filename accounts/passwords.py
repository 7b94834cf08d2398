"""Generated passwords: long, random and readable on a printed login slip."""

import math
import secrets

# No 0/O, 1/l/I, 5/S, 2/Z: a teacher reads these aloud and a pupil types them from paper.
ALPHABET = "abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRTUVWXY346789"
# Lower case only: easier on a phone keyboard or for young pupils, so it needs more characters.
LOWER_ALPHABET = "abcdefghjkmnpqrstuvwxyz346789"
ALPHABETS = {"mixed": ALPHABET, "lower": LOWER_ALPHABET}
MIN_ENTROPY_BITS = 64  # below this the cheap bulk hasher would not be defensible
MIN_LENGTH = 12


def entropy_bits(length: int, fmt: str = "mixed") -> float:
    return length * math.log2(len(ALPHABETS[fmt]))


def min_length(fmt: str = "mixed") -> int:
    """Shortest length that keeps a generated password at or above MIN_ENTROPY_BITS."""
    return max(MIN_LENGTH, math.ceil(MIN_ENTROPY_BITS / math.log2(len(ALPHABETS[fmt]))))


def generate_password(length: int = 14, fmt: str = "mixed") -> str:
    """Mixed: at least 12 characters from 51: >= 68 bits (79 at 14). Lower: at least 14 from
    29: >= 68 bits. Lengths below the format's minimum are raised to it.

    One digit and one letter are guaranteed so every configured validator (numeric-only,
    common passwords) accepts the result.
    """
    alphabet = ALPHABETS.get(fmt, ALPHABET)
    length = max(length, min_length(fmt if fmt in ALPHABETS else "mixed"))
    while True:
        password = "".join(secrets.choice(alphabet) for _ in range(length))
        if any(c.isdigit() for c in password) and any(c.isalpha() for c in password):
            return password
