"""Which exam environment is asking: read from a client id, or from the `next` of the login
and password pages (an authorization request waiting for the person to log in)."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

from django.conf import settings
from django.urls import reverse
from oauthlib.common import add_params_to_uri

from ..models import AuditLog, ExamEnvironment, User
from ..services import audit, client_ip

# The login form's refusals (accounts.forms.LoginForm) as refusals of a sign-in.
LOGIN_FORM_REFUSALS = {
    "inactive": "inactive",
    "expired": "expired",
    "not_yet_valid": "not_yet_valid",
}


def environment_for(client_id: str | None) -> ExamEnvironment | None:
    if not client_id:
        return None
    return (
        ExamEnvironment.objects.select_related("application", "organisation")
        .filter(application__client_id=client_id)
        .first()
    )


def _request_in(next_url: str) -> dict[str, str] | None:
    url = urlsplit(next_url or "")
    if url.scheme or url.netloc or url.path != reverse("oauth2_provider:authorize"):
        return None
    return {k: v[0] for k, v in parse_qs(url.query).items()}


def environment_asked_by(next_url: str) -> ExamEnvironment | None:
    """The switched-on exam environment whose authorization request `next_url` is, if any
    (only our own authorization endpoint counts)."""
    params = _request_in(next_url)
    environment = environment_for(params.get("client_id")) if params else None
    return environment if environment is not None and environment.active else None


def access_denied_url(redirect_uri: str, state: str | None) -> str:
    """The standard refusal at the exam environment (RFC 6749 4.1.2.1, with RFC 9207's iss)."""
    params = [("error", "access_denied")]
    if state:
        params.append(("state", state))
    params.append(("iss", settings.KB_BASE_URL))
    return add_params_to_uri(redirect_uri, params)


def back_url(next_url: str) -> str:
    """access_denied_url for the request in `next_url`, only to a registered redirect URI."""
    params = _request_in(next_url) or {}
    environment = environment_asked_by(next_url)
    uri = params.get("redirect_uri", "")
    if environment is None or uri not in environment.application.redirect_uris.split():
        return ""
    return access_denied_url(uri, params.get("state"))


def next_of(request) -> str:
    return request.GET.get("next") or request.POST.get("next") or ""


def refused_at_login(request, user: User, code: str) -> None:
    """The login form turned away someone on their way to an exam environment: an audit row,
    as for a refusal at the authorization endpoint."""
    environment = environment_asked_by(next_of(request)) if request is not None else None
    if environment is None or code not in LOGIN_FORM_REFUSALS:
        return
    audit(
        action=AuditLog.Action.EXAM_LOGIN_REFUSED,
        actor=user,
        target=user,
        after={"exam_environment": environment.name, "refusal": LOGIN_FORM_REFUSALS[code]},
        ip=client_ip(request),
    )
