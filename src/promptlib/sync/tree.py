"""What a collection's tree holds, checked before sync trusts it: which files are recipes, every
file of a pulled tree that is not a valid recipe (`inspect_tree`), and hand edits in the working
tree validated and committed before a pull or push (`commit_hand_edits`).

Part of the sync modules (`sync` runs pull/push/share, `sync.resolve` finds and settles conflicts,
`sync.state` holds reports and state). Silent core: nothing here prints. A pulled tree is
untrusted: a symlink is never followed, a file is read with O_NOFOLLOW, every template is analysed
in a bounded worker, and names from it reach a message only with control characters escaped.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from promptlib.errors import InvalidError, RecipeError
from promptlib.gitops import history as gitops_history
from promptlib.gitops import run as gitops
from promptlib.recipe.model import is_valid_name
from promptlib.store import collections as store
from promptlib.store.collections import Collection, RecipeFile, is_recipe_path
from promptlib.utils.text import escape_controls

SYMLINK_MODE = "120000"


def recipe_name(relpath: str) -> str:
    """How a file is named to the user: a recipe by its name, any other file by its path."""
    return Path(relpath).stem if is_recipe_path(relpath) else relpath


def tree_problems(coll: Collection, relpaths: Iterable[str] | None = None) -> list[str]:
    """Every recipe-shaped file of HEAD (or just `relpaths`) that is not a valid recipe."""
    return inspect_tree(coll, relpaths)[1]


def inspect_tree(coll: Collection, relpaths: Iterable[str] | None = None
                 ) -> tuple[int, list[str]]:
    """(valid recipes, problems) among the files of HEAD (or just `relpaths`)."""
    valid, problems = check_tree(coll, relpaths)
    return len(valid), [message for _, message in problems]


def check_tree(coll: Collection, relpaths: Iterable[str] | None = None
               ) -> tuple[list[str], list[tuple[str, str]]]:
    """(relpaths of the valid recipes, (relpath, problem) for each file that is not usable)
    among the files of HEAD (or just `relpaths`; a path HEAD does not hold is left out).

    Works from git's own record of each file: a symlink is named as one and never opened (with
    core.symlinks=false it is checked out as a small plain file holding its target); the others
    are read with O_NOFOLLOW, so nothing outside the collection is ever read.
    """
    head = gitops_history.rev(coll.path, "HEAD")
    if head is None:
        return [], []
    entries = gitops_history.tree_entries(coll.path, head)
    wanted = sorted(entries) if relpaths is None else sorted(set(relpaths) & entries.keys())
    problems: list[tuple[str, str]] = []
    loaded: list[tuple[str, Any]] = []
    for relpath in wanted:
        mode, _ = entries[relpath]
        where = f"{coll.name}/{relpath}"
        if mode == SYMLINK_MODE:
            problems.append((relpath, f"{where}: a symlink in the repository; promptlib never "
                                      "follows it"))
            continue
        if not is_recipe_path(relpath):
            continue
        stem = Path(relpath).stem
        if not is_valid_name(stem):
            problems.append((relpath, f"{where}: {_quoted(stem)} breaks the name rule (1-64 "
                                      "lowercase letters, digits and inner hyphens); skipped"))
            continue
        try:
            loaded.append((relpath, store.read(RecipeFile(coll.name, coll.path, relpath))))
        except RecipeError as exc:
            problems.append((relpath, str(exc)))
    where_of = {f"{coll.name}/{relpath}": relpath for relpath, _ in loaded}
    bad_templates = [(where_of[where], message) for where, message in _template_problems(
        [(f"{coll.name}/{relpath}", recipe) for relpath, recipe in loaded])]
    bad = {relpath for relpath, _ in bad_templates}
    valid = [relpath for relpath, _ in loaded if relpath not in bad]
    return valid, [(relpath, printable(message)) for relpath, message in problems + bad_templates]


def printable(text: str) -> str:
    """A message about an untrusted tree, with control characters (a file name could carry
    terminal escape sequences) shown as escapes instead of reaching the terminal."""
    return escape_controls(text)


def _quoted(name: str) -> str:
    """A name from an untrusted tree, quoted with every non-ASCII or control character escaped."""
    return "'" + name.encode("unicode_escape").decode("ascii").replace("'", "\\'") + "'"


def _template_problems(loaded: Sequence[tuple[str, Any]]) -> list[tuple[str, str]]:
    """Analyse every template in one bounded worker (a hostile one fails alone, fast):
    (where, problem) for each recipe whose template does not pass."""
    from promptlib.sandbox import api as sandbox  # noqa: PLC0415  (start-up: only this path loads it)

    problems = []
    analyses = sandbox.check_templates([recipe.template for _, recipe in loaded])
    for (where, recipe), used in zip(loaded, analyses, strict=True):
        if isinstance(used, Exception):
            problems.append((where, f"{where}: template: {used}"))
            continue
        try:
            recipe.check_variables_used(used)
        except RecipeError as exc:
            problems.append((where, str(exc.at(where))))
    return problems


# --- hand edits -----------------------------------------------------------------------------------


def commit_hand_edits(coll: Collection) -> list[str]:
    """Commit what was changed in the working tree by hand, as one commit. Returns what was
    committed (recipe names, other paths). InvalidError naming every file that does not validate.
    """
    from promptlib.redact import detector as redact  # noqa: PLC0415  (start-up: only this path loads it)
    from promptlib.store import allow_lists  # noqa: PLC0415  (start-up: only this path loads it)

    allow = allow_lists.for_collection(coll.path)
    paths = [relpath for code, relpath in gitops_history.status(coll.path)
             if code != "??" or is_recipe_path(relpath)]
    if not paths:
        return []
    problems: list[str] = []
    loaded: list[tuple[str, Any]] = []
    for relpath in paths:
        full = coll.path / relpath
        where = f"{coll.name}/{relpath}"
        if full.is_symlink():
            problems.append(f"{where}: is a symlink; promptlib does not store symlinks")
            continue
        if not is_recipe_path(relpath) or not full.exists():
            continue
        stem = Path(relpath).stem
        if not is_valid_name(stem):
            problems.append(f"{where}: {_quoted(stem)} breaks the name rule")
            continue
        rf = RecipeFile(coll.name, coll.path, relpath)
        try:
            data = store.read_bytes_nofollow(full)
            loaded.append((where, store.read(rf)))
        except RecipeError as exc:
            problems.append(str(exc))
            continue
        text = data.decode("utf-8", errors="replace")
        for finding in redact.find_secrets(text, allow=allow):
            problems.append(f"{where}:{finding.line}: looks like a credential ({finding.kind})")
    problems += [message for _, message in _template_problems(loaded)]
    if problems:
        raise InvalidError(
            f"{coll.name}: hand edits that do not validate:\n  "
            + "\n  ".join(printable(p) for p in problems),
            hint="fix them (or `git -C " + str(coll.path) + " checkout -- FILE` to drop one), "
                 "then run the command again")
    names = [recipe_name(p) for p in paths]
    shown = ", ".join(names[:5]) + (", …" if len(names) > 5 else "")
    gitops.commit(coll.path, paths, f"Commit hand edits: {shown}")
    return names
