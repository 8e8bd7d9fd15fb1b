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
- renderers: distinct people (emails) with at least one render in the period.
- by via: this machine's renders in the window by how they were made (`render`, `pick`, an MCP
  client through `promptlib mcp`), each with its share; published files carry no `via`.
- contributors: distinct authors (emails) of commits that add or change at least one recipe
  file in the period. The commit that seeds `local` from the starter library does not count.
Peer sharing
- shared across collections: recipes now in a selected collection that carry `shared_from`
  (set by `promptlib share`), dated by the commit that added the file.
- improved by others: distinct recipe files changed in the period by a commit whose author email
  differs from the author of the commit that added the file.
- arrived from others: recipe files added in the period by a commit whose author is not you —
  recipes that reached you from colleagues through pull.
Concrete ROI
- minutes saved: the sum of the `minutes` of the wins recorded in the period; per recipe over the
  window, with the count of wins; best notes are the largest wins that carry a note.
- most rendered: recipes by renders over the window.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from promptlib import paths as config
from promptlib.gitops import run as gitops
from promptlib.metrics import usage as metrics_usage
from promptlib.metrics import wins as metrics
from promptlib.metrics.wins import rounded
from promptlib.report.history import (
    CompactCommit,
    History,
    history_commits,
    parse_history,
    shared_from,
)
from promptlib.report.periods import By, bounds, period_lookup, span, trend
from promptlib.store import collections as store
from promptlib.store.collections import Collection

BEST_NOTES = 5
MOST_RENDERED = 10


@dataclass
class Report:
    """The document `--json` prints (and the terminal and HTML views draw), plus problems."""

    doc: dict[str, Any]
    problems: list[str] = field(default_factory=list)


@dataclass
class _Tally:
    """Counters keyed by period (and, for people and recipes, sets)."""

    by_period: dict[str, Any] = field(default_factory=dict)

    def add(self, period: str, value: Any = 1) -> None:
        self.by_period[period] = self.by_period.get(period, 0) + value

    def add_to_set(self, period: str, item: str) -> None:
        self.by_period.setdefault(period, set()).add(item)


def build(since: str | None = None, until: str | None = None, by: By = "week",
          teams: Sequence[str] = (), *, today: date | None = None) -> Report:
    """The whole report for the selected collections (all when `teams` is empty)."""
    first, last = bounds(since, until, by, today)
    colls = store.selected(list(teams))
    lo, hi = first.isoformat(), last.isoformat()
    period_of = period_lookup(by)

    def in_window(day: str) -> str | None:
        return period_of(day) if lo <= day <= hi else None

    problems: list[str] = []
    with ThreadPoolExecutor(max_workers=min(8, 3 * len(colls) or 1)) as pool:
        logs: dict[str, Future[list[CompactCommit]]] = {
            c.name: pool.submit(history_commits, c) for c in colls}
        greps = {c.name: pool.submit(shared_from, c) for c in colls}
        ids = {c.name: pool.submit(gitops.identity, c.path) for c in colls}
        # Meanwhile, in this thread: wins, published usage, the local log.
        wins: list[metrics.Win] = []
        usage: dict[str, list[metrics_usage.UsageCount]] = {}
        for coll in colls:
            found, bad = metrics.load_wins(coll)
            wins += found
            usage[coll.name], more_bad = metrics_usage.load_usage(coll)
            problems += bad + more_bad
        local_log = metrics_usage.read_log()
        mine = metrics_usage.machine_id_if_any()
        me = {name: f.result()[1].lower() for name, f in ids.items()}
        histories = {name: parse_history(logs[name].result(), me[name]) for name in logs}
        shares_raw = {name: f.result() for name, f in greps.items()}

    adoption = _adoption(colls, usage, local_log, mine, me, histories, in_window)
    adoption["by_via"] = by_via(local_log, {c.name for c in colls}, in_window)
    sharing = _sharing(colls, histories, shares_raw, in_window)
    roi = _roi(wins, adoption.pop("_rendered"), in_window)
    periods = span(first, last, by, [key for section in (adoption, sharing, roi)
                                     for key in section["per_period"]],
                   since_given=since is not None, today=today)
    for section in (adoption, sharing, roi):
        per_period = section["per_period"]
        section["per_period"] = [{"period": p, **per_period.get(p, section["_zero"])}
                                 for p in periods]
        del section["_zero"]
        section["trend"] = trend(section["per_period"])
    doc = {
        "by": by, "since": lo, "until": hi, "periods": periods,
        "current_period": periods[-1], "previous_period": periods[-2] if len(periods) > 1 else None,
        "collections": [c.name for c in colls],
        "recipes": sum(len(h.added) for h in histories.values()),
        "adoption": adoption, "sharing": sharing, "roi": roi,
    }
    return Report(doc, problems)


def _adoption(colls: Sequence[Collection], usage: dict[str, list[metrics_usage.UsageCount]],
              local_log: list[metrics_usage.Render], mine: str | None, me: dict[str, str],
              histories: dict[str, History], in_window: Callable[[str], str | None]
              ) -> dict[str, Any]:
    renderers = _Tally()
    renders = _Tally()
    contributors = _Tally()
    rendered: Counter[str] = Counter()
    everyone_rendering: set[str] = set()
    everyone_contributing: set[str] = set()

    def count(period: str, person: str, recipe_id: str, n: int) -> None:
        renders.add(period, n)
        renderers.add_to_set(period, person)
        everyone_rendering.add(person)
        rendered[recipe_id] += n

    for coll in colls:
        for usage_count in usage[coll.name]:
            period = in_window(usage_count.day)
            if period is None or (mine is not None and usage_count.machine == mine):
                continue
            for name, n in usage_count.renders.items():
                count(period, usage_count.person, f"{coll.name}/{name}", n)
    selected = {c.name for c in colls}
    for render in local_log:
        if render.collection in selected:
            period = in_window(render.day)
            if period is not None:
                person = (render.person or me[render.collection]).lower()
                count(period, person, f"{render.collection}/{render.name}", 1)
    for history in histories.values():
        for day, email in history.contributions:
            period = in_window(day)
            if period is not None:
                contributors.add_to_set(period, email)
                everyone_contributing.add(email)
    from promptlib import settings  # noqa: PLC0415  (start-up: only this path loads it)

    configured = settings.load().collections
    per_period: dict[str, dict[str, int]] = {}
    for period in {*renders.by_period, *contributors.by_period}:
        per_period[period] = {
            "renderers": len(renderers.by_period.get(period, ())),
            "renders": renders.by_period.get(period, 0),
            "contributors": len(contributors.by_period.get(period, ())),
        }
    return {
        "renderers": len(everyone_rendering),
        "renders": sum(rendered.values()),
        "contributors": len(everyone_contributing),
        "publishing": {c.name: isinstance(configured.get(c.name), dict)
                       and configured[c.name].get("publish_usage") is True for c in colls},
        "per_period": per_period,
        "_zero": {"renderers": 0, "renders": 0, "contributors": 0},
        "_rendered": rendered,
    }


def by_via(local_log: Sequence[metrics_usage.Render], selected: set[str],
           in_window: Callable[[str], str | None]) -> dict[str, dict[str, Any]]:
    """How this machine's renders in the window were made (`promptlib render`, `pick`, an MCP
    client), with each one's share. From the local log only: published usage counts carry no
    `via`, so the other machines' renders are not split."""
    made = Counter(r.via for r in local_log
                   if r.collection in selected and in_window(r.day) is not None)
    total = sum(made.values())
    return {via: {"renders": n, "share": round(n / total, 3)} for via, n in sorted(made.items())}


def _sharing(colls: Sequence[Collection], histories: dict[str, History],
             shares_raw: dict[str, dict[str, str]], in_window: Callable[[str], str | None]
             ) -> dict[str, Any]:
    shared = _Tally()
    improved = _Tally()
    arrived = _Tally()
    shares: list[dict[str, str]] = []
    improvements: dict[str, set[str]] = {}
    for coll in colls:
        history = histories[coll.name]
        for path, origin in sorted(shares_raw[coll.name].items()):
            owner = history.added.get(path)
            period = in_window(owner[1]) if owner else None
            if owner is not None and period is not None:
                shared.add(period)
                shares.append({"id": _id(coll.name, path), "shared_from": origin,
                               "date": owner[1], "by": owner[0]})
        for day, path, email in history.improved:
            period = in_window(day)
            if period is not None:
                recipe_id = _id(coll.name, path)
                improved.add_to_set(period, recipe_id)
                improvements.setdefault(recipe_id, set()).add(email)
        for day, _path in history.arrived:
            period = in_window(day)
            if period is not None:
                arrived.add(period)
    per_period = {
        period: {"shared": shared.by_period.get(period, 0),
                 "improved": len(improved.by_period.get(period, ())),
                 "arrived": arrived.by_period.get(period, 0)}
        for period in {*shared.by_period, *improved.by_period, *arrived.by_period}
    }
    shares.sort(key=lambda s: (s["date"], s["id"]))
    return {
        "shared_across_collections": len(shares),
        "improved_by_others": len(improvements),
        "arrived_from_others": sum(arrived.by_period.values()),
        "shares": shares,
        "improved": [{"id": recipe_id, "by": len(people)}
                     for recipe_id, people in sorted(improvements.items())],
        "per_period": per_period,
        "_zero": {"shared": 0, "improved": 0, "arrived": 0},
    }


def _roi(wins: list[metrics.Win], rendered: Counter[str],
         in_window: Callable[[str], str | None]) -> dict[str, Any]:
    minutes = _Tally()
    count = _Tally()
    by_recipe: dict[str, list[float]] = {}
    kept: list[metrics.Win] = []
    for win in wins:
        period = in_window(win.day)
        if period is None:
            continue
        kept.append(win)
        minutes.add(period, win.minutes)
        count.add(period)
        by_recipe.setdefault(win.recipe, []).append(win.minutes)
    noted = sorted((w for w in kept if w.note), key=lambda w: (-w.minutes, w.at))
    return {
        "total_minutes": rounded(sum(w.minutes for w in kept)),
        "wins": len(kept),
        "by_recipe": sorted(({"id": rid, "minutes": rounded(sum(m)), "wins": len(m)}
                             for rid, m in by_recipe.items()),
                            key=lambda r: (-r["minutes"], r["id"])),
        "best_notes": [{"id": w.recipe, "minutes": rounded(w.minutes), "note": w.note,
                        "author": w.author, "date": w.day} for w in noted[:BEST_NOTES]],
        "most_rendered": [{"id": rid, "renders": n} for rid, n in
                          sorted(rendered.items(), key=lambda kv: (-kv[1], kv[0]))
                          [:MOST_RENDERED]],
        "per_period": {p: {"minutes": rounded(minutes.by_period[p]), "wins": count.by_period[p]}
                       for p in minutes.by_period},
        "_zero": {"minutes": 0, "wins": 0},
    }


def _id(collection: str, path: str) -> str:
    return f"{collection}/{path.rpartition('/')[2].removesuffix(config.RECIPE_SUFFIX)}"
