from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import date, datetime
from typing import ClassVar, Self

from django.conf import settings
from django.contrib.auth.models import AbstractUser, UserManager
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .passwords import generate_password
from .secrets import seal, unseal

# The password that protects the import-results spreadsheet: long enough that guessing it
# offline (the file can be copied) is not cheap, short enough to read out over the phone.
REPORT_PASSWORD_MIN_LENGTH = 8


def default_two_factor_roles() -> list[str]:
    """A new college requires two-step sign-in of its beheerders and toetscoördinatoren."""
    return ["beheerder", "toetscoordinator"]


class Organisation(models.Model):
    """A college (roc). Everything below it is invisible to every other organisation."""

    name = models.CharField(_("naam"), max_length=200)
    code = models.SlugField(
        _("korte code"),
        max_length=20,
        unique=True,
        help_text=_("Wordt gebruikt in gegenereerde gebruikersnamen, zoals rocx-0012345."),
    )
    # The college's own choices: every college organises its school year and accounts its own way.
    school_year_end_day = models.PositiveSmallIntegerField(_("einde schooljaar (dag)"), default=31)
    school_year_end_month = models.PositiveSmallIntegerField(
        _("einde schooljaar (maand)"), default=7
    )
    password_length = models.PositiveSmallIntegerField(
        _("lengte gegenereerde wachtwoorden"), default=14
    )
    password_format = models.CharField(
        _("soort gegenereerde wachtwoorden"),
        max_length=10,
        default="mixed",
        choices=[
            ("mixed", _("Hoofdletters, kleine letters en cijfers")),
            ("lower", _("Alleen kleine letters en cijfers (minimaal 14 tekens)")),
        ],
    )
    coordinators_may_create_groups = models.BooleanField(
        _("toetscoördinatoren mogen groepen aanmaken"), default=True
    )
    mail_sender_name = models.CharField(_("naam afzender"), max_length=100, blank=True)
    mail_reply_to = models.EmailField(_("antwoordadres"), blank=True)
    credentials_mail_text = models.TextField(_("tekst inloggegevens-mail"), blank=True)
    username_pattern = models.CharField(
        _("patroon gebruikersnaam"),
        max_length=60,
        default="{code}-{candidate_number}",
        help_text=_("Beschikbaar: {code} en {candidate_number}."),
    )
    # The import-results spreadsheet lists every generated password, many of them of minors:
    # with this set it is an encrypted Office file. Kept Fernet-sealed, never shown or mailed.
    report_password_sealed = models.BinaryField(null=True, blank=True, editable=False)
    # The staff roles that must sign in with a second factor (TOTP) after their password. Those
    # who may impersonate minors and change every account are required by default; a college
    # that signs its staff in through its own identity provider has MFA there instead.
    two_factor_roles = models.JSONField(
        _("tweestapsverificatie verplicht voor"), default=default_two_factor_roles, blank=True
    )
    # Retention (the 'Privacy' settings page): how long a candidate's data outlives the end of
    # their validity, what happens then, and how long the audit log keeps its rows.
    retention_months = models.PositiveSmallIntegerField(
        _("bewaartermijn na einde geldigheid (maanden)"), default=12
    )
    retention_action = models.CharField(
        _("daarna"),
        max_length=10,
        default="anonymise",
        choices=[
            ("anonymise", _("Anonimiseren (aantallen blijven bestaan)")),
            ("delete", _("Verwijderen")),
        ],
    )
    audit_retention_months = models.PositiveSmallIntegerField(
        _("bewaartermijn auditlog (maanden)"), default=24
    )
    coordinators_may_delete = models.BooleanField(
        _("toetscoördinatoren mogen kandidaten in hun groepen verwijderen"), default=False
    )

    class Meta:
        verbose_name = _("onderwijsinstelling")
        verbose_name_plural = _("onderwijsinstellingen")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def has_report_password(self) -> bool:
        return bool(self.report_password_sealed)

    def report_password(self) -> str:
        """The password for the import-results spreadsheet, or "" when none is set."""
        if not self.report_password_sealed:
            return ""
        return unseal(self.report_password_sealed).decode()

    def set_report_password(self, password: str) -> None:
        """Seal a new password, or forget it with "" (saving is the caller's)."""
        self.report_password_sealed = seal(password.encode()) if password else None

    def requires_two_factor(self, role: str) -> bool:
        return role in (self.two_factor_roles or [])

    def new_password(self) -> str:
        """A generated password in this college's format and length."""
        return generate_password(self.password_length, self.password_format)

    def default_valid_until(self, today: date | None = None) -> date:
        """End of the current school year, or of the next one once that date has passed."""
        today = today or timezone.localdate()
        end = date(today.year, self.school_year_end_month, self.school_year_end_day)
        return end if end >= today else end.replace(year=today.year + 1)


class EducationArea(models.Model):
    """An opleidingsgebied: the unit a beheerder appoints coordinators for."""

    organisation = models.ForeignKey(
        Organisation, on_delete=models.CASCADE, related_name="education_areas"
    )
    name = models.CharField(_("naam"), max_length=100)

    class Meta:
        verbose_name = _("opleidingsgebied")
        verbose_name_plural = _("opleidingsgebieden")
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["organisation", "name"], name="unique_area_per_org")
        ]

    def __str__(self) -> str:
        return self.name


class Role(models.TextChoices):
    BEHEERDER = "beheerder", _("Beheerder")
    TOETSCOORDINATOR = "toetscoordinator", _("Toetscoördinator")
    BEGELEIDER = "begeleider", _("Begeleider")
    KANDIDAAT = "kandidaat", _("Kandidaat")


STAFF_ROLES = (Role.BEHEERDER, Role.TOETSCOORDINATOR, Role.BEGELEIDER)


class User(AbstractUser):
    """Every person who logs in. Usernames are unique across the installation, so the login
    page needs no college picker. Platform operators are superusers without an organisation."""

    organisation = models.ForeignKey(
        Organisation,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="users",
        verbose_name=_("onderwijsinstelling"),
    )
    role = models.CharField(_("rol"), max_length=20, choices=Role.choices, blank=True)
    surname_prefix = models.CharField(_("tussenvoegsel"), max_length=30, blank=True)
    valid_from = models.DateField(_("geldig van"), null=True, blank=True)
    valid_until = models.DateField(_("geldig tot"), null=True, blank=True)
    must_change_password = models.BooleanField(
        _("wachtwoord wijzigen bij volgende login"), default=False
    )
    # Set when the retention task stripped the account of everything personal: it is then
    # only a number in the college's counts, inactive, and can never sign in again.
    anonymised_at = models.DateTimeField(null=True, blank=True, editable=False)

    objects: ClassVar[UserManager[Self]] = UserManager()

    class Meta:
        verbose_name = _("gebruiker")
        verbose_name_plural = _("gebruikers")
        indexes = [
            models.Index(fields=["organisation", "role"]),
            # The candidate list sorts on the Dutch name order ("Berg, Jan van der").
            models.Index(
                fields=["last_name", "first_name", "surname_prefix", "id"], name="user_name_order"
            ),
        ]

    def __str__(self) -> str:
        return self.display_name or self.username

    # An account without a name (an anonymised one) is shown by its username, so no page has
    # an empty link or heading where a name belongs.

    @property
    def display_name(self) -> str:
        """Dutch convention: 'Jan van der Berg'."""
        parts = (self.first_name, self.surname_prefix, self.last_name)
        return " ".join(p for p in parts if p) or self.username

    @property
    def sort_name(self) -> str:
        """Dutch sort convention: 'Berg, Jan van der'."""
        rest = " ".join(p for p in (self.first_name, self.surname_prefix) if p)
        return (f"{self.last_name}, {rest}" if rest else self.last_name) or self.username

    @property
    def college(self) -> Organisation:
        """The organisation of a college's staff member or candidate. The back office is only
        for them (role_required refuses a user without one), so a user without one reaching
        code that needs it is a programming error, not bad input."""
        if self.organisation is None:
            raise LookupError(f"user {self.pk} belongs to no college")
        return self.organisation

    @property
    def college_id(self) -> int:
        """The id of `college`, without loading it."""
        if self.organisation_id is None:
            raise LookupError(f"user {self.pk} belongs to no college")
        return self.organisation_id

    @property
    def is_candidate(self) -> bool:
        return self.role == Role.KANDIDAAT

    @property
    def is_college_staff(self) -> bool:
        return self.role in STAFF_ROLES and self.organisation_id is not None

    def validity_problem(self, today: date | None = None) -> str | None:
        """Why this account may not log in today, or None. Shown to the user on the login page."""
        today = today or timezone.localdate()
        if self.valid_from and today < self.valid_from:
            return "not_yet_valid"
        if self.valid_until and today > self.valid_until:
            return "expired"
        return None


class AuditLog(models.Model):
    """Who did what to whom, with the values before and after (after zulip's RealmAuditLog)."""

    class Action(models.TextChoices):
        USER_CREATED = "user_created", _("Gebruiker aangemaakt")
        USER_CHANGED = "user_changed", _("Gebruiker gewijzigd")
        ROLE_CHANGED = "role_changed", _("Rol gewijzigd")
        STATUS_CHANGED = "status_changed", _("Status gewijzigd")
        VALIDITY_CHANGED = "validity_changed", _("Geldigheid gewijzigd")
        PASSWORD_RESET = "password_reset", _("Wachtwoord opnieuw ingesteld")
        GROUP_LINKS_CHANGED = "group_links_changed", _("Kandidaatgroepen gewijzigd")
        SUPERVISOR_LINKS_CHANGED = "supervisor_links_changed", _("Begeleiders gewijzigd")
        GROUP_CREATED = "group_created", _("Kandidaatgroep aangemaakt")
        GROUP_CHANGED = "group_changed", _("Kandidaatgroep gewijzigd")
        IMPORT_STARTED = "import_started", _("Import gestart")
        IMPORT_FINISHED = "import_finished", _("Import voltooid")
        IMPORT_FAILED = "import_failed", _("Import mislukt")
        IMPORT_UNDONE = "import_undone", _("Import ongedaan gemaakt")
        LOGIN = "login", _("Ingelogd")
        LOGIN_FAILED = "login_failed", _("Inloggen mislukt")
        IMPERSONATION_STARTED = "impersonation_started", _("Ingelogd als andere gebruiker")
        IMPERSONATION_ENDED = "impersonation_ended", _("Terug naar eigen account")
        SETTINGS_CHANGED = "settings_changed", _("Instellingen gewijzigd")
        ACCOUNT_EXPIRED = "account_expired", _("Account verlopen en gedeactiveerd")
        TWO_FACTOR_ENROLLED = "two_factor_enrolled", _("Tweestapsverificatie ingesteld")
        TWO_FACTOR_FAILED = "two_factor_failed", _("Tweestapsverificatie mislukt")
        TWO_FACTOR_RESET = "two_factor_reset", _("Tweestapsverificatie gereset")
        RECOVERY_CODE_USED = "recovery_code_used", _("Herstelcode gebruikt")
        RECOVERY_CODES_RENEWED = "recovery_codes_renewed", _("Nieuwe herstelcodes gemaakt")
        DATA_EXPORTED = "data_exported", _("Alle gegevens gedownload (inzageverzoek)")
        GROUP_ARCHIVED = "group_archived", _("Kandidaatgroep gearchiveerd")
        GROUP_RESTORED = "group_restored", _("Kandidaatgroep teruggezet")
        SCHOOL_YEAR_STARTED = "school_year_started", _("Nieuw schooljaar verwerkt")
        ACCOUNTS_DELETED = "accounts_deleted", _("Accounts verwijderd")
        ACCOUNTS_ANONYMISED = "accounts_anonymised", _("Accounts geanonimiseerd")
        AUDIT_PURGED = "audit_purged", _("Oude auditregels verwijderd")
        EXAM_LOGIN = "exam_login", _("Ingelogd bij toetsomgeving")
        EXAM_LOGIN_REFUSED = "exam_login_refused", _("Inloggen bij toetsomgeving geweigerd")
        EXAM_ENVIRONMENT_CREATED = "exam_env_created", _("Toetsomgeving gekoppeld")
        EXAM_ENVIRONMENT_CHANGED = "exam_env_changed", _("Toetsomgeving gewijzigd")
        EXAM_ENVIRONMENT_SECRET = "exam_env_secret", _("Nieuw geheim voor toetsomgeving")

    organisation = models.ForeignKey(
        Organisation, on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    created = models.DateTimeField(_("tijdstip"), default=timezone.now, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("door"),
    )
    action = models.CharField(_("actie"), max_length=40, choices=Action.choices)
    target_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("betreft"),
    )
    target_repr = models.CharField(max_length=200, blank=True)
    before = models.JSONField(default=dict, blank=True)
    after = models.JSONField(default=dict, blank=True)
    ip_address = models.GenericIPAddressField(null=True, blank=True)

    class Meta:
        verbose_name = _("auditregel")
        verbose_name_plural = _("auditlog")
        ordering = ["-created", "-id"]
        indexes = [
            models.Index(fields=["organisation", "-created"]),
            models.Index(fields=["target_user", "-created"]),
        ]

    def __str__(self) -> str:
        return f"{self.created:%Y-%m-%d %H:%M} {self.action} {self.target_repr}"


class AuditLogSubject(models.Model):
    """One person an audit row is about, when one action touched many (an import writes one
    AuditLog row with its counts and a subject per candidate it created or changed). Read
    together with its row it says what a row of its own would: `as_row` makes that row."""

    audit = models.ForeignKey(AuditLog, on_delete=models.CASCADE, related_name="subjects")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    action = models.CharField(max_length=40, choices=AuditLog.Action.choices)
    target_repr = models.CharField(max_length=200, blank=True)
    before = models.JSONField(default=dict, blank=True)
    after = models.JSONField(default=dict, blank=True)

    class Meta:
        verbose_name = _("betrokkene auditregel")
        verbose_name_plural = _("betrokkenen auditregels")

    def __str__(self) -> str:
        return f"{self.action} {self.target_repr}"

    def as_row(self) -> AuditLog:
        """The subject as the audit row it stands for (unsaved): time, actor, organisation and
        address of its row; the change its own, with the row's import batch, if any."""
        audit = self.audit
        after = dict(self.after)
        if "batch" in audit.after:
            after["batch"] = audit.after["batch"]
        row = AuditLog(
            pk=audit.pk,
            organisation_id=audit.organisation_id,
            created=audit.created,
            actor_id=audit.actor_id,
            action=self.action,
            target_user_id=self.user_id,
            target_repr=self.target_repr,
            before=self.before,
            after=after,
            ip_address=audit.ip_address,
        )
        if AuditLog.actor.is_cached(audit):
            row.actor = audit.actor
        return row


class CollegeSignIn(models.Model):
    """The college's own OpenID Connect provider, through which its staff sign in ('Inloggen
    met <school>'). One per college; it only ever matches accounts of that college."""

    class Claim(models.TextChoices):
        # The claim of the provider's id_token (or userinfo) that names the person.
        EMAIL = "email", _("E-mailadres (claim ‘email’)")
        USERNAME = "preferred_username", _("Gebruikersnaam (claim ‘preferred_username’)")

    organisation = models.OneToOneField(
        Organisation, on_delete=models.CASCADE, related_name="sign_in"
    )
    enabled = models.BooleanField(_("inloggen via de inlogdienst aan"), default=False)
    issuer = models.URLField(_("issuer-URL"), max_length=300)
    client_id = models.CharField(_("client-ID"), max_length=255)
    # Like the report password: Fernet-sealed, never shown back, only "set" in the audit log.
    client_secret_sealed = models.BinaryField(null=True, blank=True, editable=False)
    display_name = models.CharField(_("naam op de knop"), max_length=100, blank=True)
    claim = models.CharField(
        _("wie iemand is, volgt uit"), max_length=30, choices=Claim.choices, default=Claim.EMAIL
    )
    staff_only_via_provider = models.BooleanField(
        _("medewerkers alleen via de eigen inlogdienst"), default=False
    )

    class Meta:
        verbose_name = _("inlogdienst")
        verbose_name_plural = _("inlogdiensten")

    def __str__(self) -> str:
        return f"{self.organisation} ({self.issuer})"

    @property
    def button_name(self) -> str:
        return self.display_name or self.organisation.name

    @property
    def has_client_secret(self) -> bool:
        return bool(self.client_secret_sealed)

    def client_secret(self) -> str:
        return unseal(self.client_secret_sealed).decode() if self.client_secret_sealed else ""

    def set_client_secret(self, secret: str) -> None:
        self.client_secret_sealed = seal(secret.encode()) if secret else None

    @property
    def blocks_staff_passwords(self) -> bool:
        """Password login is off for the college's staff only while the provider is on: a
        switched-off provider must not lock every colleague out."""
        return self.enabled and self.staff_only_via_provider
class RetiredUsername(models.Model):
    """The username of a deleted or anonymised account, kept out of use until `free_after`
    (the college's retention period after the deletion), so nobody signs in with a recycled
    name under which a former pupil is still known. Kept lower-cased: usernames are compared
    case-insensitively everywhere. Every place that picks or checks a username asks
    `usernames_reserved`."""

    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="+")
    username = models.CharField(max_length=150, unique=True)
    free_after = models.DateTimeField(db_index=True)

    class Meta:
        verbose_name = _("gereserveerde gebruikersnaam")
        verbose_name_plural = _("gereserveerde gebruikersnamen")

    def __str__(self) -> str:
        return self.username


def usernames_reserved(usernames: Iterable[str], *, now: datetime | None = None) -> set[str]:
    """Which of these (lower-cased) still belong to a deleted or anonymised account."""
    wanted = {u.lower() for u in usernames}
    if not wanted:
        return set()
    reserved = RetiredUsername.objects.filter(
        username__in=wanted, free_after__gt=now or timezone.now()
    )
    return set(reserved.values_list("username", flat=True))


class OutgoingMail(models.Model):
    """Every mail the product sends is a row first (after pretix): a task sends it, locks it,
    and exits when it was already sent, so a task that runs twice still sends once.

    Secrets (a password, an attachment with passwords) are kept only Fernet-encrypted in
    `secret` and wiped as soon as the mail is accepted by the SMTP server.
    """

    class Kind(models.TextChoices):
        CREDENTIALS = "credentials", _("Inloggegevens")
        IMPORT_REPORT = "import_report", _("Importrapport")
        LOGIN_SLIPS = "login_slips", _("Inlogbriefjes")
        EXPIRY_DIGEST = "expiry_digest", _("Overzicht verlopende accounts")

    class Status(models.TextChoices):
        PENDING = "pending", _("Wacht op verzending")
        SENT = "sent", _("Verzonden")
        FAILED = "failed", _("Mislukt")

    organisation = models.ForeignKey(
        Organisation, on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    kind = models.CharField(max_length=20, choices=Kind.choices)
    # Loose reference so accounts does not depend on imports; the batch page filters on it.
    batch_id = models.UUIDField(null=True, blank=True, db_index=True)
    recipient_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    to = models.EmailField(_("aan"))
    subject = models.CharField(_("onderwerp"), max_length=200)
    context = models.JSONField(default=dict, blank=True)
    secret = models.BinaryField(null=True, blank=True, editable=False)
    status = models.CharField(
        max_length=10, choices=Status.choices, default=Status.PENDING, db_index=True
    )
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.CharField(max_length=500, blank=True)
    created = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("uitgaande e-mail")
        verbose_name_plural = _("uitgaande e-mails")
        ordering = ["created", "id"]

    def __str__(self) -> str:
        return f"{self.kind} → {self.to} ({self.status})"


class ExamEnvironment(models.Model):
    """A college's exam software ('toetsomgeving') that signs its candidates in through our
    OpenID Connect provider. The OAuth client itself is django-oauth-toolkit's own Application
    (client id, hashed secret, redirect URIs), kept unswapped: what is ours (the college, who
    may sign in, on or off) lives here, one to one beside it."""

    organisation = models.ForeignKey(
        Organisation, on_delete=models.CASCADE, related_name="exam_environments"
    )
    application = models.OneToOneField(
        "oauth2_provider.Application", on_delete=models.CASCADE, related_name="exam_environment"
    )
    allow_staff = models.BooleanField(_("medewerkers mogen ook inloggen"), default=False)
    active = models.BooleanField(_("aan"), default=True)
    created = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("toetsomgeving")
        verbose_name_plural = _("toetsomgevingen")
        ordering = ["organisation", "application__name"]

    def __str__(self) -> str:
        return self.name

    @property
    def name(self) -> str:
        return self.application.name


class OidcSubject(models.Model):
    """The `sub` an exam environment knows a person by: random, made on their first sign-in and
    never changed. Not the username or the candidate number, which a college may change."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, primary_key=True, related_name="+"
    )
    subject = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)

    class Meta:
        verbose_name = _("OpenID Connect-kenmerk")
        verbose_name_plural = _("OpenID Connect-kenmerken")

    def __str__(self) -> str:
        return str(self.subject)
