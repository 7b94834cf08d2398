"""Medewerkers (beheerder only): coordinators and supervisors of the college."""

from __future__ import annotations

from django.contrib import messages
from django.db.models import Prefetch
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.models import Role
from accounts.permissions import role_required
from accounts.services import client_ip
from accounts.two_factor.rules import with_two_factor_state
from accounts.two_factor.services import two_factor_reset

from ..forms.staff import StaffForm
from ..selectors import editable_staff_of, groups_visible_to, staff_visible_to
from ..services import staff as services


@role_required(Role.BEHEERDER)
def staff_list(request):
    staff = with_two_factor_state(staff_visible_to(request.user)).prefetch_related(
        Prefetch("coordinated_groups", queryset=groups_visible_to(request.user)),
        Prefetch("supervised_groups", queryset=groups_visible_to(request.user)),
    )
    return render(request, "candidates/staff_list.html", {"staff": staff})


def _show_password(request, staff, password: str, *, created: bool) -> HttpResponse:
    ctx = {"staff": staff, "password": password, "created": created}
    response = render(request, "candidates/staff_password.html", ctx)
    response["Cache-Control"] = "no-store"
    return response


@role_required(Role.BEHEERDER)
def staff_create(request):
    form = StaffForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        staff, password = services.staff_member_create(
            actor=request.user,
            username=data["username"],
            role=data["role"],
            first_name=data["first_name"],
            surname_prefix=data["surname_prefix"],
            last_name=data["last_name"],
            email=data["email"],
            groups=data["all_groups"],
            send_mail=data["send_mail"],
            ip=client_ip(request),
        )
        return _show_password(request, staff, password, created=True)
    return render(request, "candidates/staff_form.html", {"form": form, "staff": None})


@role_required(Role.BEHEERDER)
def staff_edit(request, pk: int):
    staff = get_object_or_404(editable_staff_of(request.user), pk=pk)
    form = StaffForm(request.POST or None, user=request.user, staff=staff)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        services.staff_member_update(
            actor=request.user,
            staff=staff,
            groups=data["all_groups"],
            is_active=data["is_active"],
            ip=client_ip(request),
            first_name=data["first_name"],
            surname_prefix=data["surname_prefix"],
            last_name=data["last_name"],
            email=data["email"],
            role=data["role"],
        )
        messages.success(request, _("%(name)s is opgeslagen.") % {"name": staff.display_name})
        return redirect("candidates:staff")
    return render(request, "candidates/staff_form.html", {"form": form, "staff": staff})


@role_required(Role.BEHEERDER)
@require_POST
def staff_password(request, pk: int):
    staff = get_object_or_404(editable_staff_of(request.user), pk=pk)
    password = services.staff_reset_password(actor=request.user, staff=staff, ip=client_ip(request))
    return _show_password(request, staff, password, created=False)


@role_required(Role.BEHEERDER)
@require_POST
def staff_two_factor_reset(request, pk: int):
    """A colleague lost their phone (and their recovery codes): remove their second factor, so
    they set up a new one at their next sign-in. Beheerders too, by another beheerder; never
    one's own, which would let a stolen password replace it."""
    colleagues = staff_visible_to(request.user).exclude(pk=request.user.pk)
    staff = get_object_or_404(colleagues, pk=pk)
    two_factor_reset(actor=request.user, user=staff, ip=client_ip(request))
    messages.success(
        request,
        _(
            "De tweestapsverificatie van %(name)s is gereset. Bij de volgende keer inloggen "
            "stelt %(name)s een nieuwe app in."
        )
        % {"name": staff.display_name or staff.username},
    )
    return redirect("candidates:staff")
