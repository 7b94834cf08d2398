"""The idle time-out is renewed at most once a minute, not written on every page view.

Writing the session row on every request cost an UPDATE and a commit per page (the list page
is requested many times a minute by a busy college); renewing once a minute keeps the idle
time-out to the minute and the session table quiet.
"""

import time
from datetime import timedelta

from django.contrib.sessions.models import Session
from django.urls import reverse
from django.utils import timezone

from accounts.middleware import SESSION_RENEW_SECONDS, SESSION_RENEWED_KEY

LIST = reverse("candidates:list")


def _session_row(client) -> Session:
    return Session.objects.get(session_key=client.session.session_key)


def test_a_page_view_within_the_minute_writes_nothing(client, world):
    client.force_login(world.beheerder)
    client.get(LIST)  # the first view after login renews
    before = _session_row(client).expire_date
    response = client.get(LIST)
    assert response.status_code == 200
    assert _session_row(client).expire_date == before
    assert "sessionid" not in response.cookies  # the cookie is not sent again either


def test_an_older_renewal_moves_the_idle_time_out_on(client, world, settings):
    client.force_login(world.beheerder)
    client.get(LIST)
    session = client.session
    session[SESSION_RENEWED_KEY] = int(time.time()) - SESSION_RENEW_SECONDS - 1
    session.save()
    Session.objects.filter(session_key=session.session_key).update(
        expire_date=timezone.now() + timedelta(minutes=5)
    )

    response = client.get(LIST)

    assert response.status_code == 200
    expires = _session_row(client).expire_date
    expected = timezone.now() + timedelta(seconds=settings.SESSION_COOKIE_AGE)
    assert abs((expires - expected).total_seconds()) < 5
    assert response.cookies["sessionid"]["max-age"] == settings.SESSION_COOKIE_AGE
    assert abs(client.session[SESSION_RENEWED_KEY] - time.time()) < 5


def test_an_idle_session_ends(client, world):
    client.force_login(world.beheerder)
    client.get(LIST)
    Session.objects.filter(session_key=client.session.session_key).update(
        expire_date=timezone.now() - timedelta(seconds=1)
    )
    response = client.get(LIST)
    assert response.status_code == 302
    assert response.url.startswith(reverse("accounts:login"))


def test_the_organisation_comes_with_the_user(client, world, django_assert_num_queries):
    """The college is read with the user (one query less on every page)."""
    client.force_login(world.beheerder)
    client.get(LIST)
    # session, user with college, the filter's groups, count, ids, rows, their groups
    with django_assert_num_queries(7):
        assert client.get(LIST).status_code == 200
