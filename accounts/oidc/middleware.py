"""Let the login form (and the password change before it) lead on to the exam environment.

Our Content-Security-Policy says `form-action 'self'`, and browsers apply it to every redirect
that follows a form's submission: the login POST redirects to the authorization endpoint, which
redirects to the exam environment, another origin, and the browser stops there. So a page whose
`next` is an authorization request of a registered, switched-on exam environment also allows
form submissions to lead to that environment's redirect addresses, and nowhere else."""

from __future__ import annotations

from urllib.parse import urlsplit

from .asking import environment_asked_by


def exam_redirect_origins(next_url: str) -> list[str]:
    """The origins of the redirect addresses of the environment that `next_url` asks for."""
    environment = environment_asked_by(next_url)
    if environment is None:
        return []
    uris = environment.application.redirect_uris.split()
    return sorted({f"{urlsplit(u).scheme}://{urlsplit(u).netloc}" for u in uris})


class ExamFormActionMiddleware:
    """Sits inside django-csp's middleware, which reads `_csp_update` from the response."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        next_url = request.GET.get("next") or ""
        if next_url and response.get("Content-Type", "").startswith("text/html"):
            origins = exam_redirect_origins(next_url)
            if origins:
                update = dict(getattr(response, "_csp_update", None) or {})
                update["form-action"] = [*update.get("form-action", []), *origins]
                response._csp_update = update
        return response
