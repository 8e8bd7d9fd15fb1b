"""Git test helpers: a real `git daemon` on 127.0.0.1, bare team repositories, and users.

Loopback only, ever. The daemon is started as its own process group and stopped by its pid;
"unreachable" remotes are a closed port (connection refused) and a socket that accepts and then
never says a word (silence).
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from tests.conftest import isolated_env, write_tree

LOOPBACK = "127.0.0.1"
REPO_ROOT = Path(__file__).resolve().parents[1]


def git(cwd: Path, *args: str, env: Mapping[str, str] | None = None, check: bool = True,
        input: str | None = None) -> str:
    """Plain git for setting up fixtures (never through promptlib)."""
    result = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True,
                            env={**os.environ, **(env or {})}, check=False, timeout=60,
                            input=input)
    if check and result.returncode != 0:
        raise AssertionError(f"git {' '.join(args)} failed: {result.stderr}")
    return result.stdout.strip()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((LOOPBACK, 0))
        port: int = sock.getsockname()[1]
        return port


def wait_for_port(port: int, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError), socket.create_connection((LOOPBACK, port), 0.2):
            return
        time.sleep(0.05)
    raise AssertionError(f"nothing listens on {LOOPBACK}:{port} after {timeout} s")


class GitDaemon:
    """`git daemon` serving every repository under `base` over git://, pushes enabled."""

    def __init__(self, base: Path) -> None:
        self.base = base
        self.port = 0
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> GitDaemon:
        for _ in range(5):  # the free port may be taken between choosing and binding it
            self.port = free_port()
            self.process = subprocess.Popen(
                ["git", "daemon", "--reuseaddr", f"--base-path={self.base}", "--export-all",
                 "--enable=receive-pack", f"--listen={LOOPBACK}", f"--port={self.port}",
                 "--informative-errors", str(self.base)],
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
            try:
                wait_for_port(self.port, 5)
                return self
            except AssertionError:
                self.stop()
        raise AssertionError("git daemon did not start")

    def url(self, repo: str) -> str:
        return f"git://{LOOPBACK}:{self.port}/{repo}"

    def stop(self) -> None:
        """Stop the daemon and the children it forked for connections, by its pid."""
        if self.process is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=5)
        self.process = None


@contextlib.contextmanager
def silent_listener() -> Iterator[int]:
    """A port on 127.0.0.1 that accepts connections (the kernel's backlog) and never answers."""
    with socket.socket() as sock:
        sock.bind((LOOPBACK, 0))
        sock.listen(16)
        yield sock.getsockname()[1]


def closed_port() -> int:
    """A port on 127.0.0.1 with nothing listening: connection refused."""
    return free_port()


def make_remote(root: Path, name: str, files: Mapping[str, str | bytes] | None = None,
                symlinks: Mapping[str, str] | None = None) -> Path:
    """A bare repository `root/name.git` on branch main, seeded with one commit if given files."""
    bare = root / f"{name}.git"
    git(root, "init", "--quiet", "--bare", "--initial-branch=main", str(bare))
    if files or symlinks:
        work = root / f".seed-{name}"
        git(root, "init", "--quiet", "--initial-branch=main", str(work))
        write_tree(work, files or {})
        for rel, target in (symlinks or {}).items():
            (work / rel).parent.mkdir(parents=True, exist_ok=True)
            (work / rel).symlink_to(target)
        git(work, "add", "--all")
        git(work, "-c", "user.name=Seeder", "-c", "user.email=seed@example.test", "commit",
            "--quiet", "-m", "Seed the team repository")
        git(work, "push", "--quiet", str(bare), "HEAD:refs/heads/main")
    return bare


def remote_log(bare: Path) -> list[str]:
    """`<author>: <subject>` of every commit on the remote's main, oldest first."""
    if not git(bare, "rev-parse", "--verify", "--quiet", "main", check=False):
        return []
    out = git(bare, "log", "--reverse", "--format=%an: %s", "main")
    return out.splitlines() if out else []


def install_hook(bare: Path, hook: str, script: str) -> None:
    path = bare / "hooks" / hook
    path.write_text("#!/bin/sh\n" + script)
    path.chmod(0o755)


@dataclass
class User:
    """One person: their own promptlib home, git config and identity; runs the real CLI."""

    name: str
    root: Path
    extra_env: dict[str, str] = field(default_factory=dict)

    @property
    def home(self) -> Path:
        return self.root / self.name / "home"

    @property
    def env(self) -> dict[str, str]:
        gitconfig = self.root / self.name / "gitconfig"
        if not gitconfig.exists():
            gitconfig.parent.mkdir(parents=True, exist_ok=True)
            gitconfig.write_text(f"[user]\n\tname = {self.name}\n"
                                 f"\temail = {self.name}@example.test\n")
        email = f"{self.name}@example.test"
        return {**isolated_env(self.home, gitconfig),
                "GIT_AUTHOR_NAME": self.name, "GIT_AUTHOR_EMAIL": email,
                "GIT_COMMITTER_NAME": self.name, "GIT_COMMITTER_EMAIL": email,
                **self.extra_env}

    def run(self, *args: str, input: str | None = None, timeout: float = 60
            ) -> subprocess.CompletedProcess[str]:
        env = {k: v for k, v in os.environ.items() if k not in ("EDITOR", "VISUAL", "NO_COLOR")}
        env.update(self.env)
        return subprocess.run([sys.executable, "-m", "promptlib", *args], input=input,
                              capture_output=True, text=True, env=env, timeout=timeout,
                              check=False, stdin=None if input is not None else subprocess.DEVNULL)

    def ok(self, *args: str, input: str | None = None) -> subprocess.CompletedProcess[str]:
        """Run and insist on exit 0, showing the output when not."""
        result = self.run(*args, input=input)
        assert result.returncode == 0, (args, result.returncode, result.stdout, result.stderr)
        return result

    def collection(self, name: str) -> Path:
        return self.home / "collections" / name

    def git(self, collection: str, *args: str) -> str:
        return git(self.collection(collection), *args, env=self.env)
