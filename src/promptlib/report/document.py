"""`promptlib report`: whether good prompts are spreading, from evidence already on disk.

This module builds the report document from the evidence and holds what each figure means.
No server. Per selected collection the report reads: its git history and `shared_from:` lines
(`report.history`: one `git log`, cached by HEAD, and one `git grep`), the `wins/` and `usage/`
files (`metrics`, `metrics.usage`), and the local usage log. Git runs in worker threads while
Python parses the files, so the slowest git call sets the time. Every event has a calendar day;
days fall into weeks or months, and the trend compares the last two (`report.periods`).

Definitions — "you" is the git identity (email) of each collection:

Voluntary adoption
- renders: renders of the selected collections' recipes — from every published `usage/` file,
  except this machine's own, which the live local log replaces (so nothing counts twice).
- renderers: distinct people (emails, `metrics.people`) with at least one render in the period.
- by via: this machine's renders in the window by how they were made (`render`, `pick`, an MCP
  client through `promptlib mcp`), each with its share; published files carry no `via`.
- contributors: distinct authors (emails) of commits that add or change at least one recipe
  file in the period. The commit that seeds `local` from the starter library does not count.
- known, rate: see `report.rates`.
Peer sharing
- shared across collections: recipes now in a selected collection that carry `shared_from`
  (set by `promptlib share`), dated by the commit that added the file.
- improved by others: distinct recipe files changed in the period by a commit whose author email
  differs from the author of the commit that added the file.
- arrived from others: recipe files added in the period by a commit whose author is not you —
  recipes that reached you from colleagues through pull.
- transmissions, spreaders, chains: see `report.spread`.
Concrete ROI
- minutes saved: the sum of the `minutes` of the wins recorded in the period; per recipe over the
  window, with the count of wins; best notes are the largest wins that carry a note.
- most rendered: recipes by renders over the window.
- compression: see `report.compression`.
By use case and by team: see `report.use_cases` and `report.rates`.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from promptlib.metrics import usage as metrics_usage
from promptlib.metrics.wins import Win, rounded
from promptlib.report import compression, rates, spread, use_cases
from promptlib.report.evidence import Evidence, gather, recipe_name
from promptlib.report.periods import By, bounds, period_lookup, span
from promptlib.report.sections import Part, Tally, data_periods, finish
from promptlib.store import collections as store

BEST_NOTES = 5
MOST_RENDERED = 10


@dataclass
class Report:
    """The document `--json` prints (and the terminal and HTML views draw), plus problems."""

    doc: dict[str, Any]
    problems: list[str] = field(default_factory=list)


def build(since: str | None = None, until: str | None = None, by: By = "week",
          teams: Sequence[str] = (), *, today: date | None = None) -> Report:
    """The whole report for the selected collections (all when `teams` is empty)."""
    first, last = bounds(since, until, by, today)
    colls = store.selected(list(teams))
    lo, hi = first.isoformat(), last.isoformat()
    period_of = period_lookup(by)

    def in_window(day: str) -> str | None:
        return period_of(day) if lo <= day <= hi else None

    ev = gather(colls, in_window)
    sections = {
        "adoption": [_adoption(ev), rates.adoption_rate(ev), _by_via(ev)],
        "sharing": [_sharing(ev), spread.transmissions(ev)],
        "roi": [_roi(ev), compression.compression(ev)],
    }
    periods = span(first, last, by, [p for parts in sections.values() for p in data_periods(parts)],
                   since_given=since is not None, today=today)
    doc = {
        "by": by, "since": lo, "until": hi, "periods": periods,
        "current_period": periods[-1], "previous_period": periods[-2] if len(periods) > 1 else None,
        "collections": [c.name for c in colls],
        "recipes": sum(len(h.added) for h in ev.histories.values()),
        **{name: finish(parts, periods) for name, parts in sections.items()},
        "by_use_case": use_cases.by_use_case(ev),
        "by_team": rates.by_team(ev),
    }
    return Report(doc, ev.problems)


def _adoption(ev: Evidence) -> Part:
    renderers = Tally()
    renders = Tally()
    contributors = Tally()
    everyone_rendering: set[str] = set()
    everyone_contributing: set[str] = set()
    for render in ev.renders:
        if render.period is not None:
            renders.add(render.period, render.renders)
            renderers.add_to_set(render.period, render.person)
            everyone_rendering.add(render.person)
    for history in ev.histories.values():
        for day, email in history.contributions:
            period = ev.in_window(day)
            if period is not None:
                contributors.add_to_set(period, email)
                everyone_contributing.add(email)
    from promptlib import settings  # noqa: PLC0415  (start-up: only this path loads it)

    configured = settings.load().collections
    per_period: dict[str, dict[str, Any]] = {}
    for period in {*renders.by_period, *contributors.by_period}:
        per_period[period] = {
            "renderers": len(renderers.by_period.get(period, ())),
            "renders": renders.by_period.get(period, 0),
            "contributors": len(contributors.by_period.get(period, ())),
        }
    return Part({
        "renderers": len(everyone_rendering),
        "renders": sum(renders.by_period.values()),
        "contributors": len(everyone_contributing),
        "publishing": {c.name: isinstance(configured.get(c.name), dict)
                       and configured[c.name].get("publish_usage") is True for c in ev.colls},
    }, per_period, {"renderers": 0, "renders": 0, "contributors": 0})


def _by_via(ev: Evidence) -> Part:
    return Part({"by_via": by_via(ev.local_log, {c.name for c in ev.colls},
                                  ev.in_window)})


def by_via(local_log: Sequence[metrics_usage.Render], selected: set[str],
           in_window: Callable[[str], str | None]) -> dict[str, dict[str, Any]]:
    """How this machine's renders in the window were made (`promptlib render`, `pick`, an MCP
    client), with each one's share. From the local log only: published usage counts carry no
    `via`, so the other machines' renders are not split."""
    made = Counter(r.via for r in local_log
                   if r.collection in selected and in_window(r.day) is not None)
    total = sum(made.values())
    return {via: {"renders": n, "share": round(n / total, 3)} for via, n in sorted(made.items())}


def _sharing(ev: Evidence) -> Part:
    shared = Tally()
    improved = Tally()
    arrived = Tally()
    shares: list[dict[str, str]] = []
    improvements: dict[str, set[str]] = {}
    for coll in ev.colls:
        history = ev.histories[coll.name]
        for path, origin in sorted(ev.facts[coll.name].shared_from.items()):
            owner = history.added.get(path)
            period = ev.in_window(owner[1]) if owner else None
            if owner is not None and period is not None:
                shared.add(period)
                shares.append({"id": _id(coll.name, path), "shared_from": origin,
                               "date": owner[1], "by": owner[0]})
        for day, path, email in history.improved:
            period = ev.in_window(day)
            if period is not None:
                recipe_id = _id(coll.name, path)
                improved.add_to_set(period, recipe_id)
                improvements.setdefault(recipe_id, set()).add(email)
        for day, _path in history.arrived:
            period = ev.in_window(day)
            if period is not None:
                arrived.add(period)
    per_period = {
        period: {"shared": shared.by_period.get(period, 0),
                 "improved": len(improved.by_period.get(period, ())),
                 "arrived": arrived.by_period.get(period, 0)}
        for period in {*shared.by_period, *improved.by_period, *arrived.by_period}
    }
    shares.sort(key=lambda s: (s["date"], s["id"]))
    return Part({
        "shared_across_collections": len(shares),
        "improved_by_others": len(improvements),
        "arrived_from_others": sum(arrived.by_period.values()),
        "shares": shares,
        "improved": [{"id": recipe_id, "by": len(people)}
                     for recipe_id, people in sorted(improvements.items())],
    }, per_period, {"shared": 0, "improved": 0, "arrived": 0})


def _roi(ev: Evidence) -> Part:
    minutes = Tally()
    count = Tally()
    by_recipe: dict[str, list[float]] = {}
    for period, win in ev.wins:
        minutes.add(period, win.minutes)
        count.add(period)
        by_recipe.setdefault(win.recipe, []).append(win.minutes)
    kept = [win for _, win in ev.wins]
    noted = sorted((w for w in kept if w.note), key=lambda w: (-w.minutes, w.at))
    rendered = ev.rendered
    return Part({
        "total_minutes": rounded(sum(w.minutes for w in kept)),
        "wins": len(kept),
        "by_recipe": _with_versions(sorted(({"id": rid, "minutes": rounded(sum(m)),
                                             "wins": len(m)} for rid, m in by_recipe.items()),
                                           key=lambda r: (-r["minutes"], r["id"])), kept),
        "best_notes": [{"id": w.recipe, "minutes": rounded(w.minutes), "note": w.note,
                        "author": w.author, "date": w.day} for w in noted[:BEST_NOTES]],
        "most_rendered": [{"id": rid, "renders": n} for rid, n in
                          sorted(rendered.items(), key=lambda kv: (-kv[1], kv[0]))
                          [:MOST_RENDERED]],
    }, {p: {"minutes": rounded(minutes.by_period[p]), "wins": count.by_period[p]}
        for p in minutes.by_period}, {"minutes": 0, "wins": 0})


def _with_versions(by_recipe: list[dict[str, Any]], wins: list[Win]
                   ) -> list[dict[str, Any]]:
    """Each recipe's row gains `versions`: which version (`commit`; None for wins recorded
    without one) saved how many minutes in how many wins, largest first."""
    per: dict[str, dict[str | None, list[float]]] = {}
    for win in wins:
        per.setdefault(win.recipe, {}).setdefault(win.commit, []).append(win.minutes)
    for row in by_recipe:
        row["versions"] = sorted(
            ({"commit": commit, "minutes": rounded(sum(m)), "wins": len(m)}
             for commit, m in per.get(row["id"], {}).items()),
            key=lambda v: (-v["minutes"], v["commit"] or ""))
    return by_recipe


def _id(collection: str, path: str) -> str:
    return f"{collection}/{recipe_name(path)}"
