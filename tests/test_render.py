"""render: where values come from, how they are bounded and cleaned, and exactly what is printed."""

from __future__ import annotations

import io
import json
import shutil
from pathlib import Path

import pytest

from promptlib import recipe
from promptlib.errors import InvalidError, UsageError
from promptlib.render import fill as core
from promptlib.render import reading as render_input
from tests.conftest import recipe_yaml

TWO_VARS = recipe.loads(recipe_yaml(
    "two-vars",
    template="Service {{ service }} at {{ level }}:\n{{ body }}\n",
    variables=("variables:\n  service:\n    description: The service\n"
               "  body:\n    description: The text\n"
               "  level:\n    choices: [low, high]\n    default: low\n"),
))
STDIN_MARKED = recipe.loads(recipe_yaml(
    "marked",
    template="{{ title }}\n{{ logs }}\n",
    variables=("variables:\n  title:\n    default: none\n"
               "  logs:\n    description: The log\n    stdin: true\n"),
))


def gather(r: recipe.Recipe, *items: str, piped: str | bytes | None = None,
           max_chars: int | None = None) -> core.Inputs:
    data = piped.encode() if isinstance(piped, str) else piped or b""
    return core.gather(r, list(items), stdin=io.BytesIO(data), stdin_is_tty=piped is None,
                       max_chars=max_chars)


def test_literal_file_and_stdin_assignments(tmp_path: Path):
    f = tmp_path / "body.txt"
    f.write_text("from a file")
    inputs = gather(TWO_VARS, "service=api", f"body=@{f}")
    assert inputs.values == {"service": "api", "body": "from a file"}
    assert inputs.sources == {"service": "flag", "body": "file"}
    inputs = gather(TWO_VARS, "service=api", "body=-", piped="from stdin")
    assert inputs.values["body"] == "from stdin"


def test_piped_stdin_fills_the_marked_variable():
    assert gather(STDIN_MARKED, piped="boom").values == {"logs": "boom"}


def test_piped_stdin_fills_the_only_unset_required_variable():
    assert gather(TWO_VARS, "service=api", piped="text").values["body"] == "text"


def test_piped_stdin_with_two_candidates_is_an_error():
    with pytest.raises(InvalidError, match="could fill any of: service, body"):
        gather(TWO_VARS, piped="text")


def test_empty_piped_stdin_is_no_value():
    assert gather(STDIN_MARKED, piped="").values == {}
    assert [v.name for v in core.missing(STDIN_MARKED, gather(STDIN_MARKED, piped=""))] == [
        "logs"]


def test_unknown_variable_and_bad_assignment():
    with pytest.raises(InvalidError, match="two-vars has no variable 'nope' \\(it takes: "
                                           "service, body, level\\)"):
        gather(TWO_VARS, "nope=1")
    with pytest.raises(UsageError, match="expected NAME=VALUE"):
        gather(TWO_VARS, "novalue")


def test_unreadable_file_names_the_variable(tmp_path: Path):
    with pytest.raises(InvalidError, match=r"-v body=@.*: cannot read the file"):
        gather(TWO_VARS, f"body=@{tmp_path / 'missing.txt'}")


def test_missing_variables_are_all_named_with_descriptions():
    with pytest.raises(InvalidError) as info:
        core.render(TWO_VARS, "local/two-vars", gather(TWO_VARS))
    assert str(info.value) == ("two-vars needs a value for: service (The service); "
                               "body (The text)")


def test_choices_are_enforced():
    inputs = gather(TWO_VARS, "service=a", "body=b", "level=urgent")
    with pytest.raises(InvalidError, match="level='urgent' is not allowed; choose one of: "
                                           "low, high"):
        core.render(TWO_VARS, "local/two-vars", inputs)


def test_values_are_data_never_template():
    inputs = gather(TWO_VARS, "service={{ 7*7 }}", "body={% for x in range(3) %}x{% endfor %}")
    text = core.render(TWO_VARS, "local/two-vars", inputs).text
    assert text == "Service {{ 7*7 }} at low:\n{% for x in range(3) %}x{% endfor %}\n"


def test_control_characters_are_stripped_but_newlines_and_tabs_kept():
    inputs = gather(TWO_VARS, "service=a\x1b[31mred\x1b[0m\x07", "body=line1\r\nline2\tx\x00")
    text = core.render(TWO_VARS, "local/two-vars", inputs).text
    assert text == "Service a[31mred[0m at low:\nline1\nline2\tx\n"


@pytest.mark.parametrize(
    ("mode", "expected"),
    [
        ("head", "0123456789\n[… promptlib cut 10 characters here …]\n"),
        ("tail", "[… promptlib cut 10 characters here …]\nabcdefghij"),
        ("middle", "01234\n[… promptlib cut 10 characters here …]\nfghij"),
    ],
)
def test_truncation_keeps_what_the_mode_says_and_marks_the_cut(mode: str, expected: str):
    assert core.truncate("0123456789abcdefghij", 10, mode) == (expected, 10)


def test_piped_input_gets_the_default_bound_and_the_report_says_so():
    inputs = gather(STDIN_MARKED, piped="x" * 50)
    result = core.render(STDIN_MARKED, "local/marked", inputs, max_chars=20)
    assert result.truncated == {"logs": 30}
    assert "[… promptlib cut 30 characters here …]\n" + "x" * 20 in result.text
    marker = len("[… promptlib cut 30 characters here …]\n")
    assert result.variables == {"title": {"source": "default", "chars": 4},
                                "logs": {"source": "stdin", "chars": 20 + marker}}


# --- the command, as a real process --------------------------------------------------------------


def test_stack_trace_is_printed_exactly_as_given(run):
    trace = "Traceback (most recent call last):\n  {{ 7*7 }}\n"
    result = run("render", "stack-trace-explain", "--no-input", input=trace)
    assert result.returncode == 0, result.stderr
    assert "<stack_trace>\n" + trace in result.stdout
    assert "49" not in result.stdout
    assert result.stderr == ""


def test_stdout_is_exactly_the_prompt(run, tmp_path: Path):
    source = tmp_path / "r.yaml"
    source.write_text(recipe_yaml(template="Disk on {{ host }} is full.\n"))
    assert run("add", "--file", str(source)).returncode == 0
    result = run("render", "disk-full", "-v", "host=web-1", "--no-input")
    assert result.returncode == 0, result.stderr
    assert result.stdout == "Disk on web-1 is full.\n"


def test_missing_values_without_a_terminal_exit_4_naming_them(run):
    result = run("render", "log-triage", "--no-input")
    assert result.returncode == 4
    assert result.stdout == ""
    assert "log-triage needs a value for: logs (" in result.stderr


def test_json_output(run):
    result = run("render", "log-triage", "--json", "-v", "service=api", input="OOMKilled\n")
    assert result.returncode == 0, result.stderr
    doc = json.loads(result.stdout)
    assert set(doc) == {"id", "text", "redactions", "truncated", "variables", "commit"}
    assert doc["commit"] is None  # the file on disk; NAME@REV gives the version's commit
    assert doc["id"] == "local/log-triage"
    assert "OOMKilled" in doc["text"]
    assert doc["variables"]["logs"]["source"] == "stdin"
    assert doc["variables"]["service"]["source"] == "flag"


def test_copy_without_clipboard_or_terminal_warns_and_prints(run, tmp_path: Path):
    only_git = tmp_path / "bin"
    only_git.mkdir()
    (only_git / "git").symlink_to(shutil.which("git") or "/usr/bin/git")
    result = run("render", "log-triage", "--copy", input="OOMKilled\n",
                 env={"PATH": str(only_git), "DISPLAY": "", "WAYLAND_DISPLAY": ""})
    assert result.returncode == 0, result.stderr
    assert "OOMKilled" in result.stdout
    assert "no clipboard tool and no terminal" in result.stderr


def test_typo_suggests_and_prefix_renders(run):
    typo = run("render", "log-traige", "--no-input")
    assert typo.returncode == 3
    assert "did you mean: log-triage?" in typo.stderr
    prefix = run("render", "log-tri", "--no-input", input="boom\n")
    assert prefix.returncode == 0, prefix.stderr
    assert "boom" in prefix.stdout


# --- bounded reading -----------------------------------------------------------------------------


@pytest.mark.parametrize(("mode", "kept"), [
    ("head", "a" * 10 + "b" * 3),
    ("tail", "b" * 7 + "c" * 6),
    ("middle", "a" * 10 + "b" * 4 + "c" * 6),
])
def test_read_bounded_keeps_the_bound_plus_margins(monkeypatch, mode: str, kept: str):
    monkeypatch.setattr(render_input, "MARGIN_CHARS", 3)
    monkeypatch.setattr(render_input, "CHUNK_BYTES", 4)
    stream = io.BytesIO(b"a" * 10 + b"b" * 10 + b"c" * 6)
    limit = {"head": 10, "tail": 10, "middle": 14}[mode]
    text, dropped, complete = render_input.read_bounded(stream, limit, mode)
    assert text == kept
    assert dropped == 26 - len(kept)
    assert complete


def test_read_bounded_replaces_bad_bytes_and_keeps_split_characters():
    data = "é".encode() * 5 + b"\xff" + "ü".encode()
    stream = io.BytesIO(data)
    assert render_input.read_bounded(stream, 100, "tail") == ("ééééé\ufffdü", 0, True)


def test_has_content_treats_blank_input_as_no_value():
    assert render_input.has_content(io.BytesIO(b" \n\t\n")) is None
    assert render_input.has_content(io.BytesIO(b"\n x")) == b"\n x"


def test_a_huge_pipe_is_read_with_bounded_memory_and_the_cut_reported():
    big = "line of log\n" * 500_000  # 6 MB
    inputs = gather(STDIN_MARKED, piped=big)
    assert len(inputs.values["logs"]) <= core.DEFAULT_STDIN_MAX_CHARS + render_input.MARGIN_CHARS
    result = core.render(STDIN_MARKED, "local/marked", inputs)
    assert result.truncated == {"logs": len(big) - core.DEFAULT_STDIN_MAX_CHARS}
    assert f"[… promptlib cut {len(big) - core.DEFAULT_STDIN_MAX_CHARS} characters here …]" in (
        result.text)
    assert result.text.endswith("line of log\n\n")


def test_a_secret_at_the_edge_of_a_bounded_read_is_still_redacted():
    secret = "AKIA" + "Q7LZ4XW2M9KD3P8R"
    piped = "x" * 300_000 + " " + secret + " " + "y" * (core.DEFAULT_STDIN_MAX_CHARS - 10)
    result = core.render(STDIN_MARKED, "local/marked", gather(STDIN_MARKED, piped=piped))
    assert secret[:6] not in result.text
    assert "QQQQQQ" not in result.text


def test_render_from_an_endless_file_stops_and_stays_small(run):
    result = run("render", "log-triage", "-v", "logs=@/dev/zero", "--no-input", "--json",
                 timeout=120)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["truncated"]["logs"] > 200 << 20
    assert "cut at least" in result.stderr
