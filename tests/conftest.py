"""One user per role in one college, plus an outsider college (healthchecks' owner/member/
outsider pattern), and the candidates that make every visibility rule visible."""

from dataclasses import dataclass

import pytest
from django.conf import settings
from django.utils import translation

from accounts.models import Organisation, Role, User
from candidates.models import Candidate, CandidateGroup

from .factories import CandidateFactory, GroupFactory, OrganisationFactory, UserFactory

pytest_plugins = ["tests.helpers.services"]


@pytest.fixture(autouse=True)
def default_language():
    """Every test starts in the default language: a request in English leaves English active
    in the thread, and code that prints in the active language would then depend on test order."""
    translation.activate(settings.LANGUAGE_CODE)
    yield
    translation.activate(settings.LANGUAGE_CODE)


@dataclass
class World:
    college: Organisation
    other_college: Organisation
    beheerder: User
    coordinator: User
    supervisor: User
    other_coordinator: User
    outsider: User  # beheerder of the other college
    own_group: CandidateGroup  # coordinator and supervisor are linked to it
    other_group: CandidateGroup  # same college, nobody of ours linked
    in_own_group: Candidate
    in_other_group: Candidate
    directly_linked: Candidate  # in other_group, but linked to the supervisor directly
    of_other_college: Candidate
    foreign_group: CandidateGroup


@pytest.fixture
def world(db) -> World:
    college = OrganisationFactory(name="ROC Midden", code="rocm")
    other_college = OrganisationFactory(name="ROC Anders", code="roca")
    beheerder = UserFactory(organisation=college, username="beheerder", role=Role.BEHEERDER)
    coordinator = UserFactory(organisation=college, username="coord", role=Role.TOETSCOORDINATOR)
    other_coordinator = UserFactory(
        organisation=college, username="coord2", role=Role.TOETSCOORDINATOR
    )
    supervisor = UserFactory(organisation=college, username="begel", role=Role.BEGELEIDER)
    outsider = UserFactory(organisation=other_college, username="outsider", role=Role.BEHEERDER)
    own_group = GroupFactory(
        organisation=college, name="Zorg 1", coordinators=[coordinator], supervisors=[supervisor]
    )
    other_group = GroupFactory(
        organisation=college, name="Techniek 1", coordinators=[other_coordinator]
    )
    foreign_group = GroupFactory(organisation=other_college, name="Zorg 1")
    in_own_group = CandidateFactory(
        organisation=college,
        candidate_number="0000001",
        groups=[own_group],
        user__username="kand-own",
        user__first_name="Anna",
        user__last_name="Eigen",
    )
    in_other_group = CandidateFactory(
        organisation=college,
        candidate_number="0000002",
        groups=[other_group],
        user__username="kand-other",
        user__first_name="Bert",
        user__last_name="Ander",
    )
    directly_linked = CandidateFactory(
        organisation=college,
        candidate_number="0000003",
        groups=[other_group],
        supervisors=[supervisor],
        user__username="kand-direct",
        user__first_name="Cees",
        user__last_name="Direct",
    )
    of_other_college = CandidateFactory(
        organisation=other_college,
        candidate_number="0000001",
        groups=[foreign_group],
        user__username="kand-foreign",
        user__first_name="Dirk",
        user__last_name="Vreemd",
    )
    return World(
        college=college,
        other_college=other_college,
        beheerder=beheerder,
        coordinator=coordinator,
        supervisor=supervisor,
        other_coordinator=other_coordinator,
        outsider=outsider,
        own_group=own_group,
        other_group=other_group,
        in_own_group=in_own_group,
        in_other_group=in_other_group,
        directly_linked=directly_linked,
        of_other_college=of_other_college,
        foreign_group=foreign_group,
    )
