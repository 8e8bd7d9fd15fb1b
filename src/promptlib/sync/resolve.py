"""Sync conflicts: finding them before any rebase or merge starts, pinning the remote's version,
recording `resolve` decisions, and the merge that settles them.

Part of the sync package (`core` runs pull/push/share, `tree` validates what a tree holds,
`state` holds reports and state, `conflicts` the bookkeeping below this module). Silent core:
nothing here prints.

**Conflicts.** A conflict is a file that both sides changed since their merge base and whose two
versions now differ — the same recipe edited on both sides is a conflict even when git could
merge the lines textually (DESIGN: sync never silently overwrites). It is detected *before* any
rebase or merge starts, so the working tree is never touched: it stays clean and holds your
version ("mine"); the remote's version ("theirs") stays in `refs/remotes/origin/<branch>` and is
also pinned at `refs/promptlib/theirs`. Nothing is lost and the local library keeps working. (If
git still stops on a conflict we did not foresee — a file on one side, a folder on the other —
the rebase or merge is aborted, which restores the same clean state.)

**Resolve.** `resolve NAME --keep mine|theirs|both` records a decision for one conflicting file
(keyed by the blob ids of both versions, so a decision goes stale if either side changes again).
Once every conflict of that collection has a decision, one *merge commit* of HEAD and the remote
is made whose conflicting files are exactly as decided — mine, theirs, or (both) mine plus theirs
copied to `NAME-theirs` with its `name:` changed to match — and it is pushed. Both sides' commits
are ancestors of that merge, so the remote's history holds every commit of both; nothing is ever
force-pushed.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from promptlib import paths as config
from promptlib.errors import InvalidError, NotFoundError
from promptlib.gitops import history as gitops_history
from promptlib.gitops import remote as gitops_remote
from promptlib.gitops.lock import locked
from promptlib.store import collections as store
from promptlib.store.collections import Collection, is_recipe_path
from promptlib.sync import core as sync
from promptlib.sync.conflicts import (
    KEEP,
    Entries,
    blob_versions,
    conflict_list,
    find_conflicts,
    recorded_decisions,
    settled,
)
from promptlib.sync.state import Conflict, SyncReport, load_state, save_state


@dataclass(frozen=True)
class Settled:
    """How the merge settled one conflict: its decision, and for `both` where theirs went."""

    conflict: Conflict  # `decided` holds the kept side
    copy: str | None = None  # `both`: the id (or path) theirs is kept under; None: no copy made

    @property
    def keep(self) -> str:
        return self.conflict.decided or ""


@dataclass(frozen=True)
class ResolveResult:
    conflict: Conflict  # the one this `resolve` named, with its decision
    keep: str
    settled: bool  # all conflicts of the collection decided and merged
    remaining: list[Conflict]  # still open when not settled
    merged: list[Settled]  # when settled: every conflict the merge settled, this one included
    report: SyncReport | None  # the push after the merge

    @property
    def this(self) -> Settled | None:
        """How the merge settled the conflict this `resolve` named (None: not merged yet)."""
        return next((s for s in self.merged if s.conflict.relpath == self.conflict.relpath),
                    None)

    @property
    def copies(self) -> list[str]:
        """Every copy of theirs the merge made (`both`), in conflict order."""
        return [s.copy for s in self.merged if s.copy]


def pending_conflicts(names: Sequence[str] = ()) -> list[Conflict]:
    """Conflicts between each collection and its last-fetched remote (no network)."""
    found = []
    for coll in sync.targets(names):
        head, upstream = gitops_remote.heads(coll.path)
        paths, _ = find_conflicts(coll.path, head, upstream)
        if paths and head and upstream:
            found += conflict_list(coll, head, upstream, paths)
    return found


def _match(ref: str) -> Conflict:
    candidates = pending_conflicts()
    matches = [c for c in candidates
               if ref in (c.name, c.relpath, c.id, f"{c.collection}/{c.relpath}")]
    if len(matches) == 1:
        return matches[0]
    if matches:
        raise NotFoundError(f"{ref!r} conflicts in several collections: "
                            + ", ".join(c.id for c in matches),
                            hint=f"name one, e.g. `promptlib resolve {matches[0].id} --keep mine`")
    known = ", ".join(c.id for c in candidates)
    raise NotFoundError(f"no sync conflict on {ref!r}",
                        hint=f"open conflicts: {known}" if known
                        else "`promptlib pull` reports conflicts when there are any")


def resolve(ref: str, keep: str) -> ResolveResult:
    """Record how to settle one conflicting file; when none is left open, merge and push."""
    if keep not in KEEP:
        raise InvalidError(f"--keep must be one of {', '.join(KEEP)}, not {keep!r}")
    first = _match(ref)
    coll = store.collection(first.collection)
    path = coll.path
    with locked(coll.name):
        head, upstream = gitops_remote.heads(path)
        paths, _ = find_conflicts(path, head, upstream)
        if head is None or upstream is None or first.relpath not in paths:
            raise NotFoundError(f"no sync conflict on {ref!r} any more")
        mine = gitops_history.tree_entries(path, head)
        theirs = gitops_history.tree_entries(path, upstream)
        state = load_state(coll.name)
        decisions = {p: e for p, e in (state.get("decisions") or {}).items() if p in paths}
        decisions[first.relpath] = {"keep": keep, **blob_versions(mine, theirs, first.relpath)}
        state["decisions"] = decisions
        save_state(coll.name, state)
        valid = recorded_decisions(coll, head, upstream, paths)
        open_ = [Conflict(coll.name, p) for p in paths if p not in valid]
        conflict = Conflict(coll.name, first.relpath, keep)
        if open_:
            return ResolveResult(conflict, keep, False, open_, [], None)
        contents, copies = _resolution(coll, head, upstream, valid, mine, theirs)
        summary = ", ".join(f"{Conflict(coll.name, p).name} (kept {k})"
                            for p, k in sorted(valid.items()))
        gitops_history.merge_resolved(path, upstream,
                                      f"{sync.merge_message(path)}: resolve {summary}", contents)
        settled(coll)
        merged = [Settled(Conflict(coll.name, p, k), copies.get(p)) for p, k in valid.items()]
        report = sync.sync_collections([coll], push=True)[0]
    return ResolveResult(conflict, keep, True, [], merged, report)


def _resolution(coll: Collection, head: str, upstream: str, decisions: dict[str, str],
                mine: Entries, theirs: Entries
                ) -> tuple[dict[str, bytes | None], dict[str, str]]:
    """The exact content of every conflicting file after the merge (None: deleted), and for
    each `both` decision that made a copy of theirs: conflicting relpath → the copy's id."""
    path = coll.path
    taken = set(mine) | set(theirs)
    contents: dict[str, bytes | None] = {}
    copies: dict[str, str] = {}
    for relpath, keep in decisions.items():
        ours_data = gitops_history.blob_at(path, head, relpath)
        theirs_data = gitops_history.blob_at(path, upstream, relpath)
        if keep == "theirs":
            contents[relpath] = theirs_data
            continue
        contents[relpath] = ours_data
        if keep == "both" and theirs_data is not None:
            copy, data = _theirs_copy(relpath, theirs_data, taken)
            taken.add(copy)
            contents[copy] = data
            copies[relpath] = Conflict(coll.name, copy).id
    return contents, copies


def _theirs_copy(relpath: str, data: bytes, taken: set[str]) -> tuple[str, bytes]:
    """Where `both` keeps theirs: `NAME-theirs` beside it, `name:` changed so it validates."""
    folder, _, filename = relpath.rpartition("/")
    prefix = f"{folder}/" if folder else ""
    if not is_recipe_path(relpath):
        stem, dot, suffix = filename.partition(".")
        for n in range(1, 1000):
            tag = "theirs" if n == 1 else f"theirs-{n}"
            candidate = f"{prefix}{stem}.{tag}{dot}{suffix}" if dot else f"{prefix}{stem}.{tag}"
            if candidate not in taken:
                return candidate, data
        raise InvalidError(f"no free name for theirs of {relpath}")
    stem = Path(filename).stem
    stems = {Path(p).stem for p in taken if is_recipe_path(p)}
    for n in range(1, 1000):
        tag = "-theirs" if n == 1 else f"-theirs-{n}"
        name = stem[:64 - len(tag)].rstrip("-") + tag
        if name not in stems:
            break
    else:
        raise InvalidError(f"no free name for theirs of {relpath}")
    text = data.decode("utf-8", errors="surrogateescape")
    renamed, count = re.subn(r"(?m)^name:[ \t]*\S.*$", f"name: {name}", text, count=1)
    out = renamed if count else text
    return f"{prefix}{name}{config.RECIPE_SUFFIX}", out.encode("utf-8", errors="surrogateescape")
