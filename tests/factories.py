import factory

from accounts.models import Organisation, Role, User
from candidates.models import Candidate, CandidateGroup

TEST_PASSWORD = "Correct-Paard-Batterij-7"


class OrganisationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Organisation

    name = factory.Sequence(lambda n: f"ROC {n}")
    code = factory.Sequence(lambda n: f"roc{n}")
    # No role must use two-step sign-in here, so the tests of other features can log staff in
    # with a password (or force_login) alone. The model's default (and so every real college)
    # requires it of beheerders and toetscoördinatoren; two-step sign-in has its own tests
    # (tests/test_two_factor_*.py), which ask for that default explicitly.
    two_factor_roles = factory.LazyFunction(list)


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    organisation = factory.SubFactory(OrganisationFactory)
    username = factory.Sequence(lambda n: f"user{n}")
    first_name = "Test"
    last_name = factory.Sequence(lambda n: f"Gebruiker{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.test")
    role = Role.BEGELEIDER

    @factory.post_generation
    def password(obj, create, extracted, **kwargs):
        obj.set_password(extracted or TEST_PASSWORD)
        if create:
            obj.save(update_fields=["password"])


class GroupFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CandidateGroup
        skip_postgeneration_save = True

    organisation = factory.SubFactory(OrganisationFactory)
    name = factory.Sequence(lambda n: f"Groep {n}")

    @factory.post_generation
    def coordinators(obj, create, extracted, **kwargs):
        if create and extracted:
            obj.coordinators.set(extracted)

    @factory.post_generation
    def supervisors(obj, create, extracted, **kwargs):
        if create and extracted:
            obj.supervisors.set(extracted)


class CandidateFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Candidate
        skip_postgeneration_save = True

    organisation = factory.SubFactory(OrganisationFactory)
    user = factory.SubFactory(
        UserFactory,
        organisation=factory.SelfAttribute("..organisation"),
        role=Role.KANDIDAAT,
    )
    candidate_number = factory.Sequence(lambda n: f"{n:07d}")

    @factory.post_generation
    def groups(obj, create, extracted, **kwargs):
        if create and extracted:
            obj.groups.set(extracted)

    @factory.post_generation
    def supervisors(obj, create, extracted, **kwargs):
        if create and extracted:
            obj.supervisors.set(extracted)

    @factory.post_generation
    def search(obj, create, extracted, **kwargs):
        obj.refresh_derived()
        if create:
            obj.save(update_fields=list(Candidate.DERIVED_FIELDS))
