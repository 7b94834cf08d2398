"""Beheer: candidates, groups, staff, settings and the audit log; 'Mijn kandidaten' and 'Mijn
gegevens'. Every candidate, group and colleague is found through candidates.selectors, so an
id of another college or group is a 404, never a leak."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from uuid import UUID

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Prefetch, Q
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.http import require_POST

from accounts.mail import render_credentials_text
from accounts.models import EducationArea, Organisation, Role
from accounts.passwords import generate_password
from accounts.permissions import can_impersonate, role_required
from accounts.services import client_ip
from accounts.validators import parse_id
from imports.selectors import batches_visible_to

from . import services
from .export import candidates_workbook
from .forms import (
    AuditFilterForm,
    BulkActionForm,
    CandidateFilterForm,
    CandidateForm,
    EducationAreaFormSet,
    GroupBulkActionForm,
    GroupForm,
    LinksForm,
    PasswordForm,
    SearchForm,
    SettingsForm,
    StaffForm,
)
from .models import Candidate
from .pagination import CandidatePaginator
from .selectors import (
    audit_rows_visible_to,
    candidate_history,
    candidate_search,
    candidates_filtered,
    candidates_supervised_by,
    candidates_visible_to,
    editable_staff_of,
    group_members_visible_to,
    groups_visible_to,
    groups_with_member_counts,
    list_rows,
    staff_visible_to,
    with_list_relations,
)
from .slips import default_login_url, render_login_slips

ADMINS = (Role.BEHEERDER, Role.TOETSCOORDINATOR)
PAGE_SIZE = 50


def _pdf_response(entries: list[dict], filename: str) -> HttpResponse:
    """Slips carry plaintext passwords: produced in this response, never stored or cached."""
    response = HttpResponse(render_login_slips(entries), content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "no-store"
    return response


def _report_reset(request, result: services.PasswordReset) -> None:
    if result.mailed:
        messages.success(
            request,
            ngettext(
                "Er is een nieuw wachtwoord gemaild naar %(count)d kandidaat.",
                "Er zijn nieuwe wachtwoorden gemaild naar %(count)d kandidaten.",
                result.mailed,
            )
            % {"count": result.mailed},
        )
    if result.without_email:
        messages.warning(
            request,
            _("Zonder e-mailadres, wachtwoord niet gewijzigd: %(names)s")
            % {"names": ", ".join(result.without_email)},
        )


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
    bulk_form = BulkActionForm(request.POST or None, user=user, groups=filter_form.groups)
    if request.method == "POST" and bulk_form.is_valid():
        return _run_bulk_action(request, bulk_form)

    per_page = filter_form.cleaned_data.get("per_page") or PAGE_SIZE
    paginator = CandidatePaginator(
        candidates_filtered(user, **filters),
        per_page,
        rows=lambda candidates: list_rows(candidates, user),
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


def _list_rows(candidates: list[Candidate], selected: set[int]) -> list[dict]:
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
    if action == "print_credentials":
        result = services.candidates_reset_passwords(
            actor=user, candidates=candidates, delivery="slip", ip=ip
        )
        return _pdf_response(result.slips, "inlogbriefjes.pdf")
    if action == "mail_credentials":
        result = services.candidates_reset_passwords(
            actor=user, candidates=candidates, delivery="mail", ip=ip
        )
        _report_reset(request, result)
    elif action in ("activate", "deactivate"):
        changed = services.candidates_set_active(
            actor=user, candidates=candidates, is_active=action == "activate", ip=ip
        )
        _report_changed(request, _("Status"), changed, len(candidates))
    elif action == "extend":
        changed = services.candidates_set_valid_until(
            actor=user, candidates=candidates, valid_until=data["valid_until"], ip=ip
        )
        if data.get("also_activate"):
            services.candidates_set_active(actor=user, candidates=candidates, is_active=True, ip=ip)
        _report_changed(request, _("Geldigheid"), changed, len(candidates))
    elif action in ("link", "unlink"):
        service = (
            services.candidates_link_group if action == "link" else services.candidates_unlink_group
        )
        changed = service(actor=user, candidates=candidates, group=data["group"], ip=ip)
        _report_changed(request, data["group"].name, changed, len(candidates))
    return redirect(request.get_full_path())


def _report_changed(request, what: str, changed: int, count: int) -> None:
    messages.success(
        request,
        ngettext(
            "%(what)s: %(changed)d van %(count)d geselecteerde kandidaat gewijzigd.",
            "%(what)s: %(changed)d van %(count)d geselecteerde kandidaten gewijzigd.",
            count,
        )
        % {"what": what, "changed": changed, "count": count},
    )


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
        return _pdf_response(result.slips, f"inlogbriefje-{candidate.user.username}.pdf")
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
    page = Paginator(groups, PAGE_SIZE).get_page(request.GET.get("page"))
    ctx = {"form": form, "page": page, "may_create": _may_create_groups(request.user)}
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
    form = GroupBulkActionForm(request.POST, organisation=user.organisation)
    if not form.is_valid():
        return _render_group(request, group, bulk_form=form)
    action, data = form.cleaned_data["action"], form.cleaned_data
    members = list(
        group_members_visible_to(user, group).select_related("user").order_by("user__last_name")
    )
    if action == "print_credentials":
        result = services.candidates_reset_passwords(
            actor=user, candidates=members, delivery="slip", group_name=group.name, ip=ip
        )
        return _pdf_response(result.slips, "inlogbriefjes.pdf")
    if action == "mail_credentials":
        result = services.candidates_reset_passwords(
            actor=user, candidates=members, delivery="mail", group_name=group.name, ip=ip
        )
        _report_reset(request, result)
    elif action == "deactivate":
        changed = services.candidates_set_active(
            actor=user, candidates=members, is_active=False, ip=ip
        )
        _report_changed(request, _("Status"), changed, len(members))
    elif action == "extend":
        changed = services.candidates_set_valid_until(
            actor=user, candidates=members, valid_until=data["valid_until"], ip=ip
        )
        if data.get("also_activate"):
            services.candidates_set_active(actor=user, candidates=members, is_active=True, ip=ip)
        _report_changed(request, _("Geldigheid"), changed, len(members))
    return redirect("candidates:group_detail", pk=group.pk)


# --- Medewerkers (beheerder only) --------------------------------------------------------------


@role_required(Role.BEHEERDER)
def staff_list(request):
    staff = staff_visible_to(request.user).prefetch_related(
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


# --- Auditlog (beheerder only) -----------------------------------------------------------------


def _uuid(value) -> UUID | None:
    try:
        return UUID(str(value)) if value else None
    except ValueError:
        return None


def audit_links(user, rows: list) -> dict[str, dict]:
    """Where the audit rows on a page may link: the candidates, groups and imports among them
    that the viewer may see (three queries a page). Anything else is shown, never linked."""
    targets = {r.target_user_id for r in rows if r.target_user_id}
    group_ids = {r.after.get("group_id") for r in rows if isinstance(r.after.get("group_id"), int)}
    batch_ids = {_uuid(r.after.get("batch")) for r in rows} - {None}
    candidate_ids = candidates_visible_to(user).filter(pk__in=targets).values_list("pk", flat=True)
    groups = groups_visible_to(user).filter(pk__in=group_ids).values_list("pk", "name")
    batches = batches_visible_to(user).filter(pk__in=batch_ids).values_list("pk", "file_name")
    return {
        "candidates": {pk: reverse("candidates:edit", args=[pk]) for pk in candidate_ids},
        "groups": {
            str(pk): (name, reverse("candidates:group_detail", args=[pk])) for pk, name in groups
        },
        "batches": {str(pk): (name, reverse("imports:result", args=[pk])) for pk, name in batches},
    }


def _day_start(day):
    return timezone.make_aware(datetime.combine(day, time.min))


@role_required(Role.BEHEERDER)
def audit_log(request):
    form = AuditFilterForm(request.GET, user=request.user)
    form.is_valid()  # invalid filters are shown and ignored; the valid ones still apply
    data = getattr(form, "cleaned_data", {})
    rows = audit_rows_visible_to(request.user)
    if data.get("actor"):
        rows = rows.filter(actor=data["actor"])
    if data.get("action"):
        rows = rows.filter(action=data["action"])
    if data.get("candidate"):
        who = data["candidate"].strip()
        rows = rows.filter(
            Q(target_user__username__iexact=who) | Q(target_user__candidate__candidate_number=who)
        )
    if data.get("date_from"):
        rows = rows.filter(created__gte=_day_start(data["date_from"]))
    if data.get("date_to"):
        rows = rows.filter(created__lt=_day_start(data["date_to"] + timedelta(days=1)))
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    page.object_list = list(page.object_list)
    ctx = {"form": form, "page": page, "links": audit_links(request.user, page.object_list)}
    return render(request, "candidates/audit_log.html", ctx)


# --- Instellingen (beheerder only) -------------------------------------------------------------


def _area_changes(areas, formset):
    by_id = {a.pk: a for a in areas}
    added, renamed, deleted = [], [], []
    for form in formset.forms:
        name = " ".join((form.cleaned_data.get("name") or "").split())
        area = by_id.get(form.cleaned_data.get("id"))
        if area is None:
            if name and not form.cleaned_data.get("delete"):
                added.append(name)
        elif form.cleaned_data.get("delete") or not name:
            deleted.append(area)
        elif name != area.name:
            renamed.append((area, name))
    return added, renamed, deleted


def _preview(organisation, text: str, password_length: int, password_format: str) -> str:
    sample = {
        "naam": "Anna de Vries",
        "gebruikersnaam": f"{organisation.code}-0012345",
        "wachtwoord": generate_password(password_length, password_format),
        "school": organisation.name,
        "geldig_tot": date_format(organisation.default_valid_until(), "j F Y"),
        "inlog_url": default_login_url(),
    }
    return render_credentials_text(text, sample)


@role_required(Role.BEHEERDER)
def college_settings(request):
    """'Ieder roc is anders georganiseerd': the beheerder's choices for the college. The
    'Voorbeeld' button shows the credentials mail with sample values without saving."""
    organisation = request.user.organisation
    areas = list(EducationArea.objects.filter(organisation=organisation).order_by("name"))
    initial = [{"id": a.pk, "name": a.name} for a in areas]
    # The form gets its own copy: a ModelForm writes cleaned values onto its instance, and the
    # service must still see the old values to audit what changed.
    form_instance = Organisation.objects.get(pk=organisation.pk)
    form = SettingsForm(request.POST or None, instance=form_instance)
    formset = EducationAreaFormSet(request.POST or None, initial=initial, prefix="areas")
    preview = None
    if request.method == "POST" and form.is_valid() and formset.is_valid():
        data = form.cleaned_data
        if "preview" in request.POST:
            preview = _preview(
                organisation,
                data["credentials_mail_text"],
                data["password_length"],
                data["password_format"],
            )
        else:
            added, renamed, deleted = _area_changes(areas, formset)
            changed = services.organisation_settings_update(
                actor=request.user,
                organisation=organisation,
                changes={f: data[f] for f in services.ORGANISATION_SETTINGS},
                areas_added=added,
                areas_renamed=renamed,
                areas_deleted=deleted,
                ip=client_ip(request),
            )
            if changed:
                messages.success(request, _("De instellingen zijn opgeslagen."))
            else:
                messages.info(request, _("Er was niets gewijzigd."))
            return redirect("candidates:settings")
    ctx = {"form": form, "formset": formset, "preview": preview}
    return render(request, "candidates/settings.html", ctx)


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
