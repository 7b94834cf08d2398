"""Developer command: extract messages (needs GNU gettext) and keep the Dutch catalogue complete.

The source strings are Dutch, so the Dutch catalogue translates each message to itself; that
keeps `nl` "100% translated" and makes a missing string visible in review. English is
translated by hand in locale/en/LC_MESSAGES/django.po.
"""

import polib
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Werkt de vertaalbestanden bij (makemessages) en vult de Nederlandse catalogus."

    def handle(self, *args, **options):
        call_command(
            "makemessages",
            locale=["nl", "en"],
            ignore_patterns=[".venv/*", "bench/*", "tests/*"],
            no_obsolete=True,
            verbosity=0,
        )
        po_path = settings.BASE_DIR / "locale" / "nl" / "LC_MESSAGES" / "django.po"
        po = polib.pofile(str(po_path))
        for entry in po:
            if entry.msgid_plural:
                entry.msgstr_plural = {0: entry.msgid, 1: entry.msgid_plural}
            else:
                entry.msgstr = entry.msgid
            if "fuzzy" in entry.flags:
                entry.flags.remove("fuzzy")
        po.save()
        english = polib.pofile(
            str(settings.BASE_DIR / "locale" / "en" / "LC_MESSAGES" / "django.po")
        )
        missing = len(english.untranslated_entries()) + len(english.fuzzy_entries())
        self.stdout.write(
            f"nl: {po.percent_translated()}%, en: {english.percent_translated()}% "
            f"({missing} te vertalen)"
        )
