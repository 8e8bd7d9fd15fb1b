"""The git layer's network side: clone, fetch and push under a silence watchdog, the remote's URL
and upstream branch, and telling an unreachable remote apart from other failures.

One of the gitops modules (see `gitops`), the only modules that run git. This one never imports
GitPython itself: its processes start through `gitops.spawn`, hardened like every other, and no
module outside the gitops modules may import `git`.

Timeouts. Local commands run unbounded (they are fast and must never be killed halfway). Commands
that talk to a remote run under a *silence* watchdog: with `--progress` git reports on stderr while
it connects, counts and transfers, so a remote that has said nothing for `SILENCE_TIMEOUT` seconds
— a dead host, a blackholed git:// port that accepted and never answered, a stuck proxy — gets the
process killed and a `RemoteUnreachableError` (exit 6), while a big transfer that keeps moving is
never cut short. Belt and braces underneath: ssh `ConnectTimeout`/`ServerAlive*`, and curl's
`http.lowSpeedLimit/lowSpeedTime` for https (`gitops.HARDENING`, `gitops.GIT_ENV`).
"""

from __future__ import annotations

import contextlib
import os
import re
import selectors
import signal
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from promptlib.errors import InvalidError, PromptlibError, RemoteUnreachableError
from promptlib.gitops import history as gitops_history
from promptlib.gitops import run as gitops
from promptlib.gitops.run import SILENCE_TIMEOUT

REMOTE = "origin"

# Written into a cloned collection's own config, so a person running plain `git` in it by hand
# is protected the same way.
CLONE_CONFIG = (
    "core.hooksPath=/dev/null",
    "core.fsmonitor=false",
    "core.symlinks=false",
    "transfer.fsckObjects=true",
    "submodule.recurse=false",
)

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


def redact_url(url: str) -> str:
    """A URL fit for a message: any password in it replaced (one set by hand in .git/config)."""
    return re.sub(r"(://[^/@:]*):[^/@]*@", r"\1:***@", url)


def remote_failure(path: Path, args: Sequence[str], status: object, stderr: str,
                   remote: str) -> PromptlibError:
    """The PromptlibError for a failed git command that talked to `remote`: network and
    authentication failures become RemoteUnreachableError (exit 6), objects refused by fsck an
    InvalidError (exit 4), anything else what `gitops.failure` says."""
    last = gitops.last_line(stderr, status)
    shown = redact_url(remote)
    if _REFUSED_OBJECTS.search(stderr):
        return InvalidError(f"{shown} holds malformed or unsafe git objects; refused them: {last}")
    if _UNREACHABLE.search(stderr):
        return RemoteUnreachableError(
            f"cannot reach {shown}: {last}",
            hint="the local library keeps working; try again when the remote is reachable "
                 "(promptlib never prompts for a password: use an ssh key or a credential "
                 "helper)")
    return gitops.failure(path, args, status, stderr)


# --- the remote's identity ------------------------------------------------------------------------


def remote_url(path: Path) -> str | None:
    """The collection's remote (`origin`), from its own config; None for a purely local one."""
    out = gitops.try_run(path, "config", "--local", "--get", f"remote.{REMOTE}.url")
    return out or None


def upstream_ref(path: Path) -> str:
    return f"refs/remotes/{REMOTE}/{gitops_history.branch(path)}"


def heads(path: Path) -> tuple[str | None, str | None]:
    """(HEAD, the remote's branch as last fetched): either None when it has no commit yet."""
    return gitops_history.rev(path, "HEAD"), gitops_history.rev(path, upstream_ref(path))


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
        return remote_failure(self.cwd, self.args, self.status,
                              self.stderr.decode("utf-8", "replace"), self.remote)


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
    handle = gitops.spawn(job.cwd, job.args, env=job.env)
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


# --- clone, fetch, push ---------------------------------------------------------------------------


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


# The branches, and the recipes' labels (lightweight tags under promptlib/, moved by `tag --move`
# and so force-updated; pruned like the branches when the team deletes one).
FETCH_REFSPECS = (f"+refs/heads/*:refs/remotes/{REMOTE}/*",
                  "+refs/tags/promptlib/*:refs/tags/promptlib/*")


def fetch_many(paths: Sequence[Path]) -> dict[Path, PromptlibError | None]:
    """`git fetch origin` in every repository at once: N unreachable remotes cost one timeout."""
    jobs = []
    for path in paths:
        url = remote_url(path) or REMOTE
        jobs.append(_Job(str(path), path, ("fetch", "--progress", "--prune", "--no-tags",
                                           "--no-recurse-submodules", "--no-write-fetch-head",
                                           "--", REMOTE, *FETCH_REFSPECS), url))
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


class PushRefusedError(PromptlibError):
    """The server refused the push itself (a protected branch, a pre-receive hook): its own
    words are in `remote_lines`, and in the message."""

    def __init__(self, message: str, remote_lines: Sequence[str], hint: str | None = None):
        self.headline = message
        self.remote_lines = list(remote_lines)
        shown = "".join(f"\n  {line}" for line in self.remote_lines)
        super().__init__(message + shown, hint=hint)


# The server's progress chatter, which says nothing about why a push was refused.
_REMOTE_NOISE = re.compile(r"remote:\s*(counting|compressing|total|resolving|enumerating|"
                           r"writing|delta)", re.IGNORECASE)
MAX_REMOTE_LINES = 20


def remote_lines(stderr: str) -> list[str]:
    """The `remote:` lines the server (its hooks) printed, progress chatter left out."""
    lines = [ln.rstrip() for ln in re.split(r"[\r\n]+", stderr)]
    said = [ln for ln in lines if ln.startswith("remote:") and ln != "remote:"
            and not _REMOTE_NOISE.match(ln)]
    return said[:MAX_REMOTE_LINES]


def push(path: Path, branch: str) -> PushOutcome:
    """Push HEAD to the remote's `branch`. Never forced: a moved remote comes back `rejected`."""
    return push_ref(path, "HEAD", f"refs/heads/{branch}")


def push_ref(path: Path, source: str | None, target: str, *, options: Sequence[str] = (),
             force: bool = False) -> PushOutcome:
    """Push `source` (None: delete) to the remote's `target` ref, with `git push -o` options.
    Only `force` (a moved recipe label, never a branch) overwrites what the remote has."""
    url = remote_url(path) or REMOTE
    refspec = f"{'+' if force else ''}{source or ''}:{target}"
    pushed_options = [arg for option in options for arg in ("-o", option)]
    job = _Job("push", path, ("push", "--progress", "--porcelain", "--no-verify",
                              *pushed_options, "--", REMOTE, refspec), url,
               gitops.identity_env(path))
    _supervise([job], SILENCE_TIMEOUT)
    stderr = job.stderr.decode("utf-8", "replace")
    report = job.stdout.decode("utf-8", "replace") + stderr
    if job.status == 0 and not job.silent:
        return PushOutcome(True, message=report)
    if not job.silent and re.search(r"\[rejected\]|fetch first|non-fast-forward", report):
        return PushOutcome(False, rejected=True, message=report)
    if not job.silent and "[remote rejected]" in report:
        reason = re.search(r"\[remote rejected\]\s*(.*)", report)
        raise PushRefusedError(
            f"{redact_url(url)} refused the push to {target.removeprefix('refs/heads/')} "
            f"({reason.group(1).strip().strip('()') if reason else 'no reason given'})"
            + (", saying:" if remote_lines(stderr) else ""), remote_lines(stderr),
            hint="nothing was lost: your commits are still here; ask the repository's owner, "
                 "then push again")
    error = job.failure()
    raise error if error is not None else PromptlibError(f"git push failed in {path}")
