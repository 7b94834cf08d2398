"""The production profile passes `check --deploy`, and every HTML page the
product serves there carries a Content-Security-Policy without inline scripts, HSTS,
X-Content-Type-Options and a frame-ancestors rule.

Both run in a separate process with the production settings (DJANGO_DEBUG=0, a real secret
key, an allowed host, no test profile): settings are read once at start-up, so the test
process itself can only show the test profile. The crawl logs in as every role on the test
database and follows every link it finds, so a page added later is checked without being
listed here.
"""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
import textwrap

import pytest

from .helpers.candidates import make_superuser
from .helpers.imports import make_batch, people, run_import, xlsx_bytes
from .helpers.services import BASE_DIR, _worker_database_url

HOST = "kandidaten.example.nl"
NO_ISSUES = "System check identified no issues (0 silenced).\n"


def production_env(**extra) -> dict:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("KB_TESTING", "KB_BASE_URL", "DJANGO_", "CELERY_", "AXES_"))
    }
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "config.settings",
            "DJANGO_DEBUG": "0",
            "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
            "DJANGO_ALLOWED_HOSTS": HOST,
            "KB_BASE_URL": f"https://{HOST}",
            "PYTHONUNBUFFERED": "1",
            **extra,
        }
    )
    return env


def manage(*args, env) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_check_deploy_on_the_production_profile_reports_nothing():
    result = manage("check", "--deploy", "--fail-level", "WARNING", env=production_env())

    assert (result.returncode, result.stdout, result.stderr) == (0, NO_ISSUES, "")


def test_check_deploy_would_catch_a_weak_production_setting():
    """The check above is not vacuous: a short secret key alone fails it."""
    env = production_env(DJANGO_SECRET_KEY="kort")

    result = manage("check", "--deploy", "--fail-level", "WARNING", env=env)

    assert result.returncode == 1
    assert "(security.W009) Your SECRET_KEY has less than 50 characters" in result.stderr


# --- the crawl ----------------------------------------------------------------------------------

# The production settings, but with plain static file storage: the manifest storage needs a
# `collectstatic` run, which has nothing to do with headers.
PRODUCTION_SETTINGS = """
from config.settings import *  # noqa: F403

STORAGES = {  # noqa: F405
    **STORAGES,  # noqa: F405
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
"""

CRAWLER = textwrap.dedent(
    """
    import json, re, sys
    from urllib.parse import urljoin, urlsplit

    import django
    django.setup()
    from django.test import Client
    from accounts.models import User

    HOST = sys.argv[1]
    plan = json.loads(sys.argv[2])
    SKIP = ("/uitloggen/", "/hijack/", "/static/", "/i18n/")
    FILES = (".pdf", ".xlsx", ".json")  # downloads, not pages
    HREF = re.compile(r'href="([^"#]*)')
    INLINE_SCRIPT = re.compile(r"<script(?![^>]*\\bsrc=)(?![^>]*application/json)[^>]*>", re.I)
    HANDLER = re.compile(r"<[^>]+\\son[a-z]+\\s*=", re.I)
    STYLE_ATTR = re.compile(r"<[^>]+\\sstyle\\s*=", re.I)
    pages = []
    for username, seeds in plan.items():
        client = Client(HTTP_X_FORWARDED_PROTO="https", SERVER_NAME=HOST)
        if username != "anonymous":
            client.force_login(User.objects.get(username=username))
        todo, seen = list(seeds), set()
        while todo and len(seen) < 150:
            path = todo.pop(0)
            if path in seen or path.startswith(SKIP) or path.endswith(FILES):
                continue
            seen.add(path)
            response = client.get(path)
            if not response.get("Content-Type", "").startswith("text/html"):
                continue
            html = response.content.decode()
            pages.append({
                "user": username,
                "path": path,
                "status": response.status_code,
                "headers": {k: response.get(k) for k in (
                    "Content-Security-Policy", "Strict-Transport-Security",
                    "X-Content-Type-Options", "X-Frame-Options", "Referrer-Policy")},
                "inline_scripts": len(INLINE_SCRIPT.findall(html)),
                "handlers": len(HANDLER.findall(html)),
                "style_attributes": len(STYLE_ATTR.findall(html)),
                "javascript_urls": html.count("javascript:"),
            })
            for href in HREF.findall(html):
                url = urlsplit(urljoin(path, href.replace("&amp;", "&")))
                if url.netloc in ("", HOST) and url.path.startswith("/"):
                    todo.append(url.path + ("?" + url.query if url.query else ""))
    insecure = Client(SERVER_NAME=HOST).get("/inloggen/")
    print(json.dumps({"pages": pages, "http": [insecure.status_code, insecure.get("Location")]}))
    """
)


@pytest.fixture
def crawl(transactional_db, world, tmp_path):
    """Crawl the product as every role, in a production-profile process on the test data."""
    make_superuser()
    draft = make_batch(world.coordinator, xlsx_bytes(people(3, start=800)), "concept.xlsx")
    done = run_import(
        world.coordinator,
        xlsx_bytes(people(2, start=810)),
        "klaar.xlsx",
        group_id=world.own_group.pk,
        report_email="coord@rocm.example",
    )
    (tmp_path / "production_settings.py").write_text(PRODUCTION_SETTINGS)
    (tmp_path / "crawler.py").write_text(CRAWLER)
    seeds = ["/", "/bestaat-niet/", "/beheer/kandidaten/", "/beheer/import/"]
    wizard = [
        f"/beheer/import/{draft.pk}/{step}/"
        for step in ("kolommen", "controle", "wachtwoord", "kandidaatgroep", "begeleiders",
                     "geldigheid", "inloggegevens", "bevestigen")
    ]  # fmt: skip
    plan = {
        "anonymous": ["/", "/inloggen/", "/bestaat-niet/", "/beheer/kandidaten/"],
        "beheerder": [*seeds, f"/beheer/import/{done.pk}/resultaat/"],
        "coord": seeds + wizard + [f"/beheer/import/{done.pk}/resultaat/"],
        "begel": seeds,
        "kand-own": seeds,
        "outsider": [*seeds, f"/beheer/import/{done.pk}/resultaat/"],
        "root": ["/platform-admin/", "/"],
    }
    env = production_env(
        DJANGO_SETTINGS_MODULE="production_settings",
        DATABASE_URL=_worker_database_url(),
        PYTHONPATH=f"{tmp_path}{os.pathsep}{BASE_DIR}",
        AXES_PROXY_COUNT="1",  # behind the TLS proxy, whose X-Forwarded-Proto is then believed
    )
    result = subprocess.run(
        [sys.executable, str(tmp_path / "crawler.py"), HOST, json.dumps(plan)],
        cwd=BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


def csp_directives(header: str) -> dict[str, list[str]]:
    directives = {}
    for part in header.split(";"):
        name, *values = part.split()
        directives[name] = values
    return directives


def test_every_html_page_of_the_production_profile_carries_the_security_headers(crawl):
    pages = crawl["pages"]
    users = {page["user"] for page in pages}
    assert users == {"anonymous", "beheerder", "coord", "begel", "kand-own", "outsider", "root"}
    statuses = {page["status"] for page in pages}
    assert {200, 302, 403, 404} <= statuses  # error pages are pages too
    assert len([page for page in pages if page["user"] != "root"]) > 80  # ours, not admin

    problems = []
    for page in pages:
        where = f"{page['user']} {page['path']} ({page['status']})"
        headers = page["headers"]
        csp = csp_directives(headers["Content-Security-Policy"] or "")
        if not csp:
            problems.append(f"{where}: no Content-Security-Policy")
            continue
        script_src = csp.get("script-src", csp.get("default-src", []))
        if {"'unsafe-inline'", "'unsafe-eval'", "*"} & set(script_src) or not script_src:
            problems.append(f"{where}: script-src {script_src}")
        if csp.get("frame-ancestors") != ["'none'"]:
            problems.append(f"{where}: frame-ancestors {csp.get('frame-ancestors')}")
        if csp.get("object-src") != ["'none'"]:
            problems.append(f"{where}: object-src {csp.get('object-src')}")
        expected = {
            "Strict-Transport-Security": "max-age=31536000; includeSubDomains; preload",
            "X-Content-Type-Options": "nosniff",
            "X-Frame-Options": "DENY",
            "Referrer-Policy": "same-origin",
        }
        for name, value in expected.items():
            if headers[name] != value:
                problems.append(f"{where}: {name} is {headers[name]!r}")
        # What the policy would block must not be there, or the page breaks.
        for kind in ("inline_scripts", "handlers", "javascript_urls"):
            if page[kind]:
                problems.append(f"{where}: {page[kind]} {kind}")
        # style-src 'self' also blocks style="…" attributes: our own pages have none (the
        # platform admin is Django's own, for operators only).
        if page["style_attributes"] and not page["path"].startswith("/platform-admin/"):
            problems.append(f"{where}: {page['style_attributes']} style attributes")
    assert problems == []
    # Plain HTTP is sent to HTTPS (behind the proxy, by X-Forwarded-Proto).
    assert crawl["http"] == [301, f"https://{HOST}/inloggen/"]
