"""Shared fixtures: every test gets its own promptlib home and git identity, and touches nothing
outside its temp dirs (PROMPTLIB_HOME, GIT_CONFIG_GLOBAL, GIT_AUTHOR_*, GIT_COMMITTER_*)."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from promptlib.cli.app import app

IDENTITY = {
    "GIT_AUTHOR_NAME": "Test Author",
    "GIT_AUTHOR_EMAIL": "author@example.test",
    "GIT_COMMITTER_NAME": "Test Author",
    "GIT_COMMITTER_EMAIL": "author@example.test",
}


def isolated_env(home: Path, git_config: Path) -> dict[str, str]:
    """The environment variables that keep promptlib and git inside the test's folders."""
    return {
        "PROMPTLIB_HOME": str(home),
        "GIT_CONFIG_GLOBAL": str(git_config),
        "GIT_CONFIG_NOSYSTEM": "1",
        **IDENTITY,
    }


@pytest.fixture(autouse=True)
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh, empty promptlib home for every test."""
    home = tmp_path / "home"
    git_config = tmp_path / "gitconfig"
    git_config.write_text("[user]\n\tname = Test Author\n\temail = author@example.test\n"
                          "[init]\n\tdefaultBranch = main\n")
    for key, value in isolated_env(home, git_config).items():
        monkeypatch.setenv(key, value)
    for key in ("EDITOR", "VISUAL", "NO_COLOR", "TMUX", "DISPLAY", "WAYLAND_DISPLAY"):
        monkeypatch.delenv(key, raising=False)
    return home


def write_tree(root: Path, files: Mapping[str, str | bytes]) -> None:
    """Create files (and their folders) under root: {"a/b.yaml": "text", ...}."""
    for rel, content in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")


@pytest.fixture
def cli() -> Callable[..., Result]:
    """Run the CLI in-process through CliRunner: cli("list", "--json", input="...")."""
    runner = CliRunner()

    def invoke(*args: str, input: str | bytes | None = None,
               env: Mapping[str, str | None] | None = None) -> Result:
        return runner.invoke(app, list(args), input=input, env=env, catch_exceptions=False)

    return invoke


@pytest.fixture
def run() -> Callable[..., subprocess.CompletedProcess[str]]:
    """Run the CLI as a real process: run("render", "x", input="..."), with the test's env."""

    def invoke(*args: str, input: str | None = None, env: Mapping[str, str] | None = None,
               timeout: float = 60) -> subprocess.CompletedProcess[str]:
        full_env = {**os.environ, **(env or {})}
        return subprocess.run([sys.executable, "-m", "promptlib", *args], input=input,
                              capture_output=True, text=True, env=full_env, timeout=timeout,
                              check=False, stdin=None if input is not None else subprocess.DEVNULL)

    return invoke


def recipe_yaml(name: str = "disk-full", *, tags: str = "[incident-response, disk]",
                template: str = "Disk on {{ host }} is full.\n", variables: str | None = None,
                extra: str = "") -> str:
    """A valid recipe's YAML, with the parts a test wants to vary."""
    if variables is None:
        variables = "variables:\n  host:\n    description: The host\n"
    body = "".join(f"  {line}\n" for line in template.splitlines())
    return (f"name: {name}\ntitle: Triage a full disk\ndescription: When a disk fills up.\n"
            f"tags: {tags}\n{variables}template: |\n{body}{extra}")


def imports_of(args: Sequence[str], watched: Sequence[str], *, input: str | None = None,
               env: Mapping[str, str] | None = None
               ) -> tuple[subprocess.CompletedProcess[str], list[str]]:
    """Run `promptlib ARGS` in a fresh interpreter as the console script does; also which of the
    `watched` modules (each counted with its submodules) it had imported when it exited. That
    list is the last line of stderr, which is taken off the result's stderr."""
    code = ("import atexit, sys\n"
            f"watched = {tuple(watched)!r}\n"
            "atexit.register(lambda: print(sorted(m for m in sys.modules if any(m == w or "
            "m.startswith(w + '.') for w in watched)), file=sys.stderr))\n"
            f"sys.argv = ['promptlib', *{list(args)!r}]\n"
            "from promptlib.cli import main\nmain()\n")
    done = subprocess.run([sys.executable, "-c", code], input=input, capture_output=True,
                          text=True, check=False, timeout=60, env=env)
    *rest, last = done.stderr.rstrip("\n").split("\n")
    loaded = [m.strip(" '") for m in last.strip("[]").split(",") if m.strip()]
    done.stderr = "".join(line + "\n" for line in rest)
    return done, loaded
