"""Placeholder views so the foundation's navigation resolves; issue 4 replaces them."""

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, render

from accounts.models import Role
from accounts.permissions import role_required

from .selectors import candidates_visible_to

ADMINS = (Role.BEHEERDER, Role.TOETSCOORDINATOR)


@role_required(*ADMINS)
def candidate_list(request):
    candidates = (
        candidates_visible_to(request.user)
        .select_related("user")
        .order_by("user__last_name", "user__first_name", "user__surname_prefix")[:50]
    )
    return render(request, "candidates/list.html", {"candidates": candidates})


@role_required(*ADMINS)
def candidate_edit(request, pk):
    candidate = get_object_or_404(candidates_visible_to(request.user), pk=pk)
    return HttpResponse(candidate.user.display_name)


@role_required(*ADMINS)
def group_list(request):
    return HttpResponse("")


@role_required(Role.BEHEERDER)
def staff_list(request):
    return HttpResponse("")


@role_required(Role.BEHEERDER)
def audit_log(request):
    return HttpResponse("")


@role_required(Role.BEHEERDER)
def college_settings(request):
    return HttpResponse("")


@role_required(Role.BEGELEIDER)
def my_candidates(request):
    candidates = candidates_visible_to(request.user).select_related("user")
    return render(request, "candidates/list.html", {"candidates": candidates})


@login_required
def my_details(request):
    candidate = get_object_or_404(candidates_visible_to(request.user), pk=request.user.pk)
    return HttpResponse(candidate.user.display_name)
