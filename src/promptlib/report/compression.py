"""Compression: tasks that now take half the time — the ROI people can name.

A win recorded with `--before` and `--after` (`metrics.wins`) says how long the task took
without the recipe and how long it takes with it; its ratio is after / before.

- timed: the wins in the window that carry both.
- halved: those whose task now takes at most half as long (ratio ≤ 0.5); also per period.
- median ratio: the median of their ratios, to four places (None without a timed win).
- stories: the timed wins that carry a note, the smallest ratio first (then the most minutes
  saved, then the earliest): before → after, in the recorder's words.
"""

from __future__ import annotations

from collections import Counter

from promptlib.metrics.wins import rounded
from promptlib.report.evidence import Evidence
from promptlib.report.sections import Part

HALVED = 0.5
BEST_STORIES = 5


def compression(ev: Evidence) -> Part:
    timed = [(period, win, win.ratio) for period, win in ev.wins if win.ratio is not None]
    halved: Counter[str] = Counter(period for period, _, ratio in timed if ratio <= HALVED)
    ratios = [ratio for _, _, ratio in timed]
    told = sorted(((win, ratio) for _, win, ratio in timed if win.note),
                  key=lambda wr: (wr[1], -wr[0].minutes, wr[0].at))
    return Part({"compression": {
        "timed": len(timed),
        "halved": sum(halved.values()),
        "median_ratio": rounded(median(ratios), 4) if ratios else None,
        "stories": [{"id": w.recipe, "before": w.before, "after": w.after, "minutes": w.minutes,
                     "ratio": rounded(ratio, 4), "note": w.note, "author": w.author,
                     "date": w.day} for w, ratio in told[:BEST_STORIES]],
    }}, {period: {"halved": n} for period, n in halved.items()}, {"halved": 0})


def median(values: list[float]) -> float:
    """The middle value (the mean of the two middle ones for an even count); `statistics` would
    cost the report its import."""
    ordered = sorted(values)
    middle = len(ordered) // 2
    return ordered[middle] if len(ordered) % 2 else (ordered[middle - 1] + ordered[middle]) / 2
