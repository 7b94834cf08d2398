"""The login page names the exam environment that sent the user there. It reads the
authorization request from `next` (only our own authorize URL) and shows the environment's
name: a candidate should see that the exam software asked, not a look-alike page."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

from django import template
from django.urls import reverse

from ..models import ExamEnvironment
from ..oidc.views import environment_for

register = template.Library()


@register.simple_tag(takes_context=True)
def exam_environment_asking(context) -> ExamEnvironment | None:
    request = context.get("request")
    if request is None:
        return None
    next_url = context.get("next") or request.GET.get("next") or request.POST.get("next") or ""
    url = urlsplit(next_url)
    if url.scheme or url.netloc or url.path != reverse("oauth2_provider:authorize"):
        return None
    client_id = (parse_qs(url.query).get("client_id") or [""])[0]
    environment = environment_for(client_id)
    return environment if environment is not None and environment.active else None
