"""'Log in als deze gebruiker' and back: django.contrib.auth's login() gives each a new session,
which would forget that the beheerder passed their second factor. The candidate's session keeps
it aside (no use to a candidate: django-otp only accepts a device of the session's own user),
and the return puts it back."""

from django.dispatch import receiver
from hijack.signals import hijack_ended, hijack_started

from .middleware import CARRIED_OVER_IMPERSONATION, HIJACKER_KEY


def _before_login(request) -> dict:
    return getattr(request, "kb_second_factor", None) or {}


@receiver(hijack_started)
def keep_second_factor_aside(sender, request, **kwargs):
    before = _before_login(request)
    kept = {key: before[key] for key in CARRIED_OVER_IMPERSONATION if before.get(key)}
    request.session[HIJACKER_KEY] = kept


@receiver(hijack_ended)
def restore_second_factor(sender, request, **kwargs):
    kept = _before_login(request).get(HIJACKER_KEY) or {}
    for key in CARRIED_OVER_IMPERSONATION:
        if kept.get(key):
            request.session[key] = kept[key]
