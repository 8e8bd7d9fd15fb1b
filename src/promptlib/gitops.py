"""The only module that imports GitPython: init, commit, log, and the per-collection write lock.

Every git process runs hardened (DESIGN §7): hooks, fsmonitor and submodule recursion off, no
terminal prompts, symlinks checked out as plain files. User strings reach git only as values
after `--` or inside `-m`, never where git would read an option.

GitPython's own index/commit objects are ~10x slower than the git CLI on large repositories, so
this module drives the CLI through `git.Git` and keeps GitPython's error type in one place.
"""

from __future__ import annotations

import contextlib
import fcntl
import getpass
import os
import socket
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from promptlib import config
from promptlib.errors import PromptlibError

if TYPE_CHECKING:
    import git

# `-c` options every git process gets. Hooks could run code from a pulled repository; fsmonitor
# can name a program; submodules fetch from URLs we never checked.
HARDENING = (
    "core.hooksPath=/dev/null",
    "core.fsmonitor=false",
    "submodule.recurse=false",
    "core.symlinks=false",
    "transfer.fsckObjects=true",
    "protocol.allow=never",
    "protocol.https.allow=always",
    "protocol.http.allow=always",
    "protocol.ssh.allow=always",
    "protocol.git.allow=always",
    "protocol.file.allow=always",
    "commit.gpgSign=false",
    "core.quotePath=false",
)
GIT_ENV = {
    "GIT_TERMINAL_PROMPT": "0",
    "GIT_ASKPASS": "",
    "SSH_ASKPASS": "",
    "GCM_INTERACTIVE": "never",
    # BatchMode: never ask for a passphrase or host key; ConnectTimeout bounds a dead host.
    "GIT_SSH_COMMAND": "ssh -o BatchMode=yes -o ConnectTimeout=10",
}

_LOG_FORMAT = "%H%x1f%an%x1f%ae%x1f%aI%x1f%s%x1e"


@dataclass(frozen=True)
class Commit:
    sha: str
    author: str
    email: str
    date: str
    message: str

    def to_dict(self) -> dict[str, str]:
        return {"sha": self.sha, "author": self.author, "email": self.email, "date": self.date,
                "message": self.message}


def _git(path: Path) -> git.Git:
    import git

    g = git.Git(str(path))
    g.update_environment(**GIT_ENV)
    return g


def _hardened(args: Sequence[str]) -> list[str]:
    command = ["git"]
    for option in HARDENING:
        command += ["-c", option]
    return [*command, *args]


def run(path: Path, *args: str, **kwargs: Any) -> str:
    """Run one git command in `path`. The one place GitCommandError becomes a PromptlibError."""
    import git

    try:
        out: str = _git(path).execute(_hardened(args), **kwargs)
    except git.GitCommandError as exc:
        detail = (exc.stderr or exc.stdout or "").strip().strip("'").strip()
        last = detail.splitlines()[-1] if detail else f"exit status {exc.status}"
        raise PromptlibError(f"git {args[0]} failed in {path}: {last.removeprefix('stderr: ')}"
                             ) from None
    except git.GitCommandNotFound:
        raise PromptlibError("git is not installed or not on PATH",
                             hint="install git and try again") from None
    return out


def init(path: Path) -> None:
    path.mkdir(parents=True, exist_ok=True)
    run(path, "init", "--quiet", "--initial-branch=main")


def is_repo(path: Path) -> bool:
    return (path / ".git").exists()


def identity(path: Path) -> tuple[str, str]:
    """The committer's name and email: git config first, then the login and host name."""
    try:
        name = run(path, "config", "--get", "user.name")
    except PromptlibError:
        name = ""
    try:
        email = run(path, "config", "--get", "user.email")
    except PromptlibError:
        email = ""
    name = os.environ.get("GIT_AUTHOR_NAME") or name or getpass.getuser()
    email = (os.environ.get("GIT_AUTHOR_EMAIL") or email
             or f"{getpass.getuser()}@{socket.gethostname()}")
    return name, email


def commit(path: Path, paths: Sequence[str], message: str) -> str:
    """Stage exactly `paths` (additions, changes and deletions) and commit them. Returns the sha."""
    name, email = identity(path)
    run(path, "add", "--all", "--", *paths)
    env = {
        "GIT_AUTHOR_NAME": name, "GIT_AUTHOR_EMAIL": email,
        "GIT_COMMITTER_NAME": os.environ.get("GIT_COMMITTER_NAME") or name,
        "GIT_COMMITTER_EMAIL": os.environ.get("GIT_COMMITTER_EMAIL") or email,
    }
    run(path, "commit", "--quiet", "--no-verify", "-m", message, "--", *paths, env=env)
    return run(path, "rev-parse", "HEAD")


def log(path: Path, relpath: str) -> list[Commit]:
    """The commits that touched one file, newest first, following renames."""
    out = run(path, "log", "--follow", f"--format={_LOG_FORMAT}", "--", relpath)
    commits = []
    for record in out.split("\x1e"):
        fields = record.strip("\n").split("\x1f")
        if len(fields) == 5:
            commits.append(Commit(*fields))
    return commits


@contextlib.contextmanager
def locked(collection: str) -> Iterator[None]:
    """Serialize writers to one collection across processes.

    flock, not a lock file with a pid in it: the kernel drops the lock when its holder dies, so a
    killed promptlib never leaves a lock for someone to clean up.
    """
    lock_path = config.lock_file(collection)
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    with lock_path.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
