"""Undo an import: take back what one finished import wrote, from its audit row.

The import left one AuditLog row (IMPORT_FINISHED, with the batch id) and a subject per
candidate it created or changed, holding the values before and after. Undoing reads those:
created accounts are deleted (or deactivated when someone has signed in with them since, or
when the actor may not delete candidates: candidates.selectors.may_delete_candidates),
changed fields get their previous values back, links it added go, and the groups it created
go once empty. A candidate about whom anything was recorded after the import is left alone
and reported as a conflict: the undo never overwrites a later change.

`undo_plan` reads and writes nothing (the preview, `--dry-run`); `undo_request` checks, then
undoes at once or, for a large import, claims the batch and queues `imports.tasks.undo_import`.
Either way the undo itself is one transaction (`_undo_locked`) and one audit row.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import partial
from typing import Any

from django.db import InterfaceError, OperationalError, transaction
from django.db.models import Count, F, Q
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from accounts.models import AuditLog, AuditLogSubject, Organisation, User
from accounts.oidc.tokens import exam_tokens_revoke
from accounts.services import audit
from candidates.models import Candidate, CandidateGroup
from candidates.selectors import candidates_visible_to, may_delete_candidates

from .models import ImportBatch
from .selectors import batches_visible_to
from .services import _enqueue

logger = logging.getLogger(__name__)

# How long after it finished an import may be undone. Later, too much has usually happened to
# its candidates for a mechanical undo to be what anyone wants.
UNDO_DAYS = 14
# Above this many candidates the undo runs on a worker, not in the web request.
TASK_THRESHOLD = 500
UNDO_TASK = "imports.tasks.undo_import"
# Ids per statement, so SQLite's limit on query parameters is never reached.
CHUNK = 500

# Audit actions that change nothing about a candidate: a later sign-in is no conflict.
NOT_CHANGES = (
    AuditLog.Action.LOGIN,
    AuditLog.Action.LOGIN_FAILED,
    AuditLog.Action.IMPERSONATION_STARTED,
    AuditLog.Action.IMPERSONATION_ENDED,
)
# What the import's subjects record and the undo can put back, by model.
USER_FIELDS = ("first_name", "surname_prefix", "last_name", "email", "username", "is_active")
CANDIDATE_FIELDS = ("candidate_number",)
DATE_FIELDS = {"valid_until": "user", "birth_date": "candidate"}


class UndoRefused(Exception):
    """Why this import cannot be undone (Dutch), with a code for the command line."""

    def __init__(self, message: str, code: str) -> None:
        super().__init__(message)
        self.message, self.code = message, code


@dataclass
class Conflict:
    user_id: int
    username: str
    name: str
    reason: str

    def to_json(self) -> dict[str, str]:
        return {"username": self.username, "name": self.name, "reason": self.reason}


@dataclass
class UndoPlan:
    """What undoing the import will do, by user id; nothing of it has happened yet."""

    batch: ImportBatch
    audit_id: int
    subjects: int
    delete: list[int] = field(default_factory=list)
    deactivate: list[int] = field(default_factory=list)
    restore: dict[int, dict[str, Any]] = field(default_factory=dict)
    replaced: dict[int, dict[str, Any]] = field(default_factory=dict)  # the import's values
    usernames: dict[int, str] = field(default_factory=dict)  # of those kept, for the audit
    group_links: list[int] = field(default_factory=list)  # ids of Candidate.groups.through
    supervisor_links: list[int] = field(default_factory=list)
    groups: list[int] = field(default_factory=list)  # created by the import, empty after
    conflicts: list[Conflict] = field(default_factory=list)
    hidden: int = 0  # candidates the actor cannot see: left alone, never named
    passwords_kept: int = 0
    # The actor may not delete candidates (a coordinator, when the college does not allow it):
    # the accounts the import created are deactivated instead.
    no_delete_right: bool = False

    @property
    def counts(self) -> dict[str, int]:
        return {
            "deleted": len(self.delete),
            "deactivated": len(self.deactivate),
            "restored": len(self.restore),
            "links_removed": len(self.group_links) + len(self.supervisor_links),
            "groups_removed": len(self.groups),
            "conflicts": len(self.conflicts),
            "hidden": self.hidden,
            "passwords_kept": self.passwords_kept,
        }


# --- may it be undone? --------------------------------------------------------------------------


def undo_deadline(batch: ImportBatch) -> datetime | None:
    finished = batch.finished_at
    return finished + timedelta(days=UNDO_DAYS) if finished else None


def undoable(batch: ImportBatch, now: datetime | None = None) -> bool:
    """For the history's button: done, not undone or being undone, young enough."""
    deadline = undo_deadline(batch)
    return (
        batch.status == ImportBatch.Status.DONE
        and batch.undone_at is None
        and batch.undo_queued_at is None
        and deadline is not None
        and (now or timezone.now()) < deadline
    )


def undo_check(batch: ImportBatch, actor: User, *, claimed: bool = False) -> None:
    """Raise UndoRefused unless `actor` may undo `batch` now. The one who ran an import and
    the college's beheerder may (the import history's own rule: batches_visible_to). A
    `claimed` batch is the worker's own: its claim and age were checked when it was queued."""
    if not batches_visible_to(actor).filter(pk=batch.pk).exists():
        raise UndoRefused(_("Je mag deze import niet ongedaan maken."), "not_allowed")
    if batch.undone_at is not None:
        raise UndoRefused(
            _("Deze import is al ongedaan gemaakt op %(date)s.")
            % {"date": date_format(timezone.localtime(batch.undone_at), "j F Y H:i")},
            "already_undone",
        )
    if claimed:
        return
    if batch.undo_queued_at is not None:
        raise UndoRefused(_("Deze import wordt al ongedaan gemaakt."), "already_undone")
    if batch.status != ImportBatch.Status.DONE:
        raise UndoRefused(_("Alleen een voltooide import kan ongedaan worden gemaakt."), "not_done")
    if not undoable(batch):
        raise UndoRefused(
            _("Deze import is ouder dan %(days)s dagen en kan niet meer ongedaan worden gemaakt.")
            % {"days": UNDO_DAYS},
            "too_old",
        )


def _finished_audit(batch: ImportBatch) -> AuditLog:
    row = (
        AuditLog.objects.filter(
            organisation_id=batch.organisation_id,
            action=AuditLog.Action.IMPORT_FINISHED,
            after__batch=str(batch.pk),
        )
        .order_by("pk")
        .first()
    )
    if row is None:
        raise UndoRefused(
            _("Van deze import is geen auditregel bewaard; hij kan niet ongedaan worden gemaakt."),
            "no_audit",
        )
    return row


# --- the plan (reads only) -----------------------------------------------------------------------


@dataclass
class _Facts:
    """What the plan needs to know about the import's candidates, read in a few queries."""

    users: dict[int, User]
    visible: set[int]
    changed_later: set[int]
    taken: dict[int, str]  # user id: why a previous username or number cannot come back
    group_links: dict[int, list[tuple[int, int]]]  # candidate: [(link id, group id)]
    supervisor_links: dict[int, list[tuple[int, int]]]
    created_groups: set[int]


def undo_plan(batch: ImportBatch, actor: User) -> UndoPlan:
    """What undoing `batch` as `actor` would do. Reads only; raises UndoRefused when there is
    no audit row to undo from."""
    finished = _finished_audit(batch)
    subjects = list(
        AuditLogSubject.objects.filter(audit=finished)
        .exclude(user=None)
        .values_list("user_id", "action", "before", "after")
    )
    facts = _facts(batch, finished, actor, subjects)
    plan = UndoPlan(
        batch=batch,
        audit_id=finished.pk,
        subjects=len(subjects),
        no_delete_right=not may_delete_candidates(actor),
    )
    for user_id, action, before, after in subjects:
        if user_id not in facts.visible:
            plan.hidden += 1
        elif user_id in facts.changed_later or user_id in facts.taken:
            plan.conflicts.append(_conflict(facts, user_id))
        elif action == AuditLog.Action.USER_CREATED:
            _plan_created(plan, facts, user_id)
        else:
            _plan_changed(plan, facts, user_id, before, after)
    plan.groups = _groups_left_empty(plan, facts)
    plan.conflicts.sort(key=lambda c: (c.name.casefold(), c.username))
    return plan


def _facts(batch: ImportBatch, finished: AuditLog, actor: User, subjects: list) -> _Facts:
    ids = [s[0] for s in subjects]
    created_groups = set(
        CandidateGroup.objects.filter(
            organisation_id=batch.organisation_id,
            name__in=finished.after.get("groups_created") or [],
        ).values_list("pk", flat=True)
    )
    return _Facts(
        users=_in_chunks(
            ids,
            lambda part: {
                u.pk: u
                for u in User.objects.filter(pk__in=part).only(
                    "username", "first_name", "surname_prefix", "last_name", "last_login"
                )
            },
        ),
        visible=set(
            _in_chunks(
                ids,
                lambda part: (
                    candidates_visible_to(actor).filter(pk__in=part).values_list("pk", flat=True)
                ),
            )
        ),
        changed_later=_changed_later(finished, ids),
        taken=_taken(batch.organisation_id, subjects),
        group_links=_links(Candidate.groups.through, "candidategroup_id", ids),
        supervisor_links=_links(Candidate.supervisors.through, "user_id", ids),
        created_groups=created_groups,
    )


def _in_chunks(ids: list[int], read) -> Any:
    """`read(part)` for each CHUNK of ids, merged (a dict, or a list of values)."""
    merged: Any = None
    for start in range(0, len(ids), CHUNK):
        part = read(ids[start : start + CHUNK])
        if isinstance(part, dict):
            merged = (merged or {}) | part
        else:
            merged = (merged or []) + list(part)
    return merged if merged is not None else {}


def _changed_later(finished: AuditLog, ids: list[int]) -> set[int]:
    """The candidates something was recorded about after the import: a row of their own, or
    a subject of a later row (another import). A candidate's own password change after a first
    sign-in is no change to undo over."""
    own_password = Q(action=AuditLog.Action.PASSWORD_RESET, actor_id=F("target_user_id"))

    def read(part: list[int]) -> list[int]:
        rows = (
            AuditLog.objects.filter(pk__gt=finished.pk, target_user_id__in=part)
            .exclude(action__in=NOT_CHANGES)
            .exclude(own_password)
            .values_list("target_user_id", flat=True)
        )
        subjects = AuditLogSubject.objects.filter(
            audit_id__gt=finished.pk, user_id__in=part
        ).values_list("user_id", flat=True)
        return [*rows, *subjects]

    return set(_in_chunks(ids, read) or [])


def _taken(organisation_id: int, subjects: list) -> dict[int, str]:
    """Changed candidates whose previous username or candidate number belongs to another
    account by now: putting it back would take it from them."""
    usernames = {b["username"]: u for u, a, b, _after in subjects if b.get("username")}
    numbers = {
        b["candidate_number"]: u for u, a, b, _after in subjects if b.get("candidate_number")
    }
    taken: dict[int, str] = {}
    for name, owner in User.objects.filter(username__in=list(usernames)).values_list(
        "username", "pk"
    ):
        if owner != usernames[name]:
            taken[usernames[name]] = _("de vorige gebruikersnaam is nu van een ander account")
    for number, owner in Candidate.objects.filter(
        organisation_id=organisation_id, candidate_number__in=list(numbers)
    ).values_list("candidate_number", "pk"):
        if owner != numbers[number]:
            taken[numbers[number]] = _("het vorige kandidaatnummer is nu van een andere kandidaat")
    return taken


def _links(through, column: str, ids: list[int]) -> dict[int, list[tuple[int, int]]]:
    links: dict[int, list[tuple[int, int]]] = {}

    def read(part: list[int]) -> list:
        return list(
            through.objects.filter(candidate_id__in=part).values_list("pk", "candidate_id", column)
        )

    for pk, candidate_id, target in _in_chunks(ids, read) or []:
        links.setdefault(candidate_id, []).append((pk, target))
    return links


def _conflict(facts: _Facts, user_id: int) -> Conflict:
    user = facts.users[user_id]
    reason = facts.taken.get(user_id) or _("na de import opnieuw gewijzigd")
    return Conflict(user_id, user.username, user.display_name or user.username, reason)


def _plan_created(plan: UndoPlan, facts: _Facts, user_id: int) -> None:
    """An account the import made: gone, unless someone has signed in with it since or the
    actor may not delete candidates; then it is kept, inactive, and loses the links the import
    gave it."""
    if facts.users[user_id].last_login is None and not plan.no_delete_right:
        plan.delete.append(user_id)
        return
    plan.deactivate.append(user_id)
    plan.usernames[user_id] = facts.users[user_id].username
    plan.group_links += [pk for pk, _g in facts.group_links.get(user_id, [])]
    plan.supervisor_links += [pk for pk, _s in facts.supervisor_links.get(user_id, [])]


def _plan_changed(plan: UndoPlan, facts: _Facts, user_id: int, before: dict, after: dict) -> None:
    restore = {k: before[k] for k in (*USER_FIELDS, *CANDIDATE_FIELDS, *DATE_FIELDS) if k in after}
    if restore:
        plan.restore[user_id] = restore
        plan.replaced[user_id] = {k: after[k] for k in restore}
        plan.usernames[user_id] = facts.users[user_id].username
    if "password" in after:
        plan.passwords_kept += 1
    added_groups = set(after.get("groups_added") or []) | facts.created_groups
    plan.group_links += [pk for pk, g in facts.group_links.get(user_id, []) if g in added_groups]
    added_supervisors = set(after.get("supervisors_added") or [])
    plan.supervisor_links += [
        pk for pk, s in facts.supervisor_links.get(user_id, []) if s in added_supervisors
    ]


def _groups_left_empty(plan: UndoPlan, facts: _Facts) -> list[int]:
    """The groups the import created that have no member left once the undo is done."""
    if not facts.created_groups:
        return []
    going = set(plan.group_links)
    deleted = set(plan.delete)
    through = Candidate.groups.through
    remaining = through.objects.filter(candidategroup_id__in=facts.created_groups).values_list(
        "pk", "candidate_id", "candidategroup_id"
    )
    kept = {g for pk, c, g in remaining if pk not in going and c not in deleted}
    return sorted(facts.created_groups - kept)


# --- doing it ------------------------------------------------------------------------------------


def undo_request(*, batch: ImportBatch, actor: User, ip: str | None = None) -> UndoPlan | None:
    """'Maak ongedaan' confirmed: undo at once and return what was done, or, for a large import,
    claim the batch and queue the task (returns None). Raises UndoRefused."""
    undo_check(batch, actor)
    subjects = AuditLogSubject.objects.filter(audit=_finished_audit(batch)).count()
    if subjects <= TASK_THRESHOLD:
        return undo_now(batch_id=batch.pk, actor=actor, ip=ip)
    with transaction.atomic():
        claimed = ImportBatch.objects.filter(
            pk=batch.pk, undo_queued_at=None, undone_at=None
        ).update(undo_queued_at=timezone.now(), undone_by=actor, undo_failure="")
        if not claimed:
            raise UndoRefused(_("Deze import wordt al ongedaan gemaakt."), "already_undone")
        transaction.on_commit(partial(_send_task, batch.pk, ip))
    return None


def _send_task(batch_id, ip: str | None) -> None:
    try:
        _enqueue(UNDO_TASK, str(batch_id), ip)
    except Exception as exc:  # broker down: give the claim back, so it can be asked again
        logger.warning("could not queue the undo of import %s: %s", batch_id, exc)
        _unclaim(
            batch_id,
            _("De achtergrondverwerking is nu niet bereikbaar. Probeer het later opnieuw."),
        )


def _unclaim(batch_id, reason: str) -> None:
    ImportBatch.objects.filter(pk=batch_id, undone_at=None).update(
        undo_queued_at=None, undo_failure=reason
    )


def undo_now(*, batch_id, actor: User, ip: str | None = None, claimed: bool = False) -> UndoPlan:
    """Undo in one transaction, under the college's lock (no import writes meanwhile), after
    checking again on the locked batch: a second click or a second task finds it undone."""
    with transaction.atomic():
        Organisation.objects.select_for_update(no_key=True).filter(
            pk=ImportBatch.objects.filter(pk=batch_id).values("organisation_id")[:1]
        ).first()
        batch = ImportBatch.objects.select_for_update().get(pk=batch_id)
        undo_check(batch, actor, claimed=claimed)
        plan = undo_plan(batch, actor)
        _lock_candidates(plan)
        _apply(plan)
        _record(plan, actor, ip)
    return plan


def _lock_candidates(plan: UndoPlan) -> None:
    """Lock the accounts the undo writes (by pk, so two lockers wait rather than deadlock), then
    leave out whoever was deleted or changed since the plan was read. Deleting, editing, the
    nightly retention and the school-year turn do not take the college lock: on PostgreSQL one
    of them can commit between the plan and the writes. From here on they wait for the undo."""
    ids = sorted({*plan.delete, *plan.deactivate, *plan.restore})
    users: dict[int, User] = {}
    for part in _chunks(ids):
        locked = User.objects.select_for_update().filter(pk__in=part).order_by("pk")
        users |= {
            u.pk: u for u in locked.only("username", "first_name", "surname_prefix", "last_name")
        }
        list(
            Candidate.objects.select_for_update()
            .filter(pk__in=part)
            .order_by("pk")
            .values_list("pk", flat=True)
        )
    vanished = [pk for pk in ids if pk not in users]
    changed = _changed_later(AuditLog(pk=plan.audit_id), list(users))
    plan.conflicts += [Conflict(pk, "", "—", _("verwijderd sinds de import")) for pk in vanished]
    plan.conflicts += [
        Conflict(
            pk,
            users[pk].username,
            users[pk].display_name or users[pk].username,
            _("na de import opnieuw gewijzigd"),
        )
        for pk in sorted(changed)
    ]
    if vanished or changed:
        _leave_out(plan, {*vanished, *changed})
        plan.conflicts.sort(key=lambda c: (c.name.casefold(), c.username))


def _leave_out(plan: UndoPlan, ids: set[int]) -> None:
    """Take `ids` out of the plan: nothing of theirs is deleted, deactivated or restored, the
    links the import gave them stay, and links gone meanwhile (with a deletion) are not counted."""
    plan.delete = [pk for pk in plan.delete if pk not in ids]
    plan.deactivate = [pk for pk in plan.deactivate if pk not in ids]
    for pk in ids:
        plan.restore.pop(pk, None)
        plan.replaced.pop(pk, None)
        plan.usernames.pop(pk, None)
    for name, through in (
        ("group_links", Candidate.groups.through),
        ("supervisor_links", Candidate.supervisors.through),
    ):
        setattr(
            plan,
            name,
            _in_chunks(
                getattr(plan, name),
                lambda part, through=through: (
                    through.objects.filter(pk__in=part)
                    .exclude(candidate_id__in=list(ids))
                    .order_by("pk")
                    .values_list("pk", flat=True)
                ),
            )
            or [],
        )


def undo_run_queued(batch_id, ip: str | None = None) -> None:
    """The task's body: undo a claimed batch as the one who claimed it. A refusal or an error
    gives the claim back with the reason, shown on the undo page."""
    batch = ImportBatch.objects.filter(pk=batch_id).first()
    if batch is None or batch.undo_queued_at is None or batch.undone_at is not None:
        return  # a redelivered message: done already, or never claimed
    actor = batch.undone_by
    if actor is None:
        _unclaim(batch_id, _("Het account dat de import ongedaan wilde maken bestaat niet meer."))
        return
    try:
        undo_now(batch_id=batch_id, actor=actor, ip=ip, claimed=True)
    except UndoRefused as exc:
        _unclaim(batch_id, exc.message)
    except (OperationalError, InterfaceError):
        raise  # the task retries with the claim kept; `undo_give_up` when it stops trying
    except Exception:
        _unclaim(
            batch_id,
            _("Het ongedaan maken is door een onverwachte fout afgebroken. Er is niets gewijzigd."),
        )
        raise


def undo_give_up(batch_id) -> None:
    """The task's database retries are spent: give the claim back, so it can be asked again."""
    _unclaim(
        batch_id,
        _("De database was niet bereikbaar. Er is niets gewijzigd; probeer het later opnieuw."),
    )


def _apply(plan: UndoPlan) -> None:
    for ids in _chunks(plan.group_links):
        Candidate.groups.through.objects.filter(pk__in=ids).delete()
    for ids in _chunks(plan.supervisor_links):
        Candidate.supervisors.through.objects.filter(pk__in=ids).delete()
    for ids in _chunks(plan.deactivate):
        User.objects.filter(pk__in=ids).update(is_active=False)
        exam_tokens_revoke(user_ids=ids)
    for ids in _chunks(plan.delete):
        User.objects.filter(pk__in=ids).delete()  # the candidate goes with it (cascade)
    _restore(plan.restore)
    # Only groups empty now (a candidate left out by _lock_candidates may keep one); nobody can
    # have linked anyone else since (the college lock). The count says what really went.
    plan.groups = list(
        CandidateGroup.objects.filter(pk__in=plan.groups)
        .annotate(n=Count("members"))
        .filter(n=0)
        .values_list("pk", flat=True)
    )
    CandidateGroup.objects.filter(pk__in=plan.groups).delete()


def _chunks(ids: list[int]) -> Iterable[list[int]]:
    for start in range(0, len(ids), CHUNK):
        yield ids[start : start + CHUNK]


def _restore(restore: dict[int, dict[str, Any]]) -> None:
    if not restore:
        return
    users = {u.pk: u for u in User.objects.filter(pk__in=list(restore))}
    candidates = {c.pk: c for c in Candidate.objects.filter(pk__in=list(restore))}
    user_fields: set[str] = set()
    candidate_fields: set[str] = set(Candidate.DERIVED_FIELDS)
    for pk, values in restore.items():
        user, candidate = users[pk], candidates[pk]
        for name, value in values.items():
            if DATE_FIELDS.get(name) == "candidate" or name in CANDIDATE_FIELDS:
                setattr(candidate, name, _value(name, value))
                candidate_fields.add(name)
            else:
                setattr(user, name, _value(name, value))
                user_fields.add(name)
        candidate.user = user
        candidate.refresh_derived()
    if user_fields:
        User.objects.bulk_update(list(users.values()), sorted(user_fields), batch_size=CHUNK)
    Candidate.objects.bulk_update(
        list(candidates.values()), sorted(candidate_fields), batch_size=CHUNK
    )


def _value(name: str, value: Any) -> Any:
    """An audited previous value as the model field wants it (dates are stored as ISO text,
    an empty name as None or "")."""
    if name in DATE_FIELDS:
        return date.fromisoformat(value) if value else None
    if name == "is_active":
        return bool(value)
    return value or ""


def _record(plan: UndoPlan, actor: User, ip: str | None) -> None:
    """One audit row with the counts (no names), a subject per candidate kept and changed,
    and the batch marked undone."""
    batch = plan.batch
    undone = audit(
        action=AuditLog.Action.IMPORT_UNDONE,
        actor=actor,
        organisation=batch.organisation,
        target_repr=batch.file_name,
        after={"batch": str(batch.pk), **plan.counts},
        ip=ip,
    )
    AuditLogSubject.objects.bulk_create(
        [
            AuditLogSubject(
                audit=undone,
                user_id=pk,
                action=AuditLog.Action.USER_CHANGED,
                target_repr=plan.usernames[pk],
                before=plan.replaced[pk],
                after=values,
            )
            for pk, values in plan.restore.items()
        ]
        + [
            AuditLogSubject(
                audit=undone,
                user_id=pk,
                action=AuditLog.Action.STATUS_CHANGED,
                target_repr=plan.usernames[pk],
                before={"is_active": True},
                after={"is_active": False},
            )
            for pk in plan.deactivate
        ],
        batch_size=CHUNK,
    )
    ImportBatch.objects.filter(pk=batch.pk).update(
        undone_at=timezone.now(),
        undone_by=actor,
        undo_queued_at=batch.undo_queued_at or timezone.now(),
        undo_failure="",
        undo_counts={
            **plan.counts,
            "conflict_list": [c.to_json() for c in plan.conflicts],
            "no_delete_right": plan.no_delete_right,
        },
    )
