"""The turn of the school year: 'Archiveer kandidaatgroep' and 'Terugzetten', 'Verplaats naar
groep' (the candidate list's bulk action and the group page's action), and 'Nieuw
schooljaar' for the beheerder (choose per group, preview the counts, confirm once)."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from accounts.models import Role
from accounts.permissions import role_required
from accounts.services import client_ip

from ..forms.school_year import GroupArchiveForm, GroupMoveForm, SchoolYearForm, orphan_error
from ..models import Candidate, CandidateGroup
from ..selectors import group_members_visible_to, groups_visible_to
from ..services import school_year as services
from .common import ADMINS


def _group_or_404(request, pk: int) -> CandidateGroup:
    return get_object_or_404(groups_visible_to(request.user), pk=pk)


def archived_refusal(request, group: CandidateGroup) -> HttpResponse | None:
    """An archived group's page is read-only: a change to it (edit, an action on all its
    members) is sent back with the reason, until someone restores the group."""
    if not group.is_archived:
        return None
    messages.error(request, _("Deze kandidaatgroep is gearchiveerd. Zet haar eerst terug."))
    return redirect("candidates:group_detail", pk=group.pk)


@role_required(*ADMINS)
def group_archive(request, pk: int):
    """A page of its own: it says how many members the group has and, with the box ticked,
    how many accounts would be deactivated, before anything happens."""
    group = _group_or_404(request, pk)
    if group.is_archived:
        return redirect("candidates:group_detail", pk=group.pk)
    # Bound on every POST: an empty one (the box not ticked) is a valid archive too.
    form = GroupArchiveForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        deactivated = services.group_archive(
            actor=request.user,
            group=group,
            deactivate_members=form.cleaned_data["deactivate"],
            ip=client_ip(request),
        )
        done = _("Kandidaatgroep %(name)s is gearchiveerd.") % {"name": group.name}
        if form.cleaned_data["deactivate"]:
            done += " " + ngettext(
                "%(count)d lid is gedeactiveerd.",
                "%(count)d leden zijn gedeactiveerd.",
                deactivated,
            ) % {"count": deactivated}
        messages.success(request, done)
        return redirect("candidates:group_detail", pk=group.pk)
    ctx = {
        "group": group,
        "form": form,
        "members": group_members_visible_to(request.user, group).count(),
        "would_deactivate": services.members_to_deactivate(request.user, [group]).count(),
    }
    return render(request, "candidates/group_archive.html", ctx)


@role_required(*ADMINS)
@require_POST
def group_restore(request, pk: int):
    group = _group_or_404(request, pk)
    services.group_restore(actor=request.user, group=group, ip=client_ip(request))
    messages.success(request, _("Kandidaatgroep %(name)s is teruggezet.") % {"name": group.name})
    return redirect("candidates:group_detail", pk=group.pk)


def report_move(request, moved: int, target: CandidateGroup) -> None:
    messages.success(
        request,
        ngettext(
            "%(count)d kandidaat is verplaatst naar %(name)s.",
            "%(count)d kandidaten zijn verplaatst naar %(name)s.",
            moved,
        )
        % {"count": moved, "name": target.name},
    )


def move_selection(
    request, candidates: list[Candidate], source: CandidateGroup, target: CandidateGroup
) -> None:
    """The candidate list's bulk action; the form checked the rule, the service checks it
    again inside its transaction."""
    try:
        moved = services.candidates_move_group(
            actor=request.user,
            candidates=candidates,
            source=source,
            target=target,
            ip=client_ip(request),
        )
    except services.MoveRefused as refusal:
        messages.error(request, orphan_error(refusal.orphans))
        return
    report_move(request, moved, target)


@role_required(*ADMINS)
def group_move(request, pk: int):
    """'Verplaats naar groep' for every member of a group the user may see."""
    source = _group_or_404(request, pk)
    visible = group_members_visible_to(request.user, source)
    members = list(visible.values_list("pk", flat=True))
    form = GroupMoveForm(request.POST or None, user=request.user, source=source, ids=members)
    if request.method == "POST" and form.is_valid():
        target = form.cleaned_data["group"]
        move_selection(request, list(visible.filter(pk__in=members)), source, target)
        return redirect("candidates:group_detail", pk=target.pk)
    ctx = {"group": source, "form": form, "members": len(members)}
    return render(request, "candidates/group_move.html", ctx)


def _plan_key(data: dict) -> str:
    """The choices as the preview showed them: 'Bevestigen' carries out only those."""
    choices = ",".join(f"{pk}={c}" for pk, c in sorted(data["choices"].items()))
    return f"{data['valid_until'].isoformat()};{data['deactivate']:d};{choices}"


@role_required(Role.BEHEERDER)
def school_year(request):
    """GET: a choice per group. POST 'preview': the counts. POST 'confirm': carried out, with
    the choices re-read and re-validated from the form (nothing is kept between the steps)."""
    user = request.user
    end = services.next_school_year_end(user.college)
    form = SchoolYearForm(request.POST or None, user=user, valid_until=end)
    if request.method != "POST" or not form.is_valid():
        return render(request, "candidates/school_year.html", {"form": form})
    data = form.cleaned_data
    args = (data["choices"], data["valid_until"])
    key = _plan_key(data)
    if "confirm" not in request.POST or request.POST.get("plan_key") != key:
        # A confirm of choices changed since the preview shows the new preview instead.
        plan = services.school_year_plan(user, *args, deactivate=data["deactivate"])
        ctx = {"form": form, "plan": plan, "plan_key": key}
        return render(request, "candidates/school_year.html", ctx)
    plan = services.school_year_apply(
        actor=user,
        choices=args[0],
        valid_until=args[1],
        deactivate=data["deactivate"],
        ip=client_ip(request),
    )
    messages.success(
        request,
        _(
            "Nieuw schooljaar verwerkt: %(extended)d kandidaten verlengd, %(archived)d groepen "
            "gearchiveerd, %(deactivated)d kandidaten gedeactiveerd."
        )
        % {
            "extended": plan.extended,
            "archived": len(plan.of(services.ARCHIVE)),
            "deactivated": plan.deactivated,
        },
    )
    return redirect("candidates:groups")
