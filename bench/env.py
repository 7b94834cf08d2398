"""The benchmark's own database and Django set-up, and a description of the machine.

SQLite (default): a new file bench/files/bench.sqlite3 on every run. PostgreSQL: when
DATABASE_URL points there, that database is dropped and created again, so its name must
contain "bench" (a safeguard against pointing the benchmark at real data).
"""

from __future__ import annotations

import os
import platform
import subprocess
import sys
import warnings
from importlib import metadata
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
ROOT = BENCH_DIR.parent
FILES_DIR = BENCH_DIR / "files"  # gitignored: generated inputs, the SQLite file, worker media
RESULTS_DIR = BENCH_DIR / "results"  # gitignored: worker logs, profiles, partial runs
SQLITE_PATH = FILES_DIR / "bench.sqlite3"
BROKER_URL = os.environ.get("KB_BENCH_BROKER_URL", "redis://127.0.0.1:6379/14")


class BenchError(Exception):
    """A set-up problem the person running the benchmark can fix."""


def database_url() -> str:
    url = os.environ.get("DATABASE_URL", "")
    if url.startswith(("postgres://", "postgresql://")):
        return url
    return f"sqlite:///{SQLITE_PATH}"


def engine_name(url: str) -> str:
    return "postgresql" if url.startswith(("postgres://", "postgresql://")) else "sqlite"


def prepare_database() -> str:
    """A fresh, empty database; returns its URL (also exported as DATABASE_URL)."""
    FILES_DIR.mkdir(exist_ok=True)
    RESULTS_DIR.mkdir(exist_ok=True)
    url = database_url()
    if engine_name(url) == "postgresql":
        _recreate_postgres(url)
    else:
        for suffix in ("", "-journal", "-wal", "-shm"):
            Path(f"{SQLITE_PATH}{suffix}").unlink(missing_ok=True)
    os.environ["DATABASE_URL"] = url
    return url


def _recreate_postgres(url: str) -> None:
    import dj_database_url
    import psycopg

    db = dj_database_url.parse(url)
    name = db["NAME"]
    if "bench" not in name:
        raise BenchError(
            f"DATABASE_URL names the database {name!r}; the benchmark drops and recreates its "
            "database, so the name must contain 'bench' (e.g. kandidaatbeheer_bench)."
        )
    try:
        with admin_connection(db) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {quoted(name)} WITH (FORCE)")
            conn.execute(f"CREATE DATABASE {quoted(name)}")
    except psycopg.Error as exc:
        raise BenchError(f"Cannot recreate PostgreSQL database {name!r}: {exc}") from exc


def admin_connection(db: dict):
    """An autocommit connection to the server's `postgres` database, for CREATE and DROP
    DATABASE; `db` is a Django DATABASES entry (USER, PASSWORD, HOST, PORT)."""
    import psycopg

    params = {
        "dbname": "postgres",
        "user": db.get("USER"),
        "password": db.get("PASSWORD"),
        "host": db.get("HOST"),
        "port": db.get("PORT"),
    }
    return psycopg.connect(**{k: v for k, v in params.items() if v}, autocommit=True)


def quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def configure_environment() -> None:
    """Environment for this process and every child (reader, memory probe, workers)."""
    os.environ["DJANGO_SETTINGS_MODULE"] = "bench.settings"
    os.environ["DJANGO_DEBUG"] = "1"  # see bench/settings.py: DEBUG is switched off there
    os.environ.pop("KB_TESTING", None)
    os.environ["EMAIL_URL"] = "locmem://"
    os.environ["KB_MEDIA_ROOT"] = str(FILES_DIR / "media")
    # In this process tasks run eagerly; only the end-to-end section talks to Redis.
    os.environ.pop("CELERY_BROKER_URL", None)
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))


def setup_django(*, migrate: bool) -> None:
    warnings.filterwarnings("ignore", message="No directory at")  # whitenoise, no collectstatic
    import django

    django.setup()
    if migrate:
        from django.core.management import call_command

        call_command("migrate", verbosity=0)


def machine() -> dict:
    cpu = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        cpu = platform.processor()
    memory_gb = None
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                memory_gb = round(int(line.split()[1]) / 1024 / 1024, 1)
    except OSError:
        pass
    versions = {}
    for package in (
        "Django",
        "celery",
        "python-calamine",
        "openpyxl",
        "django-import-export",
        "tablib",
        "fpdf2",
        "psycopg",
    ):
        try:
            versions[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            versions[package] = None
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory_gb": memory_gb,
        "os": platform.platform(),
        "python": platform.python_version(),
        "packages": versions,
        "git": _git_state(),
    }


# The product's sources: what a worker or a child process started later would import.
_SOURCE_SUFFIXES = (".py", ".html", ".txt", ".mo", ".toml")
_NOT_SOURCES = {".git", ".venv", "bench", "tests", "docs", "node_modules", "static", "__pycache__"}


def source_snapshot() -> dict[str, tuple[int, int]]:
    """(mtime, size) of every product source file: apps, config, templates, translations."""
    snapshot = {}
    for directory, subdirs, files in os.walk(ROOT):
        subdirs[:] = [d for d in subdirs if d not in _NOT_SOURCES and not d.startswith(".")]
        for name in files:
            if name.endswith(_SOURCE_SUFFIXES):
                path = Path(directory, name)
                try:
                    stat = path.stat()
                except OSError:
                    continue
                snapshot[str(path.relative_to(ROOT))] = (stat.st_mtime_ns, stat.st_size)
    return snapshot


def changed_sources(before: dict[str, tuple[int, int]]) -> list[str]:
    """Product files changed, added or removed since `before`: processes started since (the
    Celery workers, the reader and memory-probe children) run other code than this one."""
    if not before:
        return []
    now = source_snapshot()
    return sorted(path for path in before.keys() | now.keys() if before.get(path) != now.get(path))


def database_description() -> dict:
    from django.db import connection

    if connection.vendor == "sqlite":
        import sqlite3

        return {"engine": "sqlite", "version": sqlite3.sqlite_version, "name": str(SQLITE_PATH)}
    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        version = cursor.fetchone()[0]
    settings = connection.settings_dict
    return {
        "engine": "postgresql",
        "version": version,
        "name": f"{settings['HOST'] or 'socket'}:{settings['PORT'] or 5432}/{settings['NAME']}",
    }


def _git_state() -> dict:
    def git(*args: str) -> str:
        try:
            return subprocess.run(
                ["git", *args], cwd=ROOT, capture_output=True, text=True, check=False
            ).stdout.strip()
        except OSError:
            return ""

    if os.environ.get("KB_BENCH_COMMIT"):  # a run from an exported tree (git archive)
        return {"commit": os.environ["KB_BENCH_COMMIT"], "dirty": False, "exported": True}
    return {"commit": git("rev-parse", "--short", "HEAD"), "dirty": bool(git("status", "--short"))}
