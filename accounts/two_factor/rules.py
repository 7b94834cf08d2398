"""Who must pass a second factor, and whether this session has. One place, asked by the
middleware, the impersonation view and the pages of the back office."""

from __future__ import annotations

from django.db.models import Exists, OuterRef, QuerySet
from django.http import HttpRequest
from django_otp import user_has_device
from django_otp.plugins.otp_totp.models import TOTPDevice

from ..models import User

# Written by the sign-in through the college's own identity provider. That provider does its
# own multi-factor authentication, so such a session is not asked for ours.
SIGN_IN_METHOD_KEY = "kb_sign_in_method"
COLLEGE_IDP = "college_idp"
# Whether the session's user has a second factor, asked once per session ({"user": pk,
# "has_device": …}): the device tables would cost two queries a request for everybody. Only
# that is kept: what the college requires of the role is decided again on every request (the
# college comes with the user), so switching it on, or a new role, reaches open sessions.
HAS_DEVICE_KEY = "kb_two_factor_has_device"
# Written by earlier versions ({"user": pk, "required": …}); a password login removes it.
REQUIRED_KEY = "kb_two_factor_required"


def signed_in_through_college_idp(request: HttpRequest) -> bool:
    return request.session.get(SIGN_IN_METHOD_KEY) == COLLEGE_IDP


def has_second_factor(user: User) -> bool:
    """A confirmed authenticator app or recovery codes."""
    return user_has_device(user, confirmed=True)


def required_of_role(user: User) -> bool:
    """Whether the college requires a second factor of `user`'s role. No query: the college
    comes with the user (accounts.backends)."""
    return user.is_college_staff and user.college.requires_two_factor(user.role)


def two_factor_required(user: User) -> bool:
    """Whether `user` must pass a second factor after the password. Candidates never; staff
    when their college requires it of their role; and anyone who set one up (someone who chose
    it would not expect a stolen password alone to be enough)."""
    if not user.is_authenticated or user.is_candidate:
        return False
    return required_of_role(user) or has_second_factor(user)


def required_for_session(request: HttpRequest) -> bool:
    """two_factor_required for the session's user. The role's part is asked on every request;
    only whether they have a device is remembered in the session (HAS_DEVICE_KEY)."""
    user = request.user
    if not isinstance(user, User) or user.is_candidate:
        return False
    if required_of_role(user):
        return True
    known = request.session.get(HAS_DEVICE_KEY)
    if not (isinstance(known, dict) and known.get("user") == user.pk):
        known = {"user": user.pk, "has_device": has_second_factor(user)}
        request.session[HAS_DEVICE_KEY] = known
    return bool(known["has_device"])


def session_verified(request: HttpRequest) -> bool:
    """Whether this session passed a second factor: ours (django-otp), or the multi-factor
    sign-in of the college's identity provider."""
    if signed_in_through_college_idp(request):
        return True
    is_verified = getattr(request.user, "is_verified", None)
    return bool(is_verified and is_verified())


def with_two_factor_state(users: QuerySet[User]) -> QuerySet[User]:
    """`users` with `has_two_factor`: whether each has a confirmed authenticator app (one
    subquery, for lists such as Medewerkers)."""
    app = TOTPDevice.objects.filter(user=OuterRef("pk"), confirmed=True)
    return users.annotate(has_two_factor=Exists(app))
