"""The git layer's history side: reading a repository's history and trees (branch, rev,
ahead/behind, diffs, blobs, what a push would publish) and changing it (fast-forward, rebase,
merge, a merge with decided contents), plus `recover` for what a killed process left behind.

One of the gitops modules (see `gitops`), the only modules that run git. This one never imports
GitPython itself: every command goes through `gitops.run`, `run_bytes` or `try_run`, and no module
outside the gitops modules may import `git`.
"""

from __future__ import annotations

import contextlib
import os
import re
import tempfile
import time
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path

from promptlib.errors import PromptlibError
from promptlib.gitops.run import identity_env, literal, run, run_bytes, spawn, try_run
from promptlib.utils.files import write_atomic

_SHA = re.compile(r"[0-9a-f]{40}(?:[0-9a-f]{24})?")
# Git's own lock files in .git that a killed process can leave behind.
_GIT_LOCKS = ("index.lock", "HEAD.lock", "ORIG_HEAD.lock", "FETCH_HEAD.lock", "config.lock",
              "packed-refs.lock", "shallow.lock")
STALE_LOCK_WAIT = 2.0
# Present in .git while promptlib runs a rebase or merge: one left behind with a rebase or merge
# still open means a promptlib process was killed there, and `recover` may abort it. Without it,
# the rebase or merge is a person's own, and is never touched.
OPERATION_MARKER = "promptlib-operation"


# --- reading history ------------------------------------------------------------------------------


def branch(path: Path) -> str:
    """The checked-out branch (also when it has no commit yet)."""
    name = try_run(path, "symbolic-ref", "--quiet", "--short", "HEAD")
    if not name:
        raise PromptlibError(f"{path} is not on a branch (detached HEAD)",
                             hint=f"check one out first: `git -C {path} switch main`")
    return name


def rev(path: Path, ref: str) -> str | None:
    """The commit `ref` names, or None when it does not exist (an unborn HEAD, an empty remote)."""
    out = try_run(path, "rev-parse", "--verify", "--quiet", "--end-of-options",
                  f"{ref}^{{commit}}")
    return out or None


def ahead_behind(path: Path, base: str | None, head: str | None) -> tuple[int, int]:
    """Commits in `head` not in `base`, and in `base` not in `head`."""
    if head is None and base is None:
        return 0, 0
    if base is None:
        return int(run(path, "rev-list", "--count", head or "HEAD", "--")), 0
    if head is None:
        return 0, int(run(path, "rev-list", "--count", base, "--"))
    out = run(path, "rev-list", "--left-right", "--count", f"{head}...{base}", "--")
    ahead, behind = out.split()
    return int(ahead), int(behind)


def merge_base(path: Path, a: str, b: str) -> str | None:
    return try_run(path, "merge-base", a, b) or None


def has_merges(path: Path, base: str, head: str) -> bool:
    return bool(run(path, "rev-list", "--merges", "--max-count=1", head, "--not", base, "--"))


def changes(path: Path, old: str | None, new: str | None) -> list[tuple[str, str]]:
    """(status letter A/M/D/T, path) for every file that differs between two commits."""
    if new is None or old == new:
        return []
    empty = run(path, "hash-object", "-t", "tree", "/dev/null")
    out = run(path, "diff", "--no-renames", "--no-ext-diff", "--name-status", "-z",
              old or empty, new, "--")
    tokens = out.split("\0")
    return [(tokens[i][:1], tokens[i + 1]) for i in range(0, len(tokens) - 1, 2) if tokens[i]]


def status(path: Path) -> list[tuple[str, str]]:
    """(XY code, path) for every change in the working tree, untracked files one by one."""
    out = run(path, "--no-optional-locks", "status", "--porcelain=v1", "-z", "--no-renames",
              "--untracked-files=all", strip_newline_in_stdout=False)
    return [(entry[:2], entry[3:]) for entry in out.split("\0") if entry]


def _ls_tree(path: Path, *args: str) -> list[tuple[str, str, str, str]]:
    """(mode, kind, sha, relpath) for every record `git ls-tree -z …` prints."""
    out = run(path, "ls-tree", *args, strip_newline_in_stdout=False)
    records = []
    for record in out.split("\0"):
        if not record:
            continue
        meta, _, relpath = record.partition("\t")
        mode, kind, sha = meta.split()
        records.append((mode, kind, sha, relpath))
    return records


def tree_entries(path: Path, ref: str) -> dict[str, tuple[str, str]]:
    """Every file of a commit: relpath → (mode, blob sha). Mode 120000 is a symlink."""
    return {relpath: (mode, sha)
            for mode, kind, sha, relpath in _ls_tree(path, "-r", "-z", "--full-tree", ref)
            if kind == "blob"}


def tree_entries_for(path: Path, ref: str, relpath: str) -> tuple[str, str] | None:
    records = _ls_tree(path, "-z", "--full-tree", ref, "--", relpath)
    if not records:
        return None
    mode, kind, sha, name = records[0]
    return (mode, sha) if kind == "blob" and name == relpath else None


def blob_at(path: Path, ref: str, relpath: str) -> bytes | None:
    """A file's bytes as of `ref`, or None when the file does not exist there."""
    entry = tree_entries_for(path, ref, relpath)
    if entry is None:
        return None
    return run_bytes(path, "cat-file", "blob", entry[1])


def read_blob_heads(path: Path, shas: Sequence[str], limit: int) -> dict[str, tuple[bytes, int]]:
    """For each blob: (its first `limit` bytes, its full size), streamed through one
    `git cat-file --batch`, so memory stays bounded by `limit` per blob however big the files
    are. A missing object is left out."""
    wanted = list(dict.fromkeys(shas))
    if not wanted:
        return {}
    heads: dict[str, tuple[bytes, int]] = {}
    with tempfile.TemporaryFile() as request:
        request.write("".join(f"{sha}\n" for sha in wanted).encode("ascii"))
        request.seek(0)
        handle = spawn(path, ["cat-file", "--batch"], istream=request)
        proc = handle.proc
        try:
            stream = proc.stdout
            for sha in wanted:
                header = stream.readline().split()
                if len(header) < 3 or header[1] == b"missing":
                    continue
                size = int(header[2])
                head = stream.read(min(size, limit))
                left = size - len(head) + 1  # the rest, and the newline after it
                while left > 0:
                    skipped = stream.read(min(left, 1 << 16))
                    if not skipped:
                        break
                    left -= len(skipped)
                heads[sha] = (head, size)
            stderr = proc.stderr.read()
            if proc.wait() != 0:
                raise PromptlibError(f"git cat-file failed in {path}: "
                                     f"{stderr.decode('utf-8', 'replace').strip()}")
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
            for pipe in (proc.stdout, proc.stderr):
                pipe.close()
    return heads


def outgoing_blobs(path: Path, base: str | None) -> list[tuple[str, str, str]]:
    """(commit, relpath, blob sha) for every file version the commits in HEAD-not-in-`base` add.

    Intermediate versions count: a credential committed and then removed is still in the history
    a push would publish. Blobs the remote already holds at `base` are left out.
    """
    revs = run(path, "rev-list", "HEAD", *(["--not", base] if base else []), "--")
    if not revs:
        return []
    with tempfile.TemporaryFile() as request:
        request.write((revs + "\n").encode("ascii"))
        request.seek(0)
        out = run(path, "diff-tree", "--stdin", "-r", "-z", "-m", "--root", "--no-renames",
                  "--diff-filter=AMT", istream=request, strip_newline_in_stdout=False)
    known = {sha for _, sha in tree_entries(path, base).values()} if base else set()
    found: list[tuple[str, str, str]] = []
    seen: set[tuple[str, str]] = set()
    tokens = out.split("\0")
    commit, i = "", 0
    while i < len(tokens):
        token = tokens[i]
        if _SHA.fullmatch(token.split(" ")[0]) and not token.startswith(":"):
            commit = token.split(" ")[0]
        elif token.startswith(":") and i + 1 < len(tokens):
            fields = token[1:].split()
            new_mode, new_sha = fields[1], fields[3]
            relpath = tokens[i + 1]
            i += 1
            if new_mode != "120000" and new_sha not in known and (relpath, new_sha) not in seen:
                seen.add((relpath, new_sha))
                found.append((commit, relpath, new_sha))
        i += 1
    return found


# --- changing history: fast-forward, rebase, merge ------------------------------------------------


def fast_forward(path: Path, target: str) -> None:
    run(path, "merge", "--ff-only", "--quiet", target, env=identity_env(path))


def rebase(path: Path, onto: str) -> list[str] | None:
    """Replay local commits onto `onto`. On a conflict: abort (tree clean, commits as they were)
    and return the conflicting paths; None when it went through. Any other failure raises."""
    return _or_abort(path, "rebase", "--quiet", "--no-autostash", "--no-verify", onto)


def rebase_onto(path: Path, onto: str, upstream: str) -> list[str] | None:
    """Replay the commits after `upstream` onto `onto`, dropping `upstream` and what came before
    it (a review main now holds); aborted and the paths returned on a conflict, as `rebase`."""
    return _or_abort(path, "rebase", "--quiet", "--no-autostash", "--no-verify", "--onto", onto,
                     upstream)


def merge(path: Path, target: str, message: str) -> list[str] | None:
    """Merge `target` into HEAD with a merge commit. On a conflict: abort and return the paths;
    None when it went through. Any other failure raises."""
    return _or_abort(path, "merge", "--no-ff", "--no-edit", "--quiet",
                     "--allow-unrelated-histories", "-m", message, target)


def _or_abort(path: Path, *args: str) -> list[str] | None:
    """Run a rebase or merge as the committer. If it stops, abort it (commits and tree as they
    were) and return the conflicting paths; re-raise a failure that left no conflict."""
    try:
        with _operation(path):
            run(path, *args, env=identity_env(path))
    except PromptlibError:
        conflicted = _unmerged(path)
        _abort(path)
        if conflicted:
            return conflicted
        raise
    return None


def merge_resolved(path: Path, target: str, message: str, contents: Mapping[str, bytes | None]
                   ) -> str:
    """A merge commit of HEAD and `target` whose files in `contents` are exactly as given
    (None: deleted), every other file as git's merge made it. Aborted on any failure."""
    env = identity_env(path)
    with _operation(path):
        return _merge_resolved(path, target, message, contents, env)


def _merge_resolved(path: Path, target: str, message: str,
                    contents: Mapping[str, bytes | None], env: dict[str, str]) -> str:

    with contextlib.suppress(PromptlibError):
        run(path, "merge", "--no-ff", "--no-commit", "--no-edit", "--quiet",
            "--allow-unrelated-histories", target, env=env)
    try:
        if not (path / ".git" / "MERGE_HEAD").exists():
            raise PromptlibError(f"could not start the merge in {path}")
        for relpath, data in contents.items():
            target_path = path / relpath
            if data is None:
                run(path, "rm", "--quiet", "--force", "--ignore-unmatch", "--", literal(relpath))
                continue
            write_atomic(target_path, data)
            run(path, "add", "--", literal(relpath))
        left = _unmerged(path)
        if left:
            raise PromptlibError(f"the merge in {path} still has conflicts in {', '.join(left)}")
        run(path, "commit", "--quiet", "--no-verify", "-m", message, env=env)
    except BaseException:
        _abort(path)
        raise
    return run(path, "rev-parse", "HEAD")


def _unmerged(path: Path) -> list[str]:
    out = try_run(path, "diff", "--name-only", "-z", "--diff-filter=U") or ""
    return sorted(p for p in out.split("\0") if p)


# --- interrupted operations -----------------------------------------------------------------------


@contextlib.contextmanager
def _operation(path: Path) -> Iterator[None]:
    marker = path / ".git" / OPERATION_MARKER
    marker.write_text(f"{os.getpid()}\n")
    try:
        yield
    finally:
        marker.unlink(missing_ok=True)


def _in_progress(path: Path) -> bool:
    gitdir = path / ".git"
    return ((gitdir / "rebase-merge").is_dir() or (gitdir / "rebase-apply").is_dir()
            or (gitdir / "MERGE_HEAD").exists())


def _abort(path: Path) -> None:
    """Abort a rebase or merge in progress, restoring the commits and tree from before it."""
    gitdir = path / ".git"
    if (gitdir / "rebase-merge").is_dir() or (gitdir / "rebase-apply").is_dir():
        try_run(path, "rebase", "--abort")
    if (gitdir / "MERGE_HEAD").exists():
        try_run(path, "merge", "--abort")


def recover(path: Path) -> list[str]:
    """Undo what a promptlib process killed halfway left in `path`; returns what was done.

    Called with the collection's flock held (`gitops.locked`), so no promptlib process is running
    git there: a git lock file that outlives a short grace period (a person's own git command would
    finish) was left by a killed process; a rebase or merge that a killed promptlib left open is
    aborted, which restores the commits and the tree as they were before it started. A rebase or
    merge a person started by hand is theirs: PromptlibError, untouched. Last, a file that is
    staged as new but no longer in the working tree (an `add` killed between staging and
    committing, then the file deleted) is unstaged (see `_unstage_vanished`).
    """
    gitdir = path / ".git"
    stale = [gitdir / name for name in _GIT_LOCKS if (gitdir / name).exists()]
    refs_dir = gitdir / "refs"
    if refs_dir.is_dir():
        stale += [p for p in refs_dir.rglob("*.lock") if p.is_file()]
    done: list[str] = []
    if stale:
        deadline = time.monotonic() + STALE_LOCK_WAIT
        while time.monotonic() < deadline and any(p.exists() for p in stale):
            time.sleep(0.1)
        for lock in stale:
            if lock.exists():
                lock.unlink(missing_ok=True)
                done.append(f"removed stale {lock.relative_to(path)}")
    marker = gitdir / OPERATION_MARKER
    if _in_progress(path):
        if not marker.exists():
            raise PromptlibError(
                f"a git rebase or merge that promptlib did not start is in progress in {path}",
                hint=f"finish it, or undo it with `git -C {path} rebase --abort` (or `merge "
                     "--abort`), then try again")
        _abort(path)
        done.append("aborted an interrupted rebase or merge")
    marker.unlink(missing_ok=True)
    done += [f"unstaged {relpath} (staged, never committed, no longer on disk)"
             for relpath in _unstage_vanished(path)]
    return done


def _unstage_vanished(path: Path) -> list[str]:
    """Drop index entries for files that are new in the index (absent from HEAD) and absent from
    the working tree; returns their paths.

    Such an entry is what a killed `add` leaves once the file is deleted, and it breaks every
    later commit of that path (`git commit -- PATH` finds nothing to commit). Dropping it loses
    nothing: HEAD never held the file, the working tree no longer does, so the state left is
    exactly what you see; the staged blob itself stays in the object store. Only exact "added,
    then deleted" entries are touched — a staged change to a committed file, a staged file still
    on disk, a conflict: all left as they are. Cheap when there is nothing to do: the index is
    compared with HEAD through git's cache-tree, no file is read.
    """
    if not (path / ".git" / "index").exists():
        return []
    out = try_run(path, "diff", "--cached", "--no-renames", "--name-only", "-z",
                  "--diff-filter=A", "HEAD", "--")
    if not out:
        return []
    vanished = [p for p in out.split("\0") if p and not os.path.lexists(path / p)]
    for relpath in vanished:
        run(path, "update-index", "--force-remove", "--", relpath)
    return vanished
