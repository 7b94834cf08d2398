"""The login page names the exam environment that sent the user there. It reads the
authorization request from `next` (only our own authorize URL) and shows the environment's
name: a candidate should see that the exam software asked, not a look-alike page."""

from __future__ import annotations

from django import template

from ..models import ExamEnvironment
from ..oidc.views import environment_asked_by

register = template.Library()


@register.simple_tag(takes_context=True)
def exam_environment_asking(context) -> ExamEnvironment | None:
    request = context.get("request")
    if request is None:
        return None
    next_url = context.get("next") or request.GET.get("next") or request.POST.get("next") or ""
    return environment_asked_by(next_url)
