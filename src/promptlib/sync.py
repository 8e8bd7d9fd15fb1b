"""The sync engine: pull, push and share, keeping collections in step with their team remotes.

The sync modules: this one runs pull/push/share; `sync_tree` validates what a tree holds and
commits hand edits; `sync_resolve` finds conflicts and settles them (`resolve`); `sync_report`
holds the reports, the overall error and the per-collection state. Silent core: every function
returns reports or raises a PromptlibError; the CLI prints.

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
   flatten, or when both sides touched a file and ended up with the same content). A file both
   sides changed stops it before it starts: see `sync_resolve`.
4. Report what changed, by recipe name: new, updated, removed — and every file in the new tree
   that is not a valid recipe (a symlink, invalid YAML, a name that breaks the rules), which is
   warned about and never followed or read through.

**Push** = commit hand edits, fetch, integrate as pull does (a conflict stops it, exit 5), scan
every file version the outgoing commits add for credentials (exit 4, naming recipe and line),
then `git push` of HEAD. If the remote moved in between, it is rejected, integrated and retried.
A push killed halfway is safe to retry: the remote either has the commits (the retry finds
nothing to send) or does not (the retry sends them).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from promptlib import gitops, gitops_history, gitops_remote, metrics, store
from promptlib.errors import InvalidError, PromptlibError, SecretFoundError
from promptlib.recipe import check_name
from promptlib.store import Collection, RecipeFile
from promptlib.sync_report import SyncReport, record_sync
from promptlib.sync_resolve import entry_sha, find_conflicts, record_conflict, settled
from promptlib.sync_tree import commit_hand_edits, is_recipe_path, tree_problems

PUSH_ATTEMPTS = 3


def targets(names: Sequence[str] = ()) -> list[Collection]:
    """The named collections (each must have a remote), or every collection that has one."""
    if names:
        from promptlib import teams

        return [teams.team_collection(n) for n in dict.fromkeys(names)]
    return [c for c in store.collections() if gitops_remote.remote_url(c.path) is not None]


@contextlib.contextmanager
def _all_locked(colls: Sequence[Collection]) -> Iterator[None]:
    with contextlib.ExitStack() as stack:
        for coll in sorted(colls, key=lambda c: c.name):  # one order everywhere: no deadlock
            stack.enter_context(gitops.locked(coll.name))
        yield


# --- pull -----------------------------------------------------------------------------------------


def pull(names: Sequence[str] = ()) -> list[SyncReport]:
    """Pull every named collection (default: all with a remote). Never raises for one
    collection's trouble: each report carries its own error; see `sync_report.overall_error`."""
    return sync_collections(targets(names), push=False)


def push(names: Sequence[str] = ()) -> list[SyncReport]:
    """Pull first, then push every named collection (default: all with a remote)."""
    return sync_collections(targets(names), push=True)


def sync_collections(colls: Sequence[Collection], *, push: bool) -> list[SyncReport]:
    """Pull (and with `push`, then push) exactly these collections, all locked at once."""
    reports = {c.name: SyncReport(c.name, gitops_remote.redact_url(
                   gitops_remote.remote_url(c.path) or "")) for c in colls}
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
        fetched = gitops_remote.fetch_many([c.path for c in ready])
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
    head, upstream = gitops_remote.heads(path)
    if upstream is None:
        report.how = report.how or "empty-remote"
        record_sync(coll.name)
        return
    ahead, behind = gitops_history.ahead_behind(path, upstream, head)
    if behind == 0:
        report.how = report.how or "up-to-date"
        settled(coll)
        record_sync(coll.name)
        return
    if head is None or ahead == 0:
        gitops_history.fast_forward(path, upstream)
        report.how = "fast-forward"
    else:
        conflicts, overlap = find_conflicts(path, head, upstream)
        stuck: list[str] | None = conflicts or None
        if not stuck:
            if overlap or gitops_history.has_merges(path, upstream, head):
                stuck = gitops_history.merge(path, upstream, merge_message(path))
                report.how = "merge"
            else:
                stuck = gitops_history.rebase(path, upstream)
                report.how = "rebase"
        if stuck:
            record_conflict(coll, report, head, upstream, stuck)
            return
    _report_changes(coll, report, head, gitops_history.rev(path, "HEAD"))
    settled(coll)
    record_sync(coll.name)


def merge_message(path: Path) -> str:
    return f"Merge {gitops_remote.REMOTE}/{gitops_history.branch(path)}"


def _report_changes(coll: Collection, report: SyncReport, old: str | None, new: str | None
                    ) -> None:
    added: set[str] = set()
    gone: set[str] = set()
    modified: set[str] = set()
    touched = []
    for letter, relpath in gitops_history.changes(coll.path, old, new):
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
        head, upstream = gitops_remote.heads(path)
        if head is None or head == upstream:
            return
        ahead, _behind = gitops_history.ahead_behind(path, upstream, head)
        if ahead == 0:
            return
        refuse_outgoing_secrets(coll, upstream)
        outcome = gitops_remote.push(path, gitops_history.branch(path))
        if outcome.pushed:
            report.pushed += ahead
            record_sync(coll.name)
            return
        # The remote moved since our fetch: bring it in, then try again. Never force.
        gitops_remote.fetch(path)
        _integrate(coll, report)
        if report.conflicts:
            return
    raise PromptlibError(f"{coll.name}: the remote kept moving while pushing; nothing was lost",
                         hint=f"run `promptlib push {coll.name}` again")


def refuse_outgoing_secrets(coll: Collection, upstream: str | None) -> None:
    """SecretFoundError (exit 4) naming recipe and line if any recipe version a push would
    publish — the final one or one in between — holds a credential."""
    from promptlib import redact

    outgoing = [(c, p, sha) for c, p, sha in gitops_history.outgoing_blobs(coll.path, upstream)
                if is_recipe_path(p)]
    blobs = gitops_history.read_blobs(coll.path, [sha for _, _, sha in outgoing])
    current = gitops_history.tree_entries(coll.path, "HEAD")
    found = []
    for commit, relpath, sha in outgoing:
        text = blobs.get(sha, b"").decode("utf-8", errors="replace")
        for finding in redact.find_secrets(text):
            where = f"{coll.name}/{Path(relpath).stem} ({relpath}:{finding.line})"
            if entry_sha(current.get(relpath)) != sha:
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
        if gitops_remote.remote_url(target.path) is not None:
            report = sync_collections([target], push=True)[0]
    return ShareResult(rf.id, dest, report)
