"""Who a provider's answer signs in (accounts.college_sign_in.match_staff_account): only an
existing staff account of that same college, matched without regard to case."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.college_sign_in import match_staff_account
from accounts.models import AuditLog, CollegeSignIn, Role, User
from accounts.services import audit
from tests.factories import CandidateFactory, UserFactory

EMAIL, USERNAME = CollegeSignIn.Claim.EMAIL, CollegeSignIn.Claim.USERNAME


def test_email_and_username_match_without_regard_to_case(world):
    assert match_staff_account(world.college, EMAIL, " Coord@EXAMPLE.test ").user == (
        world.coordinator
    )
    assert match_staff_account(world.college, USERNAME, "BEGEL").user == world.supervisor
    # The claim decides which field is compared: a username is no e-mail address.
    assert match_staff_account(world.college, EMAIL, "begel").refusal == "no_account"


@pytest.mark.parametrize(
    ("value", "refusal"),
    [
        ("", "no_claim"),
        ("outsider@example.test", "no_account"),  # staff of the other college
        ("kand-own@example.test", "candidate"),
        ("kand-foreign@example.test", "no_account"),  # a candidate of the other college
    ],
)
def test_refusals(world, value, refusal):
    match = match_staff_account(world.college, EMAIL, value)
    assert (match.refusal, match.user) == (
        refusal,
        world.in_own_group.user if refusal == "candidate" else None,
    )


def test_nobody_is_created(world):
    before = User.objects.count()
    match_staff_account(world.college, EMAIL, "nieuw@example.test")
    assert User.objects.count() == before


def test_a_platform_operator_or_roleless_account_never_matches(world):
    UserFactory(organisation=None, role="", username="op", email="op@example.test")
    UserFactory(organisation=world.college, role="", username="leeg", email="leeg@example.test")
    assert match_staff_account(world.college, EMAIL, "op@example.test").refusal == "no_account"
    assert match_staff_account(world.college, USERNAME, "leeg").refusal == "no_account"


def test_two_staff_accounts_with_one_address_are_refused(world):
    UserFactory(organisation=world.college, role=Role.BEGELEIDER, email="COORD@example.test")
    assert match_staff_account(world.college, EMAIL, "coord@example.test").refusal == "ambiguous"


def _candidates_with_address(world, email: str, count: int) -> None:
    """Candidates whose credential mails go to a staff member's address."""
    for i in range(count):
        CandidateFactory(
            organisation=world.college,
            groups=[world.own_group],
            user__username=f"kand-{email.split('@')[0].lower()}-{i}",
            user__email=email,
        )


def test_staff_found_although_candidates_share_the_address(world):
    _candidates_with_address(world, "Coord@example.test", 3)
    match = match_staff_account(world.college, EMAIL, "coord@example.test")
    assert (match.refusal, match.user) == (None, world.coordinator)
    # A staff account made after the candidates (higher ids, last in any natural order).
    _candidates_with_address(world, "nieuw-coord@example.test", 3)
    late = UserFactory(
        organisation=world.college,
        username="zz-late",
        role=Role.TOETSCOORDINATOR,
        email="nieuw-coord@example.test",
    )
    match = match_staff_account(world.college, EMAIL, "Nieuw-Coord@example.test")
    assert (match.refusal, match.user) == (None, late)


@pytest.mark.parametrize(
    "roles",
    [
        (Role.BEHEERDER, Role.TOETSCOORDINATOR),  # three candidates fill the old 3-row slice
        (Role.TOETSCOORDINATOR, Role.BEHEERDER),
    ],
)
@pytest.mark.parametrize("candidates", [2, 3])
def test_two_staff_accounts_behind_candidates_are_still_ambiguous(world, roles, candidates):
    _candidates_with_address(world, "toetsen@example.test", candidates)
    for name, role in zip(("zz-a", "zz-b"), roles, strict=True):
        UserFactory(
            organisation=world.college, username=name, role=role, email="toetsen@example.test"
        )
    match = match_staff_account(world.college, EMAIL, "toetsen@example.test")
    assert (match.refusal, match.user) == ("ambiguous", None)


def test_a_candidate_sharing_the_address_alone_is_refused_as_candidate(world):
    _candidates_with_address(world, "gedeeld@example.test", 2)
    match = match_staff_account(world.college, EMAIL, "GEDEELD@example.test")
    assert match.refusal == "candidate"
    assert match.user is not None and match.user.username == "kand-gedeeld-0"


def test_inactive_and_validity(world):
    today = timezone.localdate()
    world.coordinator.is_active = False
    world.coordinator.save()
    world.supervisor.valid_until = today - timedelta(days=1)
    world.supervisor.save()
    world.beheerder.valid_from = today + timedelta(days=3)
    world.beheerder.save()
    assert match_staff_account(world.college, USERNAME, "coord").refusal == "inactive"
    assert match_staff_account(world.college, USERNAME, "begel").refusal == "expired"
    assert match_staff_account(world.college, USERNAME, "beheerder").refusal == "not_yet_valid"


@pytest.mark.parametrize("name", ["accounts:college_sign_in", "accounts:college_sign_in_callback"])
def test_unknown_or_switched_off_colleges_are_404_and_post_is_405(client, world, name):
    CollegeSignIn.objects.create(organisation=world.college, issuer="https://x.test", client_id="x")
    assert client.get(reverse(name, args=["rocm"])).status_code == 404  # not enabled
    assert client.get(reverse(name, args=["bestaat-niet"])).status_code == 404
    assert client.post(reverse(name, args=["rocm"])).status_code == 405


def test_the_audit_log_names_sso_sign_ins_and_refusals_in_dutch(client, world):
    audit(
        action=AuditLog.Action.LOGIN,
        actor=world.coordinator,
        target=world.coordinator,
        after={"sign_in": "college_idp"},
    )
    audit(
        action=AuditLog.Action.LOGIN_FAILED,
        actor=None,
        target=world.in_own_group.user,
        organisation=world.college,
        after={"sign_in": "college_idp", "refusal": "candidate"},
    )
    client.force_login(world.beheerder)
    page = client.get(reverse("candidates:audit")).content.decode()
    assert '<span class="fw-semibold">Ingelogd via</span>: de inlogdienst van de school' in page
    assert '<span class="fw-semibold">Reden van weigering</span>: kandidaataccount' in page


def test_impersonation_keeps_the_sso_marker_of_the_session(client, world):
    client.force_login(world.beheerder)
    session = client.session
    session["kb_sign_in_method"] = "college_idp"
    session.save()
    user = world.in_own_group.user
    assert client.post(reverse("hijack:acquire"), {"user_pk": user.pk}).status_code == 302
    assert client.session["_auth_user_id"] == str(user.pk)
    assert client.session["kb_sign_in_method"] == "college_idp"
    assert client.post(reverse("hijack:release")).status_code == 302
    assert client.session["_auth_user_id"] == str(world.beheerder.pk)
    assert client.session["kb_sign_in_method"] == "college_idp"


def test_a_password_session_gets_no_marker_through_impersonation(client, world):
    client.force_login(world.beheerder)
    client.post(reverse("hijack:acquire"), {"user_pk": world.in_own_group.user.pk})
    client.post(reverse("hijack:release"))
    assert client.session["_auth_user_id"] == str(world.beheerder.pk)
    assert "kb_sign_in_method" not in client.session
