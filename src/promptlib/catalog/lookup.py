"""Finding a recipe by what a person types: `collection/name`, a bare name, a unique prefix —
and, after `@`, one of its versions (`log-triage@v3`, `sre/log-triage@~1`).

Above the store and the index: the index answers "which files are called this?" without a walk
over every collection, and the store walks when the index cannot vouch for itself. A version
is read out of git (only then is git run: a plain name never pays for it) and through the same
strict loader as a file on disk.

A bare name in several collections is ambiguous (exit 3) — unless they are all copies of one
recipe, as `share` leaves them: then the name means the copy in the default collection, else
`local`'s, else the first in config.yaml's order, and a note names the others (`one_of_copies`).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from promptlib import paths
from promptlib.errors import InvalidError, NotFoundError, RecipeError
from promptlib.index.db import find_files
from promptlib.recipe.loader import load as load_recipe
from promptlib.recipe.model import Recipe, check_name
from promptlib.store.collections import (
    RecipeFile,
    collection,
    collections,
    display_path,
    is_recipe_path,
    iter_recipe_files,
    read,
)
from promptlib.utils import notes

if TYPE_CHECKING:
    from promptlib.gitops.versions import Version

# What may be typed as the start of a name: the name rule without its end anchor.
_PREFIX_RE = re.compile(r"[a-z0-9][a-z0-9-]{0,63}")


def find(ref: str) -> RecipeFile:
    """A recipe by `collection/name`, a bare name, or a unique prefix of a name.

    Not found (exit 3) lists up to five close names; ambiguous (exit 3) lists the candidates.
    """
    refuse_rev(ref)
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
    import difflib  # noqa: PLC0415  (~3 ms: only a name that matches nothing pays for it)

    close = difflib.get_close_matches(name, names, n=5, cutoff=0.6)
    return f"did you mean: {', '.join(close)}?" if close else None


# --- NAME@REV: a recipe as it was at a commit, tag, branch, label, or ~N versions back ----------

# What may follow `@`: `~N`, or a git revision without range, reflog or path syntax.
_REV_RE = re.compile(r"~\d{0,6}|[A-Za-z0-9_][A-Za-z0-9._/-]{0,199}(?:[~^]\d{0,6})*")
REV_FORMS = "a commit (or its start), a tag, a branch, a label, or ~N (N versions back)"
SUGGESTED_VERSIONS = 5


@dataclass(frozen=True)
class RevRef:
    """What a person typed, split at `@`: the recipe, and the version (None: the file on disk)."""

    name: str
    rev: str | None


@dataclass(frozen=True)
class AtVersion:
    """One version of a recipe out of git: where the recipe lives now, which version, its bytes
    and the recipe they hold."""

    file: RecipeFile
    version: Version
    data: bytes
    recipe: Recipe

    @property
    def id(self) -> str:
        return self.file.id

    @property
    def label(self) -> str:
        return f"{self.file.id}@{self.version.short}"


def split_rev(text: str) -> RevRef:
    """`log-triage@v3` → RevRef('log-triage', 'v3'); a malformed REV is InvalidError (exit 4)."""
    name, sep, rev = text.partition("@")
    if not sep:
        return RevRef(text, None)
    if (not _REV_RE.fullmatch(rev) or ".." in rev or rev.endswith((".", "/", ".lock"))):
        raise InvalidError(f"{text!r}: {rev!r} is not a version", hint=f"after @ comes {REV_FORMS}")
    return RevRef(name, rev)


def refuse_rev(ref: str) -> None:
    """Commands that write work on the current recipe: `edit x@v3` is refused, pointing at
    `restore`."""
    if "@" in ref:
        name = ref.partition("@")[0]
        raise InvalidError(f"{ref!r}: only reading commands take a version (NAME@REV)",
                           hint=f"to bring that version back: `promptlib restore {ref}`; this "
                                f"command works on the current recipe: `{name}`")


def find_rev(text: str) -> tuple[RecipeFile, str | None]:
    """The recipe `NAME[@REV]` names, and the REV (None when there is none)."""
    ref = split_rev(text)
    return find(ref.name), ref.rev


def recipe_versions(rf: RecipeFile, start: str = "HEAD") -> list[Version]:
    """The recipe's versions as of `start`, newest first: the commits that changed what it says
    (a pure move is not a new version), renames followed."""
    from promptlib.gitops import history as gitops_history  # noqa: PLC0415  (git only for NAME@REV)
    from promptlib.gitops import versions as git_versions  # noqa: PLC0415  (git only for NAME@REV)

    found: list[Version] = []
    if start == "HEAD" and gitops_history.rev(rf.root, "HEAD") is None:
        return found  # a collection with no commit yet: nothing has a version
    for version in git_versions.versions(rf.root, rf.relpath, start):
        if version.relpath.rsplit("/", 1)[-1] != rf.path.name:
            # git's rename detection went on into another file (a recipe added as a near-copy
            # of one): from here on the history is that recipe's, not this one's.
            break
        if found and found[-1].blob == version.blob:
            found[-1] = version  # the older commit wrote this content; the newer only moved it
        else:
            found.append(version)
    return found


def resolve_rev(rf: RecipeFile, rev: str) -> Version:
    """The version `rev` names: `~N` counts the recipe's own versions; otherwise the recipe's
    label, then anything git names (commit or prefix, tag, branch) — and the version of the
    recipe that commit holds. NotFoundError (exit 3), listing recent versions, when none."""
    from promptlib.gitops import history as gitops_history  # noqa: PLC0415  (git only for NAME@REV)
    from promptlib.gitops import versions as git_versions  # noqa: PLC0415  (git only for NAME@REV)

    if rev.startswith("~"):
        back = int(rev[1:] or "1")
        history = recipe_versions(rf)
        if back < len(history):
            return history[back]
        plural = "s" if len(history) != 1 else ""
        raise unknown_rev(rf, rev, f"it has {len(history)} version{plural}")
    commit = git_versions.labels(rf.root, rf.name).get(rev) or gitops_history.rev(rf.root, rev)
    if commit is None:
        raise unknown_rev(rf, rev)
    relpath: str | None = rf.relpath
    if gitops_history.tree_entries_for(rf.root, commit, rf.relpath) is None:
        relpath = git_versions.find_named(rf.root, commit, rf.path.name, is_recipe_path)
    found = recipe_versions(RecipeFile(rf.collection, rf.root, relpath), commit) if relpath else []
    if not found:
        raise unknown_rev(rf, rev, f"the recipe did not exist at {commit[:7]}")
    return found[0]


def unknown_rev(rf: RecipeFile, rev: str, why: str | None = None) -> NotFoundError:
    """Not found, with the recipe's recent versions and its labels as the way forward."""
    from promptlib.gitops import versions as git_versions  # noqa: PLC0415  (git only for NAME@REV)

    recent = recipe_versions(rf)[:SUGGESTED_VERSIONS]
    labels = sorted(git_versions.labels(rf.root, rf.name))
    listed = "; ".join(f"~{i} {v.short} {v.date[:10]} {v.message}" for i, v in enumerate(recent))
    hint = f"recent versions: {listed}" if listed else "it has no committed version yet"
    if labels:
        hint += f"; labels: {', '.join(labels)}"
    return NotFoundError(f"no version {rev!r} of {rf.id}" + (f": {why}" if why else ""),
                         hint=hint)


def read_at(rf: RecipeFile, rev: str) -> AtVersion:
    """The recipe as it was at `rev`, through the same strict loader as a file on disk."""
    version, data = version_bytes(rf, rev)
    recipe = load_recipe(data, path=version_path(rf, version), expected_name=rf.name)
    return AtVersion(rf, version, data, recipe)


def version_bytes(rf: RecipeFile, rev: str) -> tuple[Version, bytes]:
    """The version `rev` names and its bytes (one byte past the size limit at most, so the
    loader can say it is too large), not yet validated."""
    from promptlib.gitops import versions as git_versions  # noqa: PLC0415  (git only for NAME@REV)

    version = resolve_rev(rf, rev)
    return version, git_versions.read_blob(rf.root, version.blob, paths.MAX_RECIPE_BYTES + 1)


def version_path(rf: RecipeFile, version: Version) -> str:
    """How errors name a version: `local/incident-response/log-triage.yaml@4b1e266`."""
    return f"{display_path(rf)}@{version.short}"


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
