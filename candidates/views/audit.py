"""Auditlog (beheerder only), and the links that audit rows may carry on any page."""

from __future__ import annotations

from datetime import datetime, time, timedelta

from django.core.paginator import Paginator
from django.db.models import Q, QuerySet
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone

from accounts.models import AuditLog, AuditLogSubject, Role
from accounts.permissions import role_required

from .. import audit_registry
from ..forms.audit import AuditFilterForm
from ..selectors import (
    audit_rows_visible_to,
    candidates_visible_to,
    groups_visible_to,
    newest_first,
    subject_rows,
)
from .common import PAGE_SIZE


def audit_links(user, rows: list) -> dict[str, dict]:
    """Where the audit rows on a page may link: the candidates and groups among them that the
    viewer may see, plus what other apps registered (imports: the batches). One query per
    kind a page. Anything else is shown, never linked."""
    targets = {r.target_user_id for r in rows if r.target_user_id}
    group_ids = {r.after.get("group_id") for r in rows if isinstance(r.after.get("group_id"), int)}
    candidate_ids = candidates_visible_to(user).filter(pk__in=targets).values_list("pk", flat=True)
    groups = groups_visible_to(user).filter(pk__in=group_ids).values_list("pk", "name")
    links: dict[str, dict] = {
        "candidates": {pk: reverse("candidates:edit", args=[pk]) for pk in candidate_ids},
        "groups": {
            str(pk): (name, reverse("candidates:group_detail", args=[pk])) for pk, name in groups
        },
    }
    for find in audit_registry.LINK_FINDERS:
        links.update(find(user, rows))
    return links


def _day_start(day):
    return timezone.make_aware(datetime.combine(day, time.min))


@role_required(Role.BEHEERDER)
def audit_log(request):
    form = AuditFilterForm(request.GET, user=request.user)
    form.is_valid()  # invalid filters are shown and ignored; the valid ones still apply
    data = getattr(form, "cleaned_data", {})
    rows: QuerySet[AuditLog] | list[AuditLog]
    rows = _filtered(audit_rows_visible_to(request.user), data, "target_user", "")
    if data.get("candidate"):
        # An import is one row with a subject per candidate: for one candidate the page shows
        # their part of it as a row of its own, as their history does. Few rows, so merged
        # here.
        subjects = AuditLogSubject.objects.filter(audit__in=audit_rows_visible_to(request.user))
        rows = newest_first([*rows, *subject_rows(_filtered(subjects, data, "user", "audit__"))])
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    page.object_list = list(page.object_list)
    ctx = {"form": form, "page": page, "links": audit_links(request.user, page.object_list)}
    return render(request, "candidates/audit_log.html", ctx)


def _filtered(rows: QuerySet, data: dict, target: str, row: str) -> QuerySet:
    """The filters of the page on audit rows (row "") or on their subjects (row "audit__"),
    whose person is the field `target`."""
    if data.get("actor"):
        rows = rows.filter(**{f"{row}actor": data["actor"]})
    if data.get("action"):
        rows = rows.filter(action=data["action"])
    if data.get("candidate"):
        who = data["candidate"].strip()
        rows = rows.filter(
            Q(**{f"{target}__username__iexact": who})
            | Q(**{f"{target}__candidate__candidate_number": who})
        )
    if data.get("date_from"):
        rows = rows.filter(**{f"{row}created__gte": _day_start(data["date_from"])})
    if data.get("date_to"):
        rows = rows.filter(**{f"{row}created__lt": _day_start(data["date_to"] + timedelta(days=1))})
    return rows
