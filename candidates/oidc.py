"""The claims exam environments receive about the person who signed in. django-oauth-toolkit's
validator with our claims; named in settings (OAUTH2_PROVIDER["OAUTH2_VALIDATOR_CLASS"]).

It lives here, not beside the rest of the provider in accounts.oidc, because the claims need the
candidate's number and groups, and accounts may not import candidates (docs/architecture.md)."""

from __future__ import annotations

from typing import Any

from oauth2_provider.oauth2_validators import OAuth2Validator

from accounts.models import ExamEnvironment, OidcSubject, User

from .models import Candidate

PROFILE_CLAIMS = (
    "preferred_username",
    "name",
    "given_name",
    "family_name",
    "candidate_number",
    "groups",
    "college",
    "roles",
)


def subject_of(user: User) -> str:
    """The stable, opaque `sub`: made at the first sign-in, the same at every environment."""
    subject, _created = OidcSubject.objects.get_or_create(user=user)
    return str(subject.subject)


def claims_of(user: User) -> dict[str, Any]:
    """Every claim we give out about `user`; the scopes decide which of them a client gets."""
    candidate = Candidate.objects.filter(user=user).prefetch_related("groups").first()
    family_name = " ".join(p for p in (user.surname_prefix, user.last_name) if p)
    return {
        "sub": subject_of(user),
        "preferred_username": user.username,
        "name": user.display_name,
        "given_name": user.first_name,
        "family_name": family_name,
        "candidate_number": candidate.candidate_number if candidate else None,
        "groups": sorted(g.name for g in candidate.groups.all()) if candidate else [],
        "college": user.organisation.code if user.organisation else None,
        "roles": [user.role] if user.role else [],
        "email": user.email or None,
    }


class ExamOAuth2Validator(OAuth2Validator):
    oidc_claim_scope = {
        "sub": "openid",
        **dict.fromkeys(PROFILE_CLAIMS, "profile"),
        "email": "email",
    }

    def get_additional_claims(self, request) -> dict[str, Any]:
        return claims_of(request.user)

    def get_discovery_claims(self, request) -> list[str]:
        return list(self.oidc_claim_scope)

    def authenticate_client(self, request, *args, **kwargs) -> bool:
        """A client that was switched off cannot redeem a code or a refresh token either."""
        if not super().authenticate_client(request, *args, **kwargs):
            return False
        return ExamEnvironment.objects.filter(application=request.client, active=True).exists()

    def save_bearer_token(self, token, request, *args, **kwargs):
        # No refresh token unless the client asked to stay signed in (scope offline_access): an
        # exam sitting is short, and a refresh token would outlive a deactivation's intent.
        if "offline_access" not in (request.scopes or []):
            token.pop("refresh_token", None)
        return super().save_bearer_token(token, request, *args, **kwargs)
