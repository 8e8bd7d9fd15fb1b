"""The sync engine: pull, push and share, keeping collections in step with their team remotes.

The sync modules: this one runs pull/push/share; `sync.tree` validates what a tree holds and
commits hand edits; `sync.resolve` finds conflicts and settles them (`resolve`); `sync.state`
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
   sides changed stops it before it starts: see `sync.resolve`.
4. Report what changed, by recipe name: new, updated, removed; the other files that arrived
   (wins, usage counts, anything else) by path; how many commits came in (so a pull that moved
   HEAD is never "up to date"); and every changed file that is not a valid recipe (a symlink,
   invalid YAML, a name that breaks the rules) as a problem — warned about, never counted as a
   recipe, never followed or read through.

**Push** = commit hand edits, fetch, integrate as pull does (a conflict stops it, exit 5), scan
every text file version the outgoing commits add — recipes and every other file — for
credentials (exit 4, naming the file, line and commit),
then `git push` of HEAD. If the remote moved in between, it is rejected, integrated and retried.
A push killed halfway is safe to retry: the remote either has the commits (the retry finds
nothing to send) or does not (the retry sends them).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from promptlib.catalog import lookup
from promptlib.errors import InvalidError, PromptlibError, SecretFoundError
from promptlib.gitops import history as gitops_history
from promptlib.gitops import remote as gitops_remote
from promptlib.gitops import run as gitops
from promptlib.gitops.lock import locked
from promptlib.metrics import wins as metrics
from promptlib.recipe.model import check_name, is_valid_name
from promptlib.store import collections as store
from promptlib.store.collections import Collection, RecipeFile, is_recipe_path
from promptlib.sync import review as review_mod
from promptlib.sync.conflicts import find_conflicts, record_conflict, settled
from promptlib.sync.state import SyncReport, record_sync
from promptlib.sync.tree import check_tree, commit_hand_edits, printable
from promptlib.utils.files import write_atomic

PUSH_ATTEMPTS = 3
# What push scans of each outgoing file for credentials: the first SCAN_BYTES of it, unless a NUL
# byte among the first BINARY_PROBE says it is binary (git's own test).
SCAN_BYTES = 1 << 20
BINARY_PROBE = 8000


def targets(names: Sequence[str] = ()) -> list[Collection]:
    """The named collections (each must have a remote), or every collection that has one."""
    if names:
        from promptlib.sync import teams  # noqa: PLC0415  (start-up: only this path loads it)

        return [teams.team_collection(n) for n in dict.fromkeys(names)]
    return [c for c in store.collections() if gitops_remote.remote_url(c.path) is not None]


@contextlib.contextmanager
def _all_locked(colls: Sequence[Collection]) -> Iterator[None]:
    with contextlib.ExitStack() as stack:
        for coll in sorted(colls, key=lambda c: c.name):  # one order everywhere: no deadlock
            stack.enter_context(locked(coll.name))
        yield


# --- pull -----------------------------------------------------------------------------------------


def pull(names: Sequence[str] = ()) -> list[SyncReport]:
    """Pull every named collection (default: all with a remote). Never raises for one
    collection's trouble: each report carries its own error; see `sync.state.overall_error`."""
    return sync_collections(targets(names), push=False)


def push(names: Sequence[str] = (), *, review: bool | None = None) -> list[SyncReport]:
    """Pull first, then push every named collection (default: all with a remote). `review`:
    to a review branch instead of main (None: as each collection's `review` setting says)."""
    return sync_collections(targets(names), push=True, review=review)


def sync_collections(colls: Sequence[Collection], *, push: bool, review: bool | None = None
                     ) -> list[SyncReport]:
    """Pull (and with `push`, then push) exactly these collections, all locked at once."""
    reports = {c.name: SyncReport(c.name, gitops_remote.redact_url(
                   gitops_remote.remote_url(c.path) or "")) for c in colls}
    with _all_locked(colls):
        ready = []
        for coll in colls:
            try:
                reports[coll.name].committed = commit_hand_edits(coll)
                if push:  # opt-in usage counts (metrics/wins.py) travel with the push
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
                _settle_reviews(coll, report)
                _integrate(coll, report)
                if push and not report.conflicts:
                    if review_mod.review_wanted(coll.name, review):
                        _push_review(coll, report)
                    else:
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
    if behind == 0:  # HEAD stays where it is
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
    _report_changes(coll, report, head, gitops_history.rev(path, "HEAD"), behind)
    settled(coll)
    record_sync(coll.name)


def merge_message(path: Path) -> str:
    return f"Merge {gitops_remote.REMOTE}/{gitops_history.branch(path)}"


def _report_changes(coll: Collection, report: SyncReport, old: str | None, new: str | None,
                    commits: int) -> None:
    """Add what moving HEAD from `old` to `new` (`commits` commits arrived) brought in: recipes
    by name, other files by path, and every file that is not a usable recipe as a problem —
    never as a new or updated recipe."""
    if new is None or old == new:
        return
    report.incoming += commits
    changed = gitops_history.changes(coll.path, old, new)
    valid, problems = check_tree(coll, [p for letter, p in changed if letter != "D"])
    usable, bad = set(valid), {relpath for relpath, _ in problems}
    added: set[str] = set()
    gone: set[str] = set()
    modified: set[str] = set()
    files: set[str] = set()
    for letter, relpath in changed:
        if relpath in bad:
            continue
        name = Path(relpath).stem
        if letter == "D" and is_recipe_path(relpath) and is_valid_name(name):
            gone.add(name)
        elif relpath in usable:
            (added if letter == "A" else modified).add(name)
        else:
            files.add(relpath)
    moved = added & gone  # a recipe that changed folder is updated, not new and removed
    report.new = sorted(set(report.new) | (added - gone))
    report.updated = sorted(set(report.updated) | modified | moved)
    report.removed = sorted(set(report.removed) | (gone - added))
    report.files = sorted(set(report.files) | files)
    report.problems = sorted(set(report.problems) | {message for _, message in problems})


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
        try:
            outcome = gitops_remote.push(path, gitops_history.branch(path))
        except gitops_remote.PushRefusedError as exc:
            raise gitops_remote.PushRefusedError(
                exc.headline, exc.remote_lines,
                hint=f"nothing was lost: your commits are still here. If main is protected, "
                     f"propose them for review: `promptlib push --review {coll.name}`") from None
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


def _settle_reviews(coll: Collection, report: SyncReport) -> None:
    """Review branches the server merged: back onto main first (see `sync.review`), and
    report what that brought in, as a pull would."""
    if not review_mod.has_reviews(coll):
        return  # one `git for-each-ref`: the price of a pull without review branches
    old = gitops_history.rev(coll.path, "HEAD")
    _, upstream = gitops_remote.heads(coll.path)
    behind = gitops_history.ahead_behind(coll.path, upstream, old)[1]
    report.landed = review_mod.settle_landed(coll)
    new = gitops_history.rev(coll.path, "HEAD")
    if report.landed:
        report.how = "review-merged"
        if new != old:
            _report_changes(coll, report, old, new, behind)


def _push_review(coll: Collection, report: SyncReport) -> None:
    """`push --review`: the unpushed commits to a new review branch; main stays as it is."""
    _, upstream = gitops_remote.heads(coll.path)
    refuse_outgoing_secrets(coll, upstream)
    report.review = review_mod.publish(coll, upstream)
    if report.review is None:
        report.in_review = review_mod.holding_head(coll)
    record_sync(coll.name)


def refuse_outgoing_secrets(coll: Collection, upstream: str | None) -> None:
    """SecretFoundError (exit 4) naming file, line and commit if any file version a push would
    publish — the final one or one in between, a recipe or any other text file (wins, usage
    counts, a README) — holds a credential. A binary file (a NUL byte in its first
    `BINARY_PROBE` bytes, as git decides) is skipped; a big one is scanned in its first
    `SCAN_BYTES`."""
    from promptlib.redact import detector as redact  # noqa: PLC0415  (start-up: only this path loads it)
    from promptlib.store import allow_lists  # noqa: PLC0415  (start-up: only this path loads it)

    allow = allow_lists.for_collection(coll.path)
    outgoing = gitops_history.outgoing_blobs(coll.path, upstream)
    heads = gitops_history.read_blob_heads(coll.path, [sha for _, _, sha in outgoing],
                                           SCAN_BYTES)
    found = []
    for commit, relpath, sha in outgoing:
        data = heads.get(sha, (b"", 0))[0]
        if b"\0" in data[:BINARY_PROBE]:
            continue
        text = data.decode("utf-8", errors="replace")
        for finding in redact.find_secrets(text, allow=allow):
            if is_recipe_path(relpath):
                where = f"{coll.name}/{Path(relpath).stem} ({relpath}:{finding.line})"
            else:
                where = f"{coll.name}/{relpath}:{finding.line}"
            found.append(f"{printable(where)} in commit {commit[:10]}: looks like a credential "
                         f"({finding.kind})")
    if found:
        raise SecretFoundError(
            "refusing to push: " + "; ".join(dict.fromkeys(found)),
            hint="remove it (`promptlib edit NAME` for a recipe; edit and commit any other "
                 "file) — a credential in an older unpushed commit needs that commit rewritten, "
                 "e.g. `git rebase -i` — then push again")


# --- share ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ShareResult:
    source: str  # id of the original
    target: RecipeFile
    report: SyncReport | None  # the push, when the target has a remote


def share(ref: str, to: str, as_name: str | None = None, *, review: bool | None = None
          ) -> ShareResult:
    """Copy a recipe into another collection with `shared_from` set, commit, and push it."""
    from promptlib.catalog import recipes as catalog  # noqa: PLC0415  (start-up: only this path loads it)

    rf = lookup.find(ref)
    check_name(to, "collection name")
    target = store.collection(to)
    if target.name == rf.collection:
        raise InvalidError(f"{rf.id} is already in {target.name}")
    data = store.read_bytes_nofollow(rf.path)
    recipe = catalog.validate(data, path=store.display_path(rf), expected_name=rf.name,
                              collection=target.path)
    new_name = check_name(as_name) if as_name else recipe.name
    shared = replace(recipe, name=new_name, shared_from=f"{rf.collection}/{recipe.name}")
    text = shared.dump().encode("utf-8")
    with locked(target.name):
        clash = [f for f in store.iter_recipe_files(target) if f.name == new_name]
        if clash:
            raise InvalidError(
                f"{target.name} already has a recipe named {new_name!r} ({clash[0].relpath})",
                hint=f"share it under another name: `promptlib share {ref} --to {to} "
                     "--as NEWNAME`")
        dest = store.new_recipe_path(target, shared)
        write_atomic(dest.path, text)
        gitops.commit(target.path, [dest.relpath],
                      f"Share {new_name} from {rf.collection}/{recipe.name}")
        report = None
        if gitops_remote.remote_url(target.path) is not None:
            report = sync_collections([target], push=True, review=review)[0]
    return ShareResult(rf.id, dest, report)
