"""Finding a recipe by what a person types: `collection/name`, a bare name, a unique prefix.

Above the store and the index: the index answers "which files are called this?" without a walk
over every collection, and the store walks when the index cannot vouch for itself.

A bare name in several collections is ambiguous (exit 3) — unless they are all copies of one
recipe, as `share` leaves them: then the name means the copy in the default collection, else
`local`'s, else the first in config.yaml's order, and a note names the others (`one_of_copies`).
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable
from typing import Any

from promptlib import paths
from promptlib.errors import NotFoundError, RecipeError
from promptlib.index.db import find_files
from promptlib.recipe.model import Recipe, check_name
from promptlib.store.collections import (
    RecipeFile,
    collection,
    collections,
    iter_recipe_files,
    read,
)
from promptlib.utils import notes

# What may be typed as the start of a name: the name rule without its end anchor.
_PREFIX_RE = re.compile(r"[a-z0-9][a-z0-9-]{0,63}")


def find(ref: str) -> RecipeFile:
    """A recipe by `collection/name`, a bare name, or a unique prefix of a name.

    Not found (exit 3) lists up to five close names; ambiguous (exit 3) lists the candidates.
    """
    coll_name, sep, name = ref.rpartition("/")
    if not _PREFIX_RE.fullmatch(name):
        check_name(name)
    colls = [collection(coll_name)] if sep else collections()

    # The search index knows every file's name: asking it spares `render` a walk over every
    # collection (tens of ms at 10,000 recipes). It answers only when it can vouch that no file
    # came or went since it was built; otherwise walk.
    files = find_files(colls, name)
    if files is None:
        files = [rf for c in colls for rf in iter_recipe_files(c)]
    return pick(ref, name, files)


def pick(ref: str, name: str, files: list[RecipeFile]) -> RecipeFile:
    """Choose `name` among candidate files: exact name first, then a unique prefix."""
    exact = [rf for rf in files if rf.name == name]
    matches = exact or [rf for rf in files if rf.name.startswith(name)]
    if len(matches) == 1:
        return matches[0]
    chosen = one_of_copies(matches) if len(matches) > 1 else None
    if chosen is not None:
        return chosen
    if matches:
        ids = ", ".join(rf.id for rf in matches[:10]) + (", …" if len(matches) > 10 else "")
        what = "is in several collections" if exact else "matches several recipes"
        raise NotFoundError(f"{name!r} {what}: {ids}", hint=f"name one, e.g. `{matches[0].id}`")
    raise NotFoundError(f"no recipe named {ref!r}",
                        hint=did_you_mean(name, sorted({rf.name for rf in files})))


def did_you_mean(name: str, names: list[str]) -> str | None:
    close = difflib.get_close_matches(name, names, n=5, cutoff=0.6)
    return f"did you mean: {', '.join(close)}?" if close else None


# --- copies of one recipe: a bare name after `share` ---------------------------------------------


def one_of_copies(matches: list[RecipeFile]) -> RecipeFile | None:
    """When every match is a copy of one recipe — one's `shared_from` names another, or their
    content is the same — the copy a bare name means, and a note naming the others. None when
    any of them is a recipe of its own: the name stays ambiguous."""
    if len({rf.name for rf in matches}) != 1:
        return None
    loaded = _load_each(matches)
    if loaded is None or not _all_linked(loaded):
        return None
    chosen = min(matches, key=_preference())
    others = ", ".join(rf.id for rf in matches if rf is not chosen)
    notes.tell(f"{chosen.name}: using {chosen.id} (copies of the same recipe are in {others})")
    return chosen


def _load_each(files: list[RecipeFile]) -> list[tuple[RecipeFile, Recipe]] | None:
    loaded = []
    for rf in files:
        try:
            loaded.append((rf, read(rf)))
        except RecipeError:
            return None  # a file that does not load is not known to be the same recipe
    return loaded


def _all_linked(loaded: list[tuple[RecipeFile, Recipe]]) -> bool:
    """Whether the recipes form one group, linked pairwise — directly or through each other, as
    a recipe shared on from team to team is — by `shared_from` or by identical content."""
    group, rest = [loaded[0]], loaded[1:]
    while rest:
        joining = [r for r in rest if any(_linked(r, member) for member in group)]
        if not joining:
            return False
        group += joining
        rest = [r for r in rest if r not in joining]
    return True


def _linked(a: tuple[RecipeFile, Recipe], b: tuple[RecipeFile, Recipe]) -> bool:
    (file_a, recipe_a), (file_b, recipe_b) = a, b
    return (recipe_a.shared_from == file_b.id or recipe_b.shared_from == file_a.id
            or _content(recipe_a) == _content(recipe_b))


def _content(recipe: Recipe) -> dict[str, Any]:
    """Every field but `shared_from`, which is where a copy says it came from."""
    data = recipe.to_dict()
    data.pop("shared_from", None)
    return data


def _preference() -> Callable[[RecipeFile], tuple[int, int]]:
    """Sort key: the default collection, `local`, config.yaml's collections in its order, then
    the others in collection order."""
    from promptlib import settings  # noqa: PLC0415  (only a name in several collections reads config.yaml)

    config = settings.load()
    order = [config.default_collection, paths.LOCAL_COLLECTION, *config.collections]
    rank: dict[str, int] = {}
    for name in order:
        rank.setdefault(name, len(rank))
    walk = {c.name: i for i, c in enumerate(collections())}
    return lambda rf: (rank.get(rf.collection, len(rank)), walk.get(rf.collection, len(walk)))
