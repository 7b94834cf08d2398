"""Who may do what beyond seeing candidates (that rule lives in candidates.selectors)."""

from functools import wraps

from django.core.exceptions import PermissionDenied
from django.http import Http404

from .models import Role, User
from .validators import parse_id


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


def impersonation_target_or_404(*, hijacker, user_pk) -> User:
    """The user behind 'Log in als deze gebruiker', found only among the accounts the actor
    may see: an id that is malformed, unknown, or of someone the actor cannot see is the same
    404, so the form cannot be used to find out which ids exist in other colleges. A visible
    user one may not become (staff, an inactive candidate) is a 403 later, in can_impersonate.
    """
    from candidates.selectors import candidates_visible_to, staff_visible_to

    pk = parse_id(user_pk)
    if pk is None:
        raise Http404
    visible = (
        pk == hijacker.pk
        or candidates_visible_to(hijacker).filter(pk=pk).exists()
        or staff_visible_to(hijacker).filter(pk=pk).exists()
    )
    user = User.objects.filter(pk=pk).first() if visible else None
    if user is None:
        raise Http404
    return user


def require_impersonation_allowed(hijacker, hijacked) -> None:
    if not can_impersonate(hijacker=hijacker, hijacked=hijacked):
        raise PermissionDenied
