"""What the version commands do: `diff` two versions of a recipe, `restore` an old one as a new
commit, and `tag` a version with a team label (`promptlib/<name>/<label>`, pushed when the
collection has a remote).

Versions are named as everywhere (`catalog.lookup.split_rev`): a commit, a tag, a branch, a
label, or `~N` for N versions of that recipe back.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from promptlib import paths
from promptlib.catalog import lookup
from promptlib.catalog.recipes import validate
from promptlib.errors import InvalidError, NotFoundError, PromptlibError, UsageError
from promptlib.gitops import remote as gitops_remote
from promptlib.gitops import run as gitops
from promptlib.gitops import versions as git_versions
from promptlib.gitops.lock import locked
from promptlib.gitops.versions import Version
from promptlib.store.collections import RecipeFile, read_bytes_nofollow
from promptlib.utils.files import write_atomic

_LABEL_RE = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9._-]{0,62}[A-Za-z0-9])?")


# --- diff -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Side:
    """One side of a diff: a version out of git, or the file on disk (`version` None)."""

    label: str
    data: bytes
    version: Version | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"label": self.label, "commit": self.version.commit if self.version else None,
                "version": self.version.to_dict() if self.version else None}


@dataclass(frozen=True)
class RecipeDiff:
    file: RecipeFile
    old: Side
    new: Side
    text: str

    @property
    def changed(self) -> bool:
        return self.old.data != self.new.data

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.file.id, "from": self.old.to_dict(), "to": self.new.to_dict(),
                "changed": self.changed, "diff": self.text}


def diff(ref: str, revs: Sequence[str] = ()) -> RecipeDiff:
    """`diff NAME` (previous version → current), `diff NAME REV` (REV → current),
    `diff NAME REV REV`; `NAME@REV` counts as the first REV."""
    parsed = lookup.split_rev(ref)
    wanted = [*([parsed.rev] if parsed.rev else []), *revs]
    for rev in revs:
        lookup.split_rev(f"{parsed.name}@{rev}")  # the same syntax check as NAME@REV
    if len(wanted) > 2:
        raise UsageError("diff compares two versions: give at most two REVs")
    rf = lookup.find(parsed.name)
    current = _on_disk(rf)
    if not wanted:
        old = _previous(rf, current)
        return _diff(rf, old, current)
    old = _side(rf, wanted[0])
    new = _side(rf, wanted[1]) if len(wanted) == 2 else current
    return _diff(rf, old, new)


def _on_disk(rf: RecipeFile) -> Side:
    return Side(f"{rf.id} (current)", read_bytes_nofollow(rf.path))


def _side(rf: RecipeFile, rev: str) -> Side:
    """A version's text as it is in git: a diff compares text, so a version that no longer
    validates can still be compared (that is often the point)."""
    version, data = lookup.version_bytes(rf, rev)
    return Side(f"{rf.id}@{version.short}", data, version)


def _previous(rf: RecipeFile, current: Side) -> Side:
    """The newest committed version that differs from the file on disk."""
    history = lookup.recipe_versions(rf)
    for version in history:
        data = git_versions.read_blob(rf.root, version.blob, paths.MAX_RECIPE_BYTES + 1)
        if data != current.data:
            return Side(f"{rf.id}@{version.short}", data, version)
    raise NotFoundError(f"{rf.id} has no earlier version to compare with",
                        hint="it has one version so far; `promptlib history "
                             f"{rf.id}` lists them")


def _diff(rf: RecipeFile, old: Side, new: Side) -> RecipeDiff:
    lines = difflib.unified_diff(
        old.data.decode("utf-8", "replace").splitlines(keepends=True),
        new.data.decode("utf-8", "replace").splitlines(keepends=True),
        fromfile=old.label, tofile=new.label)
    text = "".join(line if line.endswith("\n") else line + "\n\\ No newline at end of file\n"
                   for line in lines)
    return RecipeDiff(rf, old, new, text)


# --- restore --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Restored:
    file: RecipeFile
    version: Version
    commit: str | None  # None: the file already was that version


def restore(ref: str) -> Restored:
    """Write the version `NAME@REV` names back as a new commit, validated like `edit`."""
    parsed = lookup.split_rev(ref)
    if parsed.rev is None:
        raise UsageError(f"restore needs a version: `promptlib restore {ref}@~1` (or @COMMIT, "
                         "@TAG, @LABEL)")
    rf = lookup.find(parsed.name)
    at = lookup.read_at(rf, parsed.rev)
    validate(at.data, path=lookup.version_path(rf, at.version), expected_name=rf.name)
    with locked(rf.collection):
        current = read_bytes_nofollow(rf.path)
        if gitops.run(rf.root, "status", "--porcelain", "--", gitops.literal(rf.relpath)):
            raise PromptlibError(f"{rf.id} has changes that are not committed; not restoring "
                                 "over them",
                                 hint="commit them first (`promptlib pull` or `promptlib push` "
                                      "commits hand edits), or undo them")
        if current == at.data:
            return Restored(rf, at.version, None)
        write_atomic(rf.path, at.data)
        sha = gitops.commit(rf.root, [rf.relpath], f"Restore {rf.name} to {at.version.short}")
    return Restored(rf, at.version, sha)


# --- tag ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Tagged:
    file: RecipeFile
    version: Version
    label: str
    ref: str
    moved_from: str | None  # the commit the label pointed at before `--move`
    pushed: bool  # False: the collection has no remote, the label stays here
    unchanged: bool = False


def check_label(label: str) -> str:
    if not _LABEL_RE.fullmatch(label) or ".." in label or label.endswith(".lock"):
        raise InvalidError(f"bad label {label!r}",
                           hint="letters, digits, '.', '_' and '-', e.g. prod or v3")
    return label


def tag(ref: str, label: str, *, move: bool = False) -> Tagged:
    """Point the label at the version `NAME@REV` names (default: the latest) and push it."""
    check_label(label)
    rf, rev = lookup.find_rev(ref)
    version = lookup.resolve_rev(rf, rev or "~0")
    name_ref = git_versions.label_ref(rf.name, label)
    with locked(rf.collection):
        old = git_versions.labels(rf.root, rf.name).get(label)
        if old == version.commit:
            return Tagged(rf, version, label, name_ref, None,
                          gitops_remote.remote_url(rf.root) is not None, unchanged=True)
        if old is not None and not move:
            raise InvalidError(f"{rf.id} already has the label {label!r} at {old[:7]}",
                               hint=f"move it with `promptlib tag {ref} {label} --move`")
        git_versions.set_label(rf.root, rf.name, label, version.commit, old)
        if gitops_remote.remote_url(rf.root) is None:
            return Tagged(rf, version, label, name_ref, old, pushed=False)
        try:
            gitops_remote.push_ref(rf.root, name_ref, name_ref, force=old is not None)
        except PromptlibError:
            _undo_label(rf, name_ref, old)
            raise
    return Tagged(rf, version, label, name_ref, old, pushed=True)


def _undo_label(rf: RecipeFile, name_ref: str, old: str | None) -> None:
    """A label that could not be pushed is taken back: here it would vanish at the next pull."""
    if old is None:
        gitops.delete_ref(rf.root, name_ref)
    else:
        gitops.update_ref(rf.root, name_ref, old)
