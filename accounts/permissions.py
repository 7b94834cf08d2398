"""Who may do what beyond seeing candidates (that rule lives in candidates.selectors)."""

from functools import wraps

from django.core.exceptions import PermissionDenied

from .models import Role


def role_required(*roles: str):
    """View decorator: 403 unless the logged-in user has one of `roles` in a college."""

    def decorator(view):
        @wraps(view)
        def wrapper(request, *args, **kwargs):
            user = request.user
            if not user.is_authenticated:
                from django.contrib.auth.views import redirect_to_login

                return redirect_to_login(request.get_full_path())
            if user.organisation_id is None or user.role not in roles:
                raise PermissionDenied
            return view(request, *args, **kwargs)

        return wrapper

    return decorator


def can_impersonate(*, hijacker, hijacked) -> bool:
    """django-hijack permission check: 'Log in als deze gebruiker'.

    Beheerders may become any candidate of their college, coordinators any candidate visible
    to them. Never staff, superusers, inactive or expired accounts, or another college.
    """
    from candidates.selectors import candidates_visible_to

    if hijacker.pk == hijacked.pk or hijacked.is_superuser or hijacked.is_staff:
        return False
    if hijacker.role not in (Role.BEHEERDER, Role.TOETSCOORDINATOR):
        return False
    if hijacked.role != Role.KANDIDAAT or not hijacked.is_active or hijacked.validity_problem():
        return False
    if hijacker.organisation_id is None or hijacker.organisation_id != hijacked.organisation_id:
        return False
    return candidates_visible_to(hijacker).filter(pk=hijacked.pk).exists()


def require_impersonation_allowed(hijacker, hijacked) -> None:
    if not can_impersonate(hijacker=hijacker, hijacked=hijacked):
        raise PermissionDenied
