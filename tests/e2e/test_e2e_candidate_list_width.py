"""Beheer → Kandidaten fits the window: at 1,280 and 1,024 px the page is no wider than the
window, and the table scrolls in its own box, so status, validity and 'Wijzig deze gebruiker'
can always be reached."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.factories import CandidateFactory

pytestmark = pytest.mark.django_db(transaction=True)


def _long_rows(people) -> None:
    """Candidates with the long names, addresses and group lists real colleges have."""
    for n in range(3):
        CandidateFactory(
            organisation=people.college,
            candidate_number=f"20250000{n}",
            groups=[people.nursing, people.technical],
            user__username=f"kandidaat-met-een-lange-gebruikersnaam-{n}",
            user__first_name="Maximiliaan-Alexander",
            user__surname_prefix="van der",
            user__last_name=f"Boomgaard-Hoogstraten {n}",
            user__email=f"maximiliaan.alexander.vanderboomgaard{n}@leerling.rocmidden.example",
        )


@pytest.mark.parametrize("width", [1280, 1024])
def test_the_list_fits_the_window_and_every_row_can_be_edited(e2e, people, width):
    _long_rows(people)
    page = e2e.page
    page.set_viewport_size({"width": width, "height": 800})
    page.set_default_timeout(30_000)  # a busy test machine; the page itself is quick
    e2e.login(people.beheerder)
    e2e.goto("/beheer/kandidaten/", f"kandidaten-{width}")

    # Before the table box was positioned, its visually hidden texts stretched the page.
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    box = page.locator(".table-responsive")
    assert box.evaluate("e => e.scrollWidth > e.clientWidth")  # the wide table scrolls in it

    table = page.get_by_role("table", name="Kandidaten die aan het filter voldoen")
    links = table.get_by_role("link", name="Wijzig deze gebruiker")
    expect(links).to_have_count(8)
    for i in range(8):
        link = links.nth(i)
        link.scroll_into_view_if_needed()  # scrolls the table's own box, not the page
        expect(link).to_be_in_viewport()
        box = link.bounding_box()
        assert box is not None and 0 <= box["x"] and box["x"] + box["width"] <= width
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    e2e.check(f"kandidaten-{width}-gescrold")
