"""Compile locale/*/LC_MESSAGES/django.po to .mo with polib.

Django's compilemessages needs GNU gettext's msgfmt, which a fresh machine with only Python
does not have; polib is pure Python and writes the same .mo files.
"""

from pathlib import Path

import polib
from django.conf import settings
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Compileert de vertalingen (.po → .mo) zonder GNU gettext."

    def handle(self, *args, **options):
        for locale_dir in settings.LOCALE_PATHS:
            for po_path in sorted(Path(locale_dir).glob("*/LC_MESSAGES/*.po")):
                po = polib.pofile(str(po_path))
                po.save_as_mofile(str(po_path.with_suffix(".mo")))
                self.stdout.write(f"{po_path}: {po.percent_translated()}% vertaald")
