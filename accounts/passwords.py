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
    """Bits of a password of `length` characters drawn uniformly from the format's alphabet
    (an unknown format is generated from the mixed alphabet, see generate_password)."""
    return length * math.log2(len(ALPHABETS.get(fmt, ALPHABET)))


def min_length(fmt: str = "mixed") -> int:
    """Shortest length that keeps a generated password at or above MIN_ENTROPY_BITS."""
    return max(MIN_LENGTH, math.ceil(MIN_ENTROPY_BITS / math.log2(len(ALPHABETS[fmt]))))


def generated_length(length: int, fmt: str = "mixed") -> int:
    """The length generate_password really uses for a requested length and format."""
    return max(length, min_length(fmt if fmt in ALPHABETS else "mixed"))


def generated_bits(length: int, fmt: str = "mixed") -> float:
    """Exact entropy of generate_password(length, fmt): uniform over the passwords of that
    length that hold a letter and a digit, i.e. all of them minus the letter-only and the
    digit-only ones. The rule costs 0.36 bits at 12 mixed characters (67.70, not 68.06)."""
    alphabet = ALPHABETS.get(fmt, ALPHABET)
    length = generated_length(length, fmt)
    digits = sum(c.isdigit() for c in alphabet)
    letters = len(alphabet) - digits
    return math.log2(len(alphabet) ** length - letters**length - digits**length)


# The least entropy any generated password has (12 mixed characters: 67.70 bits).
MIN_GENERATED_BITS = min(generated_bits(min_length(fmt), fmt) for fmt in ALPHABETS)


def generate_password(length: int = 14, fmt: str = "mixed") -> str:
    """Mixed: at least 12 characters from 51: >= 68 bits (79 at 14). Lower: at least 14 from
    29: >= 68 bits. Lengths below the format's minimum are raised to it.

    One digit and one letter are guaranteed so every configured validator (numeric-only,
    common passwords) accepts the result.
    """
    alphabet = ALPHABETS.get(fmt, ALPHABET)
    length = generated_length(length, fmt)
    while True:
        password = _draw(alphabet, length)
        if any(c.isdigit() for c in password) and any(c.isalpha() for c in password):
            return password


def _draw(alphabet: str, length: int) -> str:
    """`length` characters, each uniform over `alphabet`, from as few calls to the OS
    generator as possible (an import makes ten thousand). A byte at or above the largest
    multiple of the alphabet's size is dropped, so `byte % size` has no bias."""
    size = len(alphabet)
    limit = 256 - 256 % size
    chars: list[str] = []
    while len(chars) < length:
        chars += [alphabet[b % size] for b in secrets.token_bytes(2 * length) if b < limit]
    return "".join(chars[:length])
