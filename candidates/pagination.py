"""Pages of the candidate list in two steps (a "deferred join").

With LIMIT/OFFSET the database joins and fetches every row it skips: page 900 of a college
of 50,000 took 258 ms on PostgreSQL, most of it spent on 45,000 rows nobody sees. Here the
ids of one page come first, from the filtered and sorted candidates alone (for the name and
number orders one index scan on the candidate table: `candidate_name_order`,
`unique_candidate_number`), and only those rows are then fetched with their user and groups.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from django.core.paginator import Page, Paginator
from django.db.models import QuerySet

from .models import Candidate


class CandidatePaginator(Paginator):  # Paginator is not subscriptable at run time
    def __init__(
        self,
        object_list: QuerySet[Candidate],
        per_page: int,
        *,
        rows: Callable[[QuerySet[Candidate]], Iterable[Candidate]],
    ):
        """`object_list` is the visible, filtered, sorted list (the count and the page's ids
        come from it); `rows` adds what the page shows, e.g. `selectors.list_rows`."""
        super().__init__(object_list, per_page)
        self.candidates = object_list  # the base class sees it only as a sequence
        self.rows = rows

    def page(self, number: int | str) -> Page[Candidate]:
        number = self.validate_number(number)
        bottom = (number - 1) * self.per_page
        top = bottom + self.per_page
        if top + self.orphans >= self.count:
            top = self.count
        ids = list(self.candidates.values_list("pk", flat=True)[bottom:top])
        # The ids came from the visibility rule a moment ago; fetching them by primary key
        # alone keeps the second query at 50 index lookups (applying the coordinator's group
        # subquery again cost 13 ms on SQLite). A candidate deleted in between drops out.
        found = {c.pk: c for c in self.rows(Candidate.objects.filter(pk__in=ids))}
        # Page itself rather than Paginator._get_page, the private hook that only builds one.
        return Page([found[pk] for pk in ids if pk in found], number, self)
