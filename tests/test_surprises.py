"""The four surprises of issue 12, each gone: a name that stopped working after `share`, piped
input dropped without a word, `--version` unknown — and TAB doing nothing is test_completion.py."""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

import pytest

from promptlib import __version__
from tests.conftest import recipe_yaml, write_tree

TWO_VARS = recipe_yaml("two-var", template="{{ a }} and {{ b }}\n",
                       variables="variables:\n  a:\n    description: A\n"
                                 "  b:\n    description: B\n")


@pytest.fixture
def two_var(run, tmp_path: Path) -> None:
    source = tmp_path / "two-var.yaml"
    source.write_text(TWO_VARS)
    assert run("add", "--file", str(source)).returncode == 0


# --- piped input is never silently dropped -------------------------------------------------------


def test_a_piped_log_no_variable_takes_is_refused(run, two_var):
    done = run("render", "two-var", "-v", "a=1", "-v", "b=2", input="ERROR app crashed\n")
    assert done.returncode == 4, done.stderr
    assert done.stdout == ""
    assert "stdin holds input, but no variable of two-var takes it" in done.stderr
    assert "-v NAME=-" in done.stderr


def test_the_typer_path_refuses_it_too(cli, two_var):
    result = cli("render", "two-var", "-v", "a=1", "-v", "b=2", "--max-chars", "99",
                 input="ERROR app crashed\n")
    assert result.exit_code == 4, result.output
    assert "no variable of two-var takes it" in result.output


def test_a_file_redirected_in_is_refused(run, two_var, tmp_path):
    log = tmp_path / "app.log"
    log.write_text("ERROR app crashed\n")
    with log.open("rb") as stdin:
        done = subprocess.run([sys.executable, "-m", "promptlib", "render", "two-var", "-v",
                               "a=1", "-v", "b=2"], stdin=stdin, capture_output=True, text=True,
                              timeout=60, check=False)
    assert done.returncode == 4, done.stderr
    assert done.stdout == ""


@pytest.mark.parametrize("piped", ["", "\n  \n"])
def test_an_empty_or_blank_pipe_is_no_input(run, two_var, piped):
    done = run("render", "two-var", "-v", "a=1", "-v", "b=2", input=piped)
    assert done.returncode == 0, done.stderr
    assert done.stdout == "1 and 2\n"


def test_dev_null_is_no_input(run, two_var):
    done = run("render", "two-var", "-v", "a=1", "-v", "b=2")  # run() gives /dev/null
    assert done.returncode == 0, done.stderr


def test_an_open_pipe_that_never_closes_does_not_hang_render(run, two_var):
    proc = subprocess.Popen([sys.executable, "-m", "promptlib", "render", "two-var", "-v",
                             "a=1", "-v", "b=2"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    try:
        out, err = _wait_open(proc)
    finally:
        assert proc.stdin is not None
        proc.stdin.close()
    assert proc.returncode == 0, err
    assert out == "1 and 2\n"


def _wait_open(proc: subprocess.Popen[str]) -> tuple[str, str]:
    """Wait for the process without closing its stdin."""
    deadline = time.monotonic() + 60
    while proc.poll() is None:
        if time.monotonic() > deadline:
            proc.kill()
            raise AssertionError("render waited on a stdin no variable needs")
        time.sleep(0.05)
    assert proc.stdout is not None
    assert proc.stderr is not None
    return proc.stdout.read(), proc.stderr.read()


def test_a_set_stdin_variable_with_an_open_pipe_does_not_hang(run):
    proc = subprocess.Popen([sys.executable, "-m", "promptlib", "render", "log-triage", "-v",
                             "logs=given", "--no-input"], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        out, err = _wait_open(proc)
    finally:
        assert proc.stdin is not None
        proc.stdin.close()
    assert proc.returncode == 0, err
    assert "given" in out


# --- bare names after share ---------------------------------------------------------------------


@pytest.fixture
def sre(run, tmp_path: Path) -> Path:
    assert run("init").returncode == 0
    remote = tmp_path / "sre.git"
    subprocess.run(["git", "init", "--bare", "--quiet", "-b", "main", str(remote)], check=True)
    assert run("team", "add", "sre", str(remote)).returncode == 0
    return remote


def test_a_bare_name_still_works_after_share(run, sre):
    assert run("share", "local/log-triage", "--to", "sre").returncode == 0
    done = run("render", "log-triage", "-v", "logs=boom", "--no-input")
    assert done.returncode == 0, done.stderr
    assert "log-triage: using local/log-triage (copies of the same recipe are in sre/log-triage)" \
        in done.stderr
    assert "boom" in done.stdout
    shown = run("show", "log-tri", "--json")  # a prefix too
    assert shown.returncode == 0, shown.stderr
    assert json.loads(shown.stdout)["id"] == "local/log-triage"


def test_the_default_collection_s_copy_wins(run, sre, home):
    assert run("share", "local/log-triage", "--to", "sre").returncode == 0
    (home / "config.yaml").write_text("default_collection: sre\n")
    shown = run("show", "log-triage", "--json")
    assert shown.returncode == 0, shown.stderr
    assert json.loads(shown.stdout)["id"] == "sre/log-triage"
    assert "copies of the same recipe are in local/log-triage" in shown.stderr


def test_identical_content_counts_as_a_copy(run, sre, home):
    clone = home / "collections" / "sre"
    source = home / "collections" / "local" / "incident-response" / "log-triage.yaml"
    write_tree(clone, {"incident-response/log-triage.yaml": source.read_text()})
    shown = run("show", "log-triage", "--json")
    assert shown.returncode == 0, shown.stderr
    assert json.loads(shown.stdout)["id"] == "local/log-triage"


def test_unrelated_recipes_with_one_name_stay_ambiguous(run, sre, home, tmp_path):
    other = tmp_path / "log-triage.yaml"
    other.write_text(recipe_yaml("log-triage"))
    assert run("add", "--file", str(other), "--to", "sre").returncode == 0
    done = run("render", "log-triage", "-v", "logs=x", "--no-input")
    assert done.returncode == 3
    assert "local/log-triage" in done.stderr
    assert "sre/log-triage" in done.stderr
    assert done.stdout == ""


# --- --version, --help, and promptlib alone ---------------------------------------------------


def test_version(run):
    done = run("--version")
    assert done.returncode == 0, done.stderr
    assert done.stdout == f"promptlib {__version__}\n"


def test_version_json_for_bug_reports(run):
    done = run("--version", "--json")
    assert done.returncode == 0, done.stderr
    info = json.loads(done.stdout)
    assert info["version"] == __version__
    assert info["python"] == platform.python_version()
    assert info["git"][0].isdigit()
    assert info["platform"]


def test_help_lists_everyday_commands_then_sharing_then_metrics(run):
    done = run("--help")
    assert done.returncode == 0, done.stderr
    text = done.stdout
    order = [text.index(f"\n  {name} ") for name in
             ("search", "render", "pick", "add", "show", "list", "pull", "push", "share",
              "win", "report")]
    assert order == sorted(order)
    assert (text.index("\nEvery day:") < text.index("\nSharing with teams:")
            < text.index("\nMeasuring adoption:"))


def test_promptlib_alone_on_a_terminal_points_at_pick():
    from tests.test_tty import run_on_tty

    code, screen = run_on_tty([])
    assert code == 0, screen
    assert "Usage: promptlib" in screen
    assert "promptlib pick" in screen.splitlines()[-1] or "promptlib pick" in screen


def test_promptlib_alone_in_a_script_is_a_usage_error(run):
    done = run()
    assert done.returncode == 2
    assert "pick" not in done.stdout



# --- the core of it, directly ----------------------------------------------------------------


def test_input_waiting_never_waits():
    import io

    from promptlib.render.reading import input_waiting

    read_end, write_end = os.pipe()
    with os.fdopen(read_end, "rb", buffering=0) as stream:
        assert not input_waiting(stream)  # open, silent: no, at once
        os.write(write_end, b"  \n")
        assert not input_waiting(stream)  # blanks are no input
        os.write(write_end, b"ERROR boom\n")
        assert input_waiting(stream)
        os.close(write_end)
    assert input_waiting(io.BytesIO(b"log line\n"))
    assert not input_waiting(io.BytesIO(b""))


def test_copies_resolve_in_the_core_with_a_note(run, sre):
    from promptlib.catalog import lookup
    from promptlib.utils import notes

    assert run("share", "local/log-triage", "--to", "sre").returncode == 0
    told: list[str] = []
    with notes.listening(told.append):
        assert lookup.find("log-triage").id == "local/log-triage"
    assert told == ["log-triage: using local/log-triage (copies of the same recipe are in "
                    "sre/log-triage)"]
