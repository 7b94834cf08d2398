"""Writes about a college's exam environments ('Toetsomgevingen'): register one, change it,
give it a new secret, switch it off or on. Each is one audit row. The OAuth client is
django-oauth-toolkit's Application; its secret is stored hashed and only returned here, once."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings
from django.db import transaction
from django.utils.translation import gettext as _
from oauth2_provider.generators import generate_client_secret
from oauth2_provider.models import get_application_model

from accounts.models import AuditLog, ExamEnvironment, Organisation, User
from accounts.oidc.tokens import exam_tokens_revoke
from accounts.services import audit

MAX_URI_LENGTH = 500


class InvalidRedirectUri(ValueError):
    """A Dutch sentence that names the line and the address."""


@dataclass(frozen=True)
class Registered:
    environment: ExamEnvironment
    client_secret: str  # plaintext, shown once; only its hash is stored


def uri_problem(uri: str) -> str | None:
    """Why `uri` cannot be a redirect address of an exam environment, in Dutch, or None."""
    schemes = settings.OAUTH2_PROVIDER["ALLOWED_REDIRECT_URI_SCHEMES"]
    if len(uri) > MAX_URI_LENGTH:
        return _("is langer dan %(max)d tekens") % {"max": MAX_URI_LENGTH}
    if any(c.isspace() for c in uri):
        return _("bevat een spatie")
    try:
        parts = urlsplit(uri)
        parts.port  # noqa: B018 (raises ValueError on a bad port)
    except ValueError:
        return _("is geen geldig webadres")
    if not parts.scheme or not parts.hostname:
        return _("is geen volledig webadres; begin met https://")
    if parts.scheme not in schemes:
        return _("moet beginnen met https://")
    if parts.fragment or uri.endswith("#"):
        return _("mag geen # bevatten")
    return None


def clean_uris(lines: list[str], *, label: str, required: bool) -> list[str]:
    """The addresses of a text field, one a line, checked; raises InvalidRedirectUri."""
    uris = [line.strip() for line in lines if line.strip()]
    if required and not uris:
        raise InvalidRedirectUri(_("%(label)s: vul minstens één adres in.") % {"label": label})
    for number, uri in enumerate(uris, start=1):
        problem = uri_problem(uri)
        if problem:
            raise InvalidRedirectUri(
                _("%(label)s, regel %(line)d: '%(uri)s' %(problem)s.")
                % {"label": label, "line": number, "uri": uri[:80], "problem": problem}
            )
    return list(dict.fromkeys(uris))


def _state(environment: ExamEnvironment) -> dict:
    app = environment.application
    return {
        "name": app.name,
        "redirect_uris": app.redirect_uris.split(),
        "post_logout_redirect_uris": app.post_logout_redirect_uris.split(),
        "allow_staff": environment.allow_staff,
        "enabled": environment.active,
    }


def _audit(action, *, actor, environment, before=None, after=None, ip=None) -> None:
    audit(
        action=action,
        actor=actor,
        organisation=environment.organisation,
        target_repr=environment.application.name[:200],
        before=before,
        after=after,
        ip=ip,
    )


@transaction.atomic
def exam_environment_create(
    *,
    actor: User | None,
    organisation: Organisation,
    name: str,
    redirect_uris: list[str],
    post_logout_redirect_uris: list[str] = (),  # type: ignore[assignment]
    allow_staff: bool = False,
    ip: str | None = None,
) -> Registered:
    """A confidential client for the code flow with PKCE, signed with RS256, no consent screen
    (the college registered it itself)."""
    Application = get_application_model()
    secret = generate_client_secret()
    app = Application.objects.create(
        name=name,
        client_type=Application.CLIENT_CONFIDENTIAL,
        authorization_grant_type=Application.GRANT_AUTHORIZATION_CODE,
        redirect_uris=" ".join(redirect_uris),
        post_logout_redirect_uris=" ".join(post_logout_redirect_uris),
        client_secret=secret,
        hash_client_secret=True,
        skip_authorization=True,
        algorithm=Application.RS256_ALGORITHM,
    )
    environment = ExamEnvironment.objects.create(
        organisation=organisation, application=app, allow_staff=allow_staff
    )
    after = {"client_id": app.client_id, **_state(environment)}
    _audit(
        AuditLog.Action.EXAM_ENVIRONMENT_CREATED,
        actor=actor,
        environment=environment,
        after=after,
        ip=ip,
    )
    return Registered(environment, secret)


@transaction.atomic
def exam_environment_update(
    *,
    actor: User,
    environment: ExamEnvironment,
    name: str,
    redirect_uris: list[str],
    post_logout_redirect_uris: list[str],
    allow_staff: bool,
    ip: str | None = None,
) -> bool:
    """Change what the beheerder may change; one audit row with before and after."""
    before = _state(environment)
    app = environment.application
    app.name = name
    app.redirect_uris = " ".join(redirect_uris)
    app.post_logout_redirect_uris = " ".join(post_logout_redirect_uris)
    environment.allow_staff = allow_staff
    after = _state(environment)
    changed = {k for k in after if after[k] != before[k]}
    if not changed:
        return False
    app.save(update_fields=["name", "redirect_uris", "post_logout_redirect_uris", "updated"])
    environment.save(update_fields=["allow_staff"])
    _audit(
        AuditLog.Action.EXAM_ENVIRONMENT_CHANGED,
        actor=actor,
        environment=environment,
        before={k: before[k] for k in sorted(changed)},
        after={k: after[k] for k in sorted(changed)},
        ip=ip,
    )
    return True


@transaction.atomic
def exam_environment_new_secret(
    *, actor: User, environment: ExamEnvironment, ip: str | None = None
) -> str:
    """'Nieuw geheim': the old secret stops working at once, and so do the tokens issued with
    it (a new secret is usually asked for because the old one leaked)."""
    app = environment.application
    secret = generate_client_secret()
    app.client_secret = secret
    app.save(update_fields=["client_secret", "updated"])
    exam_tokens_revoke(application_ids=[app.pk])
    _audit(
        AuditLog.Action.EXAM_ENVIRONMENT_SECRET,
        actor=actor,
        environment=environment,
        after={"client_id": app.client_id},
        ip=ip,
    )
    return secret


@transaction.atomic
def exam_environment_set_active(
    *, actor: User | None, environment: ExamEnvironment, active: bool, ip: str | None = None
) -> bool:
    """Switch off (revoking everything it holds) or on again."""
    if environment.active == active:
        return False
    environment.active = active
    environment.save(update_fields=["active"])
    if not active:
        exam_tokens_revoke(application_ids=[environment.application_id])
    _audit(
        AuditLog.Action.EXAM_ENVIRONMENT_CHANGED,
        actor=actor,
        environment=environment,
        before={"enabled": not active},
        after={"enabled": active},
        ip=ip,
    )
    return True
