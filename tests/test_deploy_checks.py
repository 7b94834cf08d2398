"""Our own deploy check: with DEBUG off, login links in mails and on slips need KB_BASE_URL
to be the site's https:// address; `check --deploy --fail-level WARNING` fails without it."""

from __future__ import annotations

import pytest
from django.test import override_settings

from accounts.checks import check_base_url

from .test_security_headers import HOST, NO_ISSUES, manage, production_env

DEPLOY = ("check", "--deploy", "--fail-level", "WARNING")


@pytest.mark.parametrize(
    "url", ["http://127.0.0.1:8000", "http://kandidaten.example.nl", "https://", "kandidaten.nl"]
)
def test_a_base_url_that_is_not_https_is_an_error_in_production(url):
    with override_settings(DEBUG=False, KB_BASE_URL=url):
        errors = check_base_url()

    assert [(e.id, e.level, e.msg) for e in errors] == [
        ("kandidaatbeheer.E001", 40, f"KB_BASE_URL is {url!r}, not an https:// address.")
    ]


def test_an_https_base_url_passes_and_development_is_not_checked():
    with override_settings(DEBUG=False, KB_BASE_URL="https://kandidaten.example.nl"):
        assert check_base_url() == []
    with override_settings(DEBUG=True, KB_BASE_URL="http://127.0.0.1:8000"):
        assert check_base_url() == []


def test_check_deploy_fails_on_the_production_profile_without_base_url():
    env = production_env()
    env.pop("KB_BASE_URL")

    result = manage(*DEPLOY, env=env)

    assert result.returncode == 1
    assert (
        "(kandidaatbeheer.E001) KB_BASE_URL is 'http://127.0.0.1:8000', not an https:// address."
        in result.stderr
    )
    assert "HINT: Set KB_BASE_URL to the site's public https:// address" in result.stderr


def test_check_deploy_passes_with_an_https_base_url():
    result = manage(*DEPLOY, env=production_env(KB_BASE_URL=f"https://{HOST}/"))

    assert (result.returncode, result.stdout, result.stderr) == (0, NO_ISSUES, "")
