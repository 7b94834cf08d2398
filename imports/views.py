"""The import wizard: one short view per step. Each step stores its choice on the batch,
so 'Vorige stap' keeps what was chosen and two tabs (two batches) never mix."""

from __future__ import annotations

from functools import wraps

from cryptography.fernet import InvalidToken
from django.contrib import messages
from django.db.models import Count, Q
from django.http import FileResponse, Http404, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.timezone import localtime
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.http import require_POST

from accounts.mail import mail_resend
from accounts.models import OutgoingMail, Role
from accounts.permissions import role_required
from accounts.secrets import unseal
from accounts.services import client_ip
from accounts.tasks import queue_mails
from candidates.selectors import groups_linkable_by, supervisors_visible_to

from . import services, undo
from .example import example_workbook
from .fields import FIELD_BY_NAME
from .forms import (
    CheckForm,
    ConfirmForm,
    CredentialsForm,
    GroupColumnForm,
    GroupForm,
    MappingForm,
    PasswordForm,
    SheetForm,
    SupervisorsForm,
    UploadForm,
    ValidityForm,
)
from .models import ImportBatch
from .options import ImportOptions
from .planning import may_create_groups
from .reading import ReadError
from .reports import error_rows_xlsx
from .selectors import batches_visible_to, draft_of

STAFF = (Role.BEHEERDER, Role.TOETSCOORDINATOR)
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
STEPS = [
    ("start", gettext_lazy("Bestand")),
    ("mapping", gettext_lazy("Kolommen")),
    ("check", gettext_lazy("Controle")),
    ("password", gettext_lazy("Wachtwoord")),
    ("group", gettext_lazy("Kandidaatgroep")),
    ("supervisors", gettext_lazy("Begeleiders")),
    ("validity", gettext_lazy("Geldigheid")),
    ("credentials", gettext_lazy("Inloggegevens")),
    ("confirm", gettext_lazy("Bevestigen")),
]


def wizard_step(view):
    """Load the user's own draft batch (404 for anyone else's) and catch unreadable files."""

    @role_required(*STAFF)
    @wraps(view)
    def wrapper(request, pk, *args, **kwargs):
        batch = get_object_or_404(draft_of(request.user).select_related("organisation"), pk=pk)
        try:
            return view(request, batch, *args, **kwargs)
        except (ReadError, services.ImportFailed) as exc:
            messages.error(request, getattr(exc, "message", str(exc)))
            return redirect("imports:start")

    return wrapper


def posted(request, *, files: bool = False):
    """Bound data on POST only: an empty POST (all boxes unticked) must still validate."""
    if request.method != "POST":
        return (None, None) if files else None
    return (request.POST, request.FILES) if files else request.POST


def render_step(request, batch, step, template, context):
    names = [s for s, _label in STEPS]
    return render(
        request,
        template,
        {
            "batch": batch,
            "steps": STEPS,
            "step": step,
            "step_number": names.index(step) + 1,
            "options": ImportOptions.from_json(batch.options),
            **context,
        },
    )


@role_required(*STAFF)
def start(request):
    """Steps 1 and 2: 'Download voorbeeld-bestand', then 'Bladeren' → 'Volgende stap'."""
    form = UploadForm(*posted(request, files=True))
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            batch = services.batch_create_from_upload(
                actor=request.user, file_name=upload.name, data=upload.read()
            )
        except ReadError as exc:
            form.add_error("file", exc.message)
        else:
            return redirect("imports:mapping", pk=batch.pk)
    return render(
        request,
        "imports/start.html",
        {"form": form, "steps": STEPS, "step": "start", "step_number": 1},
    )


@role_required(*STAFF)
def example_file(request):
    response = HttpResponse(example_workbook(), content_type=XLSX)
    response["Content-Disposition"] = 'attachment; filename="voorbeeld-kandidaten.xlsx"'
    return response


@wizard_step
def mapping(request, batch):
    table = services.batch_table(batch)
    if request.method == "POST" and "sheet" in request.POST:
        return _choose_sheet(request, batch, table)
    columns = services.column_samples(batch, table)
    form = MappingForm(posted(request), columns=columns)
    if request.method == "POST" and form.is_valid():
        services.batch_set_mapping(batch=batch, mapping=form.mapping())
        return redirect("imports:check", pk=batch.pk)
    rows = [(column, form[f"col_{column['index']}"]) for column in columns]
    sheets = table.sheets if len(table.sheets) > 1 else []  # a choice only where there is one
    return render_step(
        request,
        batch,
        "mapping",
        "imports/mapping.html",
        {
            "form": form,
            "rows": rows,
            "sheet": table.sheet,
            "sheet_form": SheetForm(initial={"sheet": table.sheet}, sheets=sheets)
            if sheets
            else None,
        },
    )


def _choose_sheet(request, batch, table):
    """Read another sheet: its header, columns and (remembered or suggested) mapping."""
    form = SheetForm(request.POST, sheets=table.sheets)
    if form.is_valid() and form.cleaned_data["sheet"] != table.sheet:
        services.batch_set_sheet(batch=batch, sheet=form.cleaned_data["sheet"])
    return redirect("imports:mapping", pk=batch.pk)


@wizard_step
def check(request, batch):
    if request.method == "POST" and "group_column" in request.POST:
        return _choose_group_column(request, batch)
    dry = services.import_dry_run(batch)
    form = CheckForm(
        posted(request),
        initial={"skip_invalid": ImportOptions.from_json(batch.options).skip_invalid},
    )
    plan = dry.plan
    if request.method == "POST" and form.is_valid():
        skip = form.cleaned_data["skip_invalid"]
        if plan.counts["errors"] and not skip:
            form.add_error(
                "skip_invalid",
                _(
                    "Het bestand bevat fouten. Verbeter het bestand en upload het opnieuw, of kies "
                    "ervoor alleen de rijen zonder fouten te importeren."
                ),
            )
        elif not plan.can_import and not plan.problems:
            form.add_error(None, _("Er zijn geen rijen om te importeren."))
        else:
            services.batch_set_options(batch=batch, skip_invalid=skip)
            return redirect("imports:password", pk=batch.pk)
    return render_step(
        request,
        batch,
        "check",
        "imports/check.html",
        {
            "form": form,
            "plan": plan,
            "counts": plan.counts,
            "errors": plan.errors[:500],
            "error_total": len(plan.errors),
            "preview": [r for r in plan.rows if r.status != "error"][:10],
            "group_column": _group_column(batch, plan, request.user),
        },
    )


def _choose_group_column(request, batch):
    """'Maak de ontbrekende kandidaatgroepen aan' or 'Negeer deze kolom' (or take it back):
    stored on the batch, then the check is shown again with the new counts."""
    user = request.user
    form = GroupColumnForm(request.POST, may_create=may_create_groups(user, user.organisation))
    if form.is_valid():
        choice = form.cleaned_data["group_column"]
        services.batch_set_options(
            batch=batch,
            create_groups=choice == GroupColumnForm.CREATE,
            ignore_group_column=choice == GroupColumnForm.IGNORE,
        )
    return redirect("imports:check", pk=batch.pk)


def _group_column(batch: ImportBatch, plan, user) -> dict | None:
    """What the check page says about group names in the file that are no group of ours."""
    options = ImportOptions.from_json(batch.options)
    missing = plan.missing_groups
    if not (missing or options.create_groups or options.ignore_group_column):
        return None
    names = ", ".join(sorted(missing, key=str.casefold))
    groups, rows = len(missing), sum(missing.values())
    return {
        "header": services.batch_labels(batch).get("group", ""),
        "missing": sorted(missing.items(), key=lambda kv: kv[0].casefold()),
        "names": names,
        "may_create": may_create_groups(user, user.organisation),
        "linked_to_me": user.role == Role.TOETSCOORDINATOR,
        "create_label": _(
            "Maak de ontbrekende kandidaatgroepen aan: %(names)s (%(groups)s, %(rows)s)"
        )
        % {
            "names": names,
            "groups": ngettext("%(n)s groep", "%(n)s groepen", groups) % {"n": groups},
            "rows": ngettext("%(n)s kandidaat", "%(n)s kandidaten", rows) % {"n": rows},
        },
    }


@wizard_step
def error_file(request, batch):
    dry = services.import_dry_run(batch)
    raw = {i + 1: row for i, row in enumerate(dry.table.rows)}
    data = error_rows_xlsx(plan=dry.plan, headers=batch.headers, raw_rows=raw)
    response = HttpResponse(data, content_type=XLSX)
    response["Content-Disposition"] = 'attachment; filename="fouten.xlsx"'
    return response


@wizard_step
def password(request, batch):
    options = ImportOptions.from_json(batch.options)
    form = PasswordForm(
        posted(request),
        has_password_column="password" in batch.mapping.values(),
        initial={
            "password_mode": options.password_mode,
            "existing_passwords": options.existing_passwords,
            "must_change_password": options.must_change_password,
        },
    )
    if request.method == "POST" and form.is_valid():
        services.batch_set_options(batch=batch, **form.cleaned_data)
        return redirect("imports:group", pk=batch.pk)
    return render_step(
        request,
        batch,
        "password",
        "imports/step_form.html",
        {"form": form, "title": _("Wachtwoord"), "back": "imports:check"},
    )


@wizard_step
def group(request, batch):
    options = ImportOptions.from_json(batch.options)
    form = GroupForm(
        posted(request),
        user=request.user,
        pending_name=options.new_group_name,
        initial={
            "status": "active" if options.active else "inactive",
            "group": GroupForm.PENDING if options.new_group_name else options.group_id,
        },
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        new_name = data.get("new_group_name", "")
        services.batch_set_options(
            batch=batch,
            active=data["status"] == "active",
            group_id=None if new_name or not data["group"] else data["group"].pk,
            new_group_name=new_name,
        )
        if "create_group" in request.POST:
            if not new_name:  # the typed name is a group of ours: that one is chosen
                messages.success(
                    request,
                    _("De bestaande kandidaatgroep '%(name)s' is gekozen.")
                    % {"name": data["group"].name},
                )
            return redirect("imports:group", pk=batch.pk)
        if _leaves_coordinator_blind(batch, request.user):
            form.add_error("group", _orphan_warning(form.may_create))
        else:
            return redirect("imports:supervisors", pk=batch.pk)
    return render_step(request, batch, "group", "imports/group.html", {"form": form})


# The warning every coordinator needs before an import, refused where the choice is made.
ORPHAN_WARNING = gettext_lazy(
    "Let op: voeg de kandidaten direct toe aan een kandidaatgroep waaraan je als "
    "toetscoördinator gekoppeld bent. Als je dit niet doet, zijn de kandidatenaccounts na het "
    "importeren niet meer voor jou zichtbaar."
)


def _orphan_warning(may_create: bool) -> str:
    if not may_create:
        return str(ORPHAN_WARNING)
    return f"{ORPHAN_WARNING} {_('Een nieuwe groep die je hier maakt, wordt aan jou gekoppeld.')}"


def _leaves_coordinator_blind(batch: ImportBatch, user) -> bool:
    """True when a coordinator chose no group and the rows would not land in a group of
    theirs either (the file's group column may place them there). The plan's own guard
    decides, so this step refuses exactly what 'Importeer' would refuse."""
    options = ImportOptions.from_json(batch.options)
    if user.role != Role.TOETSCOORDINATOR or options.group_id or options.new_group_name:
        return False
    return bool(services.import_dry_run(batch, actor=user).plan.problems)


@wizard_step
def supervisors(request, batch):
    options = ImportOptions.from_json(batch.options)
    form = SupervisorsForm(
        posted(request),
        user=request.user,
        initial={
            "supervisors": supervisors_visible_to(request.user).filter(
                pk__in=options.supervisor_ids
            ),
            "link_directly": options.link_supervisors_directly,
        },
    )
    if request.method == "POST" and form.is_valid():
        services.batch_set_options(
            batch=batch,
            supervisor_ids=[u.pk for u in form.cleaned_data["supervisors"]],
            link_supervisors_directly=form.cleaned_data["link_directly"],
        )
        return redirect("imports:validity", pk=batch.pk)
    return render_step(
        request,
        batch,
        "supervisors",
        "imports/step_form.html",
        {
            "form": form,
            "title": _("Selecteer begeleiders"),
            "back": "imports:group",
            "intro": _supervisors_intro(options, request.user),
        },
    )


def _supervisors_intro(options: ImportOptions, user) -> str:
    """Say where the supervisors are linked: to the chosen group, or (without one) only to
    the candidates, and then only when 'direct' is ticked."""
    chosen: str | None = options.new_group_name
    if not chosen and options.group_id is not None:
        linkable = groups_linkable_by(user).filter(pk=options.group_id)
        chosen = linkable.values_list("name", flat=True).first()
    if not chosen:
        return _(
            "Je hebt geen kandidaatgroep gekozen. Begeleiders worden dan alleen gekoppeld als je "
            "ze ook direct aan de kandidaten koppelt."
        )
    return _(
        "De begeleiders worden aan de kandidaatgroep '%(name)s' gekoppeld. Let op: de "
        "kandidaten zijn dan alleen zichtbaar voor de begeleider zolang ze tot deze groep "
        "behoren."
    ) % {"name": chosen}


@wizard_step
def validity(request, batch):
    options = ImportOptions.from_json(batch.options)
    form = ValidityForm(
        posted(request),
        initial={"valid_from": options.valid_from, "valid_until": options.valid_until},
    )
    if request.method == "POST" and form.is_valid():
        services.batch_set_options(batch=batch, **form.cleaned_data)
        return redirect("imports:credentials", pk=batch.pk)
    return render_step(
        request,
        batch,
        "validity",
        "imports/step_form.html",
        {
            "form": form,
            "title": _("Geldigheidsduur"),
            "back": "imports:supervisors",
            "intro": _(
                "Advies: verwerk vóór aanvang van een nieuw schooljaar alle mutaties in het "
                "importbestand en importeer het opnieuw. Bestaande kandidaten worden dan "
                "bijgewerkt en hun geldigheid verlengd."
            ),
        },
    )


@wizard_step
def credentials(request, batch):
    options = ImportOptions.from_json(batch.options)
    form = CredentialsForm(
        posted(request),
        initial={"send_credentials": "email" if options.send_credentials else "teacher"},
    )
    if request.method == "POST" and form.is_valid():
        services.batch_set_options(
            batch=batch, send_credentials=form.cleaned_data["send_credentials"]
        )
        return redirect("imports:confirm", pk=batch.pk)
    return render_step(
        request,
        batch,
        "credentials",
        "imports/step_form.html",
        {"form": form, "title": _("Inloggegevens"), "back": "imports:validity"},
    )


@wizard_step
def confirm(request, batch):
    options = ImportOptions.from_json(batch.options)
    form = ConfirmForm(posted(request), initial={"report_email": options.report_email})
    dry = services.import_dry_run(batch)
    plan = dry.plan
    if request.method == "POST" and form.is_valid():
        services.batch_set_options(batch=batch, report_email=form.cleaned_data["report_email"])
        # Import-wide problems are already shown above the summary: not a second time here.
        if plan.counts["errors"] and not options.skip_invalid and not plan.problems:
            form.add_error(
                None,
                _("Er zijn %(count)s fouten. Ga terug naar 'Controle'.")
                % {"count": plan.counts["errors"]},
            )
        elif not plan.problems:
            services.import_queue(batch=batch, actor=request.user, ip=client_ip(request))
            return redirect("imports:result", pk=batch.pk)
    group_obj = (
        None
        if options.group_id is None
        else groups_linkable_by(request.user).filter(pk=options.group_id).first()
    )
    chosen_supervisors = supervisors_visible_to(request.user).filter(pk__in=options.supervisor_ids)
    return render_step(
        request,
        batch,
        "confirm",
        "imports/confirm.html",
        {
            "form": form,
            "plan": plan,
            "counts": plan.counts,
            "group": group_obj,
            "supervisors": chosen_supervisors,
            "mapped": [
                (batch.headers[int(i)], FIELD_BY_NAME[f].label)
                for i, f in sorted(batch.mapping.items(), key=lambda kv: int(kv[0]))
            ],
        },
    )


@role_required(*STAFF)
def result(request, pk):
    batch = get_object_or_404(batches_visible_to(request.user).select_related("created_by"), pk=pk)
    if batch.status == ImportBatch.Status.DRAFT:
        return redirect("imports:mapping", pk=batch.pk)
    failed_mails = OutgoingMail.objects.filter(batch_id=batch.pk, status=OutgoingMail.Status.FAILED)
    return render(
        request,
        "imports/result.html",
        {
            "batch": batch,
            "options": ImportOptions.from_json(batch.options),
            "mail_counts": _mail_counts(batch),
            "failed_mails": failed_mails[:50],
            "results": batch.results[:1000],
            "finished": batch.status in (ImportBatch.Status.DONE, ImportBatch.Status.FAILED),
        },
    )


@role_required(*STAFF)
def progress(request, pk):
    batch = get_object_or_404(batches_visible_to(request.user), pk=pk)
    return JsonResponse(
        {
            "status": batch.status,
            "percent": batch.progress_percent,
            "done": batch.progress_done,
            "total": batch.progress_total,
            "slips_ready": batch.slips is not None,
            # A page left open reloads when the batch can be started again.
            "stuck": batch.is_stuck,
            # The mails go out after the import is done: the result page follows them.
            "mail": _mail_counts(batch),
        }
    )


def _mail_counts(batch: ImportBatch) -> dict[str, int]:
    """Sent, pending, failed, and of the pending ones those waiting for a retry after a
    temporary failure (they carry the error of their last attempt). One query."""
    status = OutgoingMail.Status
    return OutgoingMail.objects.filter(batch_id=batch.pk).aggregate(
        sent=Count("pk", filter=Q(status=status.SENT)),
        pending=Count("pk", filter=Q(status=status.PENDING)),
        failed=Count("pk", filter=Q(status=status.FAILED)),
        retrying=Count("pk", filter=Q(status=status.PENDING) & ~Q(last_error="")),
    )


@role_required(*STAFF)
def slips(request, pk):
    mine = batches_visible_to(request.user).filter(created_by=request.user)
    batch = get_object_or_404(mine, pk=pk)
    if batch.slips is None:  # no slips were made, or they were purged
        raise Http404
    try:
        pdf = unseal(batch.slips)
    except InvalidToken:  # sealed with a key that has since been rotated: gone, as if purged
        raise Http404 from None
    response = FileResponse(iter([pdf]), content_type="application/pdf")
    response["Content-Disposition"] = 'attachment; filename="inlogbriefjes.pdf"'
    return response


@require_POST
@role_required(*STAFF)
def retry(request, pk):
    batch = get_object_or_404(batches_visible_to(request.user), pk=pk)
    if services.import_requeue(batch=batch, actor=request.user, ip=client_ip(request)):
        messages.success(request, _("De import is opnieuw gestart."))
    elif batch.status == ImportBatch.Status.RUNNING:
        messages.error(
            request,
            _(
                "De import is nog bezig en kan nu niet opnieuw worden gestart. Is hij op "
                "%(time)s nog niet voltooid, dan kun je hem opnieuw starten."
            )
            % {"time": date_format(localtime(batch.stuck_after), "j F Y H:i")},
        )
    return redirect("imports:result", pk=batch.pk)


@require_POST
@role_required(*STAFF)
def resend_mails(request, pk):
    batch = get_object_or_404(batches_visible_to(request.user), pk=pk)
    ids = mail_resend(
        mail_ids=list(OutgoingMail.objects.filter(batch_id=batch.pk).values_list("pk", flat=True))
    )
    queue_mails(ids)
    messages.success(
        request, _("%(count)s e-mails worden opnieuw verstuurd.") % {"count": len(ids)}
    )
    return redirect("imports:result", pk=batch.pk)


@role_required(*STAFF)
def history(request):
    batches = (
        batches_visible_to(request.user)
        .exclude(status=ImportBatch.Status.DRAFT)
        .select_related("created_by")[:200]
    )
    now = timezone.now()
    rows = [(b, ImportOptions.from_json(b.options), undo.undoable(b, now)) for b in batches]
    return render(request, "imports/history.html", {"rows": rows})


@role_required(*STAFF)
def undo_import(request, pk):
    """'Maak deze import ongedaan': what it will do (GET), then one confirmation (POST)."""
    batches = batches_visible_to(request.user).select_related("created_by", "undone_by")
    batch = get_object_or_404(batches, pk=pk)
    if request.method == "POST":
        return _undo_confirmed(request, batch)
    plan, refusal = None, None
    if batch.undone_at is None and batch.undo_queued_at is None:
        try:
            undo.undo_check(batch, request.user)
            plan = undo.undo_plan(batch, request.user)
        except undo.UndoRefused as exc:
            refusal = exc.message
    context = {"batch": batch, "plan": plan, "refusal": refusal}
    return render(request, "imports/undo.html", context)


def _undo_confirmed(request, batch: ImportBatch):
    try:
        plan = undo.undo_request(batch=batch, actor=request.user, ip=client_ip(request))
    except undo.UndoRefused as exc:
        messages.error(request, exc.message)
    else:
        if plan is None:
            messages.info(request, _("De import wordt op de achtergrond ongedaan gemaakt."))
        else:
            messages.success(request, _("De import is ongedaan gemaakt."))
    return redirect("imports:undo", pk=batch.pk)
