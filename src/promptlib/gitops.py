"""The only module that imports GitPython: init, commit, log, clone, fetch, integrate, push, locks.

Every git process runs hardened (DESIGN §7): hooks, fsmonitor and submodule recursion off, no
terminal prompts, symlinks checked out as plain files, every received object fsck'ed, and only
the allowlisted protocols. User strings reach git only as values after `--` or inside `-m`, never
where git would read an option (URLs are also checked by `teams.check_url` before they get here).

GitPython's own index/commit objects are ~10x slower than the git CLI on large repositories, so
this module drives the CLI through `git.Git` and keeps GitPython's error type in one place
(`_failure`). GitPython is imported inside functions only: `search` and `render` never pay for it.

Timeouts. Local commands run unbounded (they are fast and must never be killed halfway). Commands
that talk to a remote run under a *silence* watchdog: with `--progress` git reports on stderr while
it connects, counts and transfers, so a remote that has said nothing for `SILENCE_TIMEOUT` seconds
— a dead host, a blackholed git:// port that accepted and never answered, a stuck proxy — gets the
process killed and a `RemoteUnreachableError` (exit 6), while a big transfer that keeps moving is
never cut short. Belt and braces underneath: ssh `ConnectTimeout`/`ServerAlive*`, and curl's
`http.lowSpeedLimit/lowSpeedTime` for https.
"""

from __future__ import annotations

import contextlib
import fcntl
import getpass
import os
import re
import selectors
import signal
import socket
import tempfile
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from promptlib import config
from promptlib.errors import InvalidError, PromptlibError, RemoteUnreachableError

if TYPE_CHECKING:
    import git

# Seconds of silence from a remote after which a network command is killed (DESIGN §4: "connect
# and transfer give up after at most 10 s of silence").
SILENCE_TIMEOUT = 10.0
REMOTE = "origin"

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
# Written into a cloned collection's own config, so a person running plain `git` in it by hand
# is protected the same way.
CLONE_CONFIG = (
    "core.hooksPath=/dev/null",
    "core.fsmonitor=false",
    "core.symlinks=false",
    "transfer.fsckObjects=true",
    "submodule.recurse=false",
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
_SHA = re.compile(r"[0-9a-f]{40}(?:[0-9a-f]{24})?")
_UNREACHABLE = re.compile(
    r"could not resolve|connection refused|connection timed out|connection reset|"
    r"network is unreachable|no route to host|unable to connect|failed to connect|timed out|"
    r"could not read from remote repository|does not appear to be a git repository|"
    r"remote end hung up|early eof|unable to access|repository not found|not exported|"
    r"does not exist|"
    r"access denied|name or service not known|temporary failure in name resolution|"
    r"authentication failed|terminal prompts disabled|could not read username|"
    r"permission denied|host key verification failed",
    re.IGNORECASE,
)
_REFUSED_OBJECTS = re.compile(r"fsck|bad object|badtree|hasdot|dotgit", re.IGNORECASE)
# Git's own lock files in .git that a killed process can leave behind.
_GIT_LOCKS = ("index.lock", "HEAD.lock", "ORIG_HEAD.lock", "FETCH_HEAD.lock", "config.lock",
              "packed-refs.lock", "shallow.lock")
STALE_LOCK_WAIT = 2.0


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


def redact_url(url: str) -> str:
    """A URL fit for a message: any password in it replaced (one set by hand in .git/config)."""
    return re.sub(r"(://[^/@:]*):[^/@]*@", r"\1:***@", url)


def _last_line(text: str) -> str:
    lines = [ln.strip() for ln in re.split(r"[\r\n]+", text) if ln.strip()]
    meaningful = [ln for ln in lines if not ln.lower().startswith(("hint:", "remote: counting",
                                                                  "remote: compressing"))]
    last = (meaningful or lines or [""])[-1]
    return last.removeprefix("fatal: ").removeprefix("error: ")


def _failure(path: Path, args: Sequence[str], status: object, stderr: str,
             *, remote: str | None = None) -> PromptlibError:
    """Turn a failed git command into the PromptlibError that says what happened.

    With `remote` set (a command that talks to that URL), network and authentication failures
    become RemoteUnreachableError (exit 6), and objects refused by fsck an InvalidError (exit 4).
    """
    last = _last_line(stderr) or f"exit status {status}"
    if remote is not None:
        shown = redact_url(remote)
        if _REFUSED_OBJECTS.search(stderr):
            return InvalidError(f"{shown} holds malformed or unsafe git objects; refused them: "
                                f"{last}")
        if _UNREACHABLE.search(stderr):
            return RemoteUnreachableError(
                f"cannot reach {shown}: {last}",
                hint="the local library keeps working; try again when the remote is reachable "
                     "(promptlib never prompts for a password: use an ssh key or a credential "
                     "helper)")
    return PromptlibError(f"git {_verb(args)} failed in {path}: {last}")


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


def run(path: Path, *args: str, **kwargs: Any) -> str:
    """Run one local git command in `path`. The one place GitCommandError becomes an error."""
    import git

    try:
        out: str = _git(path).execute(_hardened(args), **kwargs)
    except git.GitCommandError as exc:
        raise _failure(path, args, exc.status, _decode(exc.stderr or exc.stdout)) from None
    except git.GitCommandNotFound:
        raise PromptlibError("git is not installed or not on PATH",
                             hint="install git and try again") from None
    return out


def run_bytes(path: Path, *args: str, **kwargs: Any) -> bytes:
    """`run`, returning stdout as raw bytes (file contents), nothing stripped."""
    import git

    try:
        out: bytes = _git(path).execute(_hardened(args), stdout_as_string=False,
                                        strip_newline_in_stdout=False, **kwargs)
    except git.GitCommandError as exc:
        raise _failure(path, args, exc.status, _decode(exc.stderr or exc.stdout)) from None
    return out


def _decode(value: object) -> str:
    """GitCommandError's stderr, without the `stderr: '…'` wrapping GitPython puts around it."""
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    text = str(value or "").strip()
    return text.removeprefix("stderr: '").removesuffix("'")


def _succeeds(path: Path, *args: str) -> str | None:
    """stdout of a query that may legitimately fail (`rev-parse --verify` of an absent ref)."""
    import git

    try:
        out: str = _git(path).execute(_hardened(args))
    except git.GitCommandError:
        return None
    return out


# --- network commands under the silence watchdog --------------------------------------------------


@dataclass(eq=False)  # hashed by identity: jobs are keys of a selector
class _Job:
    key: str
    cwd: Path
    args: tuple[str, ...]
    remote: str
    env: Mapping[str, str] | None = None
    handle: Any = None  # GitPython's AutoInterrupt: kills the process when collected
    process: Any = None
    stdout: bytearray = field(default_factory=bytearray)
    stderr: bytearray = field(default_factory=bytearray)
    last_heard: float = 0.0
    silent: bool = False
    status: int | None = None

    def failure(self) -> PromptlibError | None:
        if self.silent:
            return RemoteUnreachableError(
                f"no answer from {redact_url(self.remote)} for {SILENCE_TIMEOUT:g} s; gave up",
                hint="the local library keeps working; try again when the remote is reachable")
        if self.status == 0:
            return None
        return _failure(self.cwd, self.args, self.status, self.stderr.decode("utf-8", "replace"),
                        remote=self.remote)


def _supervise(jobs: Sequence[_Job], silence: float) -> None:
    """Run every job's git process at once; kill any that stays silent for `silence` seconds."""
    selector = selectors.DefaultSelector()
    try:
        for job in jobs:
            _start(job, selector)
        while selector.get_map():
            _pump(selector, silence)
        for job in jobs:
            job.status = job.process.wait()
    finally:
        for job in jobs:
            if job.process is not None and job.process.poll() is None:
                job.process.kill()
                job.process.wait()
        selector.close()


def _start(job: _Job, selector: selectors.BaseSelector) -> None:
    import git

    try:
        handle = _git(job.cwd).execute(_hardened(job.args), as_process=True, env=job.env)
    except git.GitCommandNotFound:
        raise PromptlibError("git is not installed or not on PATH") from None
    job.handle, job.process = handle, handle.proc
    job.last_heard = time.monotonic()
    for stream in (job.process.stdout, job.process.stderr):
        os.set_blocking(stream.fileno(), False)
        selector.register(stream, selectors.EVENT_READ, job)


def _pump(selector: selectors.BaseSelector, silence: float) -> None:
    """One round: kill the jobs silent for too long, then read what the others have said."""
    now = time.monotonic()
    for job in {key.data for key in selector.get_map().values()}:
        if now - job.last_heard >= silence:
            _kill(job, selector)
    waiting = {key.data for key in selector.get_map().values()}
    if not waiting:
        return
    deadline = min(j.last_heard for j in waiting) + silence
    for key, _ in selector.select(max(0.01, deadline - time.monotonic())):
        job = key.data
        chunk = _read_chunk(key.fileobj)
        if chunk is None:
            continue
        if not chunk:
            selector.unregister(key.fileobj)
            continue
        job.last_heard = time.monotonic()
        buffer = job.stdout if key.fileobj is job.process.stdout else job.stderr
        buffer.extend(chunk)
        if buffer is job.stderr and len(buffer) > 65536:
            del buffer[:-32768]


def _read_chunk(stream: Any) -> bytes | None:
    try:
        return os.read(stream.fileno(), 65536)
    except BlockingIOError:
        return None


def _kill(job: _Job, selector: selectors.BaseSelector) -> None:
    job.silent = True
    with contextlib.suppress(ProcessLookupError):
        job.process.send_signal(signal.SIGKILL)
    for stream in (job.process.stdout, job.process.stderr):
        with contextlib.suppress(KeyError, ValueError):
            selector.unregister(stream)


def _network(cwd: Path, args: Sequence[str], remote: str,
             env: Mapping[str, str] | None = None) -> str:
    job = _Job("one", cwd, tuple(args), remote, env)
    _supervise([job], SILENCE_TIMEOUT)
    error = job.failure()
    if error is not None:
        raise error
    return job.stdout.decode("utf-8", "replace")


def clone(url: str, dest: Path) -> None:
    """Clone `url` into `dest` (which must not exist). `url` has passed `teams.check_url`.

    `--no-local` makes even a local path go through the pack protocol, so the objects are
    fsck'ed and nothing is hard-linked from a repository we do not own.
    """
    args = ["clone", "--progress", "--no-local", "--no-recurse-submodules", "--template=",
            "--origin", REMOTE]
    for option in CLONE_CONFIG:
        args += ["--config", option]
    # For an empty remote that does not advertise its HEAD: a branch name every user agrees on.
    args = ["-c", "init.defaultBranch=main", *args, "--", url, str(dest)]
    _network(dest.parent, args, url)


def fetch_many(paths: Sequence[Path]) -> dict[Path, PromptlibError | None]:
    """`git fetch origin` in every repository at once: N unreachable remotes cost one timeout."""
    jobs = []
    for path in paths:
        url = remote_url(path) or REMOTE
        jobs.append(_Job(str(path), path, ("fetch", "--progress", "--prune", "--no-tags",
                                           "--no-recurse-submodules", "--no-write-fetch-head",
                                           "--", REMOTE), url))
    _supervise(jobs, SILENCE_TIMEOUT)
    return {job.cwd: job.failure() for job in jobs}


def fetch(path: Path) -> None:
    error = fetch_many([path])[path]
    if error is not None:
        raise error


@dataclass(frozen=True)
class PushOutcome:
    pushed: bool
    rejected: bool = False  # the remote moved since our fetch: integrate and try again
    message: str = ""


def push(path: Path, branch: str) -> PushOutcome:
    """Push HEAD to the remote's `branch`. Never forced: a moved remote comes back `rejected`."""
    url = remote_url(path) or REMOTE
    job = _Job("push", path, ("push", "--progress", "--porcelain", "--no-verify", "--",
                              REMOTE, f"HEAD:refs/heads/{branch}"), url,
               identity_env(path))
    _supervise([job], SILENCE_TIMEOUT)
    report = job.stdout.decode("utf-8", "replace") + job.stderr.decode("utf-8", "replace")
    if job.status == 0 and not job.silent:
        return PushOutcome(True, message=report)
    if not job.silent and re.search(r"\[rejected\]|fetch first|non-fast-forward", report):
        return PushOutcome(False, rejected=True, message=report)
    if not job.silent and "[remote rejected]" in report:
        reason = re.search(r"\[remote rejected\]\s*(.*)", report)
        raise PromptlibError(f"{redact_url(url)} refused the push: "
                             f"{reason.group(1).strip() if reason else 'no reason given'}",
                             hint="nothing was lost: your commits are still here; ask the "
                                  "repository's owner, then push again")
    error = job.failure()
    raise error if error is not None else PromptlibError(f"git push failed in {path}")


# --- local repository queries ---------------------------------------------------------------------


def init(path: Path) -> None:
    path.mkdir(parents=True, exist_ok=True)
    run(path, "init", "--quiet", "--initial-branch=main")


def is_repo(path: Path) -> bool:
    return (path / ".git").exists()


def remote_url(path: Path) -> str | None:
    """The collection's remote (`origin`), from its own config; None for a purely local one."""
    out = _succeeds(path, "config", "--local", "--get", f"remote.{REMOTE}.url")
    return out or None


def branch(path: Path) -> str:
    """The checked-out branch (also when it has no commit yet)."""
    name = _succeeds(path, "symbolic-ref", "--quiet", "--short", "HEAD")
    if not name:
        raise PromptlibError(f"{path} is not on a branch (detached HEAD)",
                             hint=f"check one out first: `git -C {path} switch main`")
    return name


def rev(path: Path, ref: str) -> str | None:
    """The commit `ref` names, or None when it does not exist (an unborn HEAD, an empty remote)."""
    out = _succeeds(path, "rev-parse", "--verify", "--quiet", "--end-of-options",
                    f"{ref}^{{commit}}")
    return out or None


def upstream_ref(path: Path) -> str:
    return f"refs/remotes/{REMOTE}/{branch(path)}"


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
    return _succeeds(path, "merge-base", a, b) or None


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


def tree_entries(path: Path, ref: str) -> dict[str, tuple[str, str]]:
    """Every file of a commit: relpath → (mode, blob sha). Mode 120000 is a symlink."""
    out = run(path, "ls-tree", "-r", "-z", "--full-tree", ref, strip_newline_in_stdout=False)
    entries = {}
    for record in out.split("\0"):
        if not record:
            continue
        meta, _, relpath = record.partition("\t")
        mode, kind, sha = meta.split()
        if kind == "blob":
            entries[relpath] = (mode, sha)
    return entries


def blob_at(path: Path, ref: str, relpath: str) -> bytes | None:
    """A file's bytes as of `ref`, or None when the file does not exist there."""
    entry = tree_entries_for(path, ref, relpath)
    if entry is None:
        return None
    return run_bytes(path, "cat-file", "blob", entry[1])


def tree_entries_for(path: Path, ref: str, relpath: str) -> tuple[str, str] | None:
    out = run(path, "ls-tree", "-z", "--full-tree", ref, "--", relpath,
              strip_newline_in_stdout=False)
    record = out.split("\0")[0]
    if not record:
        return None
    meta, _, name = record.partition("\t")
    mode, kind, sha = meta.split()
    return (mode, sha) if kind == "blob" and name == relpath else None


def read_blobs(path: Path, shas: Sequence[str]) -> dict[str, bytes]:
    """Many blobs in one `git cat-file --batch`."""
    wanted = list(dict.fromkeys(shas))
    if not wanted:
        return {}
    with tempfile.TemporaryFile() as request:
        request.write("".join(f"{sha}\n" for sha in wanted).encode("ascii"))
        request.seek(0)
        out = run_bytes(path, "cat-file", "--batch", istream=request)
    blobs: dict[str, bytes] = {}
    pos = 0
    for sha in wanted:
        end = out.index(b"\n", pos)
        header = out[pos:end].split()
        pos = end + 1
        if len(header) < 3 or header[1] == b"missing":
            continue
        size = int(header[2])
        blobs[sha] = out[pos:pos + size]
        pos += size + 1
    return blobs


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


# --- local history-changing commands --------------------------------------------------------------


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


def identity_env(path: Path) -> dict[str, str]:
    name, email = identity(path)
    return {
        "GIT_AUTHOR_NAME": name, "GIT_AUTHOR_EMAIL": email,
        "GIT_COMMITTER_NAME": os.environ.get("GIT_COMMITTER_NAME") or name,
        "GIT_COMMITTER_EMAIL": os.environ.get("GIT_COMMITTER_EMAIL") or email,
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


def fast_forward(path: Path, target: str) -> None:
    run(path, "merge", "--ff-only", "--quiet", target, env=identity_env(path))


def rebase(path: Path, onto: str) -> list[str] | None:
    """Replay local commits onto `onto`. On a conflict: abort (tree clean, commits as they were)
    and return the conflicting paths; None when it went through. Any other failure raises."""
    try:
        with _operation(path):
            run(path, "rebase", "--quiet", "--no-autostash", "--no-verify", onto,
                env=identity_env(path))
    except PromptlibError:
        conflicted = _unmerged(path)
        _abort(path)
        if conflicted:
            return conflicted
        raise
    return None


def merge(path: Path, target: str, message: str) -> list[str] | None:
    """Merge `target` into HEAD with a merge commit. On a conflict: abort and return the paths;
    None when it went through. Any other failure raises."""
    try:
        with _operation(path):
            run(path, "merge", "--no-ff", "--no-edit", "--quiet", "--allow-unrelated-histories",
                "-m", message, target, env=identity_env(path))
    except PromptlibError:
        conflicted = _unmerged(path)
        _abort(path)
        if conflicted:
            return conflicted
        raise
    return None


# Present in .git while promptlib runs a rebase or merge: one left behind with a rebase or merge
# still open means a promptlib process was killed there, and `recover` may abort it. Without it,
# the rebase or merge is a person's own, and is never touched.
OPERATION_MARKER = "promptlib-operation"


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
    import git

    gitdir = path / ".git"
    if (gitdir / "rebase-merge").is_dir() or (gitdir / "rebase-apply").is_dir():
        with contextlib.suppress(git.GitCommandError):
            _git(path).execute(_hardened(["rebase", "--abort"]))
    if (gitdir / "MERGE_HEAD").exists():
        with contextlib.suppress(git.GitCommandError):
            _git(path).execute(_hardened(["merge", "--abort"]))


def merge_resolved(path: Path, target: str, message: str, contents: Mapping[str, bytes | None]
                   ) -> str:
    """A merge commit of HEAD and `target` whose files in `contents` are exactly as given
    (None: deleted), every other file as git's merge made it. Aborted on any failure."""
    env = identity_env(path)
    with _operation(path):
        return _merge_resolved(path, target, message, contents, env)


def _merge_resolved(path: Path, target: str, message: str,
                    contents: Mapping[str, bytes | None], env: dict[str, str]) -> str:
    from promptlib import store

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
            store.write_atomic(target_path, data)
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
    out = _succeeds(path, "diff", "--name-only", "-z", "--diff-filter=U") or ""
    return sorted(p for p in out.split("\0") if p)


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


# --- the per-collection write lock ----------------------------------------------------------------

_held: dict[str, tuple[IO[str], int]] = {}


@contextlib.contextmanager
def locked(collection: str) -> Iterator[None]:
    """Serialize writers to one collection across processes.

    flock, not a lock file with a pid in it: the kernel drops the lock when its holder dies, so a
    killed promptlib never leaves a lock for someone to clean up. Re-entrant within a process
    (`share` pushes the collection it just wrote under the same lock). Once held, whatever a
    killed writer left inside the repository is recovered (see `recover`).
    """
    if collection in _held:
        handle, depth = _held[collection]
        _held[collection] = (handle, depth + 1)
        try:
            yield
        finally:
            handle, depth = _held[collection]
            _held[collection] = (handle, depth - 1)
        return
    lock_path = config.lock_file(collection)
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    with lock_path.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        _held[collection] = (handle, 1)
        try:
            repo = config.collection_dir(collection)
            if (repo / ".git").is_dir():
                recover(repo)
            yield
        finally:
            del _held[collection]
            fcntl.flock(handle, fcntl.LOCK_UN)


def recover(path: Path) -> list[str]:
    """Undo what a promptlib process killed halfway left in `path`; returns what was done.

    Called with the collection's flock held, so no promptlib process is running git there: a git
    lock file that outlives a short grace period (a person's own git command would finish) was
    left by a killed process; a rebase or merge that a killed promptlib left open is aborted,
    which restores the commits and the tree as they were before it started. A rebase or merge a
    person started by hand is theirs: PromptlibError, untouched.
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
    return done
