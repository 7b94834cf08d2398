"""Helpers shared by the tests of the back office: candidates, groups, staff, audit log."""

from __future__ import annotations

import io
from datetime import timedelta

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from openpyxl import load_workbook

from accounts.models import AuditLog, Role
from candidates.models import Candidate

from ..factories import CandidateFactory, UserFactory


def today():
    return timezone.localdate()


def days(n: int):
    return today() + timedelta(days=n)


def logged_in(client, user):
    client.force_login(user)
    return client


def make_candidates(college, group, n: int, **user_kwargs) -> list[Candidate]:
    return [
        CandidateFactory(organisation=college, groups=[group] if group else [], **user_kwargs)
        for _ in range(n)
    ]


def make_superuser():
    return UserFactory(
        organisation=None, username="root", role="", is_superuser=True, is_staff=True
    )


def make_candidate(world, **kwargs) -> Candidate:
    groups = kwargs.pop("groups", [world.own_group])
    return CandidateFactory(organisation=world.college, groups=groups, **kwargs)


def rows(action, target=None):
    qs = AuditLog.objects.filter(action=action)
    if target is not None:
        qs = qs.filter(target_user=getattr(target, "user", target))
    return list(qs.order_by("created", "id"))


def count_queries(func) -> int:
    with CaptureQueriesContext(connection) as ctx:
        func()
    return len(ctx.captured_queries)


def read_xlsx(content: bytes):
    wb = load_workbook(io.BytesIO(content))
    ws = wb.worksheets[0]
    return ws, [[c.value for c in row] for row in ws.iter_rows()]


def pdf_pages(content: bytes) -> int:
    return content.count(b"/Type /Page\n")


STAFF_ROLES = (Role.BEHEERDER, Role.TOETSCOORDINATOR, Role.BEGELEIDER)
