"""The voluntary adoption rate, overall and per team: how many of the people who could use the
recipes do.

- known (the people a collection counts): everyone who, in the window, committed to it (any
  commit but the starter-library seed), recorded a win in it, or rendered one of its recipes
  (a published `usage/` file, or this machine's usage log, which counts as published). A
  collection that commits a roster (`.promptlib/team.yaml`, `metrics.roster`) counts exactly its
  members instead. Over several collections, the known people are those of each, together.
- rate: the known people with at least one render (of the selected collections' recipes) in the
  window, divided by the known people; per period, those who rendered in the period divided by
  the same known people (a team's size is its window's, so the periods compare). A fraction to
  four places; None when nobody is known.
- by team: per selected collection, its renders, people rendering, known people, rate,
  contributors, wins and minutes saved in the window, the highest rate first.
"""

from __future__ import annotations

from typing import Any

from promptlib.metrics.wins import rounded
from promptlib.report.evidence import Evidence
from promptlib.report.sections import Part, fraction


def known_people(ev: Evidence) -> dict[str, frozenset[str]]:
    """Per collection, the people it counts (see the module's docstring)."""
    active: dict[str, set[str]] = {c.name: set() for c in ev.colls}
    for name, history in ev.histories.items():
        active[name].update(email for day, email in history.committers if ev.in_window(day))
    for _, win in ev.wins:
        active[win.recipe.partition("/")[0]].add(win.person)
    for render in ev.renders:
        if render.period is not None:
            active[render.collection].add(render.person)
    known = {}
    for name, people in active.items():
        roster = ev.rosters.get(name)
        known[name] = roster if roster is not None else frozenset(people - {""})
    return known


def adoption_rate(ev: Evidence) -> Part:
    known = known_people(ev)
    everyone = frozenset().union(*known.values())
    rendering: dict[str, set[str]] = {}
    for render in ev.renders:
        if render.period is not None and render.person in everyone:
            rendering.setdefault(render.period, set()).add(render.person)
    adopted = set().union(*rendering.values())
    return Part(
        {"known": len(everyone), "rate": fraction(len(adopted), len(everyone)),
         "known_from": {c.name: "roster" if ev.rosters.get(c.name) is not None else "activity"
                        for c in ev.colls}},
        {period: {"rate": fraction(len(people), len(everyone))}
         for period, people in rendering.items()},
        {"rate": fraction(0, len(everyone))})


def by_team(ev: Evidence) -> list[dict[str, Any]]:
    known = known_people(ev)
    rows = {c.name: _TeamRow() for c in ev.colls}
    for render in ev.renders:
        if render.period is not None:
            row = rows[render.collection]
            row.renders += render.renders
            row.rendering.add(render.person)
    for name, history in ev.histories.items():
        rows[name].contributors.update(email for day, email in history.contributions
                                       if ev.in_window(day))
    for _, win in ev.wins:
        row = rows[win.recipe.partition("/")[0]]
        row.wins += 1
        row.minutes += win.minutes
    out: list[dict[str, Any]] = [{"collection": name, "recipes": len(ev.histories[name].added),
            "renders": row.renders, "renderers": len(row.rendering),
            "known": len(known[name]),
            "rate": fraction(len(row.rendering & known[name]), len(known[name])),
            "contributors": len(row.contributors), "wins": row.wins,
            "minutes": rounded(row.minutes),
            "known_from": "roster" if ev.rosters.get(name) is not None else "activity"}
           for name, row in rows.items()]
    out.sort(key=lambda r: (r["rate"] is None, -(r["rate"] or 0), -r["renders"],
                            r["collection"]))
    return out


class _TeamRow:
    def __init__(self) -> None:
        self.renders = 0
        self.rendering: set[str] = set()
        self.contributors: set[str] = set()
        self.wins = 0
        self.minutes: float = 0
