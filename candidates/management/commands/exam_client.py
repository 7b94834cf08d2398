"""Exam environments from the command line, a stable contract for operators and our checks:

    exam_client create --college CODE --name NAME --redirect-uri URI [--redirect-uri URI ...]
                       [--post-logout-uri URI ...] [--allow-staff] [--json]
    exam_client list --college CODE [--json]
    exam_client disable CLIENT_ID

`create --json` prints one object {"client_id", "client_secret", "issuer"}: the only time the
secret is shown. Exit status 2 with one Dutch line on stderr for bad input (unknown college or
client, an invalid address), never a traceback. Audit rows name no actor: the operator acted."""

from __future__ import annotations

import json
import sys

from django.conf import settings
from django.core.management.base import BaseCommand

from accounts.models import ExamEnvironment, Organisation

from ...services import exam_environments as services


class UsageError(Exception):
    pass


class Command(BaseCommand):
    help = "Koppel, toon of zet toetsomgevingen (OpenID Connect-clients) uit."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        create = sub.add_parser("create", help="Koppel een nieuwe toetsomgeving.")
        create.add_argument("--college", required=True, metavar="CODE")
        create.add_argument("--name", required=True)
        create.add_argument("--redirect-uri", action="append", required=True, metavar="URI")
        create.add_argument("--post-logout-uri", action="append", default=[], metavar="URI")
        create.add_argument("--allow-staff", action="store_true")
        create.add_argument("--json", action="store_true")
        listing = sub.add_parser("list", help="Toon de toetsomgevingen van een school.")
        listing.add_argument("--college", required=True, metavar="CODE")
        listing.add_argument("--json", action="store_true")
        disable = sub.add_parser("disable", help="Zet een toetsomgeving uit.")
        disable.add_argument("client_id")

    def handle(self, *args, **options):
        try:
            getattr(self, f"_{options['action']}")(options)
        except (UsageError, services.InvalidRedirectUri) as error:
            self.stderr.write(str(error).replace("\n", " "))
            sys.exit(2)

    def _college(self, code: str) -> Organisation:
        college = Organisation.objects.filter(code=code).first()
        if college is None:
            raise UsageError(f"Onbekende school: er is geen school met code '{code}'.")
        return college

    def _create(self, options) -> None:
        college = self._college(options["college"])
        name = " ".join(options["name"].split())
        if not name or len(name) > 100:
            raise UsageError("--name: geef een naam van 1 tot 100 tekens.")
        registered = services.exam_environment_create(
            actor=None,
            organisation=college,
            name=name,
            redirect_uris=services.clean_uris(
                options["redirect_uri"], label="--redirect-uri", required=True
            ),
            post_logout_redirect_uris=services.clean_uris(
                options["post_logout_uri"], label="--post-logout-uri", required=False
            ),
            allow_staff=options["allow_staff"],
        )
        result = {
            "client_id": registered.environment.application.client_id,
            "client_secret": registered.client_secret,
            "issuer": settings.KB_BASE_URL,
        }
        if options["json"]:
            self.stdout.write(json.dumps(result))
        else:
            for key, value in result.items():
                self.stdout.write(f"{key}: {value}")

    def _list(self, options) -> None:
        college = self._college(options["college"])
        rows = [
            {
                "client_id": env.application.client_id,
                "name": env.application.name,
                "redirect_uris": env.application.redirect_uris.split(),
                "allow_staff": env.allow_staff,
                "active": env.active,
            }
            for env in ExamEnvironment.objects.filter(organisation=college)
            .select_related("application")
            .order_by("application__name")
        ]
        if options["json"]:
            self.stdout.write(json.dumps(rows))
            return
        for row in rows:
            state = "aan" if row["active"] else "uit"
            self.stdout.write(f"{row['client_id']}  {row['name']}  ({state})")

    def _disable(self, options) -> None:
        environment = (
            ExamEnvironment.objects.select_related("application", "organisation")
            .filter(application__client_id=options["client_id"])
            .first()
        )
        if environment is None:
            raise UsageError(f"Onbekende toetsomgeving: geen client-ID '{options['client_id']}'.")
        services.exam_environment_set_active(actor=None, environment=environment, active=False)
        self.stdout.write(f"{environment.name} staat uit.")
