"""Staff sign in with their college's own OpenID Connect provider ('Inloggen met <school>').

Authlib does the protocol: discovery, state, nonce, PKCE (S256), the code exchange and the
id_token's signature, issuer, audience and expiry. One client is built per request from the
college's row, so any number of colleges with any number of providers share one installation,
and a provider's settings take effect the moment the beheerder saves them. This module decides
who a verified identity is: only an existing staff account of that same college.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import requests
from authlib.integrations.base_client import OAuthError
from authlib.integrations.django_client import DjangoIntegration, DjangoOAuth2App
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
# What can go wrong talking to a provider, as one family: every one ends on the same Dutch page.
PROVIDER_ERRORS = (
    OAuthError,
    JoseError,
    requests.RequestException,
    ValueError,
    KeyError,
    RuntimeError,  # Authlib: the discovery document names no authorization endpoint
)


class ProviderError(Exception):
    """The provider's configuration could not be read or is not what the beheerder entered."""

    def __init__(self, code: str):
        super().__init__(code)
        self.code = code


def discovery_url(issuer: str) -> str:
    return issuer.rstrip("/") + "/.well-known/openid-configuration"


def same_issuer(a: str, b: str) -> bool:
    return a.rstrip("/") == b.rstrip("/")


def check_provider(issuer: str) -> dict[str, Any]:
    """Read the provider's discovery document, so a typing error in the issuer URL is told on
    the settings page, not by the first colleague who tries to sign in."""
    try:
        response = requests.get(discovery_url(issuer), timeout=PROVIDER_TIMEOUT_SECONDS)
        response.raise_for_status()
        metadata = response.json()
    except (requests.RequestException, ValueError) as exc:
        raise ProviderError("unreachable") from exc
    if not isinstance(metadata, dict) or "authorization_endpoint" not in metadata:
        raise ProviderError("not_oidc")
    if not same_issuer(str(metadata.get("issuer", "")), issuer):
        raise ProviderError("issuer_mismatch")
    return metadata


def client_for(sign_in: CollegeSignIn) -> DjangoOAuth2App:
    """An Authlib client for this college only. Its name keys the state Authlib keeps in the
    session, so a callback of one college never finds the state of another."""
    name = f"college-{sign_in.organisation.code}"
    return DjangoOAuth2App(
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
