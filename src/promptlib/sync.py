"""pull, push, share and resolve: keeping collections in step with their team remotes.

Silent core: every function returns reports or raises a PromptlibError; the CLI prints.

**Pull**, per collection, under its lock:

1. Hand edits in the working tree are committed first (one commit). Recipe files among them must
   validate (structure, name, template, no credential); otherwise the pull of that collection is
   refused, naming every bad file, and nothing is committed. Untracked files that are not recipes
   (editor leftovers, temp files) are left alone.
2. `git fetch` — for all collections at once, so N unreachable remotes cost one timeout, not N.
   An unreachable remote is a RemoteUnreachableError (exit 6) for that collection only; nothing
   local changes.
3. Integrate: nothing to do / fast-forward / otherwise a rebase of the local commits onto the
   remote (a merge instead when the local side already holds a merge, which a rebase would
   flatten, or when both sides touched a file and ended up with the same content).
4. Report what changed, by recipe name: new, updated, removed — and every file in the new tree
   that is not a valid recipe (a symlink, invalid YAML, a name that breaks the rules), which is
   warned about and never followed or read through.

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

**Push** = commit hand edits, fetch, integrate as pull does (a conflict stops it, exit 5), scan
every file version the outgoing commits add for credentials (exit 4, naming recipe and line),
then `git push` of HEAD. If the remote moved in between, it is rejected, integrated and retried.
A push killed halfway is safe to retry: the remote either has the commits (the retry finds
nothing to send) or does not (the retry sends them).
"""

from __future__ import annotations

import contextlib
import json
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from promptlib import config, gitops, metrics, store
from promptlib.errors import (
    ConflictError,
    InvalidError,
    NotFoundError,
    PromptlibError,
    RecipeError,
    RemoteUnreachableError,
    SecretFoundError,
)
from promptlib.recipe import check_name, is_valid_name
from promptlib.store import Collection, RecipeFile

KEEP = ("mine", "theirs", "both")
THEIRS_REF = "refs/promptlib/theirs"
PUSH_ATTEMPTS = 3
SYMLINK_MODE = "120000"
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


# --- reports --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Conflict:
    collection: str
    relpath: str
    decided: str | None = None  # a recorded `--keep` while others are still open

    @property
    def name(self) -> str:
        return Path(self.relpath).stem if is_recipe_path(self.relpath) else self.relpath

    @property
    def id(self) -> str:
        return f"{self.collection}/{self.name}"

    def to_dict(self) -> dict[str, Any]:
        return {"collection": self.collection, "name": self.name, "path": self.relpath,
                "decided": self.decided}


@dataclass
class SyncReport:
    """What one `pull` or `push` did to one collection."""

    collection: str
    url: str
    how: str = ""  # up-to-date | fast-forward | rebase | merge | empty-remote | conflict | …
    committed: list[str] = field(default_factory=list)  # hand edits committed first
    new: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)  # files in the tree that are not recipes
    conflicts: list[Conflict] = field(default_factory=list)
    pushed: int = 0  # commits sent
    error: PromptlibError | None = None

    @property
    def changed(self) -> bool:
        return bool(self.new or self.updated or self.removed)

    def to_dict(self) -> dict[str, Any]:
        return {
            "collection": self.collection, "url": self.url, "how": self.how,
            "committed": self.committed, "new": self.new, "updated": self.updated,
            "removed": self.removed, "problems": self.problems,
            "conflicts": [c.to_dict() for c in self.conflicts], "pushed": self.pushed,
            "error": None if self.error is None else {"message": self.error.message,
                                                      "exit_code": self.error.exit_code},
        }


def overall_error(reports: Sequence[SyncReport]) -> PromptlibError | None:
    """The one error a whole pull/push ends with: conflicts first (they need you), then invalid
    input, then other failures, then unreachable remotes (the library keeps working)."""
    conflicts = [c for r in reports for c in r.conflicts]
    if conflicts:
        names = ", ".join(c.id for c in conflicts)
        return ConflictError(f"sync conflict: {names} changed on both sides",
                             hint="run the `promptlib resolve` command shown for each; "
                                  "nothing is lost until you do")
    errors = [r.error for r in reports if r.error is not None]
    for kind in (InvalidError, PromptlibError):
        for error in errors:
            if isinstance(error, kind) and not isinstance(error, RemoteUnreachableError):
                return error
    if errors:
        if len(errors) == 1:
            return errors[0]
        return RemoteUnreachableError(f"{len(errors)} remotes could not be reached",
                                      hint=errors[0].hint)
    return None


# --- state: last sync, conflict decisions ---------------------------------------------------------


def _state_file(name: str) -> Path:
    return config.state_dir() / "sync" / f"{name}.json"


def _load_state(name: str) -> dict[str, Any]:
    try:
        data = json.loads(_state_file(name).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _save_state(name: str, state: dict[str, Any]) -> None:
    store.write_atomic(_state_file(name), json.dumps(state, indent=1).encode("utf-8"))


def record_sync(name: str) -> None:
    state = _load_state(name)
    state["last_sync"] = datetime.now(UTC).replace(microsecond=0).isoformat()
    _save_state(name, state)


def last_sync(name: str) -> str | None:
    value = _load_state(name).get("last_sync")
    return value if isinstance(value, str) else None


def forget(name: str) -> None:
    _state_file(name).unlink(missing_ok=True)


# --- which files are recipes; what is wrong with a tree -------------------------------------------


def is_recipe_path(relpath: str) -> bool:
    """The rule `store.iter_recipe_files` applies, for a path in a git tree."""
    parts = relpath.split("/")
    return (relpath.endswith(config.RECIPE_SUFFIX)
            and not any(p.startswith(".") for p in parts)
            and not (len(parts) > 1 and parts[0] in config.RESERVED_DIRS))


def tree_problems(coll: Collection, relpaths: Iterable[str] | None = None) -> list[str]:
    """Every recipe-shaped file of HEAD (or just `relpaths`) that is not a valid recipe."""
    return inspect_tree(coll, relpaths)[1]


def inspect_tree(coll: Collection, relpaths: Iterable[str] | None = None
                 ) -> tuple[int, list[str]]:
    """(valid recipes, problems) among the files of HEAD (or just `relpaths`).

    Works from git's own record of each file: a symlink is named as one and never opened (with
    core.symlinks=false it is checked out as a small plain file holding its target); the others
    are read with O_NOFOLLOW, so nothing outside the collection is ever read.
    """
    head = gitops.rev(coll.path, "HEAD")
    if head is None:
        return 0, []
    entries = gitops.tree_entries(coll.path, head)
    wanted = sorted(entries) if relpaths is None else sorted(set(relpaths) & entries.keys())
    problems: list[str] = []
    loaded: list[tuple[str, Any]] = []
    for relpath in wanted:
        mode, _ = entries[relpath]
        where = f"{coll.name}/{relpath}"
        if mode == SYMLINK_MODE:
            problems.append(f"{where}: a symlink in the repository; promptlib never follows it")
            continue
        if not is_recipe_path(relpath):
            continue
        stem = Path(relpath).stem
        if not is_valid_name(stem):
            problems.append(f"{where}: {_quoted(stem)} breaks the name rule (1-64 lowercase "
                            "letters, digits and inner hyphens); skipped")
            continue
        try:
            loaded.append((where, store.read(RecipeFile(coll.name, coll.path, relpath))))
        except RecipeError as exc:
            problems.append(str(exc))
    bad_templates = _template_problems(loaded)
    return len(loaded) - len(bad_templates), [printable(p) for p in problems + bad_templates]


def printable(text: str) -> str:
    """A message about an untrusted tree, with control characters (a file name could carry
    terminal escape sequences) shown as escapes instead of reaching the terminal."""
    return _CONTROL.sub(lambda m: m.group().encode("unicode_escape").decode("ascii"), text)


def _quoted(name: str) -> str:
    """A name from an untrusted tree, quoted with every non-ASCII or control character escaped."""
    return "'" + name.encode("unicode_escape").decode("ascii").replace("'", "\\'") + "'"


def _template_problems(loaded: Sequence[tuple[str, Any]]) -> list[str]:
    """Analyse every template in one bounded worker (a hostile one fails alone, fast)."""
    from promptlib import sandbox

    problems = []
    analyses = sandbox.check_templates([recipe.template for _, recipe in loaded])
    for (where, recipe), used in zip(loaded, analyses, strict=True):
        if isinstance(used, Exception):
            problems.append(f"{where}: template: {used}")
            continue
        try:
            recipe.check_variables_used(used)
        except RecipeError as exc:
            problems.append(str(exc.at(where)))
    return problems


# --- hand edits -----------------------------------------------------------------------------------


def commit_hand_edits(coll: Collection) -> list[str]:
    """Commit what was changed in the working tree by hand, as one commit. Returns what was
    committed (recipe names, other paths). InvalidError naming every file that does not validate.
    """
    from promptlib import redact

    paths = [relpath for code, relpath in gitops.status(coll.path)
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
        for finding in redact.find_secrets(data.decode("utf-8", errors="replace")):
            problems.append(f"{where}:{finding.line}: looks like a credential ({finding.kind})")
    problems += _template_problems(loaded)
    if problems:
        raise InvalidError(
            f"{coll.name}: hand edits that do not validate:\n  "
            + "\n  ".join(printable(p) for p in problems),
            hint="fix them (or `git -C " + str(coll.path) + " checkout -- FILE` to drop one), "
                 "then run the command again")
    names = [Path(p).stem if is_recipe_path(p) else p for p in paths]
    shown = ", ".join(names[:5]) + (", …" if len(names) > 5 else "")
    gitops.commit(coll.path, paths, f"Commit hand edits: {shown}")
    return names


# --- conflicts ------------------------------------------------------------------------------------


def find_conflicts(path: Path, head: str | None, upstream: str | None) -> tuple[list[str], bool]:
    """(files changed on both sides whose versions differ, whether both sides touched any file).
    """
    if head is None or upstream is None:
        return [], False
    base = gitops.merge_base(path, head, upstream)
    ours = {p for _, p in gitops.changes(path, base, head)}
    theirs = {p for _, p in gitops.changes(path, base, upstream)}
    both = ours & theirs
    if not both:
        return [], False
    mine, other = gitops.tree_entries(path, head), gitops.tree_entries(path, upstream)
    return sorted(p for p in both if mine.get(p) != other.get(p)), True


def _decisions(coll: Collection, head: str, upstream: str, conflicts: Sequence[str]
               ) -> dict[str, str]:
    """Recorded `--keep` decisions still valid for the current two versions of each file."""
    recorded = _load_state(coll.name).get("decisions") or {}
    mine, other = gitops.tree_entries(coll.path, head), gitops.tree_entries(coll.path, upstream)
    valid = {}
    for relpath in conflicts:
        entry = recorded.get(relpath)
        if (isinstance(entry, dict) and entry.get("keep") in KEEP
                and entry.get("ours") == _sha(mine.get(relpath))
                and entry.get("theirs") == _sha(other.get(relpath))):
            valid[relpath] = entry["keep"]
    return valid


def _sha(entry: tuple[str, str] | None) -> str | None:
    return entry[1] if entry else None


# --- pull -----------------------------------------------------------------------------------------


def targets(names: Sequence[str] = ()) -> list[Collection]:
    """The named collections (each must have a remote), or every collection that has one."""
    if names:
        from promptlib import teams

        return [teams.team_collection(n) for n in dict.fromkeys(names)]
    return [c for c in store.collections() if gitops.remote_url(c.path) is not None]


@contextlib.contextmanager
def _all_locked(colls: Sequence[Collection]) -> Iterator[None]:
    with contextlib.ExitStack() as stack:
        for coll in sorted(colls, key=lambda c: c.name):  # one order everywhere: no deadlock
            stack.enter_context(gitops.locked(coll.name))
        yield


def pull(names: Sequence[str] = ()) -> list[SyncReport]:
    """Pull every named collection (default: all with a remote). Never raises for one
    collection's trouble: each report carries its own error; see `overall_error`."""
    return _sync(targets(names), push=False)


def push(names: Sequence[str] = ()) -> list[SyncReport]:
    """Pull first, then push every named collection (default: all with a remote)."""
    return _sync(targets(names), push=True)


def _sync(colls: Sequence[Collection], *, push: bool) -> list[SyncReport]:
    reports = {c.name: SyncReport(c.name, gitops.redact_url(gitops.remote_url(c.path) or ""))
               for c in colls}
    with _all_locked(colls):
        ready = []
        for coll in colls:
            try:
                reports[coll.name].committed = commit_hand_edits(coll)
                if push:  # opt-in usage counts (metrics.py) travel with the push
                    metrics.commit_usage(coll.name)
                ready.append(coll)
            except PromptlibError as exc:
                reports[coll.name].error = exc
        fetched = gitops.fetch_many([c.path for c in ready])
        for coll in ready:
            report = reports[coll.name]
            report.error = fetched[coll.path]
            if report.error is not None:
                continue
            try:
                _integrate(coll, report)
                if push and not report.conflicts:
                    _push_locked(coll, report)
            except PromptlibError as exc:
                report.error = exc
    return [reports[c.name] for c in colls]


def _integrate(coll: Collection, report: SyncReport) -> None:
    """Bring the fetched remote into the local branch (lock held, tree clean)."""
    path = coll.path
    upstream = gitops.rev(path, gitops.upstream_ref(path))
    head = gitops.rev(path, "HEAD")
    if upstream is None:
        report.how = report.how or "empty-remote"
        record_sync(coll.name)
        return
    ahead, behind = gitops.ahead_behind(path, upstream, head)
    if behind == 0:
        report.how = report.how or "up-to-date"
        _settled(coll)
        record_sync(coll.name)
        return
    if head is None or ahead == 0:
        gitops.fast_forward(path, upstream)
        report.how = "fast-forward"
    else:
        conflicts, overlap = find_conflicts(path, head, upstream)
        stuck: list[str] | None = conflicts or None
        if not stuck:
            if overlap or gitops.has_merges(path, upstream, head):
                stuck = gitops.merge(path, upstream, _merge_message(path))
                report.how = "merge"
            else:
                stuck = gitops.rebase(path, upstream)
                report.how = "rebase"
        if stuck:
            _record_conflict(coll, report, head, upstream, stuck)
            return
    _report_changes(coll, report, head, gitops.rev(path, "HEAD"))
    _settled(coll)
    record_sync(coll.name)


def _merge_message(path: Path) -> str:
    return f"Merge {gitops.REMOTE}/{gitops.branch(path)}"


def _record_conflict(coll: Collection, report: SyncReport, head: str, upstream: str,
                     paths: Sequence[str]) -> None:
    gitops.update_ref(coll.path, THEIRS_REF, upstream)
    decided = _decisions(coll, head, upstream, paths)
    report.how = "conflict"
    report.conflicts = [Conflict(coll.name, p, decided.get(p)) for p in paths]


def _settled(coll: Collection) -> None:
    """No conflict pending any more: drop the pinned ref and old decisions."""
    gitops.delete_ref(coll.path, THEIRS_REF)
    state = _load_state(coll.name)
    if state.pop("decisions", None) is not None:
        _save_state(coll.name, state)


def _report_changes(coll: Collection, report: SyncReport, old: str | None, new: str | None
                    ) -> None:
    added: set[str] = set()
    gone: set[str] = set()
    modified: set[str] = set()
    touched = []
    for letter, relpath in gitops.changes(coll.path, old, new):
        touched.append(relpath)
        if not is_recipe_path(relpath):
            continue
        name = Path(relpath).stem
        {"A": added, "D": gone}.get(letter, modified).add(name)
    moved = added & gone  # a recipe that changed folder is updated, not new and removed
    report.new = sorted(set(report.new) | (added - gone))
    report.updated = sorted(set(report.updated) | modified | moved)
    report.removed = sorted(set(report.removed) | (gone - added))
    report.problems = sorted(set(report.problems) | set(tree_problems(coll, touched)))


# --- push -----------------------------------------------------------------------------------------


def _push_locked(coll: Collection, report: SyncReport) -> None:
    path = coll.path
    for _ in range(PUSH_ATTEMPTS):
        head = gitops.rev(path, "HEAD")
        upstream = gitops.rev(path, gitops.upstream_ref(path))
        if head is None or head == upstream:
            return
        ahead, _behind = gitops.ahead_behind(path, upstream, head)
        if ahead == 0:
            return
        refuse_outgoing_secrets(coll, upstream)
        outcome = gitops.push(path, gitops.branch(path))
        if outcome.pushed:
            report.pushed += ahead
            record_sync(coll.name)
            return
        # The remote moved since our fetch: bring it in, then try again. Never force.
        gitops.fetch(path)
        _integrate(coll, report)
        if report.conflicts:
            return
    raise PromptlibError(f"{coll.name}: the remote kept moving while pushing; nothing was lost",
                         hint=f"run `promptlib push {coll.name}` again")


def refuse_outgoing_secrets(coll: Collection, upstream: str | None) -> None:
    """SecretFoundError (exit 4) naming recipe and line if any recipe version a push would
    publish — the final one or one in between — holds a credential."""
    from promptlib import redact

    outgoing = [(c, p, sha) for c, p, sha in gitops.outgoing_blobs(coll.path, upstream)
                if is_recipe_path(p)]
    blobs = gitops.read_blobs(coll.path, [sha for _, _, sha in outgoing])
    current = gitops.tree_entries(coll.path, "HEAD")
    found = []
    for commit, relpath, sha in outgoing:
        text = blobs.get(sha, b"").decode("utf-8", errors="replace")
        for finding in redact.find_secrets(text):
            where = f"{coll.name}/{Path(relpath).stem} ({relpath}:{finding.line})"
            if _sha(current.get(relpath)) != sha:
                where += f" in commit {commit[:10]}"
            found.append(f"{where}: looks like a credential ({finding.kind})")
    if found:
        raise SecretFoundError(
            "refusing to push: " + "; ".join(dict.fromkeys(found)),
            hint="remove it with `promptlib edit NAME` (a credential in an older unpushed commit "
                 "needs that commit rewritten, e.g. `git rebase -i`), then push again")


# --- share ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ShareResult:
    source: str  # id of the original
    target: RecipeFile
    report: SyncReport | None  # the push, when the target has a remote


def share(ref: str, to: str, as_name: str | None = None) -> ShareResult:
    """Copy a recipe into another collection with `shared_from` set, commit, and push it."""
    from promptlib import catalog

    rf = store.find(ref)
    check_name(to, "collection name")
    target = store.collection(to)
    if target.name == rf.collection:
        raise InvalidError(f"{rf.id} is already in {target.name}")
    data = store.read_bytes_nofollow(rf.path)
    recipe = catalog.validate(data, path=store.display_path(rf), expected_name=rf.name)
    new_name = check_name(as_name) if as_name else recipe.name
    shared = replace(recipe, name=new_name, shared_from=f"{rf.collection}/{recipe.name}")
    text = shared.dump().encode("utf-8")
    with gitops.locked(target.name):
        clash = [f for f in store.iter_recipe_files(target) if f.name == new_name]
        if clash:
            raise InvalidError(
                f"{target.name} already has a recipe named {new_name!r} ({clash[0].relpath})",
                hint=f"share it under another name: `promptlib share {ref} --to {to} "
                     "--as NEWNAME`")
        dest = store.new_recipe_path(target, shared)
        store.write_atomic(dest.path, text)
        gitops.commit(target.path, [dest.relpath],
                      f"Share {new_name} from {rf.collection}/{recipe.name}")
        report = None
        if gitops.remote_url(target.path) is not None:
            report = _sync([target], push=True)[0]
    return ShareResult(rf.id, dest, report)


# --- resolve --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ResolveResult:
    conflict: Conflict
    keep: str
    settled: bool  # all conflicts of the collection decided and merged
    remaining: list[Conflict]
    added: str | None  # `both`: where theirs was kept
    report: SyncReport | None  # the push after the merge


def pending_conflicts(names: Sequence[str] = ()) -> list[Conflict]:
    """Conflicts between each collection and its last-fetched remote (no network)."""
    found = []
    for coll in targets(names):
        head = gitops.rev(coll.path, "HEAD")
        upstream = gitops.rev(coll.path, gitops.upstream_ref(coll.path))
        paths, _ = find_conflicts(coll.path, head, upstream)
        if paths and head and upstream:
            decided = _decisions(coll, head, upstream, paths)
            found += [Conflict(coll.name, p, decided.get(p)) for p in paths]
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
    with gitops.locked(coll.name):
        head = gitops.rev(path, "HEAD")
        upstream = gitops.rev(path, gitops.upstream_ref(path))
        paths, _ = find_conflicts(path, head, upstream)
        if head is None or upstream is None or first.relpath not in paths:
            raise NotFoundError(f"no sync conflict on {ref!r} any more")
        mine, theirs = gitops.tree_entries(path, head), gitops.tree_entries(path, upstream)
        state = _load_state(coll.name)
        decisions = {p: e for p, e in (state.get("decisions") or {}).items() if p in paths}
        decisions[first.relpath] = {"keep": keep, "ours": _sha(mine.get(first.relpath)),
                                    "theirs": _sha(theirs.get(first.relpath))}
        state["decisions"] = decisions
        _save_state(coll.name, state)
        valid = _decisions(coll, head, upstream, paths)
        open_ = [Conflict(coll.name, p) for p in paths if p not in valid]
        conflict = Conflict(coll.name, first.relpath, keep)
        if open_:
            return ResolveResult(conflict, keep, False, open_, None, None)
        contents, added = _resolution(coll, head, upstream, valid, mine, theirs)
        summary = ", ".join(f"{Conflict(coll.name, p).name} (kept {k})"
                            for p, k in sorted(valid.items()))
        gitops.merge_resolved(path, upstream, f"{_merge_message(path)}: resolve {summary}",
                              contents)
        _settled(coll)
        report = _sync([coll], push=True)[0]
    return ResolveResult(conflict, keep, True, [], added, report)


def _resolution(coll: Collection, head: str, upstream: str, decisions: dict[str, str],
                mine: dict[str, tuple[str, str]], theirs: dict[str, tuple[str, str]]
                ) -> tuple[dict[str, bytes | None], str | None]:
    """The exact content of every conflicting file after the merge (None: deleted)."""
    path = coll.path
    taken = set(mine) | set(theirs)
    contents: dict[str, bytes | None] = {}
    added = None
    for relpath, keep in decisions.items():
        ours_data = gitops.blob_at(path, head, relpath)
        theirs_data = gitops.blob_at(path, upstream, relpath)
        if keep == "theirs":
            contents[relpath] = theirs_data
            continue
        contents[relpath] = ours_data
        if keep == "both" and theirs_data is not None:
            copy, data = _theirs_copy(relpath, theirs_data, taken)
            taken.add(copy)
            contents[copy] = data
            added = f"{coll.name}/{Conflict(coll.name, copy).name}"
    return contents, added


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
