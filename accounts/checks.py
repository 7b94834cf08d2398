"""System checks of our own settings, reported by `manage.py check --deploy` beside Django's."""

from __future__ import annotations

from urllib.parse import urlsplit

from django.conf import settings
from django.core.checks import CheckMessage, Error, Tags, register

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
