"""System checks of our own settings, reported by `manage.py check --deploy` beside Django's."""

from __future__ import annotations

from urllib.parse import urlsplit

from django.conf import settings
from django.core.checks import CheckMessage, Error, Tags, register
from django.db import DatabaseError

from .models import ExamEnvironment

BASE_URL_HINT = (
    "Set KB_BASE_URL to the site's public https:// address, e.g. "
    "https://kandidaatbeheer.example.org: login links in mails and on login slips are built "
    "from it."
)


@register(Tags.security, deploy=True)
def check_base_url(app_configs=None, **kwargs) -> list[CheckMessage]:
    """Without KB_BASE_URL every mailed and printed login link points at 127.0.0.1:8000, the
    development server: candidates could not log in, and nobody would notice until they try."""
    if settings.DEBUG:
        return []
    url = urlsplit(settings.KB_BASE_URL)
    if url.scheme == "https" and url.hostname:
        return []
    return [
        Error(
            f"KB_BASE_URL is {settings.KB_BASE_URL!r}, not an https:// address.",
            hint=BASE_URL_HINT,
            id="kandidaatbeheer.E001",
        )
    ]


OIDC_KEY_HINT = (
    "Set KB_OIDC_PRIVATE_KEY_FILE to a PEM file with an RSA private key of 2048 bits or more "
    "(or KB_OIDC_PRIVATE_KEY to the PEM itself); see docs/toetsomgeving.md."
)


@register(Tags.security, deploy=True)
def check_oidc_key(app_configs=None, **kwargs) -> list[CheckMessage]:
    """Exam environments need the key that signs their id_tokens. Without one the provider is
    off, which is fine for an installation that has none; once a college has registered one,
    its candidates could not sign in to their exams, so that is an error."""
    if settings.DEBUG or settings.OAUTH2_PROVIDER.get("OIDC_RSA_PRIVATE_KEY"):
        return []
    try:
        registered = ExamEnvironment.objects.filter(active=True).count()
    except DatabaseError:
        return []  # not migrated yet: nothing is registered
    if not registered:
        return []
    return [
        Error(
            f"{registered} exam environment(s) are switched on, but no OpenID Connect signing "
            "key is configured: their sign-ins fail.",
            hint=OIDC_KEY_HINT,
            id="kandidaatbeheer.E010",
        )
    ]
