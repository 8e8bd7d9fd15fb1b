"""By use case: where recipes are put to work (incident response, ticket deflection, …).

A recipe's use case is its first tag, as its file says now (`report.facts`); a render or a win
of a recipe that is no longer there has the use case "(unknown)". Per use case: the live recipes
in the selected collections that have it, and in the window their renders, the people rendering
them, the wins recorded and the minutes those saved — the most rendered first (then the most
minutes, then by name).
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from promptlib.metrics.wins import rounded
from promptlib.report.evidence import Evidence
from promptlib.report.facts import UNKNOWN_USE_CASE


def by_use_case(ev: Evidence) -> list[dict[str, Any]]:
    recipes: Counter[str] = Counter()
    for coll in ev.colls:
        facts = ev.facts[coll.name]
        recipes.update(facts.use_case.get(path, UNKNOWN_USE_CASE)
                       for path in ev.histories[coll.name].added)
    per_recipe: Counter[str] = Counter()
    people_of: dict[str, set[str]] = {}
    for render in ev.renders:
        if render.period is not None:
            per_recipe[render.recipe] += render.renders
            people_of.setdefault(render.recipe, set()).add(render.person)
    renders: Counter[str] = Counter()
    people: dict[str, set[str]] = {}
    for recipe_id, n in per_recipe.items():
        use_case = ev.use_case(recipe_id)
        renders[use_case] += n
        people.setdefault(use_case, set()).update(people_of[recipe_id])
    wins: Counter[str] = Counter()
    minutes: dict[str, float] = {}
    for _, win in ev.wins:
        use_case = ev.use_case(win.recipe)
        wins[use_case] += 1
        minutes[use_case] = minutes.get(use_case, 0) + win.minutes
    rows: list[dict[str, Any]] = [{"use_case": use_case, "recipes": recipes[use_case],
                                   "renders": renders[use_case],
                                   "people": len(people.get(use_case, ())),
                                   "wins": wins[use_case],
                                   "minutes": rounded(minutes.get(use_case, 0))}
                                  for use_case in {*recipes, *renders, *wins}]
    rows.sort(key=lambda r: (-r["renders"], -r["minutes"], -r["wins"], r["use_case"]))
    return rows
