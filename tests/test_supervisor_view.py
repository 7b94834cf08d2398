"""Begeleiders: 'Mijn kandidaten' (read-only, marked by link); kandidaten: 'Mijn gegevens'."""

import pytest
from django.urls import reverse

from .helpers.candidates import count_queries, logged_in, make_candidates

MINE = reverse("candidates:mine")
ME = reverse("candidates:me")


def listed(response):
    return {c.user.username: c for c in response.context["page"].object_list}


def test_supervisor_sees_group_and_direct_candidates_marked(client, world):
    response = logged_in(client, world.supervisor).get(MINE)
    candidates = listed(response)
    assert set(candidates) == {"kand-own", "kand-direct"}
    own, direct = candidates["kand-own"], candidates["kand-direct"]
    assert [g.name for g in own.via_groups] == ["Zorg 1"] and own.is_direct is False
    # Linked directly; its group (Techniek 1) is not supervised, so it is not named.
    assert direct.via_groups == [] and direct.is_direct is True
    page = response.content.decode()
    assert "groep Zorg 1" in page and "direct gekoppeld" in page
    assert "Techniek 1" not in page and "kand-other" not in page


def test_both_links_are_shown_together(client, world):
    world.in_own_group.supervisors.add(world.supervisor)
    candidate = listed(logged_in(client, world.supervisor).get(MINE))["kand-own"]
    assert candidate.is_direct is True and [g.name for g in candidate.via_groups] == ["Zorg 1"]


def test_supervisor_search(client, world):
    response = logged_in(client, world.supervisor).get(MINE, {"q": "cees"})
    assert set(listed(response)) == {"kand-direct"}
    response = logged_in(client, world.supervisor).get(MINE, {"q": "bert"})
    assert listed(response) == {}


def test_supervisor_view_is_read_only(client, world):
    client = logged_in(client, world.supervisor)
    page = client.get(MINE).content.decode()
    main = page.split("<main")[1].split("</main>")[0]
    assert "Wijzig deze gebruiker" not in main and 'method="post"' not in main
    edit = reverse("candidates:edit", args=[world.in_own_group.pk])
    assert client.get(edit).status_code == 403
    assert client.get(reverse("candidates:list")).status_code == 403


@pytest.mark.parametrize("role", ["beheerder", "coordinator", "outsider"])
def test_mijn_kandidaten_is_for_supervisors(client, world, role):
    assert logged_in(client, getattr(world, role)).get(MINE).status_code == 403


def test_mine_query_count_is_constant(client, world):
    client = logged_in(client, world.supervisor)
    client.get(MINE)
    few = count_queries(lambda: client.get(MINE))
    for candidate in make_candidates(world.college, world.own_group, 25):
        candidate.supervisors.add(world.supervisor)
    assert count_queries(lambda: client.get(MINE)) == few


def test_candidate_sees_own_details_after_login(client, world):
    login = client.post(
        reverse("accounts:login"), {"username": "kand-own", "password": "Correct-Paard-Batterij-7"}
    )
    assert login.status_code == 302
    response = client.get(login["Location"], follow=True)
    assert response.redirect_chain[-1][0] == ME
    page = response.content.decode()
    assert "Mijn gegevens" in page
    assert "Anna Eigen" in page and "0000001" in page and "Zorg 1" in page
    assert "ROC Midden" in page


@pytest.mark.parametrize("role", ["beheerder", "coordinator", "supervisor"])
def test_mijn_gegevens_is_for_candidates(client, world, role):
    assert logged_in(client, getattr(world, role)).get(ME).status_code == 403
