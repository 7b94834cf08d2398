"""The login page names the exam environment that sent the user there. It reads the
authorization request from `next` (only our own authorize URL) and shows the environment's
name: a candidate should see that the exam software asked, not a look-alike page."""

from __future__ import annotations

from django import template

from ..oidc.asking import LOGIN_FORM_REFUSALS, back_url, environment_asked_by

register = template.Library()


@register.simple_tag(takes_context=True)
def exam_environment_asking(context) -> dict | None:
    """{"environment", "back_url"}: the environment that asks, and, once the form turned the
    person away (inactive, expired, not yet valid), the way back with error=access_denied."""
    request = context.get("request")
    if request is None:
        return None
    next_url = context.get("next") or request.GET.get("next") or request.POST.get("next") or ""
    environment = environment_asked_by(next_url)
    if environment is None:
        return None
    form = context.get("form")
    refused = form is not None and any(
        error.code in LOGIN_FORM_REFUSALS for error in form.errors.as_data().get("__all__", [])
    )
    return {"environment": environment, "back_url": back_url(next_url) if refused else ""}
