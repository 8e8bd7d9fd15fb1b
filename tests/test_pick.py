"""`promptlib pick` on a real terminal: keys typed in, the screen read back (tests/tmux.py)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from promptlib import paths
from promptlib.cli.picker import finder_words
from tests.conftest import recipe_yaml
from tests.tmux import Tmux, needs_tmux

KUBECTL = ("Name:         checkout-6d8f9b7c4-qx2lp\n"
           "Namespace:    shop\n"
           "Last State:   Terminated\n"
           "  Reason:     OOMKilled\n"
           "  Exit Code:  137")


@pytest.fixture
def terminal(run, tmp_path: Path) -> Iterator[callable]:
    assert run("init").returncode == 0
    opened: list[Tmux] = []

    def start(*args: str, shell_prefix: str = "") -> Tmux:
        command = [sys.executable, "-m", "promptlib", "pick", *args]
        if shell_prefix:
            command = ["sh", "-c", f"{shell_prefix} {' '.join(command)}"]
        term = Tmux(command, env={**os.environ, "NO_COLOR": "1"}, cwd=tmp_path)
        opened.append(term)
        return term

    yield start
    for term in opened:
        term.close()


def usage_records() -> list[dict[str, object]]:
    log = paths.usage_log()
    return [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []


@needs_tmux
def test_crashloop_enter_paste_enter_prints_the_kubernetes_prompt(terminal):
    term = terminal()
    term.wait_for("pick>")
    term.type("crashloop")
    term.wait_for("Diagnose a Kubernetes pod in CrashLoopBackOff")  # the preview, too
    term.type("Enter")
    term.wait_for("output (Combined output of")
    term.paste(KUBECTL)
    term.type("Enter")
    assert term.exit_status() == 0
    screen = term.screen(history=True)
    assert "You are a Kubernetes platform engineer." in screen
    assert "<kubectl_output>\nName:         checkout-6d8f9b7c4-qx2lp" in screen
    assert "  Exit Code:  137\n</kubectl_output>" in screen
    assert [r["id"] for r in usage_records()] == ["local/kubernetes-crashloop"]
    assert usage_records()[0]["via"] == "pick"


@needs_tmux
def test_esc_leaves_with_130_and_prints_nothing(terminal, tmp_path):
    out = tmp_path / "stdout.txt"
    term = terminal(shell_prefix=f"exec >{out};")
    term.wait_for("pick>")
    term.type("crashloop")
    term.wait_for("kubernetes-crashloop")
    term.type("Escape")
    assert term.exit_status() == 130
    assert out.read_text() == ""
    assert usage_records() == []


@needs_tmux
def test_arrows_and_ctrl_n_p_move_the_highlight(terminal):
    term = terminal("log")
    screen = term.wait_for("local/log-parsing-script")
    assert "pick> log" in screen  # the query given on the command line
    first = next(line for line in screen.splitlines() if line.startswith("›"))
    second_question = "sample (Twenty or more" if "log-triage" in first else "logs (Log excerpt"
    term.type("Down", "Up", "C-n", "C-p", "C-n")  # one down, in the end
    term.type("Enter")
    term.wait_for(second_question)
    term.type("Escape")
    assert term.exit_status() == 130


@needs_tmux
def test_piped_stdin_fills_the_stdin_variable(terminal, tmp_path):
    log = tmp_path / "describe.txt"
    log.write_text(KUBECTL + "\n")
    out = tmp_path / "stdout.txt"
    term = terminal("crashloop", shell_prefix=f"exec <{log} >{out};")
    term.wait_for("kubernetes-crashloop")
    term.type("Enter")
    assert term.exit_status() == 0
    text = out.read_text()
    assert text.startswith("You are a Kubernetes platform engineer.")
    assert "  Reason:     OOMKilled\n" in text


@needs_tmux
def test_a_choice_is_a_menu_and_a_wrong_value_is_refused(terminal, run, tmp_path):
    source = tmp_path / "r.yaml"
    source.write_text(recipe_yaml(
        "pick-one", template="{{ host }} at {{ level }}\n",
        variables=("variables:\n  host:\n    description: The host\n"
                   "  level:\n    description: How bad\n    choices: [low, high]\n")))
    assert run("add", "--file", str(source)).returncode == 0
    out = tmp_path / "stdout.txt"
    term = terminal("pick-one", shell_prefix=f"exec >{out};")
    term.wait_for("local/pick-one")
    term.type("Enter")
    term.wait_for("host (The host):")
    term.type("web-1", "Enter")
    screen = term.wait_for("level (How bad):")
    term.wait_for(" high ")  # the menu, open before anything is typed
    term.type("urgent", "Enter")
    term.wait_for("choose one of: low, high")
    term.type("C-u", "high", "Enter")
    assert term.exit_status() == 0, screen
    assert out.read_text() == "web-1 at high\n"


@needs_tmux
def test_copy_puts_the_prompt_on_the_clipboard_instead(terminal, tmp_path):
    log = tmp_path / "describe.txt"
    log.write_text(KUBECTL + "\n")
    out = tmp_path / "stdout.txt"
    term = terminal("crashloop", "--copy", shell_prefix=f"exec <{log} >{out};")
    term.wait_for("kubernetes-crashloop")
    term.type("Enter")
    assert term.exit_status() == 0
    assert "copied " in term.wait_for("characters to the clipboard (OSC 52 terminal escape)")
    assert out.read_text() == ""
    assert [r["via"] for r in usage_records()] == ["pick"]


@needs_tmux
def test_ctrl_c_at_a_question_leaves_with_130(terminal, tmp_path):
    out = tmp_path / "stdout.txt"
    term = terminal("crashloop", shell_prefix=f"exec >{out};")
    term.wait_for("kubernetes-crashloop")
    term.type("Enter")
    term.wait_for("output (Combined output of")
    term.type("C-c")
    assert term.exit_status() == 130
    assert out.read_text() == ""
    assert usage_records() == []


def test_without_a_terminal_pick_refuses_in_one_line():
    done = subprocess.run([sys.executable, "-m", "promptlib", "pick", "logs"],
                          stdin=subprocess.DEVNULL, capture_output=True, text=True,
                          start_new_session=True, timeout=60, check=False)
    assert done.returncode == 2, done.stderr
    assert done.stdout == ""
    assert done.stderr.splitlines()[0] == "error: pick needs a terminal to choose on"
    assert "Traceback" not in done.stderr


@pytest.mark.parametrize(("typed", "words"), [
    ("", []),
    ("crashl", ["crashl*"]),
    ("disk ful", ["disk", "ful*"]),
    ("disk full ", ["disk", "full"]),
    ("tag:logs", ["tag:logs"]),
    ('"stack trace"', ['"stack', 'trace"']),
])
def test_the_word_being_typed_is_a_prefix(typed, words):
    assert finder_words(typed) == words
