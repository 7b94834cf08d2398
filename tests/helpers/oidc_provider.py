"""A real OpenID Connect provider for the college sign-in tests: `oidc-provider-mock` (from
PyPI, built on Authlib and Flask) in a process of its own on a free port. It signs id_tokens
with its own RSA key, publishes discovery and JWKS, and asks on its authorization page who
signs in; the tests answer that page over HTTP like a browser would.

- run_provider(): context manager, yields a Provider (its issuer URL) and stops the process.
- Provider.set_user(sub, claims): the claims the provider hands out for that person.
- sign_in(http, start_url, provider, sub): follows 'Inloggen met <school>' through the provider
  and back; returns the last response.
"""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import requests

START_DEADLINE_SECONDS = 30


@dataclass
class Provider:
    issuer: str
    process: subprocess.Popen

    def set_user(self, sub: str, claims: dict[str, Any]) -> None:
        response = requests.put(
            f"{self.issuer}/users/{quote(sub, safe='')}", json=claims, timeout=10
        )
        assert response.status_code == 204, response.text


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_until_up(provider: Provider) -> None:
    deadline = time.monotonic() + START_DEADLINE_SECONDS
    url = provider.issuer + "/.well-known/openid-configuration"
    while time.monotonic() < deadline:
        if provider.process.poll() is not None:
            raise RuntimeError(f"the OIDC provider exited with {provider.process.returncode}")
        try:
            if requests.get(url, timeout=1).status_code == 200:
                return
        except requests.ConnectionError:
            pass
        time.sleep(0.05)  # the process is still binding its port
    raise RuntimeError(f"the OIDC provider did not answer within {START_DEADLINE_SECONDS} s")


@contextmanager
def run_provider() -> Iterator[Provider]:
    port = _free_port()
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "oidc_provider_mock",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--require-nonce",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    provider = Provider(issuer=f"http://127.0.0.1:{port}", process=process)
    try:
        _wait_until_up(provider)
        yield provider
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def sign_in(http: requests.Session, start_url: str, provider: Provider, sub: str):
    """Click 'Inloggen met <school>', then 'Authorize' as `sub` on the provider's page."""
    page = http.get(start_url, timeout=30)
    assert page.status_code == 200, page.text
    assert page.url.startswith(provider.issuer + "/oauth2/authorize"), page.url
    return http.post(page.url, data={"sub": sub}, timeout=30)
