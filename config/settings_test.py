"""Test settings: the production module with KB_TESTING on (fast hasher, eager-safe)."""

import os

os.environ.setdefault("KB_TESTING", "1")

from .settings import *  # noqa: F403
from .settings import BASE_DIR, DATABASES

if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # A file, not memory: a real Celery worker in another process must see the same data.
    # One file per test run, so two runs side by side do not delete each other's database.
    DATABASES["default"]["TEST"] = {"NAME": str(BASE_DIR / f"test_db_{os.getpid()}.sqlite3")}

EMAIL_BACKEND = os.environ.get(
    "TEST_EMAIL_BACKEND", "django.core.mail.backends.locmem.EmailBackend"
)
AXES_ENABLED = os.environ.get("AXES_ENABLED", "1") == "1"
