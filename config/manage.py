"""`kandidaatbeheer …`: Django's manage.py for an installed site (the console script of the
wheel). Settings come from the environment as always; DJANGO_SETTINGS_MODULE may point at
another module."""

import os
import sys


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)
