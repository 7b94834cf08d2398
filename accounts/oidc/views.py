"""The authorization endpoint of the exam environments: django-oauth-toolkit's, with our rule
asked first. No consent screen (the college itself registered the environment, and
`skip_authorization` is set on every client), so a GET either redirects back with a code, or
shows a Dutch page that says why not and leads back with `error=access_denied`."""

from __future__ import annotations

from urllib.parse import parse_qs, urlencode, urlsplit

from django.conf import settings
from django.shortcuts import redirect, render
from django.urls import reverse
from oauth2_provider.exceptions import OAuthToolkitError
from oauth2_provider.views import AuthorizationView

from ..models import AuditLog
from ..services import audit, client_ip
from .asking import access_denied_url, environment_for
from .rules import Refusal, refusal_message, sign_in_refusal


def is_impersonating(request) -> bool:
    return bool(
        getattr(request.user, "is_hijacked", False) or request.session.get("hijack_history")
    )


class ExamAuthorizationView(AuthorizationView):
    # The consent form is never shown, so there is nothing to POST: a POST would reach
    # django-oauth-toolkit's form handling past our rule.
    http_method_names = ["get"]

    def get(self, request, *args, **kwargs):
        if not settings.OAUTH2_PROVIDER["OIDC_RSA_PRIVATE_KEY"]:
            return render(request, "accounts/exam_unavailable.html", status=503)
        try:
            _scopes, credentials = self.validate_authorization_request(request)
        except OAuthToolkitError as error:
            # Unknown client or unregistered redirect URI: never redirect anywhere.
            return self.error_response(error, application=None)
        environment = environment_for(credentials.get("client_id"))
        user = request.user
        impersonating = is_impersonating(request)
        if user.must_change_password and not impersonating:
            query = urlencode({"next": request.get_full_path()})
            return redirect(f"{reverse('accounts:password_change')}?{query}")
        refusal = sign_in_refusal(user=user, environment=environment, impersonating=impersonating)
        if refusal is not None:
            return self.refuse(request, environment, credentials, refusal)
        response = super().get(request, *args, **kwargs)
        if "code" in parse_qs(urlsplit(response.get("Location", "")).query):
            audit(
                action=AuditLog.Action.EXAM_LOGIN,
                actor=user,
                target=user,
                after={"exam_environment": environment.name},  # type: ignore[union-attr]
                ip=client_ip(request),
            )
        return response

    def refuse(self, request, environment, credentials, refusal: Refusal):
        user = request.user
        name = environment.application.name if environment else ""
        audit(
            action=AuditLog.Action.EXAM_LOGIN_REFUSED,
            actor=user,
            target=user,
            after={"exam_environment": name, "refusal": refusal.value},
            ip=client_ip(request),
        )
        ctx = {
            "message": refusal_message(refusal, user),
            "environment_name": name,
            "back_url": access_denied_url(credentials["redirect_uri"], credentials.get("state")),
        }
        return render(request, "accounts/exam_refused.html", ctx, status=403)
