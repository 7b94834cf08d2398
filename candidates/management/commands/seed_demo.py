"""Demo data that shows every visibility rule at work. Safe to run again."""

import random
from datetime import date, timedelta

from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from accounts.models import EducationArea, Organisation, Role, User
from accounts.passwords import generate_password
from candidates.models import Candidate, CandidateGroup
from candidates.services.candidates import candidate_create
from candidates.services.groups import group_create
from candidates.services.staff import staff_create

FIRST = [
    "Jan",
    "Sanne",
    "Mohammed",
    "Fatima",
    "Lars",
    "Eva",
    "Daan",
    "Noor",
    "Sem",
    "Zoë",
    "Liam",
    "Anouk",
    "Émile",
    "Iris",
    "Bram",
    "Yara",
    "Thijs",
    "Ayşe",
    "Luuk",
    "Fleur",
]
LAST = [
    ("", "Jansen"),
    ("de", "Vries"),
    ("van der", "Berg"),
    ("", "Bakker"),
    ("van", "Dijk"),
    ("", "Yılmaz"),
    ("de", "Boer"),
    ("", "El Amrani"),
    ("van den", "Heuvel"),
    ("", "Smit"),
    ("", "Meijer"),
    ("ter", "Horst"),
    ("", "Öztürk"),
    ("van", "Leeuwen"),
    ("", "Mulder"),
]


class Command(BaseCommand):
    help = "Maakt demo-gegevens aan: twee scholen, medewerkers, groepen en kandidaten."

    @transaction.atomic
    def handle(self, *args, **options):
        # The demo college asks nobody for two-step sign-in, so the demo accounts work with the
        # passwords printed below; a beheerder turns it on under Instellingen →
        # Tweestapsverificatie (README). A real college requires it by default.
        demo, _ = Organisation.objects.get_or_create(
            code="demo", defaults={"name": "ROC Demo", "two_factor_roles": []}
        )
        other, _ = Organisation.objects.get_or_create(
            code="anders", defaults={"name": "ROC Anders", "two_factor_roles": []}
        )
        area_zorg, _ = EducationArea.objects.get_or_create(
            organisation=demo, name="Zorg en welzijn"
        )
        area_tech, _ = EducationArea.objects.get_or_create(organisation=demo, name="Techniek")
        staff, created_logins = _demo_staff(demo)
        if not CandidateGroup.objects.filter(organisation=demo).exists():
            _demo_groups_and_candidates(demo, staff, area_zorg=area_zorg, area_tech=area_tech)
        if not Candidate.objects.filter(organisation=other).exists():
            _other_college(other)

        if created_logins:
            self.stdout.write("Demo-accounts (wachtwoorden worden alleen nu getoond):")
            for username, password in created_logins:
                self.stdout.write(f"  {username:<18} {password}")
        else:
            self.stdout.write("Demo-gegevens bestaan al; er is niets gewijzigd.")


def _demo_staff(demo: Organisation) -> tuple[dict[str, User], list[tuple[str, str]]]:
    """The demo college's staff by username, and the logins of those created just now."""
    created_logins = []
    staff = {}
    for username, role, first, prefix, last in [
        ("beheerder", Role.BEHEERDER, "Bea", "", "Beheer"),
        ("toetscoordinator", Role.TOETSCOORDINATOR, "Tom", "van", "Toets"),
        ("begeleider", Role.BEGELEIDER, "Bo", "de", "Begeleider"),
        ("begeleider2", Role.BEGELEIDER, "Ben", "", "Bos"),
    ]:
        user = User.objects.filter(username=username).first()
        if user is None:
            password = generate_password()
            user = staff_create(
                actor=None,
                organisation=demo,
                username=username,
                role=role,
                first_name=first,
                surname_prefix=prefix,
                last_name=last,
                email=f"{username}@demo.example",
                password=password,
            )
            created_logins.append((username, password))
        staff[username] = user
    return staff, created_logins


def _demo_groups_and_candidates(
    demo: Organisation,
    staff: dict[str, User],
    *,
    area_zorg: EducationArea,
    area_tech: EducationArea,
) -> None:
    zorg = group_create(
        actor=None,
        organisation=demo,
        name="Verpleegkunde 2026",
        education_area=area_zorg,
        coordinators=[staff["toetscoordinator"]],
        supervisors=[staff["begeleider"]],
    )
    tech = group_create(
        actor=None,
        organisation=demo,
        name="Elektrotechniek 2026",
        education_area=area_tech,
        supervisors=[staff["begeleider2"]],
    )
    # Seeded, so every run makes the same birth dates.
    rng = random.Random(2026)  # noqa: S311  demo birth dates, nothing secret is drawn

    until = demo.default_valid_until()
    today = timezone.localdate()
    for i in range(36):
        first = FIRST[i % len(FIRST)]
        prefix, last = LAST[(i * 7) % len(LAST)]
        number = f"{100 + i:07d}"
        candidate_create(
            actor=None,
            organisation=demo,
            username=f"demo-{number}",
            candidate_number=number,
            first_name=first,
            surname_prefix=prefix,
            last_name=last,
            email=f"kandidaat{i}@leerling.example",
            birth_date=date(2006, 1, 1) + timedelta(days=rng.randint(0, 1500)),
            password=None,
            valid_from=today,
            valid_until=until,
            groups=[zorg if i < 20 else tech],
            # One candidate of the other group is linked to the supervisor directly,
            # so 'Mijn kandidaten' shows both kinds of link.
            supervisors=[staff["begeleider"]] if i == 25 else [],
        )
    _expired_candidate(demo, zorg, today)


def _expired_candidate(demo: Organisation, group: CandidateGroup, today: date) -> None:
    """An expired candidate, to show the login message."""
    candidate_create(
        actor=None,
        organisation=demo,
        username="demo-verlopen",
        candidate_number="0009999",
        first_name="Vera",
        last_name="Verlopen",
        valid_from=today - timedelta(days=400),
        valid_until=today - timedelta(days=30),
        groups=[group],
        # A known password, so the demo can show what an expired account sees at login.
        password="Verlopen-2025!",  # noqa: S106  demo account that can no longer log in
    )


def _other_college(other: Organisation) -> None:
    """A second college with the same candidate numbers (they are unique per college), which
    no user of the demo college may ever see."""
    ander_beheer = User.objects.filter(username="beheerder-anders").first() or staff_create(
        actor=None,
        organisation=other,
        username="beheerder-anders",
        role=Role.BEHEERDER,
        first_name="Anne",
        last_name="Anders",
        password=None,
    )
    group = group_create(actor=None, organisation=other, name="Verpleegkunde 2026")
    for i in range(8):
        number = f"{100 + i:07d}"  # same numbers as the demo college: numbers are per college
        candidate_create(
            actor=ander_beheer,
            organisation=other,
            username=f"anders-{number}",
            candidate_number=number,
            first_name=FIRST[-1 - i],
            last_name="Anders",
            groups=[group],
        )
