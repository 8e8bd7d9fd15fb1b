"""Sync conflicts: finding them before any rebase or merge starts, pinning the remote's version,
recording `resolve` decisions, and the merge that settles them.

Part of the sync modules (`sync` runs pull/push/share, `sync_tree` validates what a tree holds,
`sync_report` holds reports and state). Silent core: nothing here prints.

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

from promptlib import config, gitops, gitops_history, gitops_remote, store
from promptlib.errors import InvalidError, NotFoundError
from promptlib.store import Collection, is_recipe_path
from promptlib.sync_report import Conflict, SyncReport, load_state, save_state

KEEP = ("mine", "theirs", "both")
THEIRS_REF = "refs/promptlib/theirs"

Entries = dict[str, tuple[str, str]]  # relpath → (mode, blob sha), as gitops_history gives them


def find_conflicts(path: Path, head: str | None, upstream: str | None) -> tuple[list[str], bool]:
    """(files changed on both sides whose versions differ, whether both sides touched any file).
    """
    if head is None or upstream is None:
        return [], False
    base = gitops_history.merge_base(path, head, upstream)
    ours = {p for _, p in gitops_history.changes(path, base, head)}
    theirs = {p for _, p in gitops_history.changes(path, base, upstream)}
    both = ours & theirs
    if not both:
        return [], False
    mine = gitops_history.tree_entries(path, head)
    other = gitops_history.tree_entries(path, upstream)
    return sorted(p for p in both if mine.get(p) != other.get(p)), True


def entry_sha(entry: tuple[str, str] | None) -> str | None:
    return entry[1] if entry else None


def _versions(mine: Entries, theirs: Entries, relpath: str) -> dict[str, str | None]:
    """The two versions of a file a decision is keyed by."""
    return {"ours": entry_sha(mine.get(relpath)), "theirs": entry_sha(theirs.get(relpath))}


def _decisions(coll: Collection, head: str, upstream: str, conflicts: Sequence[str]
               ) -> dict[str, str]:
    """Recorded `--keep` decisions still valid for the current two versions of each file."""
    recorded = load_state(coll.name).get("decisions") or {}
    mine = gitops_history.tree_entries(coll.path, head)
    other = gitops_history.tree_entries(coll.path, upstream)
    valid = {}
    for relpath in conflicts:
        entry = recorded.get(relpath)
        if (isinstance(entry, dict) and entry.get("keep") in KEEP
                and {"ours": entry.get("ours"), "theirs": entry.get("theirs")}
                == _versions(mine, other, relpath)):
            valid[relpath] = entry["keep"]
    return valid


def _conflicts(coll: Collection, head: str, upstream: str, paths: Sequence[str]
               ) -> list[Conflict]:
    """The conflicts on `paths`, each with its still-valid recorded decision."""
    decided = _decisions(coll, head, upstream, paths)
    return [Conflict(coll.name, p, decided.get(p)) for p in paths]


def record_conflict(coll: Collection, report: SyncReport, head: str, upstream: str,
                    paths: Sequence[str]) -> None:
    """Pin the remote's version at THEIRS_REF and put the conflicts in the report."""
    gitops.update_ref(coll.path, THEIRS_REF, upstream)
    conflicts = _conflicts(coll, head, upstream, paths)
    report.how = "conflict"
    report.conflicts = conflicts


def settled(coll: Collection) -> None:
    """No conflict pending any more: drop the pinned ref and old decisions."""
    gitops.delete_ref(coll.path, THEIRS_REF)
    state = load_state(coll.name)
    if state.pop("decisions", None) is not None:
        save_state(coll.name, state)


# --- resolve --------------------------------------------------------------------------------------


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
    from promptlib import sync

    found = []
    for coll in sync.targets(names):
        head, upstream = gitops_remote.heads(coll.path)
        paths, _ = find_conflicts(coll.path, head, upstream)
        if paths and head and upstream:
            found += _conflicts(coll, head, upstream, paths)
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
    from promptlib import sync

    if keep not in KEEP:
        raise InvalidError(f"--keep must be one of {', '.join(KEEP)}, not {keep!r}")
    first = _match(ref)
    coll = store.collection(first.collection)
    path = coll.path
    with gitops.locked(coll.name):
        head, upstream = gitops_remote.heads(path)
        paths, _ = find_conflicts(path, head, upstream)
        if head is None or upstream is None or first.relpath not in paths:
            raise NotFoundError(f"no sync conflict on {ref!r} any more")
        mine = gitops_history.tree_entries(path, head)
        theirs = gitops_history.tree_entries(path, upstream)
        state = load_state(coll.name)
        decisions = {p: e for p, e in (state.get("decisions") or {}).items() if p in paths}
        decisions[first.relpath] = {"keep": keep, **_versions(mine, theirs, first.relpath)}
        state["decisions"] = decisions
        save_state(coll.name, state)
        valid = _decisions(coll, head, upstream, paths)
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
