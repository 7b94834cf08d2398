"""Kandidaatgroepen: list, create, edit, and actions on every visible member."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.models import Role
from accounts.permissions import role_required
from accounts.services import client_ip

from ..forms.common import SearchForm
from ..forms.groups import GroupBulkActionForm, GroupForm
from ..selectors import (
    candidate_search,
    group_members_visible_to,
    groups_visible_to,
    groups_with_member_counts,
    with_list_relations,
)
from ..services import candidates as candidate_services
from ..services import groups as services
from .common import ADMINS, PAGE_SIZE, pdf_response, report_changed, report_reset
from .school_year import archived_refusal

# --- Kandidaatgroepen --------------------------------------------------------------------------


def _may_create_groups(user) -> bool:
    if user.role == Role.BEHEERDER:
        return True
    return user.role == Role.TOETSCOORDINATOR and user.organisation.coordinators_may_create_groups


@role_required(*ADMINS)
def group_list(request):
    form = SearchForm(request.GET)
    groups = groups_with_member_counts(request.user)
    query = form.cleaned_data.get("q", "") if form.is_valid() else ""
    if query:
        groups = groups.filter(name__icontains=query)
    archived = request.GET.get("archived") == "1"  # archived groups only when asked for
    groups = groups.exclude(archived_at=None) if archived else groups.filter(archived_at=None)
    page = Paginator(groups, PAGE_SIZE).get_page(request.GET.get("page"))
    ctx = {
        "form": form,
        "page": page,
        "archived": archived,
        "may_create": _may_create_groups(request.user),
    }
    return render(request, "candidates/group_list.html", ctx)


@role_required(*ADMINS)
def group_create(request):
    user = request.user
    if not _may_create_groups(user):
        raise PermissionDenied
    form = GroupForm(request.POST or None, user=user)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        group = services.group_create(
            actor=user,
            organisation=user.organisation,
            name=data["name"],
            education_area=data["education_area"],
            # A coordinator's new group is theirs, or it would vanish from their sight at once.
            coordinators=list(data.get("coordinators", [user])),
            supervisors=list(data["supervisors"]),
            ip=client_ip(request),
        )
        messages.success(request, _("Kandidaatgroep %(name)s is aangemaakt.") % {"name": group})
        return redirect("candidates:group_detail", pk=group.pk)
    return render(request, "candidates/group_form.html", {"form": form, "group": None})


def _render_group(request, group, bulk_form=None) -> HttpResponse:
    user = request.user
    search = SearchForm(request.GET)
    query = search.cleaned_data.get("q", "") if search.is_valid() else ""
    members = with_list_relations(
        candidate_search(group_members_visible_to(user, group), query), user
    ).order_by("name_key", "pk")
    ctx = {
        "group": group,
        "search": search,
        "page": Paginator(members, PAGE_SIZE).get_page(request.GET.get("page")),
        "bulk_form": bulk_form or GroupBulkActionForm(organisation=user.organisation),
    }
    return render(request, "candidates/group_detail.html", ctx)


def _group_or_404(request, pk: int):
    return get_object_or_404(
        groups_visible_to(request.user)
        .select_related("education_area")
        .prefetch_related("coordinators", "supervisors"),
        pk=pk,
    )


@role_required(*ADMINS)
def group_detail(request, pk: int):
    return _render_group(request, _group_or_404(request, pk))


@role_required(*ADMINS)
def group_edit(request, pk: int):
    user = request.user
    group = _group_or_404(request, pk)
    if refusal := archived_refusal(request, group):
        return refusal
    form = GroupForm(request.POST or None, user=user, group=group)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        services.group_update(
            actor=user,
            group=group,
            name=data["name"],
            education_area=data["education_area"],
            supervisors=data["supervisors"],
            coordinators=data.get("coordinators"),  # None for a coordinator: unchanged
            ip=client_ip(request),
        )
        messages.success(request, _("De kandidaatgroep is opgeslagen."))
        return redirect("candidates:group_detail", pk=group.pk)
    return render(request, "candidates/group_form.html", {"form": form, "group": group})


@role_required(*ADMINS)
@require_POST
def group_bulk(request, pk: int):
    """Actions on every member of a group that the user may see."""
    user, ip = request.user, client_ip(request)
    group = _group_or_404(request, pk)
    if refusal := archived_refusal(request, group):
        return refusal
    form = GroupBulkActionForm(request.POST, organisation=user.organisation)
    if not form.is_valid():
        return _render_group(request, group, bulk_form=form)
    action, data = form.cleaned_data["action"], form.cleaned_data
    members = list(
        group_members_visible_to(user, group).select_related("user").order_by("user__last_name")
    )
    if action == "print_credentials":
        result = candidate_services.candidates_reset_passwords(
            actor=user, candidates=members, delivery="slip", group_name=group.name, ip=ip
        )
        return pdf_response(result.slips, "inlogbriefjes.pdf")
    if action == "mail_credentials":
        result = candidate_services.candidates_reset_passwords(
            actor=user, candidates=members, delivery="mail", group_name=group.name, ip=ip
        )
        report_reset(request, result)
    elif action == "deactivate":
        changed = candidate_services.candidates_set_active(
            actor=user, candidates=members, is_active=False, ip=ip
        )
        report_changed(request, _("Status"), changed, len(members))
    elif action == "extend":
        changed = candidate_services.candidates_set_valid_until(
            actor=user, candidates=members, valid_until=data["valid_until"], ip=ip
        )
        if data.get("also_activate"):
            candidate_services.candidates_set_active(
                actor=user, candidates=members, is_active=True, ip=ip
            )
        report_changed(request, _("Geldigheid"), changed, len(members))
    return redirect("candidates:group_detail", pk=group.pk)
