"""python manage.py exam_client: the stable contract for operators (create --json, list,
disable), exit 2 with one Dutch line on bad input."""

from __future__ import annotations

import json

import pytest
from django.conf import settings
from django.contrib.auth.hashers import check_password
from django.core.management import call_command

from accounts.models import AuditLog, ExamEnvironment

pytestmark = pytest.mark.django_db


def run(capsys, *args) -> tuple[int, str, str]:
    code = 0
    try:
        call_command("exam_client", *args)
    except SystemExit as exit_info:
        code = int(exit_info.code or 0)
    out, err = capsys.readouterr()
    return code, out, err


CREATE = ("create", "--college", "rocm", "--name", "Toetsspeler")


def test_create_json_list_and_disable(capsys, world):
    code, out, err = run(
        capsys, *CREATE, "--redirect-uri", "https://toets.rocm.nl/cb",
        "--redirect-uri", "https://toets.rocm.nl/cb2", "--allow-staff", "--json",
    )  # fmt: skip
    assert (code, err) == (0, "")
    created = json.loads(out)
    assert set(created) == {"client_id", "client_secret", "issuer"}
    assert created["issuer"] == settings.KB_BASE_URL
    environment = ExamEnvironment.objects.get(application__client_id=created["client_id"])
    app = environment.application
    assert (environment.organisation, environment.allow_staff, environment.active) == (
        world.college,
        True,
        True,
    )
    assert app.redirect_uris == "https://toets.rocm.nl/cb https://toets.rocm.nl/cb2"
    assert app.skip_authorization and app.algorithm == "RS256"
    # Stored hashed: the plaintext is nowhere in the database.
    assert app.client_secret != created["client_secret"]
    assert check_password(created["client_secret"], app.client_secret)
    row = AuditLog.objects.get(action=AuditLog.Action.EXAM_ENVIRONMENT_CREATED)
    assert (row.actor, row.organisation, row.target_repr) == (None, world.college, "Toetsspeler")
    assert created["client_secret"] not in json.dumps(row.after)

    code, out, _ = run(capsys, "list", "--college", "rocm", "--json")
    assert json.loads(out) == [
        {
            "client_id": created["client_id"],
            "name": "Toetsspeler",
            "redirect_uris": ["https://toets.rocm.nl/cb", "https://toets.rocm.nl/cb2"],
            "allow_staff": True,
            "active": True,
        }
    ]
    assert json.loads(run(capsys, "list", "--college", "roca", "--json")[1]) == []

    code, out, err = run(capsys, "disable", created["client_id"])
    assert (code, out.strip(), err) == (0, "Toetsspeler staat uit.", "")
    environment.refresh_from_db()
    assert environment.active is False


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("create", "--college", "nope", "--name", "X", "--redirect-uri", "https://a.nl/cb"),
         "Onbekende school: er is geen school met code 'nope'."),
        ((*CREATE, "--redirect-uri", "toets.rocm.nl/cb"),
         "--redirect-uri, regel 1: 'toets.rocm.nl/cb' is geen volledig webadres; begin met "
         "https://."),
        ((*CREATE, "--redirect-uri", "https://a.nl/cb", "--redirect-uri", "https://a.nl/#x"),
         "--redirect-uri, regel 2: 'https://a.nl/#x' mag geen # bevatten."),
        ((*CREATE, "--redirect-uri", "ftp://a.nl/cb"),
         "--redirect-uri, regel 1: 'ftp://a.nl/cb' moet beginnen met https://."),
        (("list", "--college", "nope"), "Onbekende school: er is geen school met code 'nope'."),
        (("disable", "nope"), "Onbekende toetsomgeving: geen client-ID 'nope'."),
    ],
)  # fmt: skip
def test_bad_input_exits_2_with_one_dutch_line(capsys, world, args, message):
    code, out, err = run(capsys, *args)
    assert (code, out, err) == (2, "", message + "\n")
    assert not ExamEnvironment.objects.exists()
