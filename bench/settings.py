"""Settings for the benchmark: production settings, with three differences that only matter
for measuring.

The benchmark process and its Celery workers start with DJANGO_DEBUG=1, so config.settings
needs no secret key and does not switch on HTTPS-only redirects (the test client speaks
plain HTTP). DEBUG itself is then turned off again: with DEBUG on, Django keeps every query
in memory, which costs the 40,000-query peer far more than our 3-query dry run, and would
make the comparison unfair. The password hashers are the production ones (not the test
suite's MD5), because hashing is part of what is measured.
"""

import os

if os.environ.get("KB_TESTING"):
    raise RuntimeError("bench.settings must not run with KB_TESTING (it adds the MD5 hasher)")
os.environ.setdefault("DJANGO_DEBUG", "1")

from config.settings import *  # noqa: F403
from config.settings import ALLOWED_HOSTS, PASSWORD_HASHERS

DEBUG = False
ALLOWED_HOSTS = [*ALLOWED_HOSTS, "testserver"]
if PASSWORD_HASHERS[0] != "django.contrib.auth.hashers.PBKDF2PasswordHasher":
    raise RuntimeError(
        f"bench.settings measures PBKDF2, but the first hasher is {PASSWORD_HASHERS[0]}"
    )
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": "WARNING"},
}
