"""config/settings.py reads every value through django-environ, and each documented variable
keeps its documented default and meaning (the README's table). Settings are read once per
process, so each case loads them in a fresh one with exactly the environment given."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys

import pytest

from .helpers.services import BASE_DIR

SETTINGS = BASE_DIR / "config" / "settings.py"
README = BASE_DIR / "README.md"
PRINT = """
import json, sys
from django.conf import settings
import django
django.setup()
print(json.dumps({name: getattr(settings, name) for name in sys.argv[1:]}, default=str))
"""


def load(*names: str, **environ: str) -> dict:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("KB_", "DJANGO_", "CELERY_", "AXES_", "DATABASE_", "EMAIL_"))
        and key not in {"DEFAULT_FROM_EMAIL", "SESSION_IDLE_TIMEOUT", "SESSION_ABSOLUTE_TIMEOUT"}
    }
    env.update({"DJANGO_SETTINGS_MODULE": "config.settings", **environ})
    result = subprocess.run(
        [sys.executable, "-c", PRINT, *names],
        cwd=BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    return json.loads(result.stdout)


def documented_variables() -> dict[str, str]:
    """Name → default, from the README's table of environment variables."""
    rows = re.findall(r"^\| `([A-Z_]+)` \| ([^|]*) \|", README.read_text(), re.M)
    return dict(rows)


def test_every_variable_read_is_documented_and_every_documented_one_is_read():
    source = SETTINGS.read_text()
    read = set(
        re.findall(r'env\.(?:str|bool|int|list|names|db_url|email_url)\(\s*"([A-Z_]+)"', source)
    )
    read.discard("KB_TESTING")  # set by config/settings_test.py, not by operators

    assert read == set(documented_variables())


def test_every_setting_is_a_plain_assignment():
    """A setting can be found with grep: nothing is put into the module's namespace by hand."""
    source = SETTINGS.read_text()
    assert "globals()" not in source
    values = load("EMAIL_HOST", "EMAIL_PORT", "EMAIL_USE_TLS", "EMAIL_TIMEOUT", DJANGO_DEBUG="1")
    for name in values:
        assert re.search(rf"^{name} = ", source, re.M), name


def test_development_defaults():
    values = load(
        "DEBUG", "ALLOWED_HOSTS", "CSRF_TRUSTED_ORIGINS", "DATABASES", "EMAIL_BACKEND",
        "EMAIL_HOST", "EMAIL_PORT", "EMAIL_TIMEOUT", "DEFAULT_FROM_EMAIL", "CELERY_BROKER_URL",
        "CELERY_TASK_ALWAYS_EAGER", "KB_BASE_URL", "KB_IMPORT_MAX_FILE_BYTES",
        "KB_IMPORT_MAX_COLUMNS", "KB_IMPORT_MAX_CELL_CHARS", "SESSION_COOKIE_AGE",
        "AXES_FAILURE_LIMIT", "AXES_IPWARE_PROXY_COUNT", "SECURE_PROXY_SSL_HEADER", "MEDIA_ROOT",
        "STATIC_ROOT",
        DJANGO_DEBUG="1",
    )  # fmt: skip

    database = values.pop("DATABASES")["default"]
    assert (database["ENGINE"], database["NAME"], database["CONN_MAX_AGE"]) == (
        "django.db.backends.sqlite3",
        str(BASE_DIR / "db.sqlite3"),
        0,  # SQLite: one connection per request
    )
    assert values == {
        "DEBUG": True,
        "ALLOWED_HOSTS": ["127.0.0.1", "localhost"],
        "CSRF_TRUSTED_ORIGINS": [],
        "EMAIL_BACKEND": "django.core.mail.backends.console.EmailBackend",
        "EMAIL_HOST": "localhost",
        "EMAIL_PORT": 25,
        "EMAIL_TIMEOUT": 10,
        "DEFAULT_FROM_EMAIL": "Kandidaatbeheer <noreply@localhost>",
        "CELERY_BROKER_URL": "",
        "CELERY_TASK_ALWAYS_EAGER": True,
        "KB_BASE_URL": "http://127.0.0.1:8000",
        "KB_IMPORT_MAX_FILE_BYTES": 10485760,
        "KB_IMPORT_MAX_COLUMNS": 200,
        "KB_IMPORT_MAX_CELL_CHARS": 1000,
        "SESSION_COOKIE_AGE": 3600,
        "AXES_FAILURE_LIMIT": 5,
        "AXES_IPWARE_PROXY_COUNT": None,
        "SECURE_PROXY_SSL_HEADER": None,
        "MEDIA_ROOT": str(BASE_DIR / "media"),
        "STATIC_ROOT": str(BASE_DIR / "staticfiles"),
    }


def test_email_url_with_tls_credentials_and_timeout():
    names = ("EMAIL_BACKEND", "EMAIL_HOST", "EMAIL_PORT", "EMAIL_HOST_USER",
             "EMAIL_HOST_PASSWORD", "EMAIL_USE_TLS", "EMAIL_USE_SSL", "EMAIL_TIMEOUT")  # fmt: skip
    url = "smtp+tls://bureau%40roc.example:ge%2Fheim@smtp.example.nl:587?timeout=3"

    values = load(*names, DJANGO_DEBUG="1", EMAIL_URL=url)

    assert values == {
        "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
        "EMAIL_HOST": "smtp.example.nl",
        "EMAIL_PORT": 587,
        "EMAIL_HOST_USER": "bureau@roc.example",
        "EMAIL_HOST_PASSWORD": "ge/heim",
        "EMAIL_USE_TLS": True,
        "EMAIL_USE_SSL": False,
        "EMAIL_TIMEOUT": 3,
    }


@pytest.mark.parametrize(
    "url, expected",
    [
        ("smtp+ssl://smtp.example.nl:465", ["smtp", "smtp.example.nl", 465, False, True]),
        ("smtp://127.0.0.1", ["smtp", "127.0.0.1", 25, False, False]),
        ("locmem://", ["locmem", "localhost", 25, False, False]),
        ("console://", ["console", "localhost", 25, False, False]),
    ],
)
def test_email_url_schemes(url, expected):
    values = load(
        "EMAIL_BACKEND", "EMAIL_HOST", "EMAIL_PORT", "EMAIL_USE_TLS", "EMAIL_USE_SSL",
        DJANGO_DEBUG="1", EMAIL_URL=url,
    )  # fmt: skip

    backend = values.pop("EMAIL_BACKEND")
    assert backend == f"django.core.mail.backends.{expected[0]}.EmailBackend"
    assert list(values.values()) == expected[1:]


def test_database_url_and_connection_age():
    values = load(
        "DATABASES",
        DJANGO_DEBUG="1",
        DATABASE_URL="postgres://kb:ge%40heim@db.example.nl:6432/kandidaatbeheer",
        DATABASE_CONN_MAX_AGE="5",
    )

    database = values["DATABASES"]["default"]
    assert {
        key: database[key]
        for key in ("ENGINE", "NAME", "USER", "PASSWORD", "HOST", "PORT", "CONN_MAX_AGE")
    } == {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": "kandidaatbeheer",
        "USER": "kb",
        "PASSWORD": "ge@heim",
        "HOST": "db.example.nl",
        "PORT": 6432,
        "CONN_MAX_AGE": 5,
    }


def test_lists_booleans_and_numbers():
    values = load(
        "ALLOWED_HOSTS", "CSRF_TRUSTED_ORIGINS", "DEBUG", "SECURE_SSL_REDIRECT",
        "SECURE_HSTS_SECONDS", "CELERY_TASK_TIME_LIMIT", "CELERY_TASK_SOFT_TIME_LIMIT",
        DJANGO_DEBUG="0",
        DJANGO_SECRET_KEY="x" * 50,
        DJANGO_ALLOWED_HOSTS=" a.example.nl, b.example.nl,",
        DJANGO_CSRF_TRUSTED_ORIGINS="https://a.example.nl",
        DJANGO_SECURE_SSL_REDIRECT="false",
        DJANGO_HSTS_SECONDS="60",
        CELERY_TASK_TIME_LIMIT="600",
    )  # fmt: skip

    assert values == {
        "ALLOWED_HOSTS": ["a.example.nl", "b.example.nl"],
        "CSRF_TRUSTED_ORIGINS": ["https://a.example.nl"],
        "DEBUG": False,
        "SECURE_SSL_REDIRECT": False,
        "SECURE_HSTS_SECONDS": 60,
        "CELERY_TASK_TIME_LIMIT": 600,
        "CELERY_TASK_SOFT_TIME_LIMIT": 540,
    }


def test_a_value_starting_with_a_dollar_sign_is_taken_literally():
    """django-environ would read '$abc' as 'the value of variable abc'; generated secret keys
    and SMTP passwords may start with '$'."""
    secret = "$weird\\$key-" + "x" * 50

    values = load(
        "SECRET_KEY", "EMAIL_HOST_PASSWORD", "DEFAULT_FROM_EMAIL",
        DJANGO_DEBUG="0", DJANGO_SECRET_KEY=secret,
        EMAIL_URL="smtp://user:$pa$$@smtp.example.nl", DEFAULT_FROM_EMAIL="$ROC <a@b.nl>",
    )  # fmt: skip

    assert values == {
        "SECRET_KEY": secret,
        "EMAIL_HOST_PASSWORD": "$pa$$",
        "DEFAULT_FROM_EMAIL": "$ROC <a@b.nl>",
    }


def test_production_refuses_to_start_without_a_secret_key():
    result = subprocess.run(
        [sys.executable, "-c", "import config.settings"],
        cwd=BASE_DIR,
        env={"PATH": os.environ["PATH"], "DJANGO_DEBUG": "0"},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 1
    assert "DJANGO_SECRET_KEY must be set when DJANGO_DEBUG is off." in result.stderr


# --- the proxy ---------------------------------------------------------------------------------

PRODUCTION = {"DJANGO_DEBUG": "0", "DJANGO_SECRET_KEY": "p" * 50}


def test_x_forwarded_proto_is_ignored_without_a_configured_proxy():
    """Without a proxy in front any client could claim HTTPS (and the secure cookies and the
    missing redirect that come with it)."""
    values = load("SECURE_PROXY_SSL_HEADER", "AXES_IPWARE_PROXY_COUNT", **PRODUCTION)

    assert values == {"SECURE_PROXY_SSL_HEADER": None, "AXES_IPWARE_PROXY_COUNT": None}


def test_x_forwarded_proto_is_believed_behind_a_configured_proxy():
    values = load(
        "SECURE_PROXY_SSL_HEADER", "AXES_IPWARE_PROXY_COUNT", AXES_PROXY_COUNT="1", **PRODUCTION
    )

    assert values == {
        "SECURE_PROXY_SSL_HEADER": ["HTTP_X_FORWARDED_PROTO", "https"],
        "AXES_IPWARE_PROXY_COUNT": 1,
    }


POSTGRES = "postgres://kb@db.example.nl/kandidaatbeheer"


@pytest.mark.parametrize(
    ("url", "cost", "expected"),
    [
        (POSTGRES, None, "-c random_page_cost=1.1"),  # the default: SSD storage
        (POSTGRES, "2", "-c random_page_cost=2.0"),
        (POSTGRES, "", None),  # the server's own value (a pooler that refuses the option)
        (
            POSTGRES + "?options=-c%20statement_timeout%3D5000",
            None,
            "-c statement_timeout=5000 -c random_page_cost=1.1",
        ),
        ("sqlite:////tmp/kb.sqlite3", None, None),  # SQLite has no planner costs to set
    ],
)
def test_random_page_cost_on_postgresql_connections(url, cost, expected):
    environ = {"DJANGO_DEBUG": "1", "DATABASE_URL": url}
    if cost is not None:
        environ["DATABASE_RANDOM_PAGE_COST"] = cost
    options = load("DATABASES", **environ)["DATABASES"]["default"].get("OPTIONS", {})
    assert options.get("options") == expected


@pytest.mark.parametrize("cost", ["1,1; SET x", "nan", "inf", "0", "-1"])
def test_a_random_page_cost_that_is_no_positive_number_stops_the_start_clearly(cost):
    result = subprocess.run(
        [sys.executable, "-c", PRINT, "DATABASES"],
        cwd=BASE_DIR,
        env={
            **{k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "DATABASE_"))},
            "DJANGO_SETTINGS_MODULE": "config.settings",
            "DJANGO_DEBUG": "1",
            "DATABASE_URL": POSTGRES,
            "DATABASE_RANDOM_PAGE_COST": cost,
        },
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 1
    assert result.stderr.strip().splitlines()[-1] == (
        "django.core.exceptions.ImproperlyConfigured: DATABASE_RANDOM_PAGE_COST must be a "
        f"positive number (e.g. 1.1), not {cost!r}."
    )
