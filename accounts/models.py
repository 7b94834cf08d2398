from __future__ import annotations

import uuid
from datetime import date
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

    @property
    def display_name(self) -> str:
        """Dutch convention: 'Jan van der Berg'."""
        return " ".join(p for p in (self.first_name, self.surname_prefix, self.last_name) if p)

    @property
    def sort_name(self) -> str:
        """Dutch sort convention: 'Berg, Jan van der'."""
        rest = " ".join(p for p in (self.first_name, self.surname_prefix) if p)
        return f"{self.last_name}, {rest}" if rest else self.last_name

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
        LOGIN = "login", _("Ingelogd")
        LOGIN_FAILED = "login_failed", _("Inloggen mislukt")
        IMPERSONATION_STARTED = "impersonation_started", _("Ingelogd als andere gebruiker")
        IMPERSONATION_ENDED = "impersonation_ended", _("Terug naar eigen account")
        SETTINGS_CHANGED = "settings_changed", _("Instellingen gewijzigd")
        ACCOUNT_EXPIRED = "account_expired", _("Account verlopen en gedeactiveerd")
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
