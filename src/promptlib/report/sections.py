"""The shape every section of the report shares: figures over the window, one row per period,
and the trend — built from parts, so a new figure is one more part (one function) and not an
edit to the others."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from promptlib.report.periods import trend


@dataclass
class Part:
    """Some figures of a section: over the window, and per period (`zero` for a period with
    nothing in it)."""

    figures: dict[str, Any]
    per_period: dict[str, dict[str, Any]] = field(default_factory=dict)
    zero: dict[str, Any] = field(default_factory=dict)


@dataclass
class Tally:
    """Counters keyed by period (and, for people and recipes, sets)."""

    by_period: dict[str, Any] = field(default_factory=dict)

    def add(self, period: str, value: Any = 1) -> None:
        self.by_period[period] = self.by_period.get(period, 0) + value

    def add_to_set(self, period: str, item: str) -> None:
        self.by_period.setdefault(period, set()).add(item)


def data_periods(parts: Sequence[Part]) -> list[str]:
    """The periods that hold at least one event, in any part."""
    return [period for part in parts for period in part.per_period]


def finish(parts: Sequence[Part], periods: Sequence[str]) -> dict[str, Any]:
    """The section as the document holds it: the figures, `per_period` and `trend`."""
    section: dict[str, Any] = {}
    for part in parts:
        section.update(part.figures)
    rows = []
    for period in periods:
        row: dict[str, Any] = {"period": period}
        for part in parts:
            row.update(part.per_period.get(period, part.zero))
        rows.append(row)
    section["per_period"] = rows
    section["trend"] = trend(rows)
    return section


def fraction(part: int, whole: int) -> float | int | None:
    """`part / whole` to four places (None when there is no whole to divide by)."""
    if whole == 0:
        return None
    value = round(part / whole, 4)
    return int(value) if value == int(value) else value
