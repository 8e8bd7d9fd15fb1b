"""The git layer's core, and the only module that imports GitPython: the hardened `run`, the one
place GitPython's errors become PromptlibErrors, commit, log, identity and refs.

The git package is four modules, and only they ever run git (docs/architecture.md):

- `gitops.run` (this one): hardening, `run`/`run_bytes`/`try_run`/`spawn` (and `read`, which
  runs a read-only command without GitPython), init, commit, log, identity and refs.
- `gitops.lock`: the per-collection write lock, which runs `history.recover` once held.
- `gitops.remote`: clone, fetch, push under the silence watchdog; remote URLs; telling an
  unreachable remote from other failures.
- `gitops.history`: reading history and trees (rev, ahead/behind, diffs, blobs) and changing it
  (fast-forward, rebase, merge, `recover` after a killed process).

`gitops.remote` and `gitops.history` reach git only through the functions here; no module
outside the gitops package may import `git` (an import-linter contract). GitPython is
imported inside functions only: `search` and `render` never pay for it, nor `report`, which
reads through `read`.

Every git process runs hardened (DESIGN §7): hooks, fsmonitor and submodule recursion off, no
terminal prompts, symlinks checked out as plain files, every received object fsck'ed, and only
the allowlisted protocols. User strings reach git only as values after `--` or inside `-m`, never
where git would read an option (URLs are also checked by `teams.check_url` before they get here).

GitPython's own index/commit objects are ~10x slower than the git CLI on large repositories, so
this layer drives the CLI through `git.Git` and keeps GitPython's error type in one place
(`_execute`).
"""

from __future__ import annotations

import contextlib
import getpass
import re
import socket
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO

from promptlib import paths
from promptlib.errors import PromptlibError

if TYPE_CHECKING:
    import git

# Seconds of silence from a remote after which a network command is killed (DESIGN §4: "connect
# and transfer give up after at most 10 s of silence"). See `gitops.remote`.
SILENCE_TIMEOUT = 10.0

# `-c` options every git process gets. Hooks could run code from a pulled repository; fsmonitor
# can name a program; submodules fetch from URLs we never checked; rerere/autostash would change
# what a merge does behind our back.
HARDENING = (
    "core.hooksPath=/dev/null",
    "core.fsmonitor=false",
    "submodule.recurse=false",
    "fetch.recurseSubmodules=false",
    "push.recurseSubmodules=no",
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
    "safe.bareRepository=explicit",
    "rerere.enabled=false",
    "merge.autoStash=false",
    "rebase.autoStash=false",
    "rebase.autoSquash=false",
    "rebase.updateRefs=false",
    "http.lowSpeedLimit=1",
    f"http.lowSpeedTime={int(SILENCE_TIMEOUT)}",
)
GIT_ENV = {
    "GIT_TERMINAL_PROMPT": "0",
    "GIT_ASKPASS": "",
    "SSH_ASKPASS": "",
    "GCM_INTERACTIVE": "never",
    # Overrides every protocol.*.allow setting, whatever a config file says.
    "GIT_ALLOW_PROTOCOL": "file:git:http:https:ssh",
    "GIT_MERGE_AUTOEDIT": "no",
    "GIT_EDITOR": "true",
    # BatchMode: never ask for a passphrase or host key; ConnectTimeout bounds a dead host and
    # ServerAlive* a silent one.
    "GIT_SSH_COMMAND": (f"ssh -o BatchMode=yes -o ConnectTimeout={int(SILENCE_TIMEOUT)} "
                        "-o ServerAliveInterval=5 -o ServerAliveCountMax=2"),
}

_LOG_FORMAT = "%H%x1f%an%x1f%ae%x1f%aI%x1f%s%x1e"
_ENCODING = sys.getfilesystemencoding()  # GitPython's, for git's output


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


GIT_MISSING = "git is not installed or not on PATH"
GIT_MISSING_HINT = "install git (e.g. `apt-get install git`) and try again"


# --- running git ----------------------------------------------------------------------------------


def _gitpython() -> Any:
    """GitPython, imported on first use. It refuses to import at all when no git executable is on
    PATH: that becomes one line with a hint instead of a traceback."""
    try:
        import git  # noqa: PLC0415  (GitPython: ~75 ms, only git work pays)
    except ImportError:
        raise PromptlibError(GIT_MISSING, hint=GIT_MISSING_HINT) from None
    return git


def _git(path: Path) -> git.Git:
    gitpython = _gitpython()

    g: git.Git = gitpython.Git(str(path))
    g.update_environment(**GIT_ENV)
    return g


def _hardened(args: Sequence[str]) -> list[str]:
    command = ["git"]
    for option in HARDENING:
        command += ["-c", option]
    return [*command, *args]


def last_line(stderr: str, status: object) -> str:
    """The line of git's stderr that says what went wrong (its exit status when it said nothing)."""
    lines = [ln.strip() for ln in re.split(r"[\r\n]+", stderr) if ln.strip()]
    meaningful = [ln for ln in lines if not ln.lower().startswith(("hint:", "remote: counting",
                                                                  "remote: compressing"))]
    last = (meaningful or lines or [""])[-1]
    return last.removeprefix("fatal: ").removeprefix("error: ") or f"exit status {status}"


def failure(path: Path, args: Sequence[str], status: object, stderr: str) -> PromptlibError:
    """The PromptlibError for a failed local git command (`gitops.remote.remote_failure` tells
    network and authentication failures apart for commands that talk to a remote)."""
    return PromptlibError(f"git {_verb(args)} failed in {path}: {last_line(stderr, status)}")


def _verb(args: Sequence[str]) -> str:
    """The git subcommand among `args` (which may start with `-c key=value` pairs)."""
    skip = False
    for arg in args:
        if skip:
            skip = False
        elif arg == "-c":
            skip = True
        elif not arg.startswith("-"):
            return arg
    return args[0] if args else ""


def _decode(value: object) -> str:
    """GitCommandError's stderr, without the `stderr: '…'` wrapping GitPython puts around it."""
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    text = str(value or "").strip()
    return text.removeprefix("stderr: '").removesuffix("'")


def _execute(path: Path, args: Sequence[str], **kwargs: Any) -> Any:
    """Run one hardened git command and wait for it. The one place GitCommandError is caught:
    it becomes the PromptlibError that says what happened."""
    gitpython = _gitpython()

    try:
        return _git(path).execute(_hardened(args), **kwargs)
    except gitpython.GitCommandError as exc:
        raise failure(path, args, exc.status, _decode(exc.stderr or exc.stdout)) from None


def run(path: Path, *args: str, **kwargs: Any) -> str:
    """Run one local git command in `path`; its stdout. PromptlibError when it fails."""
    gitpython = _gitpython()

    try:
        out: str = _execute(path, args, **kwargs)
    except gitpython.GitCommandNotFound:
        raise PromptlibError(GIT_MISSING, hint=GIT_MISSING_HINT) from None
    return out


def read(path: Path, *args: str, with_exceptions: bool = True) -> str:
    """`run` for a read-only command, without GitPython: its import (~100 ms) would be most of
    the wait of a command that only reads (`report`). What git sees and what comes back are
    `run`'s: the hardened command, GitPython's environment (`LANGUAGE`/`LC_ALL=C`, `GIT_ENV`)
    and working folder, stdout decoded the same way with one trailing newline dropped, and the
    same PromptlibError (with `with_exceptions=False`, stdout whatever the exit status)."""
    import os  # noqa: PLC0415  (stdlib, kept off the start-up path)
    import subprocess  # noqa: PLC0415  (stdlib, kept off the start-up path)

    env = paths.child_env({"LANGUAGE": "C", "LC_ALL": "C", **GIT_ENV})
    # GitPython's `expand_path` (not `Path.resolve`, which follows symlinks), and its fallback
    # to this process's folder for one it cannot enter: the same folder either way.
    expanded = os.path.expandvars(os.path.expanduser(str(path)))  # noqa: PTH111
    folder = os.path.normpath(os.path.abspath(expanded))  # noqa: PTH100
    cwd = folder if os.access(folder, os.X_OK) else None
    try:
        proc = subprocess.run(_hardened(args), cwd=cwd, env=env, stdin=subprocess.DEVNULL,
                              capture_output=True, check=False)
    except FileNotFoundError:
        raise PromptlibError(GIT_MISSING, hint=GIT_MISSING_HINT) from None
    out = proc.stdout.removesuffix(b"\n").decode(_ENCODING, "surrogateescape")
    if with_exceptions and proc.returncode != 0:
        err = proc.stderr.removesuffix(b"\n").decode(_ENCODING, "surrogateescape")
        # What `_decode` makes of GitCommandError's `stderr: '…'` (or, with no stderr, its
        # `stdout: '…'`) wrapping: the message `run` gives, to the character.
        wrapped = f"\n  stderr: '{err}'" if err else f"\n  stdout: '{out}'" if out else ""
        raise failure(path, args, proc.returncode, _decode(wrapped))
    return out


def run_bytes(path: Path, *args: str, **kwargs: Any) -> bytes:
    """`run`, returning stdout as raw bytes (file contents), nothing stripped."""
    out: bytes = _execute(path, args, stdout_as_string=False, strip_newline_in_stdout=False,
                          **kwargs)
    return out


def try_run(path: Path, *args: str) -> str | None:
    """stdout of a command that may legitimately fail (`rev-parse --verify` of an absent ref,
    `rebase --abort` with nothing to abort); None when it does."""
    try:
        out: str = _execute(path, args)
    except PromptlibError:
        return None
    return out


def git_version() -> str | None:
    """The installed git's version (`2.39.5`), for bug reports; None when there is no git."""
    try:
        out: str = _execute(Path.cwd(), ["--version"])
    except (PromptlibError, OSError):
        return None
    return out.removeprefix("git version ").strip() or None


def spawn(path: Path, args: Sequence[str], env: Mapping[str, str] | None = None,
          istream: BinaryIO | None = None) -> Any:
    """Start one hardened git process without waiting for it: GitPython's AutoInterrupt handle
    (which kills the process when collected), its `proc` the Popen (see `gitops.remote`), its
    stdin `istream` (a real file) or nothing."""
    gitpython = _gitpython()

    try:
        return _git(path).execute(_hardened(args), as_process=True, env=env, istream=istream)
    except gitpython.GitCommandNotFound:
        raise PromptlibError(GIT_MISSING, hint=GIT_MISSING_HINT) from None


# --- local repositories: init, identity, commit, refs, log ---------------------------------------


def init(path: Path) -> None:
    path.mkdir(parents=True, exist_ok=True)
    run(path, "init", "--quiet", "--initial-branch=main")


def _config(path: Path, key: str) -> str:
    try:
        return read(path, "config", "--get", key)
    except PromptlibError:
        return ""


def identity(path: Path) -> tuple[str, str]:
    """The committer's name and email: git config first, then the login and host name."""
    name = _config(path, "user.name")
    email = _config(path, "user.email")
    override = paths.git_identity()
    name = override.get("GIT_AUTHOR_NAME") or name or getpass.getuser()
    email = (override.get("GIT_AUTHOR_EMAIL") or email
             or f"{getpass.getuser()}@{socket.gethostname()}")
    return name, email


def identity_env(path: Path) -> dict[str, str]:
    name, email = identity(path)
    override = paths.git_identity()
    return {
        "GIT_AUTHOR_NAME": name, "GIT_AUTHOR_EMAIL": email,
        "GIT_COMMITTER_NAME": override.get("GIT_COMMITTER_NAME") or name,
        "GIT_COMMITTER_EMAIL": override.get("GIT_COMMITTER_EMAIL") or email,
    }


def commit(path: Path, paths: Sequence[str], message: str) -> str:
    """Stage exactly `paths` (additions, changes and deletions) and commit them. Returns the sha."""
    env = identity_env(path)
    specs = [literal(p) for p in paths]
    run(path, "add", "--all", "--", *specs)
    run(path, "commit", "--quiet", "--no-verify", "-m", message, "--", *specs, env=env)
    return run(path, "rev-parse", "HEAD")


def literal(relpath: str) -> str:
    """A pathspec that matches exactly this file: a pulled tree may name one `*` or `:(glob)…`."""
    return f":(literal){relpath}"


def tracked_in_head(path: Path, relpath: str) -> bool:
    """Whether HEAD holds a file at `relpath` (a path inside the repository, `/`-separated).

    False for a file that is only staged (never committed), for an unborn HEAD and for a folder.
    One cheap `git cat-file`: the relpath travels inside the object name `HEAD:<relpath>`, which
    git never reads as an option; a path that could name something other than that exact file
    (empty, absolute, `.`/`..` parts, a NUL or newline) is never handed to git at all.
    """
    parts = relpath.split("/")
    if (not relpath or relpath.startswith("/") or any(p in ("", ".", "..") for p in parts)
            or any(ch in relpath for ch in "\0\n")):
        return False
    return try_run(path, "cat-file", "-t", f"HEAD:{relpath}") == "blob"


def update_ref(path: Path, ref: str, sha: str) -> None:
    run(path, "update-ref", "--no-deref", ref, sha)


def delete_ref(path: Path, ref: str) -> None:
    with contextlib.suppress(PromptlibError):
        run(path, "update-ref", "--no-deref", "-d", ref)


def log(path: Path, relpath: str) -> list[Commit]:
    """The commits that touched one file, newest first, following renames."""
    out = run(path, "log", "--follow", f"--format={_LOG_FORMAT}", "--", relpath)
    commits = []
    for record in out.split("\x1e"):
        fields = record.strip("\n").split("\x1f")
        if len(fields) == 5:
            commits.append(Commit(*fields))
    return commits


def subjects(path: Path, ref: str = "HEAD") -> list[str]:
    """Every commit subject reachable from `ref`, newest first."""
    return run(path, "log", "--format=%s", ref, "--").splitlines()
