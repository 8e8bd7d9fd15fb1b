"""Team collections: the URL allowlist, `team add/list/remove` and `init --from`.

A team collection is a git clone of the team's shared repository under `collections/NAME`, with
that repository as its `origin`. Every URL passes `check_url` before it reaches git: only https,
ssh (`ssh://` and `user@host:path`), `git://`, `file://` and local paths, never a remote helper
(`ext::`, `fd::`), never anything git could read as an option, never an embedded password.
"""

from __future__ import annotations

import re
import shutil
import tempfile
import urllib.parse
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from promptlib import paths as config
from promptlib.errors import InvalidError, NotFoundError
from promptlib.recipe.model import check_name, is_valid_name
from promptlib.store import collections as store
from promptlib.store.collections import Collection

SCHEMES = ("https", "ssh", "git", "file")
ALLOWED = "https://…, ssh://…, user@host:path, git://…, file://… or a local path"
_HELPER = re.compile(r"[A-Za-z0-9][A-Za-z0-9+.-]*::")
_SCHEME = re.compile(r"([A-Za-z][A-Za-z0-9+.-]*)://")
# scp-like ssh: [user@]host:path, recognised as git does (a colon before any slash).
_SCP = re.compile(r"(?:(?P<user>[^@/:\[\]]+)@)?(?P<host>\[[^\]/@]+\]|[^@/:\[\]]+):(?P<path>.*)",
                  re.DOTALL)
_HOST = re.compile(r"\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9_](?:[A-Za-z0-9_.-]*[A-Za-z0-9_])?")
_USER = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.+-]*")
MAX_URL = 2048


def _refuse(url: str, why: str, hint: str | None = None) -> InvalidError:
    shown = url if len(url) <= 120 else url[:117] + "…"
    shown = shown.encode("unicode_escape").decode("ascii")
    return InvalidError(f"refusing remote URL {shown!r}: {why}",
                        hint=hint or f"use one of: {ALLOWED}")


def check_url(url: str) -> str:
    """The URL to hand git — a local path made absolute — or InvalidError (exit 4) saying why.

    Nothing here runs anything: this is a pure check on the string.
    """
    if not url or not url.strip():
        raise _refuse(url, "it is empty")
    if len(url) > MAX_URL:
        raise _refuse(url, f"it is longer than {MAX_URL} characters")
    if any(ord(ch) < 0x20 or ord(ch) == 0x7F for ch in url):
        raise _refuse(url, "it contains control characters")
    if url.startswith("-"):
        raise _refuse(url, "it starts with '-', so git would read it as an option")
    if _HELPER.match(url):
        raise _refuse(url, "remote helpers (`transport::address`, such as ext:: and fd::) "
                           "can run programs")
    scheme = _SCHEME.match(url)
    if scheme:
        return _check_scheme_url(url, scheme.group(1).lower())
    first_colon, first_slash = url.find(":"), url.find("/")
    if first_colon > 0 and (first_slash < 0 or first_colon < first_slash):
        return _check_scp(url)
    return _check_local(url)


def _check_scheme_url(url: str, scheme: str) -> str:
    if scheme not in SCHEMES:
        hint = "use https:// instead" if scheme == "http" else None
        raise _refuse(url, f"the {scheme}:// protocol is not allowed", hint)
    if any(ch.isspace() or ord(ch) < 0x20 or ord(ch) == 0x7F
           for ch in urllib.parse.unquote(url)):
        raise _refuse(url, "it contains whitespace or control characters")
    netloc = re.split(r"[/?#]", url.split("://", 1)[1], maxsplit=1)[0]
    userinfo, _, hostport = netloc.rpartition("@")
    if ":" in userinfo:
        raise _refuse(url, "it carries a password",
                      "leave the password out and use a credential helper or an ssh key")
    try:
        parts = urllib.parse.urlsplit(url)
    except ValueError:
        raise _refuse(url, "it is not a well-formed URL") from None
    if scheme == "file":
        return _check_file_url(url, userinfo, hostport, parts.path)
    if userinfo and not _USER.fullmatch(urllib.parse.unquote(userinfo)):
        raise _refuse(url, "the user name is not a plain name")
    if hostport.startswith("["):
        host = hostport[:hostport.find("]") + 1]
    else:
        host = hostport.split(":", 1)[0]
    if not host or not _HOST.fullmatch(host):
        raise _refuse(url, "the host name is missing or malformed")
    try:
        parts.port  # noqa: B018 - raises ValueError for a malformed port
    except ValueError:
        raise _refuse(url, "the port is malformed") from None
    if parts.path in ("", "/"):
        raise _refuse(url, "it names no repository path")
    return url


def _check_file_url(url: str, userinfo: str, hostport: str, path: str) -> str:
    if hostport not in ("", "localhost") or userinfo:
        raise _refuse(url, "a file:// URL names a path on this machine, not a host")
    if not path.startswith("/"):
        raise _refuse(url, "a file:// URL needs an absolute path")
    return url


def _check_scp(url: str) -> str:
    before_path = url.split("/", 1)[0]
    at, colon = before_path.find("@"), before_path.find(":")
    if at > colon >= 0 or re.match(r"[^@/]*:[^@/]*@", url):
        raise _refuse(url, "it carries a password",
                      "leave the password out and use a credential helper or an ssh key")
    match = _SCP.fullmatch(url)
    if not match:
        raise _refuse(url, "it is not a valid user@host:path address")
    user, host, path = match.group("user"), match.group("host"), match.group("path")
    if user is not None and not _USER.fullmatch(user):
        raise _refuse(url, "the user name is not a plain name")
    if not _HOST.fullmatch(host):
        raise _refuse(url, "the host name is malformed")
    if not path or any(ch.isspace() for ch in url):
        raise _refuse(url, "it names no repository path" if not path
                      else "it contains whitespace")
    return url


def _check_local(url: str) -> str:
    try:
        path = Path(url).expanduser()
    except RuntimeError:
        raise _refuse(url, "its ~user names no known home folder") from None
    return str(path if path.is_absolute() else path.absolute())


def derive_name(url: str) -> str:
    """A collection name from a URL: `git@host:ops/sre-prompts.git` → `sre-prompts`."""
    tail = re.split(r"[/:]", url.rstrip("/"))[-1].removesuffix(".git").lower()
    name = re.sub(r"[^a-z0-9]+", "-", tail).strip("-")[:64].strip("-")
    if not is_valid_name(name) or name == config.LOCAL_COLLECTION:
        return "team"
    return name


# --- team add / list / remove / init --from -------------------------------------------------------


@dataclass(frozen=True)
class Added:
    collection: Collection
    url: str
    recipes: int
    problems: list[str]


@dataclass(frozen=True)
class TeamInfo:
    name: str
    url: str
    recipes: int
    ahead: int
    behind: int
    last_sync: str | None
    reviews: list[str] = field(default_factory=list)  # open review branches (sync.review)
    review: bool = False  # `push` goes to a review branch by default

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "url": self.url, "recipes": self.recipes,
                "ahead": self.ahead, "behind": self.behind, "last_sync": self.last_sync,
                "reviews": self.reviews, "review": self.review}


@dataclass(frozen=True)
class Removed:
    name: str
    discarded_commits: int
    discarded_changes: int


def _check_team_name(name: str) -> str:
    check_name(name, "team name")
    if name == config.LOCAL_COLLECTION:
        raise InvalidError("'local' is your own collection; choose another team name")
    return name


def add(name: str, url: str, *, review: bool = False) -> Added:
    """Clone a team repository into `collections/NAME`. Refused before git runs if the name or
    the URL breaks the rules; nothing is left behind when the clone fails. `review`: its main
    is protected, so `push` goes to a review branch by default (config.yaml)."""
    from promptlib.gitops import remote as gitops_remote  # noqa: PLC0415  (start-up: only this path loads it)
    from promptlib.gitops.lock import locked  # noqa: PLC0415  (start-up: only this path loads it)
    from promptlib.sync import state as sync_report  # noqa: PLC0415  (start-up: only this path loads it)
    from promptlib.sync import tree as sync_tree  # noqa: PLC0415  (start-up: only this path loads it)

    _check_team_name(name)
    checked = check_url(url)
    store.ensure_home()
    dest = config.collection_dir(name)
    with locked(name):
        if dest.exists():
            raise InvalidError(f"a collection named {name!r} already exists ({dest})",
                               hint="choose another name, or `promptlib team remove` it first")
        staging = Path(tempfile.mkdtemp(prefix=f".clone-{name}-", dir=dest.parent))
        try:
            gitops_remote.clone(checked, staging / "repo")
            (staging / "repo").rename(dest)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
        coll = Collection(name, dest)
        sync_report.record_sync(name)
        recipes, problems = sync_tree.inspect_tree(coll)
    if review:
        from promptlib.sync import review as sync_review  # noqa: PLC0415  (start-up: only this path loads it)

        sync_review.set_review_default(name, True)
    return Added(coll, checked, recipes, problems)


def init_from(url: str, *, empty: bool = False, name: str | None = None) -> Added:
    """`init --from URL`: the home (if new), the team's clone, and that clone as the default
    collection for `add`. Safe to run again after a failed clone."""
    from promptlib import settings  # noqa: PLC0415  (start-up: only this path loads it)
    from promptlib.gitops import remote as gitops_remote  # noqa: PLC0415  (start-up: only this path loads it)

    checked = check_url(url)
    team = _check_team_name(name or derive_name(checked))
    if not (config.collection_dir(config.LOCAL_COLLECTION) / ".git").is_dir():
        store.init_home(empty=empty)
    dest = config.collection_dir(team)
    if (dest / ".git").is_dir():
        if gitops_remote.remote_url(dest) != checked:
            raise InvalidError(f"a collection named {team!r} already exists with another remote",
                               hint="pick a name for this one with --name")
        from promptlib.sync import tree as sync_tree  # noqa: PLC0415  (start-up: only this path loads it)

        coll = Collection(team, dest)
        added = Added(coll, checked, *sync_tree.inspect_tree(coll))
    else:
        added = add(team, checked)
    current = settings.load()
    current.default_collection = team
    settings.save(current)
    return added


def team_collection(name: str) -> Collection:
    """A collection that has a remote; NotFoundError (exit 3) for an unknown team."""
    from promptlib.gitops import remote as gitops_remote  # noqa: PLC0415  (start-up: only this path loads it)

    check_name(name, "team name")
    coll = store.collection(name)
    if gitops_remote.remote_url(coll.path) is None:
        raise NotFoundError(f"{name!r} is a collection without a remote, not a team",
                            hint="add a team with `promptlib team add NAME URL`")
    return coll


def list_teams() -> list[TeamInfo]:
    """Every collection with a remote. Offline: ahead/behind are as of the last fetch."""
    from promptlib.gitops import history as gitops_history  # noqa: PLC0415  (start-up: only this path loads it)
    from promptlib.gitops import remote as gitops_remote  # noqa: PLC0415  (start-up: only this path loads it)
    from promptlib.sync import review as sync_review  # noqa: PLC0415  (start-up: only this path loads it)
    from promptlib.sync import state as sync_report  # noqa: PLC0415  (start-up: only this path loads it)

    infos = []
    for coll in store.collections():
        url = gitops_remote.remote_url(coll.path)
        if url is None:
            continue
        head, upstream = gitops_remote.heads(coll.path)
        ahead, behind = gitops_history.ahead_behind(coll.path, upstream, head)
        infos.append(TeamInfo(coll.name, gitops_remote.redact_url(url),
                              sum(1 for _ in store.iter_recipe_files(coll)), ahead, behind,
                              sync_report.last_sync(coll.name), sync_review.open_branches(coll),
                              sync_review.review_default(coll.name)))
    return infos


def remove(name: str, *, force: bool = False) -> Removed:
    """Delete a team's clone. Refused while it holds work the remote does not have (unpushed
    commits or uncommitted edits), unless `force`."""
    from promptlib import settings  # noqa: PLC0415  (start-up: only this path loads it)
    from promptlib.gitops import history as gitops_history  # noqa: PLC0415  (start-up: only this path loads it)
    from promptlib.gitops import remote as gitops_remote  # noqa: PLC0415  (start-up: only this path loads it)
    from promptlib.gitops.lock import locked  # noqa: PLC0415  (start-up: only this path loads it)
    from promptlib.sync import state as sync_report  # noqa: PLC0415  (start-up: only this path loads it)

    _check_team_name(name)
    coll = team_collection(name)
    with locked(name):
        head, upstream = gitops_remote.heads(coll.path)
        ahead, _ = gitops_history.ahead_behind(coll.path, upstream, head)
        dirty = len(gitops_history.status(coll.path))
        if (ahead or dirty) and not force:
            work = []
            if ahead:
                work.append(f"{ahead} unpushed commit{'s' if ahead != 1 else ''}")
            if dirty:
                work.append(f"{dirty} uncommitted change{'s' if dirty != 1 else ''}")
            raise InvalidError(f"{name} holds {' and '.join(work)}; removing it would lose them",
                               hint=f"`promptlib push {name}` first, or `promptlib team remove "
                                    f"{name} --force` to discard them")
        trash = Path(tempfile.mkdtemp(prefix=f".trash-{name}-", dir=coll.path.parent))
        coll.path.rename(trash / "repo")
        shutil.rmtree(trash, ignore_errors=True)
        sync_report.forget(name)
    current = settings.load()
    if current.default_collection == name:
        current.default_collection = config.LOCAL_COLLECTION
        settings.save(current)
    return Removed(name, ahead, dirty)
