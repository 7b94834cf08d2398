"""Beheer → Kandidaten, 'Wijzig deze gebruiker', and the pages of the other roles: 'Mijn
kandidaten' (begeleider) and 'Mijn gegevens' (kandidaat). Every candidate is found through
candidates.selectors, so an id of another college or group is a 404, never a leak."""

from __future__ import annotations

from collections.abc import Iterable

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from accounts.models import Role
from accounts.permissions import role_required
from accounts.services import client_ip
from accounts.validators import parse_id

from ..export import candidates_workbook
from ..forms.candidates import (
    BulkActionForm,
    CandidateFilterForm,
    CandidateForm,
    LinksForm,
    PasswordForm,
)
from ..forms.common import SearchForm
from ..models import Candidate
from ..pagination import CandidatePaginator
from ..selectors import (
    can_impersonate,
    candidate_history,
    candidate_search,
    candidates_filtered,
    candidates_supervised_by,
    candidates_visible_to,
    groups_visible_to,
    list_rows,
    with_list_relations,
)
from ..services import candidates as services
from . import deletion
from .audit import audit_links
from .common import ADMINS, PAGE_SIZE, pdf_response, report_changed, report_reset
from .school_year import move_selection

# --- Kandidaten --------------------------------------------------------------------------------


@role_required(*ADMINS)
def candidate_list(request):
    """Beheer → Kandidaten. GET filters; POST runs a bulk action on the checked rows and comes
    back to the same filtered page."""
    user = request.user
    filter_form = CandidateFilterForm(request.GET, user=user)
    filters = filter_form.filters()
    # Beheerders and coordinators may link to every group they see, so the filter's list of
    # groups is also the bulk action's.
    bulk_form = BulkActionForm(
        request.POST or None,
        user=user,
        groups=filter_form.groups,
        all_groups=filter_form.all_groups,
    )
    if request.method == "POST" and bulk_form.is_valid():
        return _run_bulk_action(request, bulk_form)

    per_page = filter_form.cleaned_data.get("per_page") or PAGE_SIZE
    paginator = CandidatePaginator(
        candidates_filtered(user, **filters),
        per_page,
        rows=lambda candidates: list_rows(candidates, user),
        counted_with_page=bool(filters["query"].strip()),
    )
    page = paginator.get_page(request.GET.get("page"))
    selected = {int(v) for v in request.POST.getlist("ids") if v.isdigit()}
    ctx = {
        "filter_form": filter_form,
        "bulk_form": bulk_form,
        "page": page,
        "rows": _list_rows(page.object_list, selected),
        "sort": filters["sort"],
        "filtered": any(filters[k] for k in ("query", "group", "status", "validity")),
    }
    return render(request, "candidates/list.html", ctx)


STATUS_BADGES = {
    "inactive": ("text-bg-secondary", gettext_lazy("Inactief")),
    "expired": ("text-bg-danger", gettext_lazy("Verlopen")),
    "active": ("text-bg-success", gettext_lazy("Actief")),
}


def _list_rows(candidates: Iterable[Candidate], selected: set[int]) -> list[dict]:
    """What each row of Beheer → Kandidaten shows, as plain values for
    templates/candidates/_list_rows.html. The list is the page staff open most: the template
    reads dicts (its quickest lookup) and the edit URL is reversed once for the whole page."""
    today = timezone.localdate()
    head, tail = reverse("candidates:edit", args=[0]).split("/0/", 1)
    badges = {key: (css, str(label)) for key, (css, label) in STATUS_BADGES.items()}
    rows = []
    for c in candidates:
        user = c.user
        if not user.is_active:
            status = "inactive"
        elif user.validity_problem(today) == "expired":
            status = "expired"
        else:
            status = "active"  # also while not yet valid: the list warns about what stopped
        badge, label = badges[status]
        rows.append(
            {
                "pk": c.pk,
                "checked": c.pk in selected,
                "url": f"{head}/{c.pk}/{tail}",
                "name": user.display_name,
                "sort_name": user.sort_name,
                "number": c.candidate_number,
                "username": user.username,
                "email": user.email or "—",
                "groups": ", ".join(c.group_names),
                "badge": badge,
                "status": label,
                "valid_until": date_format(user.valid_until, "j b Y") if user.valid_until else "—",
            }
        )
    return rows


def _run_bulk_action(request, form: BulkActionForm) -> HttpResponse:
    """Each action is one audited service call; the page comes back with a Dutch summary."""
    user, data, ip = request.user, form.cleaned_data, client_ip(request)
    action = data["action"]
    candidates = list(
        with_list_relations(candidates_visible_to(user), user)
        .filter(pk__in=data["ids"])
        .order_by("name_key", "pk")
    )
    if action == "export":
        return _xlsx_response(candidates)
    if action == "delete":  # nothing yet: first the page that says how many accounts go
        return deletion.confirm_selection(request, candidates)
    if action == "print_credentials":
        result = services.candidates_reset_passwords(
            actor=user, candidates=candidates, delivery="slip", ip=ip
        )
        return pdf_response(result.slips, "inlogbriefjes.pdf")
    if action == "mail_credentials":
        result = services.candidates_reset_passwords(
            actor=user, candidates=candidates, delivery="mail", ip=ip
        )
        report_reset(request, result)
    elif action in ("activate", "deactivate"):
        changed = services.candidates_set_active(
            actor=user, candidates=candidates, is_active=action == "activate", ip=ip
        )
        report_changed(request, _("Status"), changed, len(candidates))
    elif action == "extend":
        changed = services.candidates_set_valid_until(
            actor=user, candidates=candidates, valid_until=data["valid_until"], ip=ip
        )
        if data.get("also_activate"):
            services.candidates_set_active(actor=user, candidates=candidates, is_active=True, ip=ip)
        report_changed(request, _("Geldigheid"), changed, len(candidates))
    elif action in ("link", "unlink"):
        service = (
            services.candidates_link_group if action == "link" else services.candidates_unlink_group
        )
        changed = service(actor=user, candidates=candidates, group=data["group"], ip=ip)
        report_changed(request, data["group"].name, changed, len(candidates))
    elif action == "move":
        move_selection(request, candidates, data["from_group"], data["group"])
    return redirect(request.get_full_path())


def _xlsx_response(candidates: list[Candidate]) -> HttpResponse:
    response = HttpResponse(
        candidates_workbook(candidates),
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    response["Content-Disposition"] = f'attachment; filename="kandidaten-{stamp}.xlsx"'
    return response


# --- 'Wijzig deze gebruiker' -------------------------------------------------------------------


def _candidate_or_404(request, pk: int) -> Candidate:
    # A candidate's id is its user's (a one-to-one key), whose lookup Django does not guard
    # against numbers beyond a bigint the way it guards plain integer fields.
    if parse_id(pk) is None:
        raise Http404
    return get_object_or_404(
        candidates_visible_to(request.user).select_related("user", "organisation"), pk=pk
    )


def _render_profile(request, candidate: Candidate, **forms) -> HttpResponse:
    user = request.user
    history = list(candidate_history(candidate)[:100])
    ctx = {
        "candidate": candidate,
        "form": forms.get("form") or CandidateForm(candidate=candidate),
        "password_form": forms.get("password_form") or PasswordForm(candidate=candidate),
        "links_form": forms.get("links_form") or LinksForm(candidate=candidate, editor=user),
        "new_password": forms.get("new_password"),
        "history": history,
        "links": audit_links(user, history),
        "may_impersonate": can_impersonate(hijacker=user, hijacked=candidate.user),
    }
    response = render(request, "candidates/edit.html", ctx)
    if ctx["new_password"]:
        response["Cache-Control"] = "no-store"  # the page shows a password, once
    return response


@role_required(*ADMINS)
def candidate_edit(request, pk: int):
    """The profile page. Saves the personal details; the password and the links have their
    own POST views that render this same page when the input needs fixing."""
    candidate = _candidate_or_404(request, pk)
    if request.method != "POST":
        return _render_profile(request, candidate)
    form = CandidateForm(request.POST, candidate=candidate)
    if not form.is_valid():
        return _render_profile(request, candidate, form=form)
    services.candidate_update(
        actor=request.user, candidate=candidate, ip=client_ip(request), **form.cleaned_data
    )
    messages.success(request, _("De gegevens zijn opgeslagen."))
    return redirect("candidates:edit", pk=candidate.pk)


@role_required(*ADMINS)
@require_POST
def candidate_password(request, pk: int):
    candidate = _candidate_or_404(request, pk)
    form = PasswordForm(request.POST, candidate=candidate)
    if not form.is_valid():
        return _render_profile(request, candidate, password_form=form)
    data, ip = form.cleaned_data, client_ip(request)
    if data["mode"] == "typed":
        services.candidate_set_password(
            actor=request.user,
            candidate=candidate,
            password=data["password1"],
            must_change_password=data["must_change_password"],
            ip=ip,
        )
        messages.success(request, _("Het nieuwe wachtwoord is ingesteld."))
        return redirect("candidates:edit", pk=candidate.pk)
    delivery = {"show": "shown", "mail": "mail", "slip": "slip"}[data["mode"]]
    first_group = groups_visible_to(request.user).filter(members=candidate).order_by("name")
    result = services.candidates_reset_passwords(
        actor=request.user,
        candidates=[candidate],
        delivery=delivery,
        group_name=first_group.values_list("name", flat=True).first() or "",
        must_change_password=data["must_change_password"],
        ip=ip,
    )
    if delivery == "slip":
        return pdf_response(result.slips, f"inlogbriefje-{candidate.user.username}.pdf")
    if delivery == "mail":
        messages.success(
            request,
            _("De nieuwe inloggegevens worden gemaild naar %(email)s.")
            % {"email": candidate.user.email},
        )
        return redirect("candidates:edit", pk=candidate.pk)
    # 'Toon eenmalig': the password is in this response only; reloading shows no password.
    return _render_profile(request, candidate, new_password=result.slips[0]["password"])


@role_required(*ADMINS)
@require_POST
def candidate_links(request, pk: int):
    candidate = _candidate_or_404(request, pk)
    form = LinksForm(request.POST, candidate=candidate, editor=request.user)
    if not form.is_valid():
        return _render_profile(request, candidate, links_form=form)
    services.candidate_links_update(
        actor=request.user,
        candidate=candidate,
        groups=form.cleaned_data["all_groups"],
        supervisors=form.cleaned_data["supervisors"],
        ip=client_ip(request),
    )
    if candidates_visible_to(request.user).filter(pk=candidate.pk).exists():
        messages.success(request, _("De koppelingen zijn opgeslagen."))
        return redirect("candidates:edit", pk=candidate.pk)
    messages.warning(
        request,
        _("De koppelingen zijn opgeslagen. %(name)s is nu niet meer voor jou zichtbaar.")
        % {"name": candidate.user.display_name},
    )
    return redirect("candidates:list")


# --- Begeleider: 'Mijn kandidaten'; kandidaat: 'Mijn gegevens' --------------------------------


@role_required(Role.BEGELEIDER)
def my_candidates(request):
    form = SearchForm(request.GET)
    query = form.cleaned_data.get("q", "") if form.is_valid() else ""
    candidates = candidate_search(candidates_supervised_by(request.user), query).order_by(
        "name_key", "pk"
    )
    page = Paginator(candidates, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "candidates/mine.html", {"form": form, "page": page})


@role_required(Role.KANDIDAAT)
def my_details(request):
    candidate = get_object_or_404(
        candidates_visible_to(request.user).select_related("user", "organisation"),
        pk=request.user.pk,
    )
    groups = candidate.groups.order_by("name")
    return render(request, "candidates/me.html", {"candidate": candidate, "groups": groups})
