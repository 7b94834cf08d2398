"""The hasher for passwords the product generates, with a cost derived from their entropy.

A PBKDF2 hash costs an offline attacker `iterations` HMAC-SHA256 evaluations per guess, and a
generated password of `bits` bits of entropy takes 2**bits guesses to exhaust. The iterations
are chosen so that the product of the two is at least 2**WORK_TARGET_BITS, whatever length and
alphabet a college chose (docs/passwords.md has the arithmetic):

    iterations = max(1, ceil(2 ** (WORK_TARGET_BITS - bits)))
"""

from __future__ import annotations

import math
import secrets

from django.contrib.auth.hashers import PBKDF2PasswordHasher

from .passwords import MIN_GENERATED_BITS, generated_bits

# The work an offline attacker must do to exhaust a generated password's space, in HMAC-SHA256
# evaluations: 2**78 is about what the weakest generated password the product allows (12
# characters from 51) got before the cost was derived, at 1,000 iterations. No college's
# setting falls below it; a longer password needs fewer iterations for the same work.
WORK_TARGET_BITS = 78


def generated_iterations(bits: float) -> int:
    """PBKDF2 iterations that make exhausting `bits` of entropy cost 2**WORK_TARGET_BITS."""
    return max(1, math.ceil(2 ** (WORK_TARGET_BITS - bits)))


class GeneratedPasswordHasher(PBKDF2PasswordHasher):
    """PBKDF2-SHA256 for *generated* passwords only, with as many iterations as the password's
    entropy needs to reach WORK_TARGET_BITS (see the module docstring).

    The 1,000,000 iterations of the default hasher protect weak, human-chosen passwords, which
    these are not. The iteration count is part of every hash ('pbkdf2_sha256_generated$1$…'),
    so each verifies with the count it was made with. This hasher stands second in
    PASSWORD_HASHERS, so Django re-hashes with the full-strength default at the candidate's
    first successful login (the same precedent as Moodle's bulk upload). Passwords taken from
    a file are never hashed with it.

    `iterations` (used when no count is given, e.g. by `make_password`) is the count for the
    weakest generated password the product allows, so it is safe for any of them.
    """

    algorithm = "pbkdf2_sha256_generated"
    iterations = generated_iterations(MIN_GENERATED_BITS)

    def salt(self) -> str:
        """128 random bits in 22 URL-safe characters, as Django's salt but from one call to
        the OS generator instead of 22 (at one iteration the salt was most of the cost)."""
        return secrets.token_urlsafe(16)

    def iterations_for(self, *, length: int, fmt: str) -> int:
        return generated_iterations(generated_bits(length, fmt))

    def encode_generated(self, password: str, *, iterations: int) -> str:
        """Hash a generated password with `iterations_for` its length and format."""
        return self.encode(password, self.salt(), iterations=iterations)
