"""The search fast path in `promptlib.cli.main`: it parses a plain `search` by hand, never imports
Typer, and must print exactly what the Typer command prints."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from promptlib.cli import SearchArgs, parse_search_args
from tests.conftest import write_tree


@pytest.mark.parametrize(("args", "expected"), [
    (["logs"], SearchArgs(["logs"], [], [], 20, False)),
    (["a", "--tag", "x", "b", "-t", "y", "--tag=z"], SearchArgs(["a", "b"], ["x", "y", "z"],
                                                              [], 20, False)),
    (["--team", "sre", "--team=ops", "--json", "q"], SearchArgs(["q"], [], ["sre", "ops"], 20,
                                                               True)),
    (["-n", "3", "--limit=4", "q"], SearchArgs(["q"], [], [], 4, False)),
    (["--", "--json", "-x"], SearchArgs(["--json", "-x"], [], [], 20, False)),
    (["-", "q"], SearchArgs(["-", "q"], [], [], 20, False)),
    ([], SearchArgs([], [], [], 20, False)),
])
def test_plain_searches_are_parsed(args, expected):
    assert parse_search_args(args) == expected


@pytest.mark.parametrize("args", [
    ["--help"], ["logs", "-h"], ["--limit", "0"], ["--limit", "x"], ["--limit=-1"], ["--tag"],
    ["--tag", "--json"], ["--unknown"], ["-tX"], ["--json=1"], ["-n"],
])
def test_anything_unusual_falls_through_to_typer(args):
    assert parse_search_args(args) is None


def fast(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "promptlib", "search", *args],
                          capture_output=True, text=True, env={**os.environ},
                          stdin=subprocess.DEVNULL, check=False, timeout=60)


CASES = [
    ["logs"],
    ["stack trace", "--limit", "3"],
    ["logs", "--json", "-n", "2"],
    ["kubrenetes"],
    ["--tag", "ticket-deflection"],
    ["tag:incident-response", "pod*"],
    ["qwxzvvb"],
    ["logs", "--team", "nope"],
    ["logs", "--team", "Bad_Name"],
]


@pytest.mark.parametrize("args", CASES)
def test_fast_path_prints_what_the_typer_command_prints(cli, home, args):
    cli("list")
    write_tree(home / "collections" / "local", {"x/broken.yaml": "name: broken\n"})
    fast("warm-up")  # build the index, so both runs below read the same one
    via_typer = cli("search", *args)
    via_fast = fast(*args)
    assert (via_fast.returncode, via_fast.stdout, via_fast.stderr) == (
        via_typer.exit_code, via_typer.stdout, via_typer.stderr)


def test_help_and_usage_errors_go_through_typer(home):
    helped = fast("--help")
    assert helped.returncode == 0
    assert "Usage: promptlib search" in helped.stdout
    bad = fast("--limit", "0")
    assert bad.returncode == 2
    assert "--limit" in bad.stderr
