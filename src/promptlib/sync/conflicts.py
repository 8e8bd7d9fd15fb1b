"""Sync conflicts: found before any rebase or merge starts, the remote's version pinned, the
decisions `resolve` records, and forgetting them once settled.

The bookkeeping half of conflicts: `sync.core` calls it while pulling, `sync.resolve` (above
`core`) calls it and then merges. See `sync.resolve` for what a conflict is and how it settles.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from promptlib.gitops import history as gitops_history
from promptlib.gitops import run as gitops
from promptlib.store.collections import Collection
from promptlib.sync.state import Conflict, SyncReport, load_state, save_state

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


def blob_versions(mine: Entries, theirs: Entries, relpath: str) -> dict[str, str | None]:
    """The two versions of a file a decision is keyed by."""
    return {"ours": entry_sha(mine.get(relpath)), "theirs": entry_sha(theirs.get(relpath))}


def recorded_decisions(coll: Collection, head: str, upstream: str, conflicts: Sequence[str]
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
                == blob_versions(mine, other, relpath)):
            valid[relpath] = entry["keep"]
    return valid


def conflict_list(coll: Collection, head: str, upstream: str, paths: Sequence[str]
               ) -> list[Conflict]:
    """The conflicts on `paths`, each with its still-valid recorded decision."""
    decided = recorded_decisions(coll, head, upstream, paths)
    return [Conflict(coll.name, p, decided.get(p)) for p in paths]


def record_conflict(coll: Collection, report: SyncReport, head: str, upstream: str,
                    paths: Sequence[str]) -> None:
    """Pin the remote's version at THEIRS_REF and put the conflicts in the report."""
    gitops.update_ref(coll.path, THEIRS_REF, upstream)
    conflicts = conflict_list(coll, head, upstream, paths)
    report.how = "conflict"
    report.conflicts = conflicts


def settled(coll: Collection) -> None:
    """No conflict pending any more: drop the pinned ref and old decisions."""
    gitops.delete_ref(coll.path, THEIRS_REF)
    state = load_state(coll.name)
    if state.pop("decisions", None) is not None:
        save_state(coll.name, state)
