"""Transmission: whether the practice spreads person to person, and from whom to whom.

- transmission: a person's first render of a recipe (`collection/name`) whose author — the
  author of the commit that added its file — is someone else: `{recipe, from, to, at}`, `at`
  being the day of that first render. "First" is over every render known (a published
  `usage/` file or the local log), in the window or not; it counts in the period it falls in.
  A recipe no longer there, or added by the starter-library seed, has no author to learn from.
- spreaders: the people whose recipes others took up: per author, the transmissions, the
  distinct people who took them up and the distinct recipes, the most transmissions first.
- learned from: per (from, to) pair, the transmissions between them: the who-learned-from-whom
  graph.
- chains: a recipe shared from team to team (each copy's `shared_from` naming the one before,
  as `promptlib share` sets it) where every copy, in a selected collection, was rendered in the
  window: `{recipe, path, teams, renders}`, the longest first; a chain inside a longer one is
  not listed again.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from promptlib.report.evidence import Evidence, recipe_name
from promptlib.report.sections import Part

TOP_SPREADERS = 10
LONGEST_CHAINS = 5


def transmissions(ev: Evidence) -> Part:
    first: dict[tuple[str, str], str] = {}
    for render in ev.renders:
        key = (render.person, render.recipe)
        if key not in first or render.day < first[key]:
            first[key] = render.day
    found: list[dict[str, str]] = []
    per_period: Counter[str] = Counter()
    for (to, recipe), day in first.items():
        period = ev.in_window(day)
        author = ev.author(recipe) if period is not None else None
        if period is not None and author is not None and author != to:
            found.append({"recipe": recipe, "from": author, "to": to, "at": day})
            per_period[period] += 1
    found.sort(key=lambda t: (t["at"], t["recipe"], t["to"]))
    return Part({"transmissions": found, "spreaders": spreaders(found),
                 "learned_from": learned_from(found), "chains": chains(ev)},
                {period: {"transmissions": n} for period, n in per_period.items()},
                {"transmissions": 0})


def spreaders(found: list[dict[str, str]]) -> list[dict[str, Any]]:
    count: Counter[str] = Counter()
    people: dict[str, set[str]] = {}
    recipes: dict[str, set[str]] = {}
    for t in found:
        count[t["from"]] += 1
        people.setdefault(t["from"], set()).add(t["to"])
        recipes.setdefault(t["from"], set()).add(t["recipe"])
    rows: list[dict[str, Any]] = [{"person": who, "transmissions": n, "people": len(people[who]),
                                   "recipes": len(recipes[who])} for who, n in count.items()]
    rows.sort(key=lambda r: (-r["transmissions"], -r["people"], r["person"]))
    return rows[:TOP_SPREADERS]


def learned_from(found: list[dict[str, str]]) -> list[dict[str, Any]]:
    pairs = Counter((t["from"], t["to"]) for t in found)
    return [{"from": a, "to": b, "transmissions": n}
            for (a, b), n in sorted(pairs.items(), key=lambda kv: (-kv[1], kv[0]))]


def chains(ev: Evidence) -> list[dict[str, Any]]:
    rendered = ev.rendered
    parent: dict[str, str] = {}
    for coll in ev.colls:
        for path, origin in ev.facts[coll.name].shared_from.items():
            copy = f"{coll.name}/{recipe_name(path)}"
            if rendered[copy] and rendered[origin] and ev.path_of(origin) is not None:
                parent[copy] = origin
    children: dict[str, list[str]] = {}
    for copy, origin in parent.items():
        children.setdefault(origin, []).append(copy)
    paths: list[list[str]] = []
    for root in sorted(set(children) - set(parent)):
        _walk([root], children, paths)
    paths.sort(key=lambda p: (-len(p), p))
    return [{"recipe": p[0].rpartition("/")[2], "path": p,
             "teams": [r.partition("/")[0] for r in p], "renders": [rendered[r] for r in p]}
            for p in paths[:LONGEST_CHAINS]]


def _walk(path: list[str], children: dict[str, list[str]], out: list[list[str]]) -> None:
    """Every root-to-leaf path below `path` (a copy never appears twice: no cycles)."""
    below = [c for c in sorted(children.get(path[-1], ())) if c not in path]
    if not below:
        if len(path) > 1:
            out.append(path)
        return
    for child in below:
        _walk([*path, child], children, out)
