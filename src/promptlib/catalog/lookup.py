"""Finding a recipe by what a person types: `collection/name`, a bare name, a unique prefix.

Above the store and the index: the index answers "which files are called this?" without a walk
over every collection, and the store walks when the index cannot vouch for itself.
"""

from __future__ import annotations

import difflib
import re

from promptlib.errors import NotFoundError
from promptlib.index.db import find_files
from promptlib.recipe.model import check_name
from promptlib.store.collections import RecipeFile, collection, collections, iter_recipe_files

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
    if matches:
        ids = ", ".join(rf.id for rf in matches[:10]) + (", …" if len(matches) > 10 else "")
        what = "is in several collections" if exact else "matches several recipes"
        raise NotFoundError(f"{name!r} {what}: {ids}", hint=f"name one, e.g. `{matches[0].id}`")
    raise NotFoundError(f"no recipe named {ref!r}",
                        hint=did_you_mean(name, sorted({rf.name for rf in files})))


def did_you_mean(name: str, names: list[str]) -> str | None:
    close = difflib.get_close_matches(name, names, n=5, cutoff=0.6)
    return f"did you mean: {', '.join(close)}?" if close else None
