"""Colleges, staff, groups and candidates for the benchmark, written directly with bulk_create
(the import is what is measured, so it is not used to fill the database).

Every section works in colleges of its own, so sections do not disturb each other; the
database as a whole still holds everything, as a shared installation does.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import date, timedelta

from .datafiles import GROUP_NAMES, people

_PASSWORD_HASH = None
_counter = itertools.count(1)


def precomputed_hash() -> str:
    """One real hash (generated-password hasher) shared by every seeded candidate."""
    global _PASSWORD_HASH
    if _PASSWORD_HASH is None:
        from django.contrib.auth.hashers import make_password

        _PASSWORD_HASH = make_password("bench-only-password-7k", hasher="pbkdf2_sha256_generated")
    return _PASSWORD_HASH


@dataclass
class College:
    organisation: object  # accounts.models.Organisation
    beheerder: object  # accounts.models.User
    coordinator: object
    groups: list  # CandidateGroup, in GROUP_NAMES order


def college(code: str | None = None, *, coordinator_groups: int = 0) -> College:
    """A new college with a beheerder, a coordinator linked to the first `coordinator_groups`
    groups, and one group per class name that occurs in the input files."""
    from accounts.models import Organisation, Role, User
    from candidates.models import CandidateGroup

    code = code or f"b{next(_counter)}"
    # The bench measures pages, not the sign-in: no second factor for its staff.
    org = Organisation.objects.create(name=f"ROC Bench {code}", code=code, two_factor_roles=[])
    beheerder = User.objects.create(
        username=f"{code}-beheerder",
        organisation=org,
        role=Role.BEHEERDER,
        first_name="Bea",
        last_name="Heerder",
        email=f"beheer@{code}.example.nl",
        password=precomputed_hash(),
    )
    coordinator = User.objects.create(
        username=f"{code}-coordinator",
        organisation=org,
        role=Role.TOETSCOORDINATOR,
        first_name="Toon",
        last_name="Coördinator",
        email=f"toets@{code}.example.nl",
        password=precomputed_hash(),
    )
    groups = CandidateGroup.objects.bulk_create(
        CandidateGroup(organisation=org, name=name) for name in GROUP_NAMES
    )
    if any(g.pk is None for g in groups):
        groups = list(CandidateGroup.objects.filter(organisation=org).order_by("pk"))
    for group in groups[:coordinator_groups]:
        group.coordinators.add(coordinator)
    return College(org, beheerder, coordinator, groups)


def candidates(
    target: College,
    n: int,
    *,
    rows: list[list] | None = None,
    valid_until: date | None = None,
    chunk: int = 5000,
) -> int:
    """Bulk-create n candidates in `target` (from `rows`, file-shaped, or generated), each in
    the group its row names. Returns how many were created."""
    from django.db import transaction

    from accounts.models import Role, User
    from candidates.models import Candidate
    from imports.planning import make_username

    rows = rows if rows is not None else people(n, seed=7)
    org = target.organisation
    group_by_name = {g.name: g.pk for g in target.groups}
    password = precomputed_hash()
    valid_until = valid_until or date.today() + timedelta(days=300)
    through = Candidate.groups.through
    with transaction.atomic():
        for start in range(0, len(rows), chunk):
            part = rows[start : start + chunk]
            users = [
                User(
                    username=make_username(org, row[0]),
                    organisation=org,
                    role=Role.KANDIDAAT,
                    first_name=row[1],
                    surname_prefix=row[2],
                    last_name=row[3],
                    email=row[4],
                    password=password,
                    valid_from=date.today() - timedelta(days=365),
                    valid_until=valid_until,
                )
                for row in part
            ]
            User.objects.bulk_create(users, batch_size=1000)
            if any(u.pk is None for u in users):
                ids = dict(
                    User.objects.filter(username__in=[u.username for u in users]).values_list(
                        "username", "pk"
                    )
                )
                for u in users:
                    u.pk = u.id = ids[u.username]
            Candidate.objects.bulk_create(
                [
                    Candidate(
                        user_id=user.pk,
                        organisation=org,
                        candidate_number=row[0],
                        birth_date=row[5],
                        search_text=Candidate.build_search_text(
                            first_name=user.first_name,
                            surname_prefix=user.surname_prefix,
                            last_name=user.last_name,
                            email=user.email,
                            username=user.username,
                            candidate_number=row[0],
                        ),
                        name_key=Candidate.build_name_key(
                            first_name=user.first_name,
                            surname_prefix=user.surname_prefix,
                            last_name=user.last_name,
                        ),
                    )
                    for row, user in zip(part, users, strict=True)
                ],
                batch_size=1000,
            )
            through.objects.bulk_create(
                [
                    through(candidate_id=user.pk, candidategroup_id=group_by_name[row[6]])
                    for row, user in zip(part, users, strict=True)
                    if row[6] in group_by_name
                ],
                batch_size=2000,
            )
    if len(rows) >= 1000:
        analyze()
    return len(rows)


def purge_candidates(org) -> None:
    """Remove a college's candidates and everything an import wrote about them, so the next
    run starts from the same database. The two big tables are emptied with plain DELETEs;
    the rest goes through Django's delete, which follows every relation (and keeps working
    when the schema changes)."""
    from django.db import transaction

    from accounts.models import AuditLog, AuditLogSubject, OutgoingMail, Role, User
    from imports.models import ImportBatch

    with transaction.atomic():
        # The audit ids first, so the subjects go by their indexed key: a join in the DELETE
        # is planned as nested loops while the table's statistics still say it is empty.
        audits = list(AuditLog.objects.filter(organisation=org).values_list("pk", flat=True))
        for qs in (
            # Subjects first: a raw delete of their audit rows does not cascade.
            AuditLogSubject.objects.filter(audit_id__in=audits),
            AuditLog.objects.filter(organisation=org),
            OutgoingMail.objects.filter(organisation=org),
        ):
            qs._raw_delete(qs.db)
        ImportBatch.objects.filter(organisation=org).delete()
        User.objects.filter(organisation=org, role=Role.KANDIDAAT).delete()


def analyze() -> None:
    """PostgreSQL: what autovacuum does in production within a minute or so of a bulk load
    (since PostgreSQL 13 also for tables that only grow): refresh the planner's statistics
    (without them it plans for a few hundred rows where there are 50,000) and the visibility
    map (without it every index-only scan reads the table too: the platform section's
    10,000-username probe fetched 10,000 heap rows after a COPY of 1,200,000). SQLite never
    gathers statistics by itself, so neither do we there."""
    from django.db import DatabaseError, connection

    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")
            # And write the load out now, as a production database has long done before anyone
            # lists candidates: otherwise the next checkpoint may flush a gigabyte of dirty
            # pages on these 2 cores while the figures are taken.
            try:
                cursor.execute("CHECKPOINT")
            except DatabaseError:  # needs superuser or pg_checkpoint: then as it comes
                pass


def candidates_copy(
    target: College,
    n: int,
    *,
    rows: list[list] | None = None,
    valid_until: date | None = None,
    seed: int = 7,
) -> int:
    """PostgreSQL only: the same candidates as `candidates()`, written with COPY (users,
    candidates, group links) in one transaction, ids taken from the users' sequence up front.
    About ten times faster than bulk_create, which is what filling a platform of 1,200,000
    candidates needs. No ANALYZE: the caller runs it once after the last college."""
    from django.db import connection, transaction
    from django.utils import timezone

    from accounts.models import Role
    from candidates.models import Candidate
    from imports.planning import make_username

    if connection.vendor != "postgresql":
        raise RuntimeError("candidates_copy needs PostgreSQL (COPY)")
    rows = rows if rows is not None else people(n, seed=seed)
    org = target.organisation
    group_by_name = {g.name: g.pk for g in target.groups}
    password = precomputed_hash()
    valid_from = date.today() - timedelta(days=365)
    valid_until = valid_until or date.today() + timedelta(days=300)
    now = timezone.now()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence('accounts_user', 'id')) "
            "FROM generate_series(1, %s)",
            [len(rows)],
        )
        ids = [row[0] for row in cursor.fetchall()]
        users = []
        with cursor.copy(
            "COPY accounts_user (id, password, is_superuser, username, first_name, last_name, "
            "email, is_staff, is_active, date_joined, role, surname_prefix, valid_from, "
            "valid_until, must_change_password, organisation_id) FROM STDIN"
        ) as copy:
            for pk, row in zip(ids, rows, strict=True):
                username = make_username(org, row[0])
                users.append(username)
                copy.write_row(
                    (pk, password, False, username, row[1], row[3], row[4], False, True, now,
                     Role.KANDIDAAT.value, row[2], valid_from, valid_until, False, org.pk)
                )  # fmt: skip
        with cursor.copy(
            "COPY candidates_candidate (user_id, candidate_number, birth_date, search_text, "
            "created, organisation_id, name_key) FROM STDIN"
        ) as copy:
            for pk, username, row in zip(ids, users, rows, strict=True):
                search = Candidate.build_search_text(
                    first_name=row[1],
                    surname_prefix=row[2],
                    last_name=row[3],
                    email=row[4],
                    username=username,
                    candidate_number=row[0],
                )
                key = Candidate.build_name_key(
                    first_name=row[1], surname_prefix=row[2], last_name=row[3]
                )
                copy.write_row((pk, row[0], row[5], search, now, org.pk, key))
        with cursor.copy(
            "COPY candidates_candidate_groups (candidate_id, candidategroup_id) FROM STDIN"
        ) as copy:
            for pk, row in zip(ids, rows, strict=True):
                if row[6] in group_by_name:
                    copy.write_row((pk, group_by_name[row[6]]))
    return len(rows)
