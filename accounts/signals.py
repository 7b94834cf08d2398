"""Login, failed-login and impersonation events become audit rows."""

from django.contrib.auth.signals import user_logged_in, user_login_failed
from django.dispatch import receiver
from hijack.signals import hijack_ended, hijack_started

from .middleware import SESSION_STARTED_KEY, SIGN_IN_METHOD_KEY
from .models import AuditLog, User
from .services import audit, client_ip


@receiver(user_logged_in)
def audit_login(sender, request, user, **kwargs):
    # hijack logs in through django.contrib.auth too; that is recorded as impersonation below,
    # never as the candidate's own login.
    match = getattr(request, "resolver_match", None)
    if match is not None and match.namespace == "hijack":
        return
    # A sign-in through the college's provider says so (accounts.college_sign_in).
    method = getattr(request, "kb_sign_in_method", None)
    after = {"sign_in": method} if method else None
    audit(action=AuditLog.Action.LOGIN, actor=user, target=user, after=after, ip=client_ip(request))


@receiver(user_login_failed)
def audit_login_failed(sender, credentials, request=None, **kwargs):
    username = (credentials or {}).get("username", "")[:150]
    target = User.objects.filter(username=username).first()
    audit(
        action=AuditLog.Action.LOGIN_FAILED,
        actor=None,
        target=target,
        organisation=getattr(target, "organisation", None),
        target_repr=username,
        ip=client_ip(request),
    )


def _keep_session_start(request) -> None:
    started = getattr(request, "kb_session_started", None)
    if started is not None:
        request.session[SESSION_STARTED_KEY] = started
    method = getattr(request, "kb_session_sign_in_method", None)
    if method is not None:
        request.session[SIGN_IN_METHOD_KEY] = method


@receiver(hijack_started)
def audit_impersonation_started(sender, hijacker, hijacked, request, **kwargs):
    _keep_session_start(request)
    audit(
        action=AuditLog.Action.IMPERSONATION_STARTED,
        actor=hijacker,
        target=hijacked,
        ip=client_ip(request),
    )


@receiver(hijack_ended)
def audit_impersonation_ended(sender, hijacker, hijacked, request, **kwargs):
    _keep_session_start(request)
    audit(
        action=AuditLog.Action.IMPERSONATION_ENDED,
        actor=hijacker,
        target=hijacked,
        ip=client_ip(request),
    )
