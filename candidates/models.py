from __future__ import annotations

import unicodedata

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from accounts.models import EducationArea, Organisation

# Letters that are not "a base letter plus an accent" in Unicode, so NFKD leaves them alone;
# Dutch class lists are full of Turkish, Polish and Scandinavian names.
_BASE_LETTERS = str.maketrans(
    {
        "ı": "i",
        "İ": "I",
        "ł": "l",
        "Ł": "L",
        "ø": "o",
        "Ø": "O",
        "đ": "d",
        "Đ": "D",
        "æ": "ae",
        "Æ": "AE",
        "œ": "oe",
        "Œ": "OE",
    }
)


def fold(text: str) -> str:
    """Lower-case and strip accents, so 'Ümit Yılmaz' is found by 'umit yilmaz' on every
    database."""
    text = text or ""
    if text.isascii():
        # Most names, every e-mail address and candidate number: NFKD and the table above
        # change nothing in ASCII, and skipping them is 40× cheaper per call (tests/test_fold).
        return text.casefold()
    decomposed = unicodedata.normalize("NFKD", text.translate(_BASE_LETTERS))
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()


class CandidateGroup(models.Model):
    """A kandidaatgroep: the unit through which coordinators and supervisors see candidates."""

    organisation = models.ForeignKey(
        Organisation, on_delete=models.CASCADE, related_name="candidate_groups"
    )
    name = models.CharField(_("naam"), max_length=150)
    education_area = models.ForeignKey(
        EducationArea,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="groups",
        verbose_name=_("opleidingsgebied"),
    )
    coordinators = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        blank=True,
        related_name="coordinated_groups",
        verbose_name=_("toetscoördinatoren"),
    )
    supervisors = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        blank=True,
        related_name="supervised_groups",
        verbose_name=_("begeleiders"),
    )
    created = models.DateTimeField(auto_now_add=True)
    # Set at the turn of the school year: an archived group keeps its members and history but
    # drops out of every picker and filter (selectors.unarchived), and its page is read-only.
    archived_at = models.DateTimeField(_("gearchiveerd op"), null=True, blank=True)

    class Meta:
        verbose_name = _("kandidaatgroep")
        verbose_name_plural = _("kandidaatgroepen")
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["organisation", "name"], name="unique_group_per_org")
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def is_archived(self) -> bool:
        return self.archived_at is not None


class Candidate(models.Model):
    """The exam-specific part of a candidate's account; the person is the linked User."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        primary_key=True,
        related_name="candidate",
    )
    # Repeated from the user so the per-college unique constraint and the visibility filter
    # need no join; services keep it equal to user.organisation.
    organisation = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, related_name="candidates"
    )
    candidate_number = models.CharField(_("kandidaatnummer"), max_length=40)
    birth_date = models.DateField(_("geboortedatum"), null=True, blank=True)
    groups = models.ManyToManyField(
        CandidateGroup, blank=True, related_name="members", verbose_name=_("kandidaatgroepen")
    )
    supervisors = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        blank=True,
        related_name="direct_candidates",
        verbose_name=_("direct gekoppelde begeleiders"),
    )
    # Accent- and case-folded names, number, username and e-mail: one indexed column makes
    # "search ignoring accents" work the same on SQLite and PostgreSQL without extensions.
    search_text = models.TextField(editable=False, default="")
    # The list's name order ("Berg, Jan van der"), folded like search_text so that case and
    # accents sort the same on every database ("Öztürk" beside "Oz…", not after "Z"). Kept
    # here, beside organisation, so a page of 50,000 sorted candidates is one index scan
    # without a join (candidates.pagination.CandidatePaginator).
    name_key = models.TextField(editable=False, default="")
    created = models.DateTimeField(auto_now_add=True)

    DERIVED_FIELDS = ("search_text", "name_key")
    # Not a column: selectors.list_rows sets it on the rows of the candidate list, with the
    # names of the groups the viewer may see.
    group_names: list[str]

    class Meta:
        verbose_name = _("kandidaat")
        verbose_name_plural = _("kandidaten")
        constraints = [
            models.UniqueConstraint(
                fields=["organisation", "candidate_number"], name="unique_candidate_number"
            )
        ]
        indexes = [
            models.Index(fields=["organisation", "name_key", "user"], name="candidate_name_order"),
            # "Is this visible candidate in my college?" from the index alone: the coordinator's
            # and supervisor's lists probe every candidate of their groups this way.
            models.Index(fields=["user", "organisation"], name="candidate_user_college"),
        ]

    def __str__(self) -> str:
        return f"{self.user.display_name} ({self.candidate_number})"

    @staticmethod
    def build_search_text(
        *,
        first_name: str,
        surname_prefix: str,
        last_name: str,
        email: str,
        username: str,
        candidate_number: str,
    ) -> str:
        return fold(
            " ".join([first_name, surname_prefix, last_name, email, username, candidate_number])
        )

    @staticmethod
    def build_name_key(*, first_name: str, surname_prefix: str, last_name: str) -> str:
        # \x1f (unit separator) sorts below every printable character, so "Berg, Jan" comes
        # before "Bergen, Anna" as it does when the names are compared one by one.
        return "\x1f".join(fold(part) for part in (last_name, first_name, surname_prefix))

    def refresh_derived(self) -> None:
        """Recompute DERIVED_FIELDS from the user and the candidate number; the caller saves."""
        u = self.user
        self.search_text = self.build_search_text(
            first_name=u.first_name,
            surname_prefix=u.surname_prefix,
            last_name=u.last_name,
            email=u.email,
            username=u.username,
            candidate_number=self.candidate_number,
        )
        self.name_key = self.build_name_key(
            first_name=u.first_name, surname_prefix=u.surname_prefix, last_name=u.last_name
        )
