"""What every section gets: the sizes of this run and the list of figures it adds to."""

from __future__ import annotations

from dataclasses import dataclass, field

from .measure import Figure, sample

# Figures a quick run still judges: query counts (they must not depend on size at all).
QUICK_EVALUATED = ("queries.constant", "list.50.")


@dataclass
class Context:
    quick: bool
    runs: int  # timed runs per figure (after one untimed warm-up)
    sizes: tuple[int, ...]  # input file sizes: 1,000, 10,000 and 50,000 rows
    main_size: int  # the size of the peer comparison, the stages and the whole import
    list_sizes: tuple[int, int]  # candidates in the college of the list page: 50 and 50,000
    password_rows: int  # rows of the "passwords from a file" import (full-strength hashing)
    e2e_runs: int
    engine: str = ""
    worker_setups: tuple[str, ...] = ()  # e2e: only these set-ups ("1x1", …); empty: all
    figures: list[Figure] = field(default_factory=list)
    cache: dict = field(default_factory=dict)  # shared set-up between sections
    sources: dict = field(default_factory=dict)  # env.source_snapshot() when the run started

    @property
    def largest(self) -> int:
        return max(self.sizes)

    def add(
        self,
        section: str,
        key: str,
        label: str,
        unit: str,
        *,
        samples: list[float] | None = None,
        value: float | None = None,
        scale: float = 1.0,
        queries: int | None = None,
        target: str = "",
        status: str = "",
        note: str = "",
        **extra,
    ) -> Figure:
        if samples is not None:
            stats = sample([s * scale for s in samples])
        else:
            stats = {"median": value, "min": None, "max": None, "runs": 1, "samples": []}
        figure = Figure(
            section=section,
            key=key,
            label=label,
            unit=unit,
            queries=queries,
            target=target,
            status=status,
            note=note,
            extra=extra,
            **stats,
        )
        self.figures.append(figure)
        print(f"  {label:<62} {_short(figure, self.evaluates(key))}", flush=True)
        return figure

    def evaluates(self, key: str) -> bool:
        """Whether this run judges the figure against its target: a quick run only judges
        the query counts, which do not depend on size."""
        return not self.quick or key.startswith(QUICK_EVALUATED)

    def find(self, key: str) -> Figure | None:
        return next((f for f in self.figures if f.key == key), None)


def _short(figure: Figure, evaluated: bool) -> str:
    from .measure import format_value

    text = format_value(figure.median, figure.unit)
    if figure.runs > 1:
        text += (
            f"  [{format_value(figure.min, figure.unit)} … {format_value(figure.max, figure.unit)}"
            f", n={figure.runs}]"
        )
    if figure.queries is not None:
        text += f"  {figure.queries} queries"
    if figure.status and evaluated:
        text += f"  {figure.target} {figure.status}"
    return text
