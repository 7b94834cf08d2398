"""Benchmark: Beheer → Kandidaten for a college with 50,000 candidates.

    .venv/bin/python -m bench.candidate_list [--candidates 50000] [--repeat 20]

Builds a throw-away database (SQLite in a temporary folder, or the database in DATABASE_URL
when that is set: it must be empty and disposable), fills one college with N candidates in 100
groups, and times whole requests through Django's test client (middleware, query, template),
for a beheerder and a coordinator, first page and a few filters. The promise to the colleges: the
first page well under 200 ms, and the same number of queries for every page.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
import warnings
from pathlib import Path

BUDGET_MS = 200


def setup_django(tmp: Path) -> None:
    warnings.filterwarnings("ignore", message="No directory at")  # whitenoise, no collectstatic
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    os.environ.setdefault("KB_TESTING", "1")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    os.environ.setdefault("DATABASE_URL", f"sqlite:///{tmp / 'bench.sqlite3'}")
    os.environ.setdefault("AXES_ENABLED", "0")
    import django

    django.setup()
    from django.core.management import call_command
    from django.test.utils import override_settings

    # Not setup_test_environment(): its template instrumentation would be timed too.
    override_settings(
        ALLOWED_HOSTS=["testserver"],
        EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend",
    ).enable()
    call_command("migrate", verbosity=0)


def seed(n: int):
    from datetime import date, timedelta

    from django.contrib.auth.hashers import make_password
    from django.db import transaction

    from accounts.models import Organisation, Role, User
    from candidates.models import Candidate, CandidateGroup

    first = ["Jan", "Sanne", "Mohammed", "Fatima", "Lars", "Émile", "Zoë", "Ayşe", "Daan", "Noor"]
    last = [("", "Jansen"), ("de", "Vries"), ("van der", "Berg"), ("", "Öztürk"), ("", "Bakker")]
    password = make_password("bench-only-password", hasher="pbkdf2_sha256_generated")
    with transaction.atomic():
        # The bench measures pages, not the sign-in: no second factor for its staff.
        college = Organisation.objects.create(name="ROC Bench", code="bench", two_factor_roles=[])
        other = Organisation.objects.create(name="ROC Ander", code="ander", two_factor_roles=[])
        beheerder = User.objects.create(
            username="bench-beheerder", organisation=college, role=Role.BEHEERDER
        )
        coordinator = User.objects.create(
            username="bench-coord", organisation=college, role=Role.TOETSCOORDINATOR
        )
        groups = CandidateGroup.objects.bulk_create(
            CandidateGroup(organisation=college, name=f"Groep {i:03d}") for i in range(100)
        )
        for group in groups[:5]:  # the coordinator sees 5 % of the college
            group.coordinators.add(coordinator)
        today = date.today()
        for start in range(0, n, 5000):
            chunk = range(start, min(start + 5000, n))
            users = User.objects.bulk_create(
                User(
                    username=f"bench-{i:07d}",
                    organisation=college if i % 10 else other,  # 10 % in another college
                    role=Role.KANDIDAAT,
                    first_name=first[i % len(first)],
                    surname_prefix=last[(i * 7) % len(last)][0],
                    last_name=f"{last[(i * 7) % len(last)][1]}{i % 997}",
                    email=f"k{i}@leerling.example",
                    password=password,
                    valid_until=today + timedelta(days=i % 400 - 40),
                )
                for i in chunk
            )
            candidates = []
            for i, user in zip(chunk, users, strict=True):
                candidate = Candidate(
                    user=user, organisation_id=user.organisation_id, candidate_number=f"{i:07d}"
                )
                candidate.user = user
                candidate.refresh_derived()
                candidates.append(candidate)
            Candidate.objects.bulk_create(candidates)
            Candidate.groups.through.objects.bulk_create(
                Candidate.groups.through(candidate_id=u.pk, candidategroup_id=groups[i % 100].pk)
                for i, u in zip(chunk, users, strict=True)
                if u.organisation_id == college.pk
            )
    # What autovacuum does on a live database after a big import: fresh planner statistics.
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    return beheerder, coordinator


def explain(user) -> None:
    """Print the plans of the list's two big queries (count and first page)."""
    from candidates.selectors import candidates_filtered

    print(candidates_filtered(user).explain(analyze=True))
    print(candidates_filtered(user).select_related("user")[:50].explain(analyze=True))


def measure(client, url: str, repeat: int) -> tuple[float, float, int]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client.get(url)  # warm-up: session, template cache
    timings = []
    for _ in range(repeat):
        start = time.perf_counter()
        response = client.get(url)
        timings.append((time.perf_counter() - start) * 1000)
        if response.status_code != 200:
            raise RuntimeError(f"{url} answered {response.status_code}, not 200")
    with CaptureQueriesContext(connection) as ctx:
        client.get(url)
    return statistics.median(timings), max(timings), len(ctx.captured_queries)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--candidates", type=int, default=50_000)
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="kb-bench-") as tmp:
        setup_django(Path(tmp))
        from django.test import Client
        from django.urls import reverse

        started = time.perf_counter()
        beheerder, coordinator = seed(args.candidates)
        print(f"seeded {args.candidates} candidates in {time.perf_counter() - started:.1f} s")
        url = reverse("candidates:list")
        if os.environ.get("BENCH_EXPLAIN"):
            explain(beheerder)
        cases = [
            ("beheerder", beheerder, url),
            ("beheerder", beheerder, url + "?page=400"),
            ("beheerder", beheerder, url + "?sort=-number"),
            ("beheerder", beheerder, url + "?q=emile+jansen"),
            ("beheerder", beheerder, url + "?validity=expiring&status=active"),
            ("beheerder", beheerder, url + "?per_page=250"),
            ("coordinator", coordinator, url),
            ("coordinator", coordinator, url + "?q=zoe"),
        ]
        failed = False
        print(f"{'who':<12} {'url':<52} {'median':>8} {'max':>8} {'queries':>8}")
        for who, user, case_url in cases:
            client = Client()
            client.force_login(user)
            median, worst, queries = measure(client, case_url, args.repeat)
            print(f"{who:<12} {case_url:<52} {median:>6.1f}ms {worst:>6.1f}ms {queries:>8}")
            if case_url == url and median >= BUDGET_MS:
                failed = True
        print("first page within budget" if not failed else f"FIRST PAGE OVER {BUDGET_MS} ms")
        return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
