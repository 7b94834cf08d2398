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
from django.db.models import Count, QuerySet, Window

from .models import Candidate

_NO_LIST_IS_THIS_LONG = 2**31


class CandidatePaginator(Paginator):  # Paginator is not subscriptable at run time
    def __init__(
        self,
        object_list: QuerySet[Candidate],
        per_page: int,
        *,
        rows: Callable[[QuerySet[Candidate]], Iterable[Candidate]],
        counted_with_page: bool = False,
    ):
        """`object_list` is the visible, filtered, sorted list (the count and the page's ids
        come from it); `rows` adds what the page shows, e.g. `selectors.list_rows`.

        `counted_with_page`: the list is narrowed to its matches first (a search), so the
        page's ids and the total come from one query (COUNT(*) OVER ()) instead of two that
        each find every match: on PostgreSQL the search's two index scans were most of its
        time. Not for the whole college, where the count reads an index and the page reads
        50 entries of another; counting those 50 with the window would read all 20,000."""
        super().__init__(object_list, per_page)
        self.candidates = object_list  # the base class sees it only as a sequence
        self.rows = rows
        self.counted_with_page = counted_with_page
        self._counted_ids: dict[int, list[int]] = {}  # page number → its ids, from the count

    def get_page(self, number: int | float | str | None) -> Page[Candidate]:
        # Before the base class validates the number, which counts. A missing or bad number
        # is page 1 there too.
        self._count_with_page(_as_int(number) or 1)
        return super().get_page(number)

    def page(self, number: int | str) -> Page[Candidate]:
        self._count_with_page(_as_int(number))
        number = self.validate_number(number)  # counts with a query if the above did not
        ids = self._counted_ids.get(number)
        if ids is None:
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

    def _count_with_page(self, wanted: int | None) -> None:
        """With counted_with_page, the ids of page `wanted` and `count` from one query; where
        that query finds no rows at or after the page (an empty result, a page beyond the
        last) it cannot tell the count, and the usual count and ids follow."""
        if not self.counted_with_page or "count" in self.__dict__ or not wanted or wanted < 1:
            return
        bottom = (wanted - 1) * self.per_page
        if bottom >= _NO_LIST_IS_THIS_LONG:
            return  # an OFFSET the databases refuse (SQLite: 'datatype mismatch'); counted below
        top = bottom + self.per_page
        # Up to `orphans` more rows: a last page keeps them instead of leaving them alone.
        found = list(
            self.candidates.annotate(total=Window(Count("pk"))).values_list("pk", "total")[
                bottom : top + self.orphans
            ]
        )
        if not found:
            return
        self.count = found[0][1]  # Paginator.count is a cached_property: this is its value
        if top + self.orphans >= self.count:
            top = self.count
        self._counted_ids[wanted] = [pk for pk, _total in found[: top - bottom]]


def _as_int(number: int | float | str | None) -> int | None:
    """The page number as Paginator.validate_number reads it; None where it would refuse it."""
    if isinstance(number, float) and not number.is_integer():
        return None
    try:
        return int(number)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
