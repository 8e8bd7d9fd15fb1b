"""The git layer's view of one file's versions, of labels (lightweight tags), and of patch
identities (has a review branch landed on main?).

One of the gitops modules, the only code that runs git: every command goes through the hardened
helpers of `gitops.run`. Used by `catalog.lookup` (`NAME@REV`), `catalog.versions` (diff,
restore, tag) and `sync.review`.

A file's *versions* are the commits that changed it, newest first, following renames
(`git log --follow`), each with the blob it left: `~N` counts these, not commits.
"""

from __future__ import annotations

import re
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from promptlib.errors import PromptlibError
from promptlib.gitops.history import read_blob_heads, tree_entries
from promptlib.gitops.run import run, run_bytes, try_run

_FORMAT = "%x1e%H%x1f%an%x1f%ae%x1f%aI%x1f%s"
_ZERO = re.compile(r"0+")
LABELS = "refs/tags/promptlib"


@dataclass(frozen=True)
class Version:
    """One version of a file: the commit that made it, the blob it left, and who and when."""

    commit: str
    blob: str
    relpath: str
    author: str
    email: str
    date: str
    message: str

    @property
    def short(self) -> str:
        return self.commit[:7]

    def to_dict(self) -> dict[str, str]:
        return {"commit": self.commit, "short": self.short, "blob": self.blob,
                "path": self.relpath, "author": self.author, "email": self.email,
                "date": self.date, "message": self.message}


def versions(path: Path, relpath: str, start: str = "HEAD") -> list[Version]:
    """Every commit that left a version of `relpath`, as of `start`, newest first (renames
    followed; a commit that deleted the file is not a version). `start` is a commit id or a ref
    name that `gitops.history.rev` has checked."""
    out = run(path, "log", "--follow", "--no-abbrev", "--raw", "--diff-merges=first-parent",
              f"--format={_FORMAT}", start, "--", relpath)
    found: list[Version] = []
    for record in out.split("\x1e"):
        head, _, raw = record.partition("\n")
        fields = head.split("\x1f")
        if len(fields) != 5:
            continue
        blob, where = _raw_blob(raw, relpath)
        if blob is not None:
            found.append(Version(fields[0], blob, where, *fields[1:]))
    return found


def _raw_blob(raw: str, relpath: str) -> tuple[str | None, str]:
    """The new blob and path in the `--raw` line of one log record (None for a deletion)."""
    for line in raw.splitlines():
        meta, _, names = line.partition("\t")
        fields = meta[1:].split()
        if not line.startswith(":") or len(fields) < 5:
            continue
        where = names.split("\t")[-1] or relpath
        return (None if _ZERO.fullmatch(fields[3]) else fields[3]), where
    return None, relpath


def read_blob(path: Path, blob: str, limit: int) -> bytes:
    """A blob's first `limit` bytes, memory bounded however big it is."""
    heads = read_blob_heads(path, [blob], limit)
    if blob not in heads:
        raise PromptlibError(f"git object {blob[:10]} is missing in {path}")
    return heads[blob][0]


def find_named(path: Path, commit: str, filename: str, wanted: Callable[[str], bool]
               ) -> str | None:
    """The path of a file called `filename` in `commit`'s tree that `wanted` accepts (a recipe
    that has moved since)."""
    for relpath in sorted(tree_entries(path, commit)):
        if relpath.rsplit("/", 1)[-1] == filename and wanted(relpath):
            return relpath
    return None


# --- labels: lightweight tags refs/tags/promptlib/<name>/<label> ---------------------------------


def label_ref(name: str, label: str) -> str:
    return f"{LABELS}/{name}/{label}"


def labels(path: Path, name: str) -> dict[str, str]:
    """label → commit, for one recipe's labels."""
    out = run(path, "for-each-ref", "--format=%(refname)%00%(objectname)", "--",
              f"{LABELS}/{name}/")
    found = {}
    for line in out.splitlines():
        ref, _, sha = line.partition("\0")
        found[ref.rsplit("/", 1)[-1]] = sha
    return found


def set_label(path: Path, name: str, label: str, commit: str, old: str | None) -> None:
    """Point the label at `commit`. `old` is what it must point at now (None: it must not
    exist), so two writers never silently overwrite each other."""
    run(path, "update-ref", "--no-deref", label_ref(name, label), commit, old or "0" * 40)


# --- ancestry and patch identities ----------------------------------------------------------------


def is_ancestor(path: Path, older: str, newer: str) -> bool:
    return try_run(path, "merge-base", "--is-ancestor", older, newer) is not None


def commits_between(path: Path, base: str, head: str) -> list[str]:
    """The commits in `head` not in `base`, oldest first."""
    return run(path, "rev-list", "--reverse", head, "--not", base, "--").split()


def patch_ids(path: Path, base: str, head: str) -> dict[str, str]:
    """commit → stable patch id, for every non-merge commit in `head` not in `base`."""
    diffs = run_bytes(path, "log", "-p", "--no-merges", "--no-renames", "--no-ext-diff",
                      "--no-color", "--format=commit %H", head, "--not", base, "--")
    return {commit: pid for pid, commit in _patch_id(path, diffs)}


def combined_patch_id(path: Path, base: str, head: str) -> str | None:
    """The stable patch id of everything from `base` to `head` as one patch (a squash)."""
    diff = run_bytes(path, "diff", "--no-renames", "--no-ext-diff", "--no-color", base, head,
                     "--")
    found = _patch_id(path, diff)
    return found[0][0] if found else None


def _patch_id(path: Path, diffs: bytes) -> list[tuple[str, str]]:
    if not diffs.strip():
        return []
    with tempfile.TemporaryFile() as request:
        request.write(diffs)
        request.seek(0)
        out = run(path, "patch-id", "--stable", istream=request)
    return [(parts[0], parts[1]) for parts in (line.split() for line in out.splitlines())
            if len(parts) == 2]
