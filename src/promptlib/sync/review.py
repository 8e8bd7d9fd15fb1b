"""Review branches: `push --review` / `share --review` publish to `promptlib/<user>/<topic>`
instead of main, and `pull` brings you back onto main once the server merged the branch.

**Publishing.** The commits main does not have yet go to a new branch on the team remote,
`promptlib/<you>/<what changed>`, never to main; a local branch of the same name remembers it.
For a forge the remote URL names (or config.yaml's `forge:`) the pull/merge request link comes
back with it, and GitLab gets push options that open the merge request with the push. Your main
keeps the commits, so the recipes stay usable while the review is open.

**Landing.** A pull first looks at each open review branch: it has landed when main holds it —
merged (the branch is an ancestor of main), squashed (one commit on main carries the branch's
whole change as one patch), or rebased (each of its commits has an equal patch on main), or
simply when main's version of every file it changed equals the branch's. Then your local commits
that belong to the review (the same commits, or equal patches after a rebase) are dropped in
favour of main's, any newer local commits are replayed on top, and the review branch is deleted
here and, when the server allows it, on the remote. No conflict, no duplicate, nothing to push.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from promptlib import settings
from promptlib.errors import PromptlibError
from promptlib.gitops import history as gitops_history
from promptlib.gitops import remote as gitops_remote
from promptlib.gitops import run as gitops
from promptlib.gitops import versions as git_versions
from promptlib.store.collections import Collection, is_recipe_path
from promptlib.sync import forges

PREFIX = "promptlib/"
LOCAL_REFS = f"refs/heads/{PREFIX}"
REMOTE_REFS = f"refs/remotes/{gitops_remote.REMOTE}/{PREFIX}"
SETTING = "review"
FORGE_SETTING = "forge"
MAX_TOPIC = 40


@dataclass(frozen=True)
class Review:
    """A review branch as published: where, how many commits, and the request link."""

    branch: str
    commits: int
    link: str | None
    options: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {"branch": self.branch, "commits": self.commits, "link": self.link,
                "push_options": list(self.options)}


@dataclass(frozen=True)
class Landed:
    branch: str
    deleted_on_remote: bool

    def to_dict(self) -> dict[str, Any]:
        return {"branch": self.branch, "deleted_on_remote": self.deleted_on_remote}


# --- settings ------------------------------------------------------------------------------------


def review_default(collection: str) -> bool:
    """Whether plain `push` goes to a review branch for this collection (config.yaml)."""
    return bool(settings.load().collections.get(collection, {}).get(SETTING, False))


def review_wanted(collection: str, asked: bool | None) -> bool:
    """`--review` / `--no-review` when given, else the collection's setting."""
    return review_default(collection) if asked is None else asked


def set_review_default(collection: str, on: bool) -> None:
    current = settings.load()
    entry = dict(current.collections.get(collection, {}))
    entry[SETTING] = on
    current.collections[collection] = entry
    settings.save(current)


def forge(coll: Collection, url: str) -> str | None:
    configured = settings.load().collections.get(coll.name, {}).get(FORGE_SETTING)
    return forges.forge_of(url, configured if isinstance(configured, str) else None)


# --- open review branches ------------------------------------------------------------------------


def open_branches(coll: Collection) -> list[str]:
    """Review branches still open: yours (local) and anybody's on the remote (as last fetched)."""
    out = gitops.run(coll.path, "for-each-ref", "--format=%(refname)", "--", LOCAL_REFS,
                     REMOTE_REFS)
    names = set()
    for ref in out.splitlines():
        for prefix in (LOCAL_REFS, REMOTE_REFS):
            if ref.startswith(prefix):
                names.add(PREFIX + ref[len(prefix):])
    return sorted(names)


def has_reviews(coll: Collection) -> bool:
    """Whether you have an open review branch in this collection."""
    return bool(_local_branches(coll))


def _local_branches(coll: Collection) -> dict[str, str]:
    out = gitops.run(coll.path, "for-each-ref", "--format=%(refname)%00%(objectname)", "--",
                     LOCAL_REFS)
    found = {}
    for line in out.splitlines():
        ref, _, sha = line.partition("\0")
        found[ref.removeprefix("refs/heads/")] = sha
    return found


# --- publishing ----------------------------------------------------------------------------------


def outgoing(coll: Collection, upstream: str | None) -> list[str]:
    """Local commits neither main nor an open review branch of yours already holds."""
    exclude = [*([upstream] if upstream else []), *_local_branches(coll).values()]
    args = ["rev-list", "--reverse", "HEAD"]
    if exclude:
        args += ["--not", *exclude]
    return gitops.run(coll.path, *args, "--").split()


def holding_head(coll: Collection) -> list[str]:
    """Your open review branches that already hold HEAD."""
    head = gitops_history.rev(coll.path, "HEAD")
    return [name for name, tip in _local_branches(coll).items()
            if head and git_versions.is_ancestor(coll.path, head, tip)]


def branch_name(coll: Collection, commits: list[str]) -> str:
    """`promptlib/<you>/<topic>`, the topic taken from what the commits change; a suffix when
    that branch exists already."""
    _, email = gitops.identity(coll.path)
    user = _slug(email.partition("@")[0]) or "me"
    topic = _topic(coll, commits)
    taken = set(open_branches(coll))
    name, n = f"{PREFIX}{user}/{topic}", 2
    while name in taken:
        name, n = f"{PREFIX}{user}/{topic}-{n}", n + 1
    return name


def _topic(coll: Collection, commits: list[str]) -> str:
    if len(commits) == 1:
        subject = gitops.run(coll.path, "log", "-1", "--format=%s", commits[0], "--")
        return _clip(_slug(subject)) or "change"
    names: list[str] = []
    for commit in commits:
        out = gitops.run(coll.path, "diff-tree", "--no-commit-id", "--name-only", "-r", "-z",
                         "--root", commit, "--", strip_newline_in_stdout=False)
        for relpath in out.split("\0"):
            stem = relpath.rsplit("/", 1)[-1].removesuffix(".yaml")
            if relpath and is_recipe_path(relpath) and stem not in names:
                names.append(stem)
    if not names:
        return f"{len(commits)}-changes"
    if len(names) == 1:
        return _clip(names[0])
    return _clip(f"{names[0]}-and-{len(names) - 1}-more")


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def _clip(slug: str) -> str:
    if len(slug) <= MAX_TOPIC:
        return slug
    cut = slug[:MAX_TOPIC]
    return (cut.rsplit("-", 1)[0] if "-" in cut else cut).strip("-")


def publish(coll: Collection, upstream: str | None) -> Review | None:
    """Push the outgoing commits to a new review branch. None when there is nothing new."""
    commits = outgoing(coll, upstream)
    if not commits:
        return None
    url = gitops_remote.remote_url(coll.path) or gitops_remote.REMOTE
    kind = forge(coll, url)
    target = gitops_history.branch(coll.path)
    name = branch_name(coll, commits)
    title = gitops.run(coll.path, "log", "-1", "--format=%s", commits[0], "--")
    options = forges.push_options(kind, target, title)
    outcome = gitops_remote.push_ref(coll.path, "HEAD", f"refs/heads/{name}", options=options)
    if not outcome.pushed:  # someone pushed a branch of that name since our fetch
        raise PromptlibError(f"{coll.name}: the remote already has a branch {name}; nothing "
                             "was pushed", hint="run the same command again: it picks a free "
                                                "name")
    gitops.update_ref(coll.path, f"refs/heads/{name}", gitops_history.rev(coll.path, "HEAD")
                      or "HEAD")
    return Review(name, len(commits), forges.review_link(url, name, target, kind),
                  tuple(options))


# --- landing -------------------------------------------------------------------------------------


def settle_landed(coll: Collection) -> list[Landed]:
    """Bring HEAD back onto main for every review branch main now holds (lock held, tree clean,
    remote fetched). Returns the branches settled."""
    head, upstream = gitops_remote.heads(coll.path)
    if head is None or upstream is None:
        return []
    settled = []
    for branch, tip in sorted(_local_branches(coll).items()):
        if not landed(coll, tip, upstream):
            continue
        _drop_review_commits(coll, tip, upstream)
        gitops.delete_ref(coll.path, f"refs/heads/{branch}")
        settled.append(Landed(branch, _delete_remote(coll, branch)))
    return settled


def landed(coll: Collection, tip: str, upstream: str) -> bool:
    """Whether main holds the review at `tip`: merged, squashed, rebased, or equal content."""
    path = coll.path
    if git_versions.is_ancestor(path, tip, upstream):
        return True
    base = gitops_history.merge_base(path, tip, upstream)
    if base is None:
        return False
    changed = [relpath for _, relpath in gitops_history.changes(path, base, tip)]
    if not changed:
        return False
    if all(gitops_history.tree_entries_for(path, upstream, p)
           == gitops_history.tree_entries_for(path, tip, p) for p in changed):
        return True
    theirs = set(git_versions.patch_ids(path, base, upstream).values())
    ours = git_versions.patch_ids(path, base, tip)
    if ours and set(ours.values()) <= theirs:
        return True  # rebase-merge: every commit arrived as an equal patch
    whole = git_versions.combined_patch_id(path, base, tip)
    return whole is not None and whole in theirs  # squash: one commit with the whole change


def _drop_review_commits(coll: Collection, tip: str, upstream: str) -> None:
    """Replace the local commits that belong to the review by main's; replay newer ones. If
    a newer one conflicts with main, nothing moves: the pull that follows finds the conflict
    and reports it like any other (exit 5, settled with `resolve`)."""
    path = coll.path
    local = git_versions.commits_between(path, upstream, "HEAD")
    if not local:
        return
    base = gitops_history.merge_base(path, tip, upstream) or upstream
    review = set(git_versions.patch_ids(path, base, tip).values())
    mine = git_versions.patch_ids(path, upstream, "HEAD")
    cut = 0
    while cut < len(local) and (git_versions.is_ancestor(path, local[cut], tip)
                                or mine.get(local[cut]) in review):
        cut += 1
    if cut:
        gitops_history.rebase_onto(path, upstream, local[cut - 1])


def _delete_remote(coll: Collection, branch: str) -> bool:
    """Delete the merged branch on the remote when it is still there and the server allows it."""
    if gitops_history.rev(coll.path, f"{REMOTE_REFS}{branch.removeprefix(PREFIX)}") is None:
        return False
    try:
        return gitops_remote.push_ref(coll.path, None, f"refs/heads/{branch}").pushed
    except PromptlibError:
        return False
