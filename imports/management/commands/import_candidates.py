"""The import wizard from the command line, for scripted yearly imports. Same services,
same visibility rules (it acts as --as USERNAME), synchronous, no worker needed. `--undo
BATCH_ID` takes an import back (imports.undo); the JSON of every import names its batch.

Exit status: 0 done (or a clean dry run), 1 validation errors, 2 unreadable file or wrong
usage (one Dutch line on stderr, never a traceback)."""

from __future__ import annotations

import json
import logging
import sys
from datetime import date
from pathlib import Path
from uuid import UUID

from django.core.management.base import BaseCommand
from django.db import transaction

from accounts.models import REPORT_PASSWORD_MIN_LENGTH, Role, User
from candidates.selectors import groups_linkable_by, supervisors_visible_to
from imports import services, undo
from imports.fields import FIELD_BY_NAME, REQUIRED_FIELDS
from imports.models import ImportBatch, ImportFile
from imports.options import ExistingPasswords, ImportOptions, PasswordMode
from imports.reading import ReadError
from imports.reports import protect_xlsx

# --password: where new candidates' passwords come from, and whether existing candidates get a
# new one ("keep" generates for new candidates only).
PASSWORD_CHOICES = {
    "generate": (PasswordMode.GENERATE, ExistingPasswords.REPLACE),
    "file": (PasswordMode.FILE, ExistingPasswords.REPLACE),
    "keep": (PasswordMode.GENERATE, ExistingPasswords.KEEP),
}


# The counts `--undo --json` prints, in this order (the conflicts follow as a list).
UNDO_COUNTS = ("deleted", "deactivated", "restored", "links_removed", "groups_removed")


class UsageError(Exception):
    pass


class Command(BaseCommand):
    help = "Importeert kandidaten uit een bestand (.xlsx, .xlsm, .xls, .ods, .csv)."

    def add_arguments(self, parser):
        parser.add_argument("file", nargs="?")
        parser.add_argument(
            "--undo",
            metavar="BATCH_ID",
            help="Maak een import ongedaan (met --dry-run: laat alleen zien wat er gebeurt).",
        )
        parser.add_argument("--as", dest="as_user", required=True, metavar="USERNAME")
        parser.add_argument(
            "--sheet",
            metavar="NAME",
            help="Het werkblad met de kandidaten (standaard: het "
            "eerste werkblad met een herkende kopregel).",
        )
        parser.add_argument("--group")
        parser.add_argument("--create-group", action="store_true")
        parser.add_argument(
            "--create-groups",
            action="store_true",
            help="Maak de kandidaatgroepen uit de kolom Kandidaatgroep aan als ze niet bestaan.",
        )
        parser.add_argument("--supervisor", action="append", default=[], metavar="USERNAME")
        parser.add_argument(
            "--link-supervisors",
            action="store_true",
            help="Koppel de begeleiders ook direct aan de kandidaten.",
        )
        parser.add_argument("--map", action="append", default=[], metavar="HEADER=FIELD")
        parser.add_argument("--valid-from")
        parser.add_argument("--valid-until")
        parser.add_argument("--inactive", action="store_true")
        parser.add_argument("--password", choices=list(PASSWORD_CHOICES), default="keep")
        parser.add_argument("--must-change-password", action="store_true")
        parser.add_argument("--email-credentials", action="store_true")
        parser.add_argument("--report-to", default="")
        parser.add_argument("--report", metavar="PATH.xlsx")
        parser.add_argument(
            "--report-password",
            metavar="WACHTWOORD",
            help="Versleutel het bestand van --report met dit wachtwoord (standaard: het "
            "wachtwoord uit de instellingen van de school, als dat er is).",
        )
        parser.add_argument("--skip-invalid", action="store_true")
        parser.add_argument("--dry-run", action="store_true")
        parser.add_argument("--json", action="store_true")

    def handle(self, *args, **opts):
        # Scripts read stderr for our one-line errors. Without a broker the mail and slip tasks
        # run in this process, and Celery would log a line per task there (and kombu warn that
        # the absent broker has no host name).
        logging.getLogger("celery").setLevel(logging.WARNING)
        logging.getLogger("kombu").setLevel(logging.ERROR)
        try:
            code = self._run(opts)
        except (UsageError, ReadError, services.ImportFailed, undo.UndoRefused) as exc:
            message = getattr(exc, "message", None) or str(exc)
            self.stderr.write(message.replace("\n", " "))
            sys.exit(2)
        sys.exit(code)

    def _run(self, opts) -> int:
        actor = User.objects.filter(username=opts["as_user"], is_active=True).first()
        if actor is None or actor.role not in (Role.BEHEERDER, Role.TOETSCOORDINATOR):
            raise UsageError(f"Gebruiker '{opts['as_user']}' bestaat niet of mag niet importeren.")
        if opts["undo"]:
            return self._undo(actor, opts)
        return self._import(actor, opts)

    def _import(self, actor: User, opts) -> int:
        if not opts["file"]:
            raise UsageError("Geef het bestand op dat je wilt importeren (of --undo BATCH_ID).")
        report_password = self._report_password(actor, opts)
        path = Path(opts["file"])
        if not path.is_file():
            raise UsageError(f"Bestand '{path}' bestaat niet.")
        data = path.read_bytes()
        with transaction.atomic():
            batch = services.batch_create_from_upload(actor=actor, file_name=path.name, data=data)
            if opts["sheet"]:
                services.batch_set_sheet(batch=batch, sheet=opts["sheet"])
            mapping = self._mapping(batch, opts["map"])
            services.batch_set_mapping(batch=batch, mapping=mapping)
            batch.options = self._options(actor, opts, batch).to_json()
            batch.save(update_fields=["options"])
        dry = services.import_dry_run(batch)
        plan = dry.plan
        if plan.problems:
            raise UsageError(" ".join(plan.problems))
        counts = plan.counts
        result = {
            "rows": counts["rows"],
            "created": 0,
            "updated": 0,
            "unchanged": counts["unchanged"],
            "skipped": 0,
            "errors": [
                {"row": e.row, "column": e.column, "message": e.message} for e in plan.errors
            ],
            "sheet": batch.sheet_name or None,
            "mapping": {batch.headers[int(i)]: f for i, f in batch.mapping.items()},
        }
        has_errors = bool(counts["errors"])
        if opts["dry_run"] or (has_errors and not opts["skip_invalid"]):
            result["batch"] = None  # nothing was imported, so there is nothing to undo
            if opts["dry_run"]:
                result.update(created=counts["new"], updated=counts["updated"])
            ImportFile.objects.filter(batch=batch).delete()
            ImportBatch.objects.filter(pk=batch.pk).delete()
            self._print(result, opts, dry_run=opts["dry_run"])
            return 1 if has_errors else 0
        ImportBatch.objects.filter(pk=batch.pk).update(status=ImportBatch.Status.QUEUED)
        report: list[bytes] = []
        batch = services.import_execute(batch.pk, report_sink=report.append)
        if batch.status != ImportBatch.Status.DONE:
            raise services.ImportFailed(batch.failure_reason)
        if opts["report"] and report:
            data = protect_xlsx(report[0], report_password) if report_password else report[0]
            Path(opts["report"]).write_bytes(data)
        result.update(
            batch=str(batch.pk),
            created=batch.counts["new"],
            updated=batch.counts["updated"],
            unchanged=batch.counts["unchanged"],
            skipped=batch.counts.get("skipped", 0),
        )
        self._print(result, opts, dry_run=False)
        return 0

    def _undo(self, actor: User, opts) -> int:
        """--undo BATCH_ID [--dry-run]: the same rules as the undo page, run here at once."""
        batch = self._batch(opts["undo"])
        undo.undo_check(batch, actor)
        if opts["dry_run"]:
            plan = undo.undo_plan(batch, actor)
        else:
            plan = undo.undo_now(batch_id=batch.pk, actor=actor)
        counts = plan.counts
        result = {
            "batch": str(batch.pk),
            "dry_run": opts["dry_run"],
            **{k: counts[k] for k in UNDO_COUNTS},
            # The created accounts are deactivated, not deleted: `actor` may not delete.
            "no_delete_right": plan.no_delete_right,
            "conflicts": [c.to_json() for c in plan.conflicts],
        }
        if opts["json"]:
            self.stdout.write(json.dumps(result, ensure_ascii=False))
            return 0
        label = "Proef: ongedaan maken" if opts["dry_run"] else "Ongedaan gemaakt"
        self.stdout.write(
            f"{label}: {result['deleted']} verwijderd, {result['deactivated']} gedeactiveerd, "
            f"{result['restored']} teruggezet, {result['links_removed']} koppelingen en "
            f"{result['groups_removed']} kandidaatgroepen verwijderd, "
            f"{len(result['conflicts'])} conflicten."
        )
        if plan.no_delete_right:
            self.stdout.write(
                "Je mag in deze school geen kandidaten verwijderen: de accounts die de import "
                "aanmaakte worden gedeactiveerd in plaats van verwijderd."
            )
        for c in result["conflicts"][:50]:
            self.stdout.write(f"  Conflict: {c['name']} ({c['username']}): {c['reason']}")
        return 0

    def _batch(self, batch_id: str) -> ImportBatch:
        try:
            batch = ImportBatch.objects.filter(pk=UUID(batch_id)).first()
        except ValueError:
            batch = None
        if batch is None:
            raise UsageError(f"Import '{batch_id}' bestaat niet.")
        return batch

    def _report_password(self, actor: User, opts) -> str:
        """The password for the --report file: the flag's, else the college's ("" for none)."""
        password = opts["report_password"]
        if password is None:
            return actor.college.report_password()
        if not opts["report"]:
            raise UsageError("--report-password: gebruik dit samen met --report PAD.xlsx.")
        if len(password) < REPORT_PASSWORD_MIN_LENGTH:
            raise UsageError(
                f"--report-password: het wachtwoord moet minimaal "
                f"{REPORT_PASSWORD_MIN_LENGTH} tekens hebben."
            )
        return password

    def _mapping(self, batch, overrides: list[str]) -> dict[str, str]:
        mapping = dict(batch.mapping)
        by_header = {h.strip().casefold(): str(i) for i, h in enumerate(batch.headers)}
        for item in overrides:
            header, sep, field = item.partition("=")
            if not sep or field not in FIELD_BY_NAME:
                raise UsageError(
                    f"--map '{item}': gebruik 'Kolomkop=veld' met veld een van "
                    f"{', '.join(FIELD_BY_NAME)}."
                )
            index = by_header.get(header.strip().casefold())
            if index is None:
                raise UsageError(f"--map '{item}': het bestand heeft geen kolom '{header}'.")
            mapping = {i: f for i, f in mapping.items() if f != field}
            mapping[index] = field
        missing = [f for f in REQUIRED_FIELDS if f not in mapping.values()]
        if missing:
            names = ", ".join(str(FIELD_BY_NAME[f].label) for f in missing)
            raise UsageError(f"Geen kolom gevonden voor: {names}. Gebruik --map 'Kolomkop=veld'.")
        return mapping

    def _options(self, actor, opts, batch) -> ImportOptions:
        options = ImportOptions.from_json(batch.options)
        options.active = not opts["inactive"]
        mode, existing = PASSWORD_CHOICES[opts["password"]]
        options.password_mode = mode.value
        options.existing_passwords = existing.value
        options.must_change_password = opts["must_change_password"]
        options.send_credentials = opts["email_credentials"]
        options.report_email = opts["report_to"]
        options.skip_invalid = opts["skip_invalid"]
        options.create_groups = opts["create_groups"]
        for key in ("valid_from", "valid_until"):
            if opts[key]:
                try:
                    setattr(options, key, date.fromisoformat(opts[key]))
                except ValueError:
                    raise UsageError(f"--{key.replace('_', '-')}: gebruik JJJJ-MM-DD.") from None
        if opts["group"]:
            group = groups_linkable_by(actor).filter(name__iexact=opts["group"]).first()
            if group:
                options.group_id = group.pk
            elif opts["create_group"]:
                options.new_group_name = opts["group"]
            else:
                raise UsageError(
                    f"Kandidaatgroep '{opts['group']}' bestaat niet of je bent er "
                    "niet aan gekoppeld. Gebruik --create-group om hem aan te maken."
                )
        if opts["supervisor"]:
            found = {
                u.username: u.pk
                for u in supervisors_visible_to(actor).filter(username__in=opts["supervisor"])
            }
            unknown = [s for s in opts["supervisor"] if s not in found]
            if unknown:
                raise UsageError(f"Begeleider(s) niet gevonden: {', '.join(unknown)}.")
            options.supervisor_ids = list(found.values())
            options.link_supervisors_directly = opts["link_supervisors"]
        return options

    def _print(self, result, opts, *, dry_run: bool) -> None:
        if opts["json"]:
            self.stdout.write(json.dumps(result, ensure_ascii=False))
            return
        label = "Proefimport" if dry_run else "Import"
        self.stdout.write(
            f"{label}: {result['rows']} rijen, {result['created']} nieuw, {result['updated']} "
            f"bijgewerkt, {result['unchanged']} ongewijzigd, {result['skipped']} overgeslagen, "
            f"{len(result['errors'])} fouten."
        )
        if result["sheet"]:
            self.stdout.write(f"Gelezen werkblad: {result['sheet']}")
        for error in result["errors"][:50]:
            self.stdout.write(f"  Rij {error['row']}, kolom {error['column']}: {error['message']}")
