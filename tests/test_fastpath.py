"""The fast paths in `promptlib.cli.main`: a plain `search`, `render` or `report` is parsed by
hand, never imports Typer, and must print exactly what the Typer command prints."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from promptlib.cli.fastpath import SearchArgs, parse_search_args
from promptlib.cli.render_flow import RenderArgs, parse_render_args
from promptlib.cli.report_flow import ReportArgs, parse_report_args
from tests import adoption_repo
from tests.adoption_repo import SINCE, UNTIL
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
    (["logs", "--explain", "--json"], SearchArgs(["logs"], [], [], 20, True, True)),
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
    ["k8s", "pod", "--explain"],
    ["customer", "threatening", "to", "leave"],
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


# --- render ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(("args", "expected"), [
    (["log-triage"], RenderArgs("log-triage", [])),
    (["x", "-v", "a=1", "--var", "b=@f", "--var=c=-"], RenderArgs("x", ["a=1", "b=@f", "c=-"])),
    (["x", "--copy", "--print", "--no-redact", "--redact-pii", "--no-input", "--json"],
     RenderArgs("x", [], copy=True, also_print=True, no_redact=True, redact_pii=True,
                no_input=True, as_json=True)),
    (["-c", "x", "--max-chars", "10", "--max-chars=20"], RenderArgs("x", [], copy=True,
                                                                    max_chars=20)),
    (["--", "-odd"], RenderArgs("-odd", [])),
])
def test_plain_renders_are_parsed(args, expected):
    assert parse_render_args(args) == expected


@pytest.mark.parametrize("args", [
    [], ["a", "b"], ["x", "--help"], ["x", "-h"], ["x", "-v"], ["x", "-va=1"],
    ["x", "--max-chars", "0"], ["x", "--max-chars", "many"], ["x", "--unknown"],
])
def test_unusual_renders_fall_through_to_typer(args):
    assert parse_render_args(args) is None


RENDER_CASES = [
    (["log-triage", "-v", "service=api", "--no-input"], "OOMKilled at 03:12\n"),
    (["log-triage", "--json", "--no-input"], "token=" + "s3cr3t" * 4 + "\n"),
    (["log-tri", "--no-input", "--max-chars", "5"], "0123456789\n"),
    (["log-traige", "--no-input"], ""),
    (["log-triage", "--no-input"], ""),
    (["log-triage", "-v", "severity=sev9", "--no-input"], "x\n"),
    (["log-triage@~0", "-v", "service=api", "--no-input", "--json"], "OOMKilled\n"),  # NAME@REV
    (["log-triage@nope", "--no-input"], "x\n"),
]


@pytest.mark.parametrize(("args", "stdin"), RENDER_CASES)
def test_render_fast_path_prints_what_the_typer_command_prints(cli, args, stdin):
    cli("list")
    via_typer = cli("render", *args, input=stdin)
    via_fast = subprocess.run([sys.executable, "-m", "promptlib", "render", *args], input=stdin,
                              capture_output=True, text=True, check=False, timeout=60)
    assert (via_fast.returncode, via_fast.stdout, via_fast.stderr) == (
        via_typer.exit_code, via_typer.stdout, via_typer.stderr)


def test_render_fast_path_never_imports_typer(home):
    code = ("import sys; sys.argv = ['promptlib', 'render', 'log-triage', '--no-input'];"
            "from promptlib.cli import main\n"
            "try:\n    main()\nexcept SystemExit:\n    pass\n"
            "print('typer' in sys.modules, file=sys.stderr)")
    done = subprocess.run([sys.executable, "-c", code], input="boom\n", capture_output=True,
                          text=True, check=False, timeout=60)
    assert done.stderr.strip().endswith("False"), done.stderr
    assert "boom" in done.stdout


# --- report ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(("args", "expected"), [
    ([], ReportArgs()),
    (["--json", "--since", "2024-04-01", "--until=2024-05-31", "--by", "month"],
     ReportArgs("2024-04-01", "2024-05-31", "month", (), True)),
    (["--team", "sre", "--team=support", "--since", "x", "--since", "2024-01-01"],
     ReportArgs("2024-01-01", teams=("sre", "support"))),
    (["--html", "out/r.html", "--by=week"], ReportArgs(html=Path("out/r.html"))),
])
def test_plain_reports_are_parsed(args, expected):
    assert parse_report_args(args) == expected


@pytest.mark.parametrize("args", [
    ["--help"], ["-h"], ["--by", "day"], ["--by", "WEEK"], ["--since"], ["--since", "-1"],
    ["--since="], ["--json=1"], ["--unknown"], ["extra"], ["--", "--json"], ["--team", "--json"],
])
def test_unusual_reports_fall_through_to_typer(args):
    assert parse_report_args(args) is None


REPORT_CASES = [
    ["--json", "--since", SINCE, "--until", UNTIL],
    ["--since", SINCE, "--until", UNTIL, "--by", "month"],  # the terminal view
    ["--json", "--team", "support", "--since", SINCE, "--until", UNTIL],
    ["--json"],
    ["--since", "2024-02-30"],  # not a day: exit 4
    ["--team", "nope"],  # exit 3
]


@pytest.mark.parametrize("args", REPORT_CASES)
def test_report_fast_path_prints_what_the_typer_command_prints(cli, monkeypatch, args):
    adoption_repo.build(monkeypatch)
    via_typer = cli("report", *args, env={"NO_COLOR": "1"})
    via_fast = subprocess.run([sys.executable, "-m", "promptlib", "report", *args],
                              capture_output=True, text=True, check=False, timeout=60,
                              env={**os.environ, "NO_COLOR": "1"})
    assert (via_fast.returncode, via_fast.stdout, via_fast.stderr) == (
        via_typer.exit_code, via_typer.stdout, via_typer.stderr)


def test_report_fast_path_writes_the_same_html(cli, monkeypatch, tmp_path):
    adoption_repo.build(monkeypatch)
    via_typer = cli("report", "--html", str(tmp_path / "typer.html"))
    via_fast = subprocess.run([sys.executable, "-m", "promptlib", "report", "--html",
                               str(tmp_path / "fast.html")], capture_output=True, text=True,
                              check=False, timeout=60)
    assert (via_fast.returncode, via_fast.stdout) == (via_typer.exit_code, via_typer.stdout)
    assert via_fast.stderr == via_typer.stderr.replace("typer.html", "fast.html")
    assert (tmp_path / "fast.html").read_text() == (tmp_path / "typer.html").read_text()
