"""Ranked search over every collection.

Scoring weighs where a word matched: name > tags and title > description > template, and every
query word must match somewhere. This is the straightforward scan over the recipes on disk.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from promptlib import store
from promptlib.errors import RecipeError
from promptlib.store import LoadedRecipe

WEIGHTS = {"name": 10.0, "tags": 6.0, "title": 6.0, "description": 3.0, "template": 1.0}
_WORD = re.compile(r"[\w*-]+", re.UNICODE)


@dataclass(frozen=True)
class Hit:
    item: LoadedRecipe
    score: float
    snippet: str

    def to_dict(self) -> dict[str, Any]:
        r = self.item.recipe
        return {"id": self.item.id, "collection": self.item.file.collection, "name": r.name,
                "title": r.title, "tags": list(r.tags), "score": round(self.score, 3),
                "snippet": self.snippet}


@dataclass(frozen=True)
class Results:
    hits: list[Hit]
    problems: list[RecipeError]
    note: str | None = None


def search(query: Sequence[str], *, tags: Iterable[str] = (), teams: Iterable[str] = (),
           limit: int = 20) -> Results:
    words = [w.lower() for w in _WORD.findall(" ".join(query))]
    wanted_tags = set(tags)
    loaded, problems = store.load_all(store.selected(list(teams)))
    hits = []
    for item in loaded:
        if wanted_tags and not wanted_tags <= set(item.recipe.tags):
            continue
        score = _score(item, words)
        if score > 0:
            hits.append(Hit(item, score, _snippet(item, words)))
    hits.sort(key=lambda h: (-h.score, h.item.id))
    return Results(hits[:limit], problems)


def _fields(item: LoadedRecipe) -> dict[str, str]:
    r = item.recipe
    return {"name": r.name.replace("-", " "), "tags": " ".join(r.tags).replace("-", " "),
            "title": r.title, "description": r.description, "template": r.template}


def _score(item: LoadedRecipe, words: Sequence[str]) -> float:
    if not words:
        return 1.0
    fields = {k: v.lower() for k, v in _fields(item).items()}
    total = 0.0
    for word in words:
        stem = word.rstrip("*")
        pattern = re.compile(rf"\b{re.escape(stem)}")
        found = sum(WEIGHTS[k] * min(len(pattern.findall(text)), 3) for k, text in fields.items())
        if not found:
            return 0.0
        total += found
    return total


def _snippet(item: LoadedRecipe, words: Sequence[str]) -> str:
    r = item.recipe
    for text in (r.description, r.template, r.title):
        for line in text.splitlines():
            low = line.lower()
            if any(w.rstrip("*") in low for w in words):
                return line.strip()[:120]
    return r.description.splitlines()[0][:120] if r.description else ""
