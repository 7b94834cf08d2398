"""`pip install .` must give a working site without the checkout: the wheel holds every app
(migrations, management commands, template tags, fonts), config/, and the top-level
templates/, static/ and locale/; its `kandidaatbeheer` command is manage.py. (.ci/run also
installs the wheel into a fresh virtualenv elsewhere and runs check --deploy and migrate.)"""

from __future__ import annotations

import configparser
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from .helpers.services import BASE_DIR

# What an installed site needs; tests/, bench/ and docs/ stay behind.
SHIPPED = ("accounts/", "candidates/", "imports/", "config/", "templates/", "static/", "locale/")


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> zipfile.ZipFile:
    out = tmp_path_factory.mktemp("wheel")
    result = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w", str(out), "."],
        cwd=BASE_DIR,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    [path] = out.glob("kandidaatbeheer-*.whl")
    return zipfile.ZipFile(path)


def tracked_files() -> set[str]:
    listed = subprocess.run(
        ["git", "ls-files", *SHIPPED], cwd=BASE_DIR, capture_output=True, text=True, check=True
    ).stdout.split()
    return {name for name in listed if (BASE_DIR / name).exists()}


def test_the_wheel_holds_every_file_of_the_apps_and_the_site(wheel):
    contents = set(wheel.namelist())

    missing = tracked_files() - contents
    assert missing == set()
    # Spot checks of what is easy to lose: data files beside the code, and subpackages.
    for name in (
        "candidates/fonts/DejaVuSans.ttf",
        "candidates/templatetags/candidates_tags.py",
        "accounts/management/commands/compile_translations.py",
        "imports/migrations/0001_initial.py",
        "templates/base.html",
        "templates/mail/import_report.txt",
        "static/css/app.css",
        "locale/en/LC_MESSAGES/django.po",
    ):
        assert name in contents, name


def test_the_wheel_holds_nothing_else(wheel):
    """No tests, benchmarks, local databases or compiled translations of this machine."""
    outside = {
        name
        for name in wheel.namelist()
        if not name.startswith(SHIPPED) and ".dist-info/" not in name
    }
    assert outside == set()
    assert [name for name in wheel.namelist() if name.endswith((".mo", ".pyc", ".sqlite3"))] == []


def test_the_wheel_has_the_kandidaatbeheer_command(wheel):
    [name] = [n for n in wheel.namelist() if n.endswith(".dist-info/entry_points.txt")]
    entry_points = configparser.ConfigParser()
    entry_points.read_string(wheel.read(name).decode())

    assert dict(entry_points["console_scripts"]) == {"kandidaatbeheer": "config.manage:main"}


def test_the_command_runs_django_management_commands(tmp_path):
    """What the console script calls, run from a directory that is not the checkout."""
    env = {**os.environ, "DJANGO_DEBUG": "1", "PYTHONPATH": str(BASE_DIR)}
    env.pop("DJANGO_SETTINGS_MODULE", None)
    env.pop("KB_TESTING", None)
    code = "import sys; from config.manage import main; sys.argv[0] = 'kandidaatbeheer'; main()"

    result = subprocess.run(
        [sys.executable, "-c", code, "check"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert (result.returncode, result.stdout, result.stderr) == (
        0,
        "System check identified no issues (0 silenced).\n",
        "",
    )


def test_settings_find_templates_static_and_locale_beside_config():
    from django.conf import settings

    assert Path(settings.TEMPLATES[0]["DIRS"][0]) == BASE_DIR / "templates"
    assert [Path(p) for p in settings.STATICFILES_DIRS] == [BASE_DIR / "static"]
    assert [Path(p) for p in settings.LOCALE_PATHS] == [BASE_DIR / "locale"]
