"""Deleting candidates: one (from 'Wijzig deze gebruiker'), a selection (the list's bulk
action) or a whole group with its members. Each shows a confirmation page with how many
accounts go before anything happens. Candidates and groups are found only through
candidates_deletable_by / groups_deletable_by: what the user cannot see is a 404, and a user
who may not delete at all gets a 403."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from accounts.permissions import role_required
from accounts.services import client_ip
from accounts.validators import parse_id

from ..forms.retention import DeleteSelectionForm
from ..models import Candidate, CandidateGroup
from ..selectors import candidates_deletable_by, groups_deletable_by, may_delete_candidates
from ..services import retention as services
from .common import ADMINS


def _require_delete_right(request) -> None:
    if not may_delete_candidates(request.user):
        raise PermissionDenied


def _confirm(request, *, count: int, **ctx) -> HttpResponse:
    return render(request, "candidates/delete_confirm.html", {"count": count, **ctx})


def _report(request, count: int) -> None:
    messages.success(
        request,
        ngettext("%(count)d account is verwijderd.", "%(count)d accounts zijn verwijderd.", count)
        % {"count": count},
    )


@role_required(*ADMINS)
def candidate_delete(request, pk: int):
    _require_delete_right(request)
    if parse_id(pk) is None:
        raise Http404
    candidate = get_object_or_404(
        candidates_deletable_by(request.user).select_related("user"), pk=pk
    )
    if request.method == "POST":
        count = services.candidates_delete(
            actor=request.user, candidates=[candidate], ip=client_ip(request)
        )
        _report(request, count)
        return redirect("candidates:list")
    return _confirm(request, count=1, candidate=candidate, ids=[candidate.pk])


def confirm_selection(request, candidates: list[Candidate]) -> HttpResponse:
    """The list's 'Verwijderen' bulk action: the confirmation page, which posts the ids on to
    delete_selection."""
    _require_delete_right(request)
    ids = list(
        candidates_deletable_by(request.user)
        .filter(pk__in=[c.pk for c in candidates])
        .values_list("pk", flat=True)
    )
    return _confirm(request, count=len(ids), ids=ids, back=request.get_full_path())


@role_required(*ADMINS)
@require_POST
def delete_selection(request):
    _require_delete_right(request)
    form = DeleteSelectionForm(request.POST)
    ids = form.cleaned_data["ids"] if form.is_valid() else []
    candidates = list(candidates_deletable_by(request.user).filter(pk__in=ids))
    count = services.candidates_delete(
        actor=request.user, candidates=candidates, ip=client_ip(request)
    )
    _report(request, count)
    return redirect("candidates:list")


@role_required(*ADMINS)
def group_delete(request, pk: int):
    """A group with its members. A coordinator may only delete a group they are linked to,
    and sees every member of it, so 'its members' are the same for every one who may."""
    _require_delete_right(request)
    group: CandidateGroup = get_object_or_404(groups_deletable_by(request.user), pk=pk)
    members = candidates_deletable_by(request.user).filter(groups=group)
    if request.method == "POST":
        count = services.candidates_delete(
            actor=request.user, candidates=members.only("pk"), group=group, ip=client_ip(request)
        )
        _report(request, count)
        return redirect("candidates:groups")
    return _confirm(request, count=members.count(), group=group)
