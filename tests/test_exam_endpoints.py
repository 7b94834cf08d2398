"""The provider's public endpoints answer an anonymous caller with their protocol's answer,
never a page or a 500; the signing key comes from the environment or a file, and production
without one is a deploy-check error once an exam environment is switched on."""

from __future__ import annotations

import json

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from django.core.exceptions import ImproperlyConfigured
from django.test import override_settings
from django.urls import reverse

from accounts.checks import check_oidc_key
from candidates.services.exam_environments import exam_environment_create
from config.oidc_keys import DEV_KEY_NAME, previous_keys, signing_key
from tests.helpers.exam import REDIRECT_URI

from .test_security_headers import manage, production_env


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("method", "name", "status"),
    [
        ("get", "oauth2_provider:oidc-connect-discovery-info", 200),
        ("get", "oauth2_provider:jwks-info", 200),
        ("post", "oauth2_provider:jwks-info", 405),
        ("get", "oauth2_provider:token", 405),
        ("post", "oauth2_provider:token", 400),
        ("get", "oauth2_provider:user-info", 401),
        ("post", "oauth2_provider:user-info", 401),
        ("post", "oauth2_provider:revoke-token", 400),
    ],
)
def test_public_endpoints_answer_anonymous_callers(client, method, name, status):
    response = getattr(client, method)(reverse(name))
    assert response.status_code == status
    if status != 405:
        json.loads(response.content)  # a protocol answer, not a page


@pytest.mark.django_db
def test_jwks_publishes_the_active_and_the_retired_key(client, settings):
    old = pem()
    settings.OAUTH2_PROVIDER = {**settings.OAUTH2_PROVIDER, "OIDC_RSA_PRIVATE_KEYS_INACTIVE": [old]}
    keys = client.get(reverse("oauth2_provider:jwks-info")).json()["keys"]
    assert len(keys) == 2
    assert {k["alg"] for k in keys} == {"RS256"}
    assert all("d" not in k for k in keys)  # public parts only


def pem(bits: int = 2048) -> str:
    key = rsa.generate_private_key(public_exponent=65537, key_size=bits)
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()


def test_key_from_variable_file_dev_dir_or_none(tmp_path):
    key = pem()
    common = {"debug": False, "testing": False, "var_dir": tmp_path / "var"}
    assert signing_key(pem=key, path="", **common) == key
    assert signing_key(pem=key.replace("\n", "\\n"), path="", **common) == key
    (tmp_path / "key.pem").write_text(key)
    assert signing_key(pem="", path=str(tmp_path / "key.pem"), **common) == key
    assert signing_key(pem="", path="", **common) == ""  # production without a key: off
    dev = signing_key(pem="", path="", **{**common, "debug": True})
    assert (tmp_path / "var" / DEV_KEY_NAME).read_text() == dev
    assert (tmp_path / "var" / DEV_KEY_NAME).stat().st_mode & 0o777 == 0o600
    assert signing_key(pem="", path="", **{**common, "debug": True}) == dev  # kept
    assert previous_keys([str(tmp_path / "key.pem")]) == [key]


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("geen sleutel", "KB_OIDC_PRIVATE_KEY is not an unencrypted PEM private key"),
        (pem(1024), "KB_OIDC_PRIVATE_KEY must be an RSA private key of at least 2048 bits."),
    ],
)
def test_a_bad_key_stops_start_up_with_a_clear_message(tmp_path, value, message):
    with pytest.raises(ImproperlyConfigured, match=message):
        signing_key(pem=value, path="", debug=False, testing=False, var_dir=tmp_path)
    with pytest.raises(ImproperlyConfigured, match="cannot read"):
        signing_key(pem="", path=str(tmp_path / "nope.pem"), debug=False, testing=False,
                    var_dir=tmp_path)  # fmt: skip


@pytest.mark.django_db
def test_deploy_check_only_when_an_exam_environment_needs_the_key(world, settings):
    no_key = {**settings.OAUTH2_PROVIDER, "OIDC_RSA_PRIVATE_KEY": ""}
    with override_settings(DEBUG=False, OAUTH2_PROVIDER=no_key):
        assert check_oidc_key() == []  # none registered: the provider is simply off
        registered = exam_environment_create(
            actor=None, organisation=world.college, name="Toetsspeler", redirect_uris=[REDIRECT_URI]
        )
        [error] = check_oidc_key()
        assert error.id == "kandidaatbeheer.E010"
        assert error.msg.startswith("1 exam environment(s) are switched on, but no OpenID")
        registered.environment.active = False
        registered.environment.save()
        assert check_oidc_key() == []
    assert check_oidc_key() == []  # with the key


def test_production_profile_with_a_key_file_passes_check_deploy(tmp_path):
    (tmp_path / "key.pem").write_text(pem())
    env = production_env(KB_OIDC_PRIVATE_KEY_FILE=str(tmp_path / "key.pem"))
    result = manage("check", "--deploy", "--fail-level", "WARNING", env=env)
    assert (result.returncode, result.stderr) == (0, "")


def test_production_profile_with_an_unreadable_key_file_does_not_start(tmp_path):
    env = production_env(KB_OIDC_PRIVATE_KEY_FILE=str(tmp_path / "missing.pem"))
    result = manage("check", "--deploy", env=env)
    assert result.returncode == 1
    assert "KB_OIDC_PRIVATE_KEY_FILE: cannot read" in result.stderr
