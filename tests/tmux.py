"""A real terminal for tests: tmux runs a command on its own pseudo-terminal, keys are typed
with send-keys (and pasted with paste-buffer, bracketed as a terminal pastes), and the screen is
read back with capture-pane: what a person would see, not the escape codes that drew it.

Each Tmux uses a server of its own (`-L`, a socket named for the test) and stops only that one.
"""

from __future__ import annotations

import itertools
import os
import shlex
import shutil
import subprocess
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

import pytest

TMUX = shutil.which("tmux")
needs_tmux = pytest.mark.skipif(TMUX is None, reason="tmux is not installed (apt-get install "
                                "tmux) — these tests type into a real terminal")
_count = itertools.count()


class Tmux:
    def __init__(self, command: Sequence[str], *, env: Mapping[str, str], cwd: Path,
                 width: int = 120, height: int = 40):
        assert TMUX is not None
        self.socket = f"promptlib-test-{os.getpid()}-{next(_count)}"
        self.status_file = cwd / f"status-{self.socket}"
        full_env = {k: v for k, v in env.items() if k != "TMUX"}
        # The shell line prints the exit status where the test can read it, then waits so the
        # screen can still be captured after the command ended.
        line = (f"{shlex.join(command)}; echo $? > {shlex.quote(str(self.status_file))}; "
                "sleep 600")
        self._tmux("-f", "/dev/null", "new-session", "-d", "-s", "t", "-x", str(width),
                   "-y", str(height), "sh", "-c", line, env=full_env, cwd=cwd)

    def _tmux(self, *args: str, env: Mapping[str, str] | None = None,
              cwd: Path | None = None) -> str:
        done = subprocess.run([TMUX or "tmux", "-L", self.socket, *args], env=env, cwd=cwd,
                              capture_output=True, text=True, check=True, timeout=30)
        return done.stdout

    def type(self, *keys: str) -> None:
        """send-keys: literal text, or tmux key names such as Enter, Escape, Down, C-n."""
        self._tmux("send-keys", "-t", "t", *keys)

    def paste(self, text: str) -> None:
        """Paste as a terminal does: bracketed when the program asked for bracketed paste."""
        self._tmux("set-buffer", "-b", "paste", text)
        self._tmux("paste-buffer", "-p", "-b", "paste", "-t", "t")

    def screen(self, *, history: bool = False) -> str:
        args = ["capture-pane", "-p", "-J", "-t", "t"]
        if history:
            args += ["-S", "-2000"]
        return self._tmux(*args)

    def wait_for(self, text: str, timeout: float = 20) -> str:
        deadline = time.monotonic() + timeout
        while True:
            screen = self.screen(history=True)
            if text in screen:
                return screen
            if time.monotonic() > deadline:
                raise AssertionError(f"{text!r} never showed on the screen:\n{screen}")
            time.sleep(0.1)

    def exit_status(self, timeout: float = 30) -> int:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.status_file.exists() and self.status_file.read_text().strip():
                return int(self.status_file.read_text())
            time.sleep(0.1)
        raise AssertionError(f"the command never ended:\n{self.screen(history=True)}")

    def close(self) -> None:
        subprocess.run([TMUX or "tmux", "-L", self.socket, "kill-server"], check=False,
                       capture_output=True, timeout=30)
