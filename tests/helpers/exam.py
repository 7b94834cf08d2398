"""An exam environment ('toetsomgeving') played for real: a relying party that speaks OpenID
Connect to the live server with plain HTTP (requests), as Moodle or any exam software would.
It reads discovery, sends the browser (a requests session that logs in through our login page)
to the authorization endpoint with PKCE, redeems the code, verifies the id_token's signature
against the JWKS (jwcrypto) and reads userinfo."""

from __future__ import annotations

import base64
import hashlib
import json
import re
import secrets
from dataclasses import dataclass, field
from urllib.parse import parse_qs, urlencode, urljoin, urlsplit

import pytest
import requests
from jwcrypto import jwk, jwt

from tests.factories import TEST_PASSWORD

REDIRECT_URI = "https://toets.example.test/auth/callback"
LOGOUT_URI = "https://toets.example.test/afgemeld"


@pytest.fixture
def exam_issuer(live_server, settings) -> str:
    """The live server is the issuer: KB_BASE_URL and the provider's issuer point at it."""
    settings.KB_BASE_URL = live_server.url
    settings.OAUTH2_PROVIDER = {**settings.OAUTH2_PROVIDER, "OIDC_ISS_ENDPOINT": live_server.url}
    return live_server.url


def pkce_pair() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    digest = hashlib.sha256(verifier.encode()).digest()
    return verifier, base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


@dataclass
class Outcome:
    """Where the browser ended: back at the exam environment (`callback`, its query) or on one
    of our pages (`page`, its HTML and status)."""

    callback: dict[str, str] | None = None
    page: str = ""
    status: int = 0
    visited: list[str] = field(default_factory=list)


class Browser:
    """A requests session that follows redirects on our site only, logging in when asked."""

    def __init__(self, base_url: str):
        self.base_url = base_url
        self.http = requests.Session()

    def login(
        self, username: str, password: str = TEST_PASSWORD, next_url: str = ""
    ) -> requests.Response:
        url = urljoin(self.base_url, "/inloggen/") + (
            f"?{urlencode({'next': next_url})}" if next_url else ""
        )
        page = self.http.get(url, timeout=10)
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text)
        assert token, page.text[:500]
        data = {"csrfmiddlewaretoken": token.group(1), "username": username, "password": password}
        if next_url:
            data["next"] = next_url
        return self.http.post(url, data=data, allow_redirects=False, timeout=10)

    def follow(self, url: str, *, username: str | None = None, max_hops: int = 10) -> Outcome:
        outcome = Outcome()
        for _hop in range(max_hops):
            if url.startswith(REDIRECT_URI):
                outcome.callback = {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}
                return outcome
            outcome.visited.append(url)
            response = self.http.get(urljoin(self.base_url, url), allow_redirects=False, timeout=10)
            location = response.headers.get("Location")
            if response.status_code in (301, 302, 303) and location:
                login_path = "/inloggen/"
                if urlsplit(location).path == login_path and username is not None:
                    next_url = parse_qs(urlsplit(location).query)["next"][0]
                    answer = self.login(username, next_url=next_url)
                    if answer.status_code != 302:
                        outcome.page, outcome.status = answer.text, answer.status_code
                        return outcome
                    url = answer.headers["Location"]
                    username = None  # once
                    continue
                url = location
                continue
            outcome.page, outcome.status = response.text, response.status_code
            return outcome
        raise AssertionError(f"too many redirects: {outcome.visited}")


class ExamEnvironmentClient:
    """The relying party: discovery, the authorization request, the token and userinfo calls."""

    def __init__(
        self, issuer: str, client_id: str, client_secret: str, redirect_uri: str = REDIRECT_URI
    ):
        self.issuer = issuer
        self.redirect_uri = redirect_uri
        self.client_id = client_id
        self.client_secret = client_secret
        self.http = requests.Session()
        self.config = self.http.get(f"{issuer}/.well-known/openid-configuration", timeout=10).json()
        self.verifier, self.challenge = pkce_pair()
        self.state = secrets.token_urlsafe(16)
        self.nonce = secrets.token_urlsafe(16)

    def authorize_url(self, scope: str = "openid profile email", **extra: str) -> str:
        params = {
            "response_type": "code",
            "client_id": self.client_id,
            "redirect_uri": self.redirect_uri,
            "scope": scope,
            "state": self.state,
            "nonce": self.nonce,
            "code_challenge": self.challenge,
            "code_challenge_method": "S256",
            **extra,
        }
        return f"{self.config['authorization_endpoint']}?{urlencode(params)}"

    def redeem(self, code: str, *, auth: str = "basic") -> requests.Response:
        data = {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": self.redirect_uri,
            "code_verifier": self.verifier,
        }
        kwargs: dict = {}
        if auth == "basic":
            kwargs["auth"] = (self.client_id, self.client_secret)
        else:
            data.update(client_id=self.client_id, client_secret=self.client_secret)
        return self.http.post(self.config["token_endpoint"], data=data, timeout=10, **kwargs)

    def verified_claims(self, id_token: str) -> dict:
        """The id_token's claims after checking its RS256 signature with a key of the JWKS."""
        keys = jwk.JWKSet.from_json(self.http.get(self.config["jwks_uri"], timeout=10).text)
        token = jwt.JWT(
            jwt=id_token,
            key=keys,
            algs=["RS256"],
            check_claims={"iss": self.issuer, "aud": self.client_id, "exp": None},
        )
        return json.loads(token.claims)

    def userinfo(self, access_token: str) -> requests.Response:
        return self.http.get(
            self.config["userinfo_endpoint"],
            headers={"Authorization": f"Bearer {access_token}"},
            timeout=10,
        )
