"""Staff sign in with their college's own OpenID Connect provider ('Inloggen met <school>').

Authlib does the protocol: discovery, state, nonce, PKCE (S256), the code exchange and the
id_token's signature, issuer, audience and expiry. One client is built per request from the
college's row, so any number of colleges with any number of providers share one installation,
and a provider's settings take effect the moment the beheerder saves them. This module decides
who a verified identity is: only an existing staff account of that same college.
"""

from __future__ import annotations

import ipaddress
import socket
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import requests
from authlib.integrations.base_client import OAuthError
from authlib.integrations.django_client import DjangoIntegration, DjangoOAuth2App
from django.conf import settings
from joserfc.errors import JoseError

from .middleware import SIGN_IN_METHOD_KEY as SIGN_IN_METHOD_KEY  # re-exported
from .models import STAFF_ROLES, AuditLog, CollegeSignIn, Organisation, Role, User
from .services import audit, client_ip

# SIGN_IN_METHOD_KEY marks a session that an SSO sign-in started; the second-factor check
# skips such sessions (the college's provider did the authentication). Password logins leave
# it unset. It lives in middleware, which keeps it through impersonation.
COLLEGE_IDP = "college_idp"
SCOPES = "openid email profile"
# A provider that does not answer must not hold a web worker for long.
PROVIDER_TIMEOUT_SECONDS = 10
# Endpoints of the discovery document that this server itself calls (with the client secret,
# for the token endpoint); the authorization endpoint is only visited by the browser.
SERVER_ENDPOINTS = ("token_endpoint", "jwks_uri", "userinfo_endpoint")
LOOPBACK_NAMES = ("localhost", "127.0.0.1", "::1")


class ProviderError(Exception):
    """The provider's configuration could not be read, is not what the beheerder entered, or
    names an address this server must not call. `detail`: the offending URL, if any."""

    def __init__(self, code: str, detail: str = ""):
        super().__init__(code)
        self.code = code
        self.detail = detail


# What can go wrong talking to a provider, as one family: every one ends on the same Dutch page.
PROVIDER_ERRORS = (
    ProviderError,
    OAuthError,
    JoseError,
    requests.RequestException,
    ValueError,
    KeyError,
    RuntimeError,  # Authlib: the discovery document names no authorization endpoint
)


def local_providers_allowed() -> bool:
    """runserver and the tests use a provider on this machine over http; production never."""
    return bool(settings.DEBUG or getattr(settings, "TESTING", False))


def _internal(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])  # drop an IPv6 zone id
    return not ip.is_global or ip.is_multicast


def provider_url_problem(url: str, resolve: bool = True) -> str | None:
    """Why this server must not call a provider URL, or None. The issuer URL is set by a
    beheerder and the discovery document names the rest, so without this check either could
    make the server call (and send the client secret to) an internal address: in production
    only https to a host whose every address is public. `resolve=False`: the scheme only."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if local_providers_allowed():
        local_http = parts.scheme == "http" and host in LOOPBACK_NAMES
        return None if host and (parts.scheme == "https" or local_http) else "insecure"
    if parts.scheme != "https" or not host:
        return "https_only"
    if not resolve:
        return None
    try:
        addresses = socket.getaddrinfo(host, parts.port or 443, proto=socket.IPPROTO_TCP)
    except (OSError, UnicodeError, ValueError):
        return "unreachable"
    if not addresses or any(_internal(str(info[4][0])) for info in addresses):
        return "private"
    return None


def discovery_url(issuer: str) -> str:
    return issuer.rstrip("/") + "/.well-known/openid-configuration"


def same_issuer(a: str, b: str) -> bool:
    return a.rstrip("/") == b.rstrip("/")


def check_provider(issuer: str) -> dict[str, Any]:
    """Read the provider's discovery document, so a typing error in the issuer URL is told on
    the settings page, not by the first colleague who tries to sign in. Also the only way the
    sign-in reads it (CheckedClient), so every endpoint used has passed provider_url_problem."""
    url = discovery_url(issuer)
    problem = provider_url_problem(url)
    if problem:
        raise ProviderError(problem, url)
    try:
        # No redirects: a redirect could lead to an address the check above never saw.
        response = requests.get(url, timeout=PROVIDER_TIMEOUT_SECONDS, allow_redirects=False)
        response.raise_for_status()
        metadata = response.json() if not response.is_redirect else None
    except (requests.RequestException, ValueError) as exc:
        raise ProviderError("unreachable") from exc
    if not isinstance(metadata, dict) or "authorization_endpoint" not in metadata:
        raise ProviderError("unreachable" if metadata is None else "not_oidc")
    if not same_issuer(str(metadata.get("issuer", "")), issuer):
        raise ProviderError("issuer_mismatch")
    _check_endpoints(metadata)
    return metadata


def _check_endpoints(metadata: dict[str, Any]) -> None:
    for key in ("authorization_endpoint", *SERVER_ENDPOINTS):
        if key in metadata:
            endpoint = str(metadata[key])
            if provider_url_problem(endpoint, resolve=key in SERVER_ENDPOINTS):
                raise ProviderError("endpoint", endpoint)


class CheckedClient(DjangoOAuth2App):
    """Authlib's client, reading the discovery document through check_provider only."""

    kb_issuer = ""

    def load_server_metadata(self):
        if "_loaded_at" not in self.server_metadata:
            self.server_metadata.update(check_provider(self.kb_issuer))
            self.server_metadata["_loaded_at"] = time.time()
        return self.server_metadata

    # The token, jwks and userinfo calls follow no redirect either: a checked endpoint could
    # otherwise send this server (and a 307 the client secret) on to an internal address.
    def _get_session(self):
        session = super()._get_session()
        session.max_redirects = 0
        return session

    def _get_oauth_client(self, **metadata):
        session = super()._get_oauth_client(**metadata)
        session.max_redirects = 0
        return session


def client_for(sign_in: CollegeSignIn) -> CheckedClient:
    """An Authlib client for this college only. Its name keys the state Authlib keeps in the
    session, so a callback of one college never finds the state of another."""
    name = f"college-{sign_in.organisation.code}"
    client = CheckedClient(
        DjangoIntegration(name),
        name=name,
        client_id=sign_in.client_id,
        client_secret=sign_in.client_secret(),
        server_metadata_url=discovery_url(sign_in.issuer),
        client_kwargs={
            "scope": SCOPES,
            "code_challenge_method": "S256",
            "default_timeout": PROVIDER_TIMEOUT_SECONDS,
        },
    )
    client.kb_issuer = sign_in.issuer
    return client


def enabled_sign_ins() -> list[CollegeSignIn]:
    """The colleges whose button the login page shows, by name."""
    return list(
        CollegeSignIn.objects.filter(enabled=True)
        .select_related("organisation")
        .order_by("organisation__name")
    )


def enabled_sign_in(code: str) -> CollegeSignIn | None:
    return (
        CollegeSignIn.objects.filter(enabled=True, organisation__code=code)
        .select_related("organisation")
        .first()
    )


def identity_claims(client: DjangoOAuth2App, token: dict[str, Any]) -> dict[str, Any]:
    """The id_token's claims (verified by Authlib), completed from userinfo: some providers
    put the e-mail address only there."""
    claims = dict(token.get("userinfo") or {})
    if not claims:
        raise OAuthError(error="no_id_token")
    if "email" not in claims or "preferred_username" not in claims:
        extra = client.userinfo(token=token)
        if extra.get("sub") == claims.get("sub"):  # OIDC Core 5.3.2: else ignore it
            claims = {**extra, **claims}
    return claims


@dataclass(frozen=True)
class Match:
    user: User | None
    refusal: str | None  # None: sign in; else a key of REFUSALS in accounts.views


def match_staff_account(organisation: Organisation, claim: str, value: str) -> Match:
    """The staff account of this college that the provider's value names, or why not. Case-
    insensitive; nobody is created; other colleges' accounts are never looked at."""
    value = (value or "").strip()
    if not value:
        return Match(None, "no_claim")
    field = "email__iexact" if claim == CollegeSignIn.Claim.EMAIL else "username__iexact"
    same = User.objects.filter(organisation=organisation, **{field: value})
    # Staff first, on their own: candidates may share a staff member's address (credential
    # mails sent to the coordinator), and must never hide a staff account or a second one.
    staff = list(same.filter(role__in=STAFF_ROLES).order_by("pk")[:2])
    if not staff:
        # Only to tell a candidate why not; a candidate is never signed in this way.
        candidate = same.filter(role=Role.KANDIDAAT).order_by("pk").first()
        return Match(candidate, "candidate" if candidate else "no_account")
    if len(staff) > 1:
        return Match(None, "ambiguous")
    user = staff[0]
    if not user.is_active:
        return Match(user, "inactive")
    return Match(user, user.validity_problem())


def audit_refusal(
    request, sign_in: CollegeSignIn, refusal: str, match: Match | None = None, value: str = ""
) -> None:
    """A refused SSO sign-in is a failed login of that college, with its reason."""
    user = match.user if match else None
    audit(
        action=AuditLog.Action.LOGIN_FAILED,
        actor=None,
        target=user,
        organisation=sign_in.organisation,
        target_repr=(user.username if user else value)[:200],
        after={"sign_in": COLLEGE_IDP, "refusal": refusal},
        ip=client_ip(request),
    )
