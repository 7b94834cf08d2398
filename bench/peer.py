"""The peer: django-import-export importing the same file into the same tables.

What a Django team would write for "import candidates from Excel" with import-export:

- a `ModelResource` on `candidates.Candidate`, keyed on the candidate number
  (`import_id_fields = ("candidate_number",)`) within the college (`get_queryset`);
- the person's fields (Voornaam, Tussenvoegsel, Achternaam, E-mailadres) are fields of the
  related `User` (`attribute="user__first_name"`); `init_instance` gives a new row an unsaved
  user of the college with role kandidaat and an unusable password; `before_save_instance`
  fills the username ("{code}-{number}", as ours does) and the search column, and saves that
  user first, because the candidate's primary key is the user's;
- bulk mode (`use_bulk=True`) as the import-export documentation advises for speed:
  batches of 1,000, `CachedInstanceLoader` (one query for all existing rows instead of one per
  row) and `skip_diff`; `bulk_create` is extended by six lines to create the batch's users with
  one `bulk_create` before the candidates.

It does less than ours: no passwords (an unusable one, no hashing), no group links (the
"Klas" column is ignored), no validity dates, no username clashes across colleges checked, no
audit rows, no report, no login slips, no mail, and no Dutch row/column error messages.
"""

from __future__ import annotations

from import_export import fields, instance_loaders, resources, widgets
from import_export.formats.base_formats import CSV, XLSX


def make_resource(organisation, *, bulk: bool) -> resources.ModelResource:
    from accounts.models import Role, User
    from candidates.models import Candidate

    code = organisation.code
    text = widgets.CharWidget  # empty cell -> "" (the columns are NOT NULL)

    class CandidateResource(resources.ModelResource):
        candidate_number = fields.Field(
            attribute="candidate_number", column_name="Kandidaatnummer", widget=text()
        )
        first_name = fields.Field(
            attribute="user__first_name", column_name="Voornaam", widget=text()
        )
        surname_prefix = fields.Field(
            attribute="user__surname_prefix", column_name="Tussenvoegsel", widget=text()
        )
        last_name = fields.Field(
            attribute="user__last_name", column_name="Achternaam", widget=text()
        )
        email = fields.Field(attribute="user__email", column_name="E-mailadres", widget=text())
        birth_date = fields.Field(
            attribute="birth_date",
            column_name="Geboortedatum",
            widget=widgets.DateWidget(format="%d-%m-%Y"),
        )

        class Meta:
            model = Candidate
            import_id_fields = ("candidate_number",)
            fields = (
                "candidate_number",
                "first_name",
                "surname_prefix",
                "last_name",
                "email",
                "birth_date",
            )
            use_bulk = bulk
            batch_size = 1000
            if bulk:
                instance_loader_class = instance_loaders.CachedInstanceLoader
                skip_diff = True

        def get_queryset(self):
            return Candidate.objects.filter(organisation=organisation).select_related("user")

        def init_instance(self, row=None):
            user = User(organisation=organisation, role=Role.KANDIDAAT)
            user.set_unusable_password()
            return Candidate(user=user, organisation=organisation)

        def before_save_instance(self, instance, row, **kwargs):
            user = instance.user
            user.username = f"{code}-{instance.candidate_number}".lower()
            instance.refresh_derived()
            if not self._meta.use_bulk:
                user.save()
                instance.user = user

        def bulk_create(
            self, using_transactions, dry_run, raise_errors, batch_size=None, result=None
        ):
            from accounts.models import User

            new_users = [c.user for c in self.create_instances if c.user.pk is None]
            if new_users and (using_transactions or not dry_run):
                User.objects.bulk_create(new_users, batch_size=batch_size)
                for candidate in self.create_instances:
                    candidate.user = candidate.user  # copies the new primary key
            super().bulk_create(
                using_transactions, dry_run, raise_errors, batch_size=batch_size, result=result
            )

    return CandidateResource()


def load_dataset(data: bytes, file_format: str):
    """What the import-export admin does with an upload: openpyxl (read-only) for .xlsx,
    tablib's csv for text."""
    if file_format == "xlsx":
        return XLSX().create_dataset(data)
    text = data.decode("cp1252")
    return CSV().create_dataset(text, delimiter=";")


def run_import(organisation, data: bytes, file_format: str, *, bulk: bool, dry_run: bool):
    """Read and import, as the admin's import (dry run) and confirm (real import) do."""
    dataset = load_dataset(data, file_format)
    result = make_resource(organisation, bulk=bulk).import_data(
        dataset, dry_run=dry_run, use_transactions=True, raise_errors=True
    )
    if result.has_errors() or result.has_validation_errors():
        raise RuntimeError(f"import-export reported errors: {result.invalid_rows[:3]}")
    return result
