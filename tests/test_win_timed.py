"""`win NAME --before 45m --after 15m`: how long the task took without the recipe and with it,
the saving their difference; bad pairs refused with nothing written; the files read back."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest
from typer.testing import Result

from promptlib.metrics import wins as metrics
from promptlib.report import facts
from promptlib.store import collections as store
from tests.conftest import write_tree
from tests.test_metrics import disk_full, git, local

Cli = Callable[..., Result]
__all__ = ["disk_full"]  # a fixture, shared with test_metrics


def test_win_before_after_records_both_and_the_difference(cli: Cli, disk_full: str) -> None:
    result = cli("win", "disk-full", "--before", "45m", "--after", "15m", "--note", "Runbook")
    assert result.exit_code == 0, result.output
    assert "recorded a win for local/disk-full: 30m saved (45m → 15m)" in result.stderr
    (path,) = (local() / "wins").iterdir()
    text = path.read_text()
    assert "minutes: 30\nbefore: 45\nafter: 15\nnote: Runbook\n" in text
    wins, problems = metrics.load_wins(store.collection("local"))
    assert problems == []
    assert [(w.minutes, w.before, w.after, w.ratio) for w in wins] == [(30, 45, 15, 1 / 3)]


def test_win_json_carries_before_and_after(cli: Cli, disk_full: str) -> None:
    result = cli("win", "disk-full", "--before", "1h30m", "--after", "90s", "--json")
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert (doc["minutes"], doc["before"], doc["after"]) == (88.5, 90, 1.5)


def test_saved_alone_writes_no_before_or_after(cli: Cli, disk_full: str) -> None:
    assert cli("win", "disk-full", "--saved", "25m").exit_code == 0
    (path,) = (local() / "wins").iterdir()
    assert "before" not in path.read_text()


def test_saved_with_a_matching_pair_is_accepted(cli: Cli, disk_full: str) -> None:
    result = cli("win", "disk-full", "--saved", "30m", "--before", "45m", "--after", "15m")
    assert result.exit_code == 0, result.output


@pytest.mark.parametrize(("args", "message"), [
    (["--before", "15m", "--after", "45m"], "--after 45m is not shorter than --before 15m"),
    (["--before", "15m", "--after", "15m"], "is not shorter than"),
    (["--before", "45m"], "--before needs --after"),
    (["--after", "15m"], "--after needs --before"),
    (["--before", "45", "--after", "15m"], "bad --before duration '45'"),
    (["--before", "45m", "--after", "soon"], "bad --after duration 'soon'"),
    (["--before", "45m", "--after", "0m"], "a task takes more than nothing"),
    (["--before", "101h", "--after", "1h"], "more than 100 hours"),
    (["--saved", "20m", "--before", "45m", "--after", "15m"],
     "--saved 20m is not --before 45m minus --after 15m (30m)"),
])
def test_a_bad_pair_exits_4_and_writes_nothing(cli: Cli, disk_full: str, args: list[str],
                                               message: str) -> None:
    head = git(local(), "rev-parse", "HEAD")
    result = cli("win", "disk-full", *args)
    assert result.exit_code == 4, result.output
    assert message in result.stderr
    assert not (local() / "wins").exists()
    assert git(local(), "rev-parse", "HEAD") == head


def test_no_saving_at_all_is_a_usage_error(cli: Cli, disk_full: str) -> None:
    result = cli("win", "disk-full")
    assert result.exit_code == 2
    assert "--before 45m --after 15m" in result.stderr


_WIN = "recipe: local/disk-full\nat: '2024-05-01T10:00:00+00:00'\n"


@pytest.mark.parametrize(("body", "why"), [
    ("minutes: 30\nbefore: 45\n", "before and after go together"),
    ("minutes: 30\nafter: 15\n", "before and after go together"),
    ("minutes: 30\nbefore: 15\nafter: 45\n", "after must be less than before"),
    ("minutes: 10\nbefore: 45\nafter: 15\n", "minutes must be before minus after"),
    ("minutes: 30\nbefore: .nan\nafter: 15\n", "before must be a number"),
    ("minutes: 30\nbefore: '45'\nafter: 15\n", "before must be a number"),
])
def test_a_pulled_win_with_a_bad_pair_is_a_problem(disk_full: str, body: str, why: str) -> None:
    write_tree(local(), {"wins/w.yaml": _WIN + body})
    wins, problems = metrics.load_wins(store.collection("local"))
    assert wins == []
    assert problems == [f"local/wins/w.yaml: not a win ({why}"
                        + (" above 0 and at most 6,000)" if "number" in why else ")")]


def test_rounded_minutes_still_make_a_pair(disk_full: str) -> None:
    recorded = metrics.record_win("disk-full", None, before="100s", after="50s")
    assert (recorded.win.before, recorded.win.after, recorded.win.minutes) == (1.67, 0.83, 0.83)
    wins, problems = metrics.load_wins(store.collection("local"))
    assert (len(wins), problems) == (1, [])


# --- the use case, read from the files by one grep ------------------------------------------------


def test_first_tags_from_git_grep_output() -> None:
    out = "\n".join([
        "a/block.yaml\0tags:", "a/block.yaml\0- incident-response", "--",
        "a/flow.yaml\0tags: [ticket-deflection, logs]  # comment", "--",
        "a/quoted.yaml\0tags: ['script-generation']", "--",
        "a/spaced.yaml\0tags:", "a/spaced.yaml\0  - \"customer-support\"  # why", "--",
        "a/odd.yaml\0tags:", "a/odd.yaml\0# a comment first", "--",
        "a/shared.yaml\0shared_from: sre/shared  # by share", "a/shared.yaml\0tags: [sre]",
        "wins/w.yaml\0tags: [not-a-recipe]",
    ])
    found = facts.parse_grep(out)
    assert found.use_case == {"a/block.yaml": "incident-response",
                              "a/flow.yaml": "ticket-deflection",
                              "a/quoted.yaml": "script-generation",
                              "a/spaced.yaml": "customer-support",
                              "a/odd.yaml": facts.UNKNOWN_USE_CASE, "a/shared.yaml": "sre"}
    assert found.shared_from == {"a/shared.yaml": "sre/shared"}


def test_a_first_tag_the_grep_cannot_read_is_read_from_the_file(cli: Cli) -> None:
    assert cli("init", "--empty").exit_code == 0
    write_tree(local(), {"odd/odd.yaml": "name: odd\ntags:\n# first the comment\n- odd-tag\n"})
    git(local(), "add", "--all")
    git(local(), "commit", "--quiet", "-m", "Add odd")
    assert facts.recipe_facts(store.collection("local")).use_case == {"odd/odd.yaml": "odd-tag"}
