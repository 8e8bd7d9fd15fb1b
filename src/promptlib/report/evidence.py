"""Everything `promptlib report` counts, read once: the evidence the sections draw on.

Per selected collection: its git history (`report.history`, one `git log` cached by HEAD), what
its recipe files say now (`report.facts`, one `git grep`), its `wins/` and `usage/` files and its
roster (`metrics`), and the local usage log. Git runs in worker threads while this thread parses
the files, so the slowest git call sets the time.

Every render becomes one RenderEvent — a published `usage/` count, except this machine's own
files, which the live local log replaces (nothing counts twice) — dated by its day and its
period in the window (None outside it: a transmission needs a person's *first* render ever).
People are emails, by the one rule of `metrics.people`.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import NamedTuple

from promptlib import paths as config
from promptlib.gitops import run as gitops
from promptlib.metrics import usage as metrics_usage
from promptlib.metrics import wins as metrics
from promptlib.metrics.people import person
from promptlib.metrics.roster import load_roster
from promptlib.report.facts import UNKNOWN_USE_CASE, Facts, recipe_facts
from promptlib.report.history import CompactCommit, History, history_commits, parse_history
from promptlib.store.collections import Collection


class RenderEvent(NamedTuple):
    """Renders of one recipe by one person on one day (a published count, or one log line).
    A tuple: a report makes tens of thousands of them."""

    day: str
    period: str | None  # None: outside the window
    person: str
    collection: str
    name: str
    renders: int  # how many
    recipe: str  # the id, `collection/name`


class Recipe(NamedTuple):
    """A live recipe of a selected collection, as the report needs it."""

    path: str
    author: str | None  # who added its file; None when the starter library's seed did
    use_case: str  # its first tag


@dataclass
class Evidence:
    colls: list[Collection]
    in_window: Callable[[str], str | None]
    me: dict[str, str]  # collection -> "you" (the git identity's email)
    histories: dict[str, History]
    facts: dict[str, Facts]
    renders: list[RenderEvent]  # every render known, in the window or not
    wins: list[tuple[str, metrics.Win]]  # (period, win) for the wins in the window
    rosters: dict[str, frozenset[str] | None]  # collection -> its roster's people, if it has one
    problems: list[str] = field(default_factory=list)
    local_log: list[metrics_usage.Render] = field(default_factory=list)  # this machine's renders
    _recipes: dict[str, Recipe] | None = None
    _rendered: Counter[str] | None = None

    @property
    def rendered(self) -> Counter[str]:
        """Renders per recipe id, in the window."""
        if self._rendered is None:
            self._rendered = Counter()
            for render in self.renders:
                if render.period is not None:
                    self._rendered[render.recipe] += render.renders
        return self._rendered

    @property
    def recipes(self) -> dict[str, Recipe]:
        """Every live recipe of the selected collections, by id."""
        if self._recipes is None:
            self._recipes = {}
            for name, history in self.histories.items():
                use_cases = self.facts[name].use_case
                for path, (email, _) in history.added.items():
                    author = None if path in history.seeded else email
                    self._recipes[f"{name}/{recipe_name(path)}"] = Recipe(
                        path, author, use_cases.get(path, UNKNOWN_USE_CASE))
        return self._recipes

    def path_of(self, recipe_id: str) -> str | None:
        """The live recipe file of `collection/name`, or None (removed, or never a recipe)."""
        found = self.recipes.get(recipe_id)
        return None if found is None else found.path

    def use_case(self, recipe_id: str) -> str:
        """The recipe's first tag, as its file says now."""
        found = self.recipes.get(recipe_id)
        return UNKNOWN_USE_CASE if found is None else found.use_case

    def author(self, recipe_id: str) -> str | None:
        """Who added the recipe (the author of the commit that added its file); None when it
        is not a live recipe, or the starter library's seed added it (nobody's recipe)."""
        found = self.recipes.get(recipe_id)
        return None if found is None else found.author


def recipe_name(path: str) -> str:
    return path.rpartition("/")[2].removesuffix(config.RECIPE_SUFFIX)


def gather(colls: Sequence[Collection], in_window: Callable[[str], str | None]) -> Evidence:
    """Read the evidence of the selected collections (see the module's docstring)."""
    problems: list[str] = []
    with ThreadPoolExecutor(max_workers=min(8, 3 * len(colls) or 1)) as pool:
        logs: dict[str, Future[list[CompactCommit]]] = {
            c.name: pool.submit(history_commits, c) for c in colls}
        greps = {c.name: pool.submit(recipe_facts, c) for c in colls}
        ids = {c.name: pool.submit(gitops.identity, c.path) for c in colls}
        # Meanwhile, in this thread: wins, published usage, rosters, the local log.
        wins: list[tuple[str, metrics.Win]] = []
        usage: dict[str, list[metrics_usage.UsageCount]] = {}
        rosters: dict[str, frozenset[str] | None] = {}
        for coll in colls:
            found, bad = metrics.load_wins(coll)
            wins += [(period, w) for w in found if (period := in_window(w.day)) is not None]
            usage[coll.name], more_bad = metrics_usage.load_usage(coll)
            rosters[coll.name], roster_bad = load_roster(coll)
            problems += bad + more_bad + roster_bad
        local_log = metrics_usage.read_log()
        mine = metrics_usage.machine_id_if_any()
        me = {name: person(f.result()[1]) for name, f in ids.items()}
        histories = {name: parse_history(logs[name].result(), me[name]) for name in logs}
        facts = {name: f.result() for name, f in greps.items()}
    renders = _renders(colls, usage, local_log, mine, me, in_window)
    return Evidence(list(colls), in_window, me, histories, facts, renders, wins, rosters,
                    problems, local_log)


def _renders(colls: Sequence[Collection], usage: dict[str, list[metrics_usage.UsageCount]],
             local_log: list[metrics_usage.Render], mine: str | None, me: dict[str, str],
             in_window: Callable[[str], str | None]) -> list[RenderEvent]:
    events: list[RenderEvent] = []
    for coll in colls:
        for count in usage[coll.name]:
            if mine is not None and count.machine == mine:
                continue  # this machine's own: the live log below replaces it
            period = in_window(count.day)
            who = person(count.person)
            events += [RenderEvent(count.day, period, who, coll.name, name, n,
                                   f"{coll.name}/{name}")
                       for name, n in count.renders.items()]
    selected = {c.name for c in colls}
    for render in local_log:
        if render.collection in selected:
            who = person(render.person or me[render.collection])
            events.append(RenderEvent(render.day, in_window(render.day), who, render.collection,
                                      render.name, 1, f"{render.collection}/{render.name}"))
    return events
