from django.contrib.auth.hashers import PBKDF2PasswordHasher


class GeneratedPasswordHasher(PBKDF2PasswordHasher):
    """A cheap PBKDF2 for *generated* passwords of bulk-imported candidates only.

    Generated passwords carry at least 70 bits of entropy (see accounts.passwords), so even
    a fast hash leaves an offline attacker 2**70 guesses; the 1,000,000 iterations of the
    default hasher protect weak, human-chosen passwords, which these are not. This hasher
    stands second in PASSWORD_HASHERS, so Django re-hashes with the full-strength default at
    the candidate's first successful login (the same precedent as Moodle's bulk upload).
    Passwords taken from a file are never hashed with it.
    """

    algorithm = "pbkdf2_sha256_generated"
    iterations = 1_000
