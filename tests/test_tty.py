"""What a person at a terminal sees: prompts for missing values, OSC 52 for --copy, colour rules.

Runs the real CLI on a pseudo-terminal, so isatty() is true exactly as it is for a person.
"""

from __future__ import annotations

import os
import select
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import pytest

from tests.conftest import recipe_yaml

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="needs a pseudo-terminal")


def run_on_tty(args: Sequence[str], answers: Sequence[str] = (), *,
               env: dict[str, str] | None = None, timeout: float = 30) -> tuple[int, str]:
    """Run promptlib with stdin, stdout and stderr on a pty; type `answers` one per prompt."""
    master, slave = os.openpty()
    proc = subprocess.Popen([sys.executable, "-m", "promptlib", *args], stdin=slave,
                            stdout=slave, stderr=slave, env={**os.environ, **(env or {})},
                            close_fds=True)
    os.close(slave)
    output = b""
    pending = list(answers)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        ready, _, _ = select.select([master], [], [], 0.1)
        if ready:
            try:
                chunk = os.read(master, 65536)
            except OSError:
                break
            if not chunk:
                break
            output += chunk
            if pending and chunk.rstrip().endswith(b":"):
                os.write(master, pending.pop(0).encode() + b"\n")
        elif proc.poll() is not None:
            break
    proc.wait(timeout=5)
    os.close(master)
    return proc.returncode, output.decode("utf-8", errors="replace").replace("\r\n", "\n")


@pytest.fixture
def choice_recipe(run, tmp_path: Path) -> None:
    source = tmp_path / "r.yaml"
    source.write_text(recipe_yaml(
        "pick-one",
        template="{{ host }} at {{ level }}\n",
        variables=("variables:\n  host:\n    description: The host\n"
                   "  level:\n    description: How bad\n    choices: [low, high]\n"),
    ))
    assert run("add", "--file", str(source)).returncode == 0


def test_missing_values_are_asked_for_with_description_and_choices(choice_recipe):
    code, screen = run_on_tty(["render", "pick-one"], ["web-1", "urgent", "high"])
    assert code == 0, screen
    assert "host (The host):" in screen
    assert "level (How bad) [low/high]:" in screen
    assert "choose one of: low, high" in screen
    assert screen.rstrip().endswith("web-1 at high")


def test_no_input_never_asks(choice_recipe):
    code, screen = run_on_tty(["render", "pick-one", "--no-input"])
    assert code == 4
    assert "pick-one needs a value for: host (The host); level (How bad)" in screen


def test_copy_on_a_terminal_uses_osc52(choice_recipe):
    code, screen = run_on_tty(["render", "pick-one", "-v", "host=a", "-v", "level=low", "--copy"],
                              env={"PATH": f"{Path(sys.executable).parent}:/usr/bin"})
    assert code == 0, screen
    import base64

    assert "\x1b]52;c;" + base64.b64encode(b"a at low\n").decode() + "\x07" in screen
    assert "copied 9 characters to the clipboard (OSC 52 terminal escape)" in screen
    assert "a at low\n" not in screen.replace("\x07", "\n")  # not printed as well


def test_errors_are_coloured_on_a_terminal_unless_no_color(choice_recipe):
    _, coloured = run_on_tty(["show", "nope-nope"])
    assert "\x1b[31;1merror:\x1b[0m" in coloured
    _, plain = run_on_tty(["show", "nope-nope"], env={"NO_COLOR": "1"})
    assert "\x1b[" not in plain
    assert "error: no recipe named 'nope-nope'" in plain
