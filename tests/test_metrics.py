"""Wins, the usage log and usage publishing (metrics*.py, usage_log.py, `win`, `team usage`)."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
import yaml
from typer.testing import Result

from promptlib import paths as config
from promptlib.errors import InvalidError
from promptlib.metrics import files as metrics_files
from promptlib.metrics import usage as metrics_usage
from promptlib.metrics import usage_log
from promptlib.metrics import wins as metrics
from promptlib.store import collections as store
from tests.conftest import recipe_yaml, write_tree

Cli = Callable[..., Result]


def git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(repo), *args], capture_output=True, text=True,
                          check=True).stdout


def local() -> Path:
    return config.collection_dir("local")


@pytest.fixture
def disk_full(cli: Cli) -> str:
    """An empty home with one recipe, `local/disk-full`."""
    assert cli("init", "--empty").exit_code == 0
    result = cli("add", "--file", "-", input=recipe_yaml("disk-full"))
    assert result.exit_code == 0, result.output
    return "local/disk-full"


# --- durations ------------------------------------------------------------------------------------


@pytest.mark.parametrize(("text", "seconds"), [
    ("90s", 90), ("25m", 1500), ("2h", 7200), ("1h30m", 5400), ("1h 30m", 5400),
    ("1H30M", 5400), ("1h30m15s", 5415), ("0h5m", 300), (" 45m ", 2700), ("100h", 360000),
])
def test_parse_duration(text: str, seconds: int) -> None:
    assert metrics.parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["", "25", "m", "25x", "1.5h", "-5m", "0m", "0s", "30m1h",
                                  "1d", "25 minutes", "101h", "h30m", "1h30"])
def test_bad_durations_are_refused(text: str) -> None:
    with pytest.raises(InvalidError) as info:
        metrics.parse_duration(text)
    assert info.value.exit_code == 4


def test_a_bare_number_gets_a_hint_about_units() -> None:
    with pytest.raises(InvalidError) as info:
        metrics.parse_duration("25")
    assert info.value.hint == "add a unit: e.g. 25m"


@pytest.mark.parametrize(("minutes", "text"), [
    (25, "25m"), (90, "1h 30m"), (120, "2h"), (1.5, "1m 30s"), (0, "0m"), (300, "5h"),
    (61.25, "1h 1m 15s"),
])
def test_format_minutes(minutes: float, text: str) -> None:
    assert metrics.format_minutes(minutes) == text


# --- win ------------------------------------------------------------------------------------------


def test_win_writes_one_small_yaml_file_and_commits_it(cli: Cli, disk_full: str) -> None:
    before = int(git(local(), "rev-list", "--count", "HEAD"))
    result = cli("win", "disk", "--saved", "1h30m", "--note", "Freed 40 GB before the page")
    assert result.exit_code == 0, result.output
    assert result.stdout == ""
    assert "recorded a win for local/disk-full: 1h 30m saved" in result.stderr
    files = sorted((local() / "wins").iterdir())
    assert len(files) == 1
    assert re.fullmatch(r"\d{4}-\d\d-\d\d-\d{6}-author-example-test-disk-full-[0-9a-f]{6}\.yaml",
                        files[0].name)
    doc = yaml.safe_load(files[0].read_text())
    assert doc["recipe"] == "local/disk-full"
    assert doc["minutes"] == 90
    assert doc["note"] == "Freed 40 GB before the page"
    assert doc["author"] == "Test Author <author@example.test>"
    assert doc["email"] == "author@example.test"
    assert datetime.fromisoformat(doc["at"]).tzinfo is not None
    assert int(git(local(), "rev-list", "--count", "HEAD")) == before + 1
    assert git(local(), "log", "-1", "--format=%s").strip() == "Win: disk-full saved 1h 30m"
    assert git(local(), "show", "--name-only", "--format=", "HEAD").split() == [
        f"wins/{files[0].name}"]
    assert git(local(), "status", "--porcelain") == ""


def test_win_json_and_fractional_minutes(cli: Cli, disk_full: str) -> None:
    result = cli("win", "local/disk-full", "--saved", "90s", "--json")
    doc = json.loads(result.stdout)
    assert (doc["recipe"], doc["minutes"], doc["note"], doc["collection"]) == (
        "local/disk-full", 1.5, "", "local")
    assert doc["path"].startswith("wins/")


def test_two_wins_in_the_same_second_never_share_a_file(disk_full: str) -> None:
    at = datetime(2024, 5, 1, 10, 0, tzinfo=UTC)
    first = metrics.record_win("disk-full", "5m", at=at)
    second = metrics.record_win("disk-full", "5m", at=at)
    assert first.relpath != second.relpath
    assert len(list((local() / "wins").iterdir())) == 2


def test_win_keeps_the_offset_it_was_given(disk_full: str) -> None:
    at = datetime(2024, 5, 1, 23, 30, tzinfo=timezone(timedelta(hours=-7)))
    recorded = metrics.record_win("disk-full", "5m", at=at)
    assert recorded.win.at == "2024-05-01T23:30:00-07:00"
    assert recorded.win.day == "2024-05-01"
    assert recorded.relpath.startswith("wins/2024-05-01-233000-")


@pytest.mark.parametrize(("args", "code"), [
    (["disk-full", "--saved", "25"], 4), (["disk-full", "--saved", "soon"], 4),
    (["nosuch", "--saved", "25m"], 3), (["disk-full"], 2),
    (["disk-full", "--saved", "5m", "--note", "x" * 1001], 4),
    (["disk-full", "--saved", "5m", "--note", "token ghp_" + "a1B2" * 9], 4),
])
def test_win_errors_write_and_commit_nothing(cli: Cli, disk_full: str, args: list[str],
                                             code: int) -> None:
    before = git(local(), "rev-parse", "HEAD")
    result = cli("win", *args)
    assert result.exit_code == code, result.output
    assert not (local() / "wins").exists()
    assert git(local(), "rev-parse", "HEAD") == before


def test_win_note_is_cleaned_to_one_line(disk_full: str) -> None:
    recorded = metrics.record_win("disk-full", "5m", "line one\n\tline\x1b[31m two  ")
    assert recorded.win.note == "line one line [31m two"


def test_wins_are_not_recipes(cli: Cli, disk_full: str) -> None:
    metrics.record_win("disk-full", "5m")
    listed = json.loads(cli("list", "--json").stdout)
    assert [r["id"] for r in listed] == ["local/disk-full"]


def test_load_wins_rebuilds_ids_against_the_collection_it_sits_in(disk_full: str) -> None:
    write_tree(local(), {
        "wins/a.yaml": "recipe: sre/log-triage\nminutes: 10\nat: 2024-05-01T10:00:00Z\n",
        "wins/b.yaml": "recipe: [a, b]\nminutes: 10\nat: '2024-05-01'\n",
        "wins/c.yaml": "recipe: x\nminutes: true\nat: '2024-05-01'\n",
        "wins/d.yaml": "- just a list\n",
        "wins/nested/e.yaml": "recipe: y\nminutes: 2.5\nat: '2024-05-02T10:00:00+02:00'\n",
        "wins/notes.txt": "not yaml at all",
    })
    wins, problems = metrics.load_wins(store.collection("local"))
    assert [(w.recipe, w.minutes, w.day) for w in sorted(wins, key=lambda w: w.recipe)] == [
        ("local/log-triage", 10, "2024-05-01"), ("local/y", 2.5, "2024-05-02")]
    assert sorted(p.split(":")[0] for p in problems) == [
        "local/wins/b.yaml", "local/wins/c.yaml", "local/wins/d.yaml"]


# --- the usage log --------------------------------------------------------------------------------


def test_render_appends_one_line_without_values(cli: Cli, disk_full: str) -> None:
    result = cli("render", "disk-full", "-v", "host=db-secret-host-7")
    assert result.exit_code == 0
    lines = config.usage_log().read_text().splitlines()
    assert len(lines) == 1
    entry = json.loads(lines[0])
    assert set(entry) == {"time", "id", "collection", "person", "via"}
    assert (entry["id"], entry["collection"], entry["person"], entry["via"]) == (
        "local/disk-full", "local", "author@example.test", "cli")
    assert datetime.fromisoformat(entry["time"]).tzinfo is not None
    assert "db-secret-host-7" not in config.usage_log().read_text()


def test_a_failed_render_is_not_logged(cli: Cli, disk_full: str) -> None:
    assert cli("render", "disk-full", "--no-input").exit_code == 4  # `host` missing
    assert cli("render", "nosuch").exit_code == 3
    assert not config.usage_log().exists()


def test_render_json_and_copy_fallback_are_logged_too(cli: Cli, disk_full: str) -> None:
    cli("render", "disk-full", "-v", "host=a", "--json")
    cli("render", "disk-full", "-v", "host=a", "--copy")
    assert len(config.usage_log().read_text().splitlines()) == 2


def test_person_is_null_without_git_author_email(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GIT_AUTHOR_EMAIL")
    assert usage_log.append("local/x", "local", at="2024-05-01T10:00:00+00:00")
    assert json.loads(config.usage_log().read_text()) == {
        "time": "2024-05-01T10:00:00+00:00", "id": "local/x", "collection": "local",
        "person": None, "via": "cli"}


def test_an_unwritable_log_never_fails_the_caller(tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    monkeypatch.setattr(config, "usage_log", lambda: blocker / "state" / "usage.jsonl")
    assert usage_log.append("local/x", "local") is False


def test_timestamp_has_an_offset() -> None:
    stamp = usage_log.timestamp(0)
    parsed = datetime.fromisoformat(stamp)
    assert parsed.tzinfo is not None
    assert parsed.timestamp() == 0


def test_concurrent_appends_lose_and_tear_nothing(home: Path) -> None:
    code = ("import sys\nfrom promptlib.metrics import usage_log\n"
            "for i in range(300):\n"
            "    usage_log.append(f'local/recipe-{sys.argv[1]}-{i:03d}' + 'x' * 200, 'local')\n")
    procs = [subprocess.Popen([sys.executable, "-c", code, str(n)]) for n in range(6)]
    assert all(p.wait(timeout=60) == 0 for p in procs)
    lines = config.usage_log().read_bytes().splitlines()
    assert len(lines) == 6 * 300
    ids = {json.loads(line)["id"] for line in lines}
    assert len(ids) == 6 * 300
    assert len(metrics_usage.read_log()) == 6 * 300


def test_read_log_skips_torn_and_foreign_lines(home: Path) -> None:
    config.usage_log().parent.mkdir(parents=True)
    config.usage_log().write_text(
        '{"time":"2024-05-01T10:00:00+00:00","id":"sre/a","collection":"sre","person":null}\n'
        '{"time":"2024-05-01T1\n'
        "[1, 2]\n"
        '{"time":"2024-05-02T10:00:00+00:00","id":"sre/b","collection":"sre","person":"p@x"}\n')
    assert metrics_usage.read_log() == [metrics_usage.Render("2024-05-01", "sre/a", "sre", None),
                                  metrics_usage.Render("2024-05-02", "sre/b", "sre", "p@x")]


# --- publishing -----------------------------------------------------------------------------------


def test_publishing_is_off_by_default_and_publishes_nothing(cli: Cli, disk_full: str) -> None:
    cli("render", "disk-full", "-v", "host=a")
    assert metrics_usage.publishing("local") is False
    assert metrics_usage.publish_usage("local") == []
    assert not (local() / "usage").exists()
    result = cli("team", "usage", "local")
    assert result.exit_code == 0
    assert "usage publishing is off" in result.stderr


def test_team_usage_publish_on_writes_daily_counts_and_commits(cli: Cli, disk_full: str) -> None:
    for at in ("2024-05-01T09:00:00+00:00", "2024-05-01T17:00:00+00:00",
               "2024-05-02T09:00:00+00:00"):
        usage_log.append("local/disk-full", "local", at=at)
    usage_log.append("local/other", "local", at="2024-05-02T10:00:00+00:00")
    usage_log.append("sre/disk-full", "sre", at="2024-05-02T10:00:00+00:00")  # not this one
    result = cli("team", "usage", "local", "--publish", "on", "--json")
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    machine = config.usage_machine_id().read_text().strip()
    assert doc["publishing"] is True
    assert doc["published"] == [f"usage/2024-05-01-author-example-test-{machine}.yaml",
                                f"usage/2024-05-02-author-example-test-{machine}.yaml"]
    second = json.loads((local() / doc["published"][1]).read_text())
    assert second == {"date": "2024-05-02", "person": "author@example.test",
                      "machine": machine, "renders": {"disk-full": 1, "other": 1}}
    assert yaml.safe_load((local() / doc["published"][0]).read_text())["renders"] == {
        "disk-full": 2}
    assert git(local(), "log", "-1", "--format=%s").strip() == "Publish usage counts (2 files)"
    assert git(local(), "status", "--porcelain") == ""
    assert "publish_usage: true" in config.config_file().read_text()
    # Publishing again changes nothing; a new render today updates only that day's file.
    again = json.loads(cli("team", "usage", "local", "--json").stdout)
    assert again["published"] == []
    assert again["commit"] is None
    usage_log.append("local/disk-full", "local", at="2024-05-02T11:00:00+00:00")
    third = json.loads(cli("team", "usage", "local", "--json").stdout)
    assert third["published"] == [doc["published"][1]]


def test_team_usage_off_stops_publishing(cli: Cli, disk_full: str) -> None:
    usage_log.append("local/disk-full", "local", at="2024-05-01T09:00:00+00:00")
    cli("team", "usage", "local", "--publish", "on")
    result = cli("team", "usage", "local", "--publish", "off", "--json")
    assert json.loads(result.stdout)["publishing"] is False
    assert metrics_usage.publishing("local") is False
    usage_log.append("local/disk-full", "local", at="2024-05-03T09:00:00+00:00")
    assert metrics_usage.publish_usage("local") == []


def test_publishing_can_be_turned_on_in_config(cli: Cli, disk_full: str) -> None:
    config.config_file().write_text("collections:\n  local:\n    publish_usage: true\n")
    assert metrics_usage.publishing("local") is True
    usage_log.append("local/disk-full", "local", at="2024-05-01T09:00:00+00:00")
    assert len(metrics_usage.publish_usage("local")) == 1


def test_team_usage_errors(cli: Cli, disk_full: str) -> None:
    assert cli("team", "usage", "nosuch", "--publish", "on").exit_code == 3
    assert cli("team", "usage", "local", "--publish", "yes").exit_code == 2
    assert not config.config_file().exists()  # nothing was turned on


def test_person_less_log_entries_are_published_as_the_git_identity(
        disk_full: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GIT_AUTHOR_EMAIL")
    usage_log.append("local/disk-full", "local", at="2024-05-01T09:00:00+00:00")
    monkeypatch.setenv("GIT_AUTHOR_EMAIL", "Someone.Else@Example.test")
    usage_log.append("local/disk-full", "local", at="2024-05-01T10:00:00+00:00")
    monkeypatch.delenv("GIT_AUTHOR_EMAIL")
    metrics_usage.set_publishing("local", True)
    paths = metrics_usage.publish_usage("local")
    people = sorted(json.loads((local() / p).read_text())["person"] for p in paths)
    assert people == ["author@example.test", "someone.else@example.test"]


def test_machine_id_is_stable(home: Path) -> None:
    assert metrics_usage.machine_id_if_any() is None
    first = metrics_usage.machine_id()
    assert metrics_usage.machine_id() == first
    assert metrics_usage.machine_id_if_any() == first
    assert len(first) == 8


# --- with team sync: push carries the counts, team list shows the setting -------------------------


def test_push_publishes_usage_and_team_list_shows_it(cli: Cli, tmp_path: Path) -> None:
    seed, remote = tmp_path / "seed", tmp_path / "remote.git"
    git(tmp_path, "init", "--quiet", "--initial-branch=main", str(seed))
    write_tree(seed, {"incident-response/disk-full.yaml": recipe_yaml("disk-full")})
    git(seed, "add", "--all")
    git(seed, "commit", "--quiet", "-m", "Add disk-full")
    git(tmp_path, "clone", "--quiet", "--bare", str(seed), str(remote))
    assert cli("init", "--empty").exit_code == 0
    assert cli("team", "add", "sre", str(remote)).exit_code == 0

    def listed() -> dict[str, object]:
        rows = json.loads(cli("team", "list", "--json").stdout)
        assert [row["name"] for row in rows] == ["sre"]
        return dict(rows[0])

    assert listed()["publish_usage"] is False
    assert re.search(r"^sre\s.*\sprivate\s", cli("team", "list").stdout, re.MULTILINE)

    assert cli("render", "sre/disk-full", "-v", "host=a").exit_code == 0
    assert cli("team", "usage", "sre", "--publish", "on").exit_code == 0
    assert listed()["publish_usage"] is True
    assert re.search(r"^sre\s.*\spublished\s", cli("team", "list").stdout, re.MULTILINE)

    assert cli("render", "sre/disk-full", "-v", "host=b").exit_code == 0
    pushed = cli("push", "sre")
    assert pushed.exit_code == 0, pushed.output
    files = git(remote, "ls-tree", "--name-only", "main", "usage/").split()
    assert len(files) == 1
    doc = json.loads(git(remote, "show", f"main:{files[0]}"))
    assert doc["renders"] == {"disk-full": 2}
    assert doc["person"] == "author@example.test"
    subjects = git(remote, "log", "--format=%s", "main").splitlines()
    assert subjects[:2] == ["Publish usage counts (1 file)"] * 2


# --- hostile win and usage files: a pull brings them, nothing in them may crash `report` ----------

_AT = "at: '2024-05-01T10:00:00+00:00'\n"
_WIN = "recipe: sre/log-triage\n"
HOSTILE_WINS: dict[str, str | bytes] = {
    "nan": f"{_WIN}minutes: .nan\n{_AT}",
    "inf": f"{_WIN}minutes: .inf\n{_AT}",
    "minus-inf": f"{_WIN}minutes: -.inf\n{_AT}",
    "float-overflow": f"{_WIN}minutes: 1.0e+999\n{_AT}",
    "huge-int": f"{_WIN}minutes: 99999999999999999999\n{_AT}",
    "above-the-bound": f"{_WIN}minutes: {metrics.MAX_WIN_MINUTES + 1}\n{_AT}",
    "zero": f"{_WIN}minutes: 0\n{_AT}",
    "negative": f"{_WIN}minutes: -5\n{_AT}",
    "text-minutes": f"{_WIN}minutes: '25'\n{_AT}",
    "list-minutes": f"{_WIN}minutes: [25]\n{_AT}",
    "null-minutes": f"{_WIN}minutes: null\n{_AT}",
    "bool-minutes": f"{_WIN}minutes: true\n{_AT}",
    "no-minutes": f"{_WIN}{_AT}",
    "json-nan": '{"recipe": "sre/x", "minutes": NaN, "at": "2024-05-01T10:00:00+00:00"}',
    "json-infinity": '{"recipe": "sre/x", "minutes": 1e999, "at": "2024-05-01"}',
    "json-huge-int": '{"recipe": "sre/x", "minutes": ' + "9" * 4000 + ', "at": "2024-05-01"}',
    "int-too-long": f"{_WIN}minutes: {'9' * 5000}\n{_AT}",
    "no-at": f"{_WIN}minutes: 5\n",
    "at-list": f"{_WIN}minutes: 5\nat: [2024-05-01]\n",
    "at-junk": f"{_WIN}minutes: 5\nat: '2024-05-01 and then some'\n",
    "at-not-a-date": f"{_WIN}minutes: 5\nat: yesterday\n",
    "at-year-1": f"{_WIN}minutes: 5\nat: '0001-01-01T00:00:00'\n",
    "at-year-9999": f"{_WIN}minutes: 5\nat: 9999-12-31\n",
    "at-compact-form": f"{_WIN}minutes: 5\nat: '20240501'\n",
    "at-week-form": f"{_WIN}minutes: 5\nat: '2024-W18-1'\n",
    "no-recipe": f"minutes: 5\n{_AT}",
    "empty-recipe": f"recipe: ''\nminutes: 5\n{_AT}",
    "recipe-ends-in-slash": f"recipe: 'sre/'\nminutes: 5\n{_AT}",
    "recipe-escape-codes": f"recipe: \"sre/\\e[2J\\e[31mred\"\nminutes: 5\n{_AT}",
    "recipe-markup": f"recipe: 'sre/[bold]x[/bold]'\nminutes: 5\n{_AT}",
    "recipe-huge": f"recipe: {'a' * 100_000}\nminutes: 5\n{_AT}",
    "recipe-mapping": f"recipe: {{a: 1}}\nminutes: 5\n{_AT}",
    "note-list": f"{_WIN}minutes: 5\n{_AT}note: [a, b]\n",
    "note-too-long": f"{_WIN}minutes: 5\n{_AT}note: {'x' * 1001}\n",
    "author-mapping": f"{_WIN}minutes: 5\n{_AT}author: {{a: b}}\n",
    "author-huge": f"{_WIN}minutes: 5\n{_AT}author: {'x' * 10_000}\n",
    "email-number": f"{_WIN}minutes: 5\n{_AT}email: 5\n",
    "email-huge": f"{_WIN}minutes: 5\n{_AT}email: {'x' * 10_000}@example.test\n",
    "a-list": "- just a list\n",
    "a-number": "42\n",
    "null": "null\n",
    "empty": "",
    "binary": b"\xff\xfe\x00\x01garbage\x00",
    "not-yaml": "recipe: [unclosed\n",
    "alias-bomb": ("a: &a [x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a]\n"
                   "c: &c [*b, *b, *b, *b, *b, *b, *b, *b]\nd: &d [*c, *c, *c, *c, *c, *c, *c]\n"
                   f"recipe: *d\nnote: *d\nminutes: 5\n{_AT}"),
    "deep-flow": "[" * 100_000,
    "deep-json": '{"a": ' * 50_000 + "1" + "}" * 50_000,
    "too-large": f"{_WIN}minutes: 5\n{_AT}note: |\n" + "  x\n" * 100_000,
    "python-tag": f"{_WIN}minutes: !!python/object/apply:os.system ['true']\n{_AT}",
}


@pytest.mark.parametrize("key", sorted(HOSTILE_WINS))
def test_a_hostile_win_file_is_a_problem_never_a_crash(home: Path, key: str) -> None:
    store.init_home(empty=True)
    write_tree(local(), {f"wins/{key}.yaml": HOSTILE_WINS[key]})
    wins, problems = metrics.load_wins(store.collection("local"))
    assert wins == []
    assert len(problems) == 1
    assert problems[0].startswith(f"local/wins/{key}.yaml: ")


def test_wins_at_the_bounds_are_kept(home: Path) -> None:
    store.init_home(empty=True)
    write_tree(local(), {
        "wins/most.yaml": f"{_WIN}minutes: {metrics.MAX_WIN_MINUTES}\n{_AT}",
        "wins/least.yaml": f"{_WIN}minutes: 0.02\nat: 2024-05-01 10:00:00\n",
        "wins/zulu.yaml": f"{_WIN}minutes: 5\nat: 2024-05-01T23:00:00Z\n",
        "wins/note.yaml": (f"{_WIN}minutes: 5\n{_AT}note: \"two\\nlines\\e[31m\"\n"
                           "author: \"A\\tB\"\n"),
    })
    wins, problems = metrics.load_wins(store.collection("local"))
    assert problems == []
    by_minutes = sorted((w.minutes, w.day, w.note, w.author) for w in wins)
    assert by_minutes == [(0.02, "2024-05-01", "", ""), (5, "2024-05-01", "", ""),
                          (5, "2024-05-01", "two lines [31m", "A B"),
                          (metrics.MAX_WIN_MINUTES, "2024-05-01", "", "")]


_USAGE = '"date": "2024-05-01", "person": "bob@example.test", "machine": "aaaa1111"'
HOSTILE_USAGE: dict[str, str | bytes] = {
    "renders-nan": '{' + _USAGE + ', "renders": {"x": NaN}}',
    "renders-float": '{' + _USAGE + ', "renders": {"x": 2.5}}',
    "renders-negative": '{' + _USAGE + ', "renders": {"x": -3}}',
    "renders-zero": '{' + _USAGE + ', "renders": {"x": 0}}',
    "renders-bool": '{' + _USAGE + ', "renders": {"x": true}}',
    "renders-huge": '{' + _USAGE + ', "renders": {"x": ' + "9" * 4000 + '}}',
    "renders-above-the-bound": ('{' + _USAGE + ', "renders": {"x": '
                                f'{metrics_files.MAX_RENDERS_PER_DAY + 1}' + '}}'),
    "renders-list": '{' + _USAGE + ', "renders": [1, 2]}',
    "renders-missing": '{' + _USAGE + '}',
    "renders-bad-name": '{' + _USAGE + ', "renders": {"\\u001b[2J": 1}}',
    "renders-long-name": '{' + _USAGE + ', "renders": {"' + "a" * 100_000 + '": 1}}',
    "renders-int-key": "date: '2024-05-01'\nperson: bob@example.test\nrenders: {1: 1}\n",
    "date-missing": '{"person": "bob@example.test", "renders": {"x": 1}}',
    "date-bad": '{"date": "2024-13-01", "person": "p@x", "renders": {"x": 1}}',
    "date-number": '{"date": 20240501, "person": "p@x", "renders": {"x": 1}}',
    "date-compact": '{"date": "20240501", "person": "p@x", "renders": {"x": 1}}',
    "date-year-1": '{"date": "0001-01-01", "person": "p@x", "renders": {"x": 1}}',
    "date-year-9999": '{"date": "9999-12-31", "person": "p@x", "renders": {"x": 1}}',
    "person-missing": '{"date": "2024-05-01", "renders": {"x": 1}}',
    "person-list": '{"date": "2024-05-01", "person": ["p"], "renders": {"x": 1}}',
    "person-empty": '{"date": "2024-05-01", "person": "", "renders": {"x": 1}}',
    "person-huge": '{"date": "2024-05-01", "person": "' + "p" * 10_000 + '", "renders": {}}',
    "machine-list": '{"date": "2024-05-01", "person": "p@x", "machine": [1], "renders": {}}',
    "machine-odd": '{"date": "2024-05-01", "person": "p@x", "machine": "../..", "renders": {}}',
    "a-list": "[1, 2, 3]",
    "deep-json": '{"a": ' * 50_000 + "1" + "}" * 50_000,
    "binary": b"{\xff\xfe}",
}


@pytest.mark.parametrize("key", sorted(HOSTILE_USAGE))
def test_a_hostile_usage_file_is_a_problem_never_a_crash(home: Path, key: str) -> None:
    store.init_home(empty=True)
    write_tree(local(), {f"usage/{key}.yaml": HOSTILE_USAGE[key]})
    counts, problems = metrics_usage.load_usage(store.collection("local"))
    assert counts == []
    assert len(problems) == 1
    assert problems[0].startswith(f"local/usage/{key}.yaml: ")


def test_a_problem_names_an_odd_file_name_without_its_control_characters(home: Path) -> None:
    store.init_home(empty=True)
    write_tree(local(), {"wins/\x1b[2Jodd\n.yaml": "42\n"})
    _, problems = metrics.load_wins(store.collection("local"))
    assert len(problems) == 1
    assert "\x1b" not in problems[0]
    assert "\n" not in problems[0]
    assert "odd" in problems[0]


@pytest.mark.parametrize("line", [
    '{"time":"2024-05-01T10:00:00+00:00","id":"sre/a","collection":"sre","person":[1]}',
    '{"time":"2024-05-01T10:00:00+00:00","id":"sre/a","collection":"sre","person":5}',
    '{"time":"2024-05-01T10:00:00+00:00","id":["sre/a"],"collection":"sre","person":null}',
    '{"time":"2024-05-01T10:00:00+00:00","id":"sre/a","collection":{},"person":null}',
    '{"time":20240501,"id":"sre/a","collection":"sre","person":null}',
    '{"time":"yesterday","id":"sre/a","collection":"sre","person":null}',
    '{"time":"2024-W18-1T10","id":"sre/a","collection":"sre","person":null}',
    "[" * 100_000,
    "\xff\xfe",
    "NaN",
])
def test_read_log_skips_hostile_lines(home: Path, line: str) -> None:
    config.usage_log().parent.mkdir(parents=True)
    config.usage_log().write_bytes(
        line.encode("utf-8", "surrogateescape") + b"\n"
        b'{"time":"2024-05-02T10:00:00+00:00","id":"sre/b","collection":"sre","person":"P@x"}\n')
    assert metrics_usage.read_log() == [metrics_usage.Render("2024-05-02", "sre/b", "sre", "P@x")]


def test_win_saved_above_the_bound_exits_4(cli: Cli, disk_full: str) -> None:
    limit_hours = metrics.MAX_WIN_MINUTES // 60
    result = cli("win", "disk-full", "--saved", f"{limit_hours + 1}h")
    assert result.exit_code == 4
    assert f"more than {limit_hours} hours" in result.stderr
    assert not (local() / "wins").exists()
    assert cli("win", "disk-full", "--saved", f"{limit_hours}h").exit_code == 0


def test_what_win_and_publishing_write_they_read_back_even_for_an_odd_identity(
        disk_full: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GIT_AUTHOR_NAME", "N\x1b[31m" + "n" * 400)
    monkeypatch.setenv("GIT_AUTHOR_EMAIL", "e" * 300 + "@example.test")
    metrics.record_win("disk-full", "5m", at=datetime(2024, 5, 1, 10, tzinfo=UTC))
    usage_log.append("local/disk-full", "local", at="2024-05-01T09:00:00+00:00")
    metrics_usage.set_publishing("local", True)
    assert len(metrics_usage.publish_usage("local")) == 1
    wins, problems = metrics.load_wins(store.collection("local"))
    assert problems == []
    assert len(wins) == 1
    assert "\x1b" not in wins[0].author
    counts, problems = metrics_usage.load_usage(store.collection("local"))
    assert problems == []
    assert counts[0].renders == {"disk-full": 1}


def test_a_win_on_a_local_recipe_does_not_suggest_push(cli: Cli, disk_full: str) -> None:
    result = cli("win", "disk-full", "--saved", "5m")
    assert result.exit_code == 0, result.output
    assert "push" not in result.stderr
    assert "recorded locally" in result.stderr
    assert "local has no remote" in result.stderr
    doc = json.loads(cli("win", "disk-full", "--saved", "5m", "--json").stdout)
    assert doc["remote"] is False


def test_a_win_on_a_team_recipe_suggests_push(cli: Cli, tmp_path: Path) -> None:
    seed, remote = tmp_path / "seed", tmp_path / "remote.git"
    git(tmp_path, "init", "--quiet", "--initial-branch=main", str(seed))
    write_tree(seed, {"incident-response/log-triage.yaml": recipe_yaml("log-triage")})
    git(seed, "add", "--all")
    git(seed, "commit", "--quiet", "-m", "Add log-triage")
    git(tmp_path, "clone", "--quiet", "--bare", str(seed), str(remote))
    assert cli("init", "--empty").exit_code == 0
    assert cli("team", "add", "sre", str(remote)).exit_code == 0
    result = cli("win", "log-triage", "--saved", "5m")
    assert result.exit_code == 0, result.output
    assert "it travels with `promptlib push sre`" in result.stderr
    doc = json.loads(cli("win", "log-triage", "--saved", "5m", "--json").stdout)
    assert doc["remote"] is True
