"""The git side of `promptlib report`: reading each collection's recipe history, and caching it.

Per collection: ONE `git log --name-status` (the whole history, oldest first — digested into a
cache keyed by HEAD, so later runs read only the commits that are new); what the files say now
(`shared_from`, tags) is `report.facts`. Only recipe files count as changes: `*.yaml` outside
hidden folders and outside the top-level `wins/` and `usage/`; every commit counts as someone
committing to the collection. Rename detection is off, so a moved recipe is a delete plus an
add. `parse_history` turns the commits into the dated events the report counts (see `report` for
what each figure means).
"""

from __future__ import annotations

import contextlib
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from promptlib import paths as config
from promptlib.errors import PromptlibError
from promptlib.gitops import run as gitops
from promptlib.metrics.people import person
from promptlib.store import collections as store
from promptlib.store.collections import Collection, is_recipe_path
from promptlib.utils.files import write_atomic

_LOG_FORMAT = "--format=%x1e%ae%x1f%aI%x1f%s"
PARALLEL_LOG_FROM = 1000  # commits: below this, one `git log` is quicker than several


@dataclass
class History:
    """What one collection's history says, as dated events."""

    contributions: list[tuple[str, str]] = field(default_factory=list)  # (day, email)
    committers: list[tuple[str, str]] = field(default_factory=list)  # (day, email): any commit
    arrived: list[tuple[str, str]] = field(default_factory=list)  # (day, path)
    improved: list[tuple[str, str, str]] = field(default_factory=list)  # (day, path, email)
    added: dict[str, tuple[str, str]] = field(default_factory=dict)  # live path -> (email, day)
    seeded: set[str] = field(default_factory=set)  # live paths the starter-library seed added


# One commit, reduced to what the report needs: (author email, day, is the seed commit,
# [(status letter, recipe path), ...]). A commit that touches no recipe file (a win, usage, a
# roster) keeps an empty list: it still says who committed to the collection, and when.
Change = tuple[str, str]
CompactCommit = tuple[str, str, bool, list[Change]]
_CACHE_VERSION = 2


def history_commits(coll: Collection) -> list[CompactCommit]:
    """The collection's recipe history, oldest first, from a cache kept in step with HEAD.

    The cache (one JSON file per collection in the cache dir) is keyed by the HEAD it was read
    at: history below a commit never changes, so when the old HEAD is an ancestor of the new one
    only the commits in between are read; anything else (a reset, a rewrite) reads it all again.
    """
    head = _head(coll)
    if head is None:
        return []
    path = config.report_cache(coll.name)
    cached = _read_cache(path)
    if cached is not None and cached[0] == head:
        return cached[1]
    commits: list[CompactCommit] | None = None
    if cached is not None and _is_ancestor(coll, cached[0], head):
        commits = cached[1] + compact(git_log(coll, f"{cached[0]}..{head}"))
    if commits is None:
        commits = _read_all(coll, head)
    _write_cache(path, head, commits)
    return commits


def _read_all(coll: Collection, head: str) -> list[CompactCommit]:
    """The whole history. Diffing trees is most of `git log`'s time and uses one core, so a long
    history is read in slices (`--skip`/`--max-count` over the same walk), one git per core."""
    import os  # noqa: PLC0415  (stdlib, kept off the start-up path)

    workers = min(4, os.cpu_count() or 1)
    total = int(gitops.read(coll.path, "rev-list", "--count", "--no-merges", head) or 0)
    if workers < 2 or total < PARALLEL_LOG_FROM:
        return compact(git_log(coll, head))
    size = -(-total // workers)

    def piece(i: int) -> list[CompactCommit]:  # newest first, like the walk itself
        # Compacted here: a slice that is done is read while the others still run.
        return compact(gitops.read(coll.path, "log", "--no-merges", "--no-renames", _LOG_FORMAT,
                                   "--name-status", f"--skip={i * size}", f"--max-count={size}",
                                   head, "--"))

    with ThreadPoolExecutor(max_workers=workers) as pool:
        pieces = list(pool.map(piece, range(workers)))
    commits = [c for piece_commits in pieces for c in piece_commits]
    commits.reverse()
    return commits


def _head(coll: Collection) -> str | None:
    out = gitops.read(coll.path, "rev-parse", "--verify", "--quiet", "HEAD^{commit}",
                      with_exceptions=False)
    sha = out.strip()
    return sha if len(sha) == 40 and all(c in "0123456789abcdef" for c in sha) else None


def _is_ancestor(coll: Collection, old: str, new: str) -> bool:
    try:
        gitops.read(coll.path, "merge-base", "--is-ancestor", old, new)
    except PromptlibError:
        return False
    return True


def _read_cache(path: Path) -> tuple[str, list[CompactCommit]] | None:
    import json  # noqa: PLC0415  (stdlib, kept off the start-up path)

    try:
        doc = json.loads(path.read_bytes())
        if doc.get("version") != _CACHE_VERSION:
            return None
        commits = [(c[0], c[1], bool(c[2]), [(ch[0], ch[1]) for ch in c[3]])
                   for c in doc["commits"]]
        return str(doc["head"]), commits
    except (OSError, ValueError, KeyError, TypeError, IndexError, AttributeError):
        return None


def _write_cache(path: Path, head: str, commits: list[CompactCommit]) -> None:
    import json  # noqa: PLC0415  (stdlib, kept off the start-up path)

    data = json.dumps({"version": _CACHE_VERSION, "head": head, "commits": commits},
                      separators=(",", ":")).encode("utf-8")
    # A cache that cannot be written only costs time on the next run.
    with contextlib.suppress(OSError):
        write_atomic(path, data)


def git_log(coll: Collection, revisions: str) -> str:
    """One `git log` over `revisions` (a sha or `old..new`, never a user string), oldest first."""
    return gitops.read(coll.path, "log", "--reverse", "--no-merges", "--no-renames",
                       _LOG_FORMAT, "--name-status", revisions, "--")


def compact(text: str) -> list[CompactCommit]:
    """`git log --format=… --name-status` output → the commits, with their recipe changes."""
    commits: list[CompactCommit] = []
    for record in text.split("\x1e")[1:]:
        header, _, body = record.partition("\n")
        fields = header.split("\x1f", 2)
        if len(fields) != 3:
            continue
        changes: list[Change] = []
        for line in body.splitlines():
            status, _, path = line.partition("\t")
            if not path:
                continue
            if path.startswith('"'):
                path = _unquote(path)
            if is_recipe_path(path):
                changes.append((status[:1], path))
        commits.append((person(fields[0]), fields[1][:10], fields[2] == store.SEED_MESSAGE,
                        changes))
    return commits


def parse_history(commits: list[CompactCommit], me: str) -> History:
    """Walk the commits once, oldest first, into dated events."""
    history = History()
    added = history.added
    for email, day, seed, changes in commits:
        contributed = False
        for kind, path in changes:
            if kind == "A":
                added[path] = (email, day)
                if seed:
                    history.seeded.add(path)
                else:
                    history.seeded.discard(path)
                contributed = True
                if email != me and not seed:
                    history.arrived.append((day, path))
            elif kind in ("M", "T"):
                contributed = True
                owner = added.get(path)
                if owner is not None and owner[0] != email:
                    history.improved.append((day, path, email))
            elif kind == "D":
                added.pop(path, None)
                history.seeded.discard(path)
        if not seed:
            history.committers.append((day, email))
            if contributed:
                history.contributions.append((day, email))
    return history


def _unquote(path: str) -> str:
    """git's C-style quoting of an unusual path (`"a\\tb.yaml"`) undone."""
    import codecs  # noqa: PLC0415  (stdlib, kept off the start-up path)

    inner = path[1:-1] if path.endswith('"') else path[1:]
    try:
        return codecs.escape_decode(inner.encode("utf-8"))[0].decode("utf-8")
    except (ValueError, UnicodeDecodeError):
        return inner
