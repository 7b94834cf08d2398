"""Kandidaatbeheer settings: one module, every value from the environment.

Development defaults (SQLite, no broker, console mail) make `make run` work on a bare machine;
production is switched on by DJANGO_DEBUG=0 and then refuses to start without a secret key.
"""

import math
import os
from collections.abc import Iterator, Mapping
from datetime import timedelta
from pathlib import Path

import environ
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

from config.oidc_keys import previous_keys, signing_key

# The directory that holds config/, the apps, templates/, static/ and locale/: the checkout,
# or site-packages when the wheel is installed (it installs those directories side by side,
# exactly as in the checkout; see docs/deployment.md).
BASE_DIR = Path(__file__).resolve().parent.parent


class _LiteralEnviron(Mapping):
    """os.environ with every '$' escaped. django-environ reads a value that starts with '$' as
    the name of another variable, and a generated secret key or an SMTP password may well start
    with one; with `escape_proxy` on, it turns each escaped '$' back into the same '$'."""

    def __getitem__(self, key: str) -> str:
        return os.environ[key].replace("$", r"\$")

    def __iter__(self) -> Iterator[str]:
        return iter(os.environ)

    def __len__(self) -> int:
        return len(os.environ)


class Env(environ.Env):
    ENVIRON = _LiteralEnviron()
    # The documented EMAIL_URL schemes `console://` and `locmem://` beside django-environ's own.
    EMAIL_SCHEMES = {
        **environ.Env.EMAIL_SCHEMES,
        "console": "django.core.mail.backends.console.EmailBackend",
        "locmem": "django.core.mail.backends.locmem.EmailBackend",
    }

    def __init__(self) -> None:
        super().__init__()
        self.escape_proxy = True

    def names(self, var: str, default: list[str]) -> list[str]:
        """A comma-separated list; blanks around and empty items are dropped."""
        return [item for item in self.list(var, cast=str.strip, default=default) if item]


env = Env()

DEBUG = env.bool("DJANGO_DEBUG", default=False)
TESTING = env.bool("KB_TESTING", default=False)

SECRET_KEY = env.str("DJANGO_SECRET_KEY", default="")
if not SECRET_KEY:
    if not (DEBUG or TESTING):
        raise ImproperlyConfigured("DJANGO_SECRET_KEY must be set when DJANGO_DEBUG is off.")
    # Only for DEBUG or the tests, as the check above makes sure.
    SECRET_KEY = "dev-only-insecure-key-do-not-use-in-production-0123456789abcdef"  # noqa: S105

ALLOWED_HOSTS = env.names("DJANGO_ALLOWED_HOSTS", default=["127.0.0.1", "localhost"])
CSRF_TRUSTED_ORIGINS = env.names("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "crispy_forms",
    "crispy_bootstrap5",
    "axes",
    "hijack",
    "csp",
    # Two-step sign-in: TOTP devices (authenticator apps) and the one-time recovery codes.
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "oauth2_provider",
    "accounts",
    "candidates",
    "imports",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "accounts.middleware.DutchFirstLocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # request.user.is_verified(): whether this session passed the second factor.
    "django_otp.middleware.OTPMiddleware",
    # Outside the rest, so it also marks the redirects and refusals of the middleware below.
    "accounts.middleware.PrivateCacheMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "accounts.middleware.SessionTimeoutMiddleware",
    "accounts.middleware.MustChangePasswordMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    # Until the session passed its second factor, every page (the password change too) leads to
    # it. After the header middleware above, so its redirects carry their headers as well.
    "accounts.two_factor.middleware.TwoFactorMiddleware",
    # Inside CSPMiddleware: lets the login form lead on to an exam environment's address.
    "accounts.oidc.middleware.ExamFormActionMiddleware",
    "hijack.middleware.HijackUserMiddleware",
    # Before any view or CSRF check reads the body; its Dutch page gets the headers above.
    "accounts.middleware.RequestSizeLimitMiddleware",
    # Axes must come last so it sees the outcome of authentication in the views above it.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.i18n",
            ],
        },
    },
]

DATABASES = {"default": env.db_url("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}")}
DATABASES["default"]["CONN_MAX_AGE"] = env.int("DATABASE_CONN_MAX_AGE", default=60)
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # A busy SQLite file (worker + web in `make run`) waits instead of failing at once, and a
    # transaction takes the write lock when it begins: a deferred one that reads, then writes,
    # is refused at once ('database is locked') when another writer came in between.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {"timeout": 20, "transaction_mode": "IMMEDIATE"}
    )
    DATABASES["default"]["CONN_MAX_AGE"] = 0
_random_page_cost = env.str("DATABASE_RANDOM_PAGE_COST", default="1.1")
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql" and _random_page_cost:
    # PostgreSQL prices a random page read at 4 sequential ones by default, a spinning disk's
    # figure; its documentation suggests 1.1 for SSDs, where every college's server keeps
    # its data. At 4 it tested a search pattern against all 20,000 rows of a college (4-5 ms)
    # rather than read the 371 matches from the college's search index (0.5 ms). Set per
    # connection so the app plans the same on any server; empty leaves the server's value
    # (e.g. behind a pooler that refuses startup options; then set it in postgresql.conf).
    try:
        _cost = float(_random_page_cost)
    except ValueError:
        _cost = math.nan
    if not 0 < _cost < math.inf:  # PostgreSQL would refuse every connection
        raise ImproperlyConfigured(
            "DATABASE_RANDOM_PAGE_COST must be a positive number (e.g. 1.1), "
            f"not {_random_page_cost!r}."
        )
    _random_page_cost = str(_cost)  # nothing else reaches the option
    _options = DATABASES["default"].setdefault("OPTIONS", {})
    _options["options"] = (
        f"{_options.get('options', '')} -c random_page_cost={_random_page_cost}".strip()
    )
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    # Axes first: it refuses a locked-out username/address pair before any hashing happens.
    "axes.backends.AxesStandaloneBackend",
    "accounts.backends.ValidityModelBackend",
]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "accounts:home"
LOGOUT_REDIRECT_URL = "accounts:login"

PASSWORD_HASHERS = [
    # The first hasher is the full-strength one; every hash made by another hasher in this
    # list is upgraded to it at the next successful login (see docs/passwords.md).
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    "accounts.hashers.GeneratedPasswordHasher",
]
if TESTING:
    # Tests create hundreds of users; full-strength hashing would only slow them down.
    PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher", *PASSWORD_HASHERS]

# Django's rules; our subclasses only word the help texts with 'je' (accounts/validators.py).
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "accounts.validators.UserAttributeSimilarityValidator"},
    {"NAME": "accounts.validators.MinimumLengthValidator", "OPTIONS": {"min_length": 8}},
    {"NAME": "accounts.validators.CommonPasswordValidator"},
    {"NAME": "accounts.validators.NumericPasswordValidator"},
]

# --- Login throttling (django-axes) -------------------------------------------------------------
# Lock out the *combination* of username and address: a school network shares one public
# address, so locking by address alone would let one pupil lock out a whole class.
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("AXES_COOLOFF_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
# No AccessLog of every sign-in (name, address, browser) kept for ever: the audit log records
# sign-ins already, and follows the college's retention period ('Bewaartermijn auditlog').
AXES_DISABLE_ACCESS_LOG = True
AXES_LOCKOUT_CALLABLE = "accounts.views.locked_out"
# The number of reverse proxies in front of the site. Their headers are believed only when there
# is one (without a proxy anybody can send them): X-Forwarded-For for the client address that
# throttling locks, and X-Forwarded-Proto for HTTPS (SECURE_PROXY_SSL_HEADER below).
KB_PROXY_COUNT = env.int("AXES_PROXY_COUNT", default=0)
AXES_IPWARE_PROXY_COUNT = KB_PROXY_COUNT or None
AXES_ENABLED = env.bool("AXES_ENABLED", default=True)

# --- Impersonation (django-hijack) -------------------------------------------------------------
HIJACK_PERMISSION_CHECK = "candidates.selectors.can_impersonate"
HIJACK_INSERT_BEFORE = None  # we render our own banner in base.html (CSP-safe, translated)

# --- Two-step sign-in (django-otp) -------------------------------------------------------------
# The name authenticator apps show above the code.
OTP_TOTP_ISSUER = env.str("KB_TOTP_ISSUER", default="Kandidaatbeheer")
# --- OpenID Connect provider for exam environments (django-oauth-toolkit) ----------------------
# Exam software ('toetsomgevingen', accounts.ExamEnvironment) signs candidates in with the
# authorization code flow; docs/toetsomgeving.md. The id_tokens are signed with this RSA key.
# Without a key in production the provider is off (a deploy check says so).
KB_OIDC_PRIVATE_KEY = signing_key(
    pem=env.str("KB_OIDC_PRIVATE_KEY", default=""),
    path=env.str("KB_OIDC_PRIVATE_KEY_FILE", default=""),
    debug=DEBUG,
    testing=TESTING,
    var_dir=BASE_DIR / "var",  # development only; ignored by git
)
# Short lifetimes: an exam environment signs in for one sitting, and a deactivated candidate's
# tokens are revoked at once anyway. 15 minutes is the most an exam room should trust.
KB_OIDC_TOKEN_SECONDS = min(env.int("KB_OIDC_TOKEN_SECONDS", default=900), 900)
OAUTH2_PROVIDER = {
    "OIDC_ENABLED": True,
    "OIDC_ISS_ENDPOINT": "",  # set to KB_BASE_URL below, once that is read
    "OIDC_RSA_PRIVATE_KEY": KB_OIDC_PRIVATE_KEY,
    # Rotation: the retired keys stay in the JWKS (never sign) until their tokens expired.
    "OIDC_RSA_PRIVATE_KEYS_INACTIVE": previous_keys(env.names("KB_OIDC_PREVIOUS_KEY_FILES", [])),
    "OIDC_RESPONSE_TYPES_SUPPORTED": ["code"],
    "OIDC_TOKEN_ENDPOINT_AUTH_METHODS_SUPPORTED": ["client_secret_basic", "client_secret_post"],
    "OIDC_RP_INITIATED_LOGOUT_ENABLED": True,
    # With a valid id_token_hint and a registered post-logout URI nobody is asked; otherwise
    # our Dutch confirmation page (templates/oauth2_provider/logout_confirm.html).
    "OIDC_RP_INITIATED_LOGOUT_ALWAYS_PROMPT": False,
    "OIDC_RP_INITIATED_LOGOUT_STRICT_REDIRECT_URIS": True,
    "OAUTH2_VALIDATOR_CLASS": "candidates.oidc.ExamOAuth2Validator",
    "SCOPES": {
        "openid": _("Wie je bent"),
        "profile": _("Je naam, kandidaatnummer, groepen en school"),
        "email": _("Je e-mailadres"),
        "offline_access": _("Ingelogd blijven zonder opnieuw in te loggen"),
    },
    "DEFAULT_SCOPES": ["openid"],
    "PKCE_REQUIRED": True,
    "ACCESS_TOKEN_EXPIRE_SECONDS": KB_OIDC_TOKEN_SECONDS,
    "ID_TOKEN_EXPIRE_SECONDS": KB_OIDC_TOKEN_SECONDS,
    "AUTHORIZATION_CODE_EXPIRE_SECONDS": 60,
    # Only for a client that asks for scope offline_access (candidates.oidc drops the rest).
    "REFRESH_TOKEN_EXPIRE_SECONDS": 8 * 60 * 60,
    # A refresh token used twice (stolen and replayed) revokes its whole family.
    "REFRESH_TOKEN_REUSE_PROTECTION": True,
    "ALLOWED_REDIRECT_URI_SCHEMES": ["http", "https"] if DEBUG or TESTING else ["https"],
    # RFC 9700 (OAuth 2.0 security best practice): S256 only, no implicit or password grant,
    # tokens never in a URL, the issuer in the authorization response, tokens stored hashed.
    "COMPLIANT_BCP_RFC9700_IMPLICIT_GRANT": True,
    "COMPLIANT_BCP_RFC9700_PASSWORD_GRANT": True,
    "COMPLIANT_BCP_RFC9700_PKCE_METHOD": True,
    "COMPLIANT_BCP_RFC9700_PKCE_REQUIRED": True,
    "COMPLIANT_BCP_RFC9700_ACCESS_TOKEN_TRANSPORT": True,
    "COMPLIANT_BCP_RFC9700_AUTHZ_RESPONSE_ISS": True,
    "COMPLIANT_BCP_RFC9700_TOKEN_STORAGE": True,
    # …and `check --deploy` fails (not warns) on a setting that falls back behind them.
    "COMPLIANT_BCP_RFC9700_REFRESH_TOKEN": True,
    "COMPLIANT_BCP_RFC9700_REDIRECT_URI_SCHEME": not (DEBUG or TESTING),  # http for runserver
    "COMPLIANT_BCP_RFC9700_REDIRECT_URI_MATCHING": True,
}

# --- Sessions ----------------------------------------------------------------------------------
# Idle time-out: the session dies after this many idle seconds. It is renewed at most once a
# minute (accounts.middleware.SessionTimeoutMiddleware), not written on every request.
SESSION_COOKIE_AGE = env.int("SESSION_IDLE_TIMEOUT", default=60 * 60)
SESSION_SAVE_EVERY_REQUEST = False
# Absolute time-out: a session older than this ends however active it is (our middleware).
SESSION_ABSOLUTE_TIMEOUT = env.int("SESSION_ABSOLUTE_TIMEOUT", default=10 * 60 * 60)
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"

# --- Internationalisation ----------------------------------------------------------------------
LANGUAGE_CODE = "nl"
LANGUAGES = [("nl", _("Nederlands")), ("en", _("Engels"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Europe/Amsterdam"
USE_I18N = True
USE_TZ = True

# --- Static and uploaded files -----------------------------------------------------------------
STATIC_URL = "static/"
# Where `collectstatic` gathers the files whitenoise serves; an installed site sets it outside
# site-packages.
STATIC_ROOT = Path(env.str("KB_STATIC_ROOT", default=str(BASE_DIR / "staticfiles")))
STATICFILES_DIRS = [BASE_DIR / "static"]
# Neither the web side nor a worker writes files: uploads and login slips are sealed rows in the
# database (only `import_candidates --report` writes, where its operator asks).
# MEDIA_ROOT is only Django's default file storage, never served by URL; the tests use it to
# show that neither the web side nor a worker writes to disk.
MEDIA_ROOT = Path(env.str("KB_MEDIA_ROOT", default=str(BASE_DIR / "media")))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG or TESTING
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}

CRISPY_ALLOWED_TEMPLATE_PACKS = "bootstrap5"
CRISPY_TEMPLATE_PACK = "bootstrap5"

# --- Mail ---------------------------------------------------------------------------------------
# EMAIL_URL: console://, locmem://, smtp://user:pass@host:port, smtp+tls://…, smtp+ssl://…, with
# an optional ?timeout=seconds.
_email = env.email_url("EMAIL_URL", default="console://")
EMAIL_BACKEND = _email["EMAIL_BACKEND"]
EMAIL_HOST = _email["EMAIL_HOST"] or "localhost"
EMAIL_PORT = _email["EMAIL_PORT"] or 25
EMAIL_HOST_USER = _email["EMAIL_HOST_USER"] or ""
EMAIL_HOST_PASSWORD = _email["EMAIL_HOST_PASSWORD"] or ""
EMAIL_USE_TLS = _email.get("EMAIL_USE_TLS", False)
EMAIL_USE_SSL = _email.get("EMAIL_USE_SSL", False)
EMAIL_TIMEOUT = int(_email.get("OPTIONS", {}).get("TIMEOUT", 10))
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="Kandidaatbeheer <noreply@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# --- Celery ------------------------------------------------------------------------------------
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default="")
# Without a broker the app must still work (`make run`): tasks then run in-process.
CELERY_TASK_ALWAYS_EAGER = not CELERY_BROKER_URL
CELERY_TASK_EAGER_PROPAGATES = False
CELERY_RESULT_BACKEND = None  # results live in our own tables (ImportBatch, OutgoingMail)
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
# A task is acknowledged only after it finished, and a worker that dies mid-task gives the
# message back: an import survives a SIGKILL and runs again (the task itself is idempotent).
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_TRANSPORT_OPTIONS = {
    # Redis redelivers an unacknowledged message after this many seconds; it must exceed the
    # longest task (CELERY_TASK_TIME_LIMIT) or a healthy task would be started a second time.
    "visibility_timeout": env.int("CELERY_VISIBILITY_TIMEOUT", default=3600),
    # How often a worker looks for such messages of dead workers. Kombu's default is every
    # 100 s (10 s x a throttle of 10); one cheap Redis query a minute is plenty in production,
    # and crash tests lower it to see a surviving worker take over within seconds.
    "unacked_restore_interval": env.int("CELERY_UNACKED_RESTORE_SECONDS", default=60),
    "unacked_restore_throttle": 1,
    # A sweep holds a lock in Redis; a worker killed during one leaves the lock behind until
    # it expires (Kombu's default: 300 s), and meanwhile no worker restores anything. Crash
    # tests, which sweep every second, shorten it so a kill mid-sweep cannot stall them.
    "unacked_mutex_expire": env.int("CELERY_UNACKED_MUTEX_SECONDS", default=300),
    # Without socket time-outs a broker that stops answering (failover, a dropped connection
    # behind a firewall) makes `.delay()` wait forever: 'Importeer' would hang until the web
    # worker is killed, and the batch would stay queued without a message. With them the
    # publish fails within seconds and the batch keeps a Dutch reason and a retry button.
    "socket_connect_timeout": 3,
    "socket_timeout": 5,
}
# One retry of a failed publish, not Celery's three: a web request waits for it.
CELERY_TASK_PUBLISH_RETRY_POLICY = {
    "max_retries": 1,
    "interval_start": 0,
    "interval_step": 0.5,
    "interval_max": 0.5,
}
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TASK_TIME_LIMIT = env.int("CELERY_TASK_TIME_LIMIT", default=1800)
# A minute before the hard limit kills the process, the task gets an exception it can handle:
# an import that runs out of time is marked failed (with a Dutch reason) instead of being left
# 'running' for ever.
CELERY_TASK_SOFT_TIME_LIMIT = max(1, CELERY_TASK_TIME_LIMIT - 60)
# First wait before a mail that met temporary SMTP trouble is tried again; it doubles on every
# retry (10 s, 20 s, 40 s … capped at 10 minutes). Tests shorten it.
KB_MAIL_RETRY_SECONDS = env.int("KB_MAIL_RETRY_SECONDS", default=10)
CELERY_TIMEZONE = TIME_ZONE
CELERY_BEAT_SCHEDULE = {
    "deactivate-expired-candidates": {
        "task": "candidates.tasks.deactivate_expired_candidates",
        "schedule": 24 * 60 * 60,
    },
    "mail-expiry-digests": {
        "task": "candidates.tasks.send_expiry_digests",
        "schedule": 24 * 60 * 60,
    },
    "apply-retention": {
        "task": "candidates.tasks.apply_retention",
        "schedule": 24 * 60 * 60,
    },
    "forget-old-import-results": {
        "task": "imports.tasks.forget_old_import_results",
        "schedule": 24 * 60 * 60,
    },
    "purge-expired-uploads": {
        "task": "imports.tasks.purge_expired_uploads",
        "schedule": 60 * 60,
    },
}

# --- Product limits ----------------------------------------------------------------------------
KB_IMPORT_MAX_FILE_BYTES = env.int("KB_IMPORT_MAX_FILE_BYTES", default=10 * 1024 * 1024)
KB_IMPORT_MAX_ROWS = env.int("KB_IMPORT_MAX_ROWS", default=50_000)
KB_IMPORT_MAX_UNCOMPRESSED_BYTES = env.int(
    "KB_IMPORT_MAX_UNCOMPRESSED_BYTES", default=200 * 1024 * 1024
)
KB_IMPORT_MAX_COLUMNS = env.int("KB_IMPORT_MAX_COLUMNS", default=200)
KB_IMPORT_MAX_CELL_CHARS = env.int("KB_IMPORT_MAX_CELL_CHARS", default=1000)
KB_UPLOAD_RETENTION_HOURS = env.int("KB_UPLOAD_RETENTION_HOURS", default=24)
# Absolute address of the site, used in mails ("Inloggen: …").
KB_BASE_URL = env.str("KB_BASE_URL", default="http://127.0.0.1:8000").rstrip("/")
# The OpenID Connect issuer is the site root.
OAUTH2_PROVIDER["OIDC_ISS_ENDPOINT"] = KB_BASE_URL
# Key for the short-lived encrypted credentials (Fernet); derived from SECRET_KEY if unset.
KB_CREDENTIALS_KEY = env.str("KB_CREDENTIALS_KEY", default="")
# The largest request body accepted: one import file plus room for the multipart wrapping and
# the form's other fields. A larger declared body is refused with a Dutch 413 page before it is
# read (accounts.middleware.RequestSizeLimitMiddleware); the proxy refuses it earlier still.
KB_MAX_REQUEST_BYTES = KB_IMPORT_MAX_FILE_BYTES + 1024 * 1024
# Form fields other than files; our largest forms (a college's mail texts) are a few kB.
DATA_UPLOAD_MAX_MEMORY_SIZE = 1024 * 1024
# An accepted upload stays in memory instead of a temporary file: it is read whole and sealed
# into the database anyway, so personal data never lies unencrypted on the web server's disk.
# The limit above bounds the memory.
FILE_UPLOAD_MAX_MEMORY_SIZE = KB_MAX_REQUEST_BYTES

# --- Security headers --------------------------------------------------------------------------
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
        "base-uri": [SELF],
        "object-src": [NONE],
    }
}
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
if not DEBUG and not TESTING:
    SECURE_SSL_REDIRECT = env.bool("DJANGO_SECURE_SSL_REDIRECT", default=True)
    SECURE_HSTS_SECONDS = env.int("DJANGO_HSTS_SECONDS", default=31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
# Behind a TLS-terminating proxy the request arrives over HTTP; the proxy says it was HTTPS. Only
# a configured proxy is believed: without one a client could claim HTTPS itself.
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if KB_PROXY_COUNT else None

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env.str("DJANGO_LOG_LEVEL", default="INFO")},
    "loggers": {"axes": {"level": "WARNING"}},
}
