"""`promptlib report`: exact figures from a home whose history is known (tests/adoption_repo.py),
the terminal view, periods, trends, filters and the history cache."""

from __future__ import annotations

import json
import os
import pty
import re
import select
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from typer.testing import Result

import tests.adoption_repo as repo
from promptlib import paths as config
from promptlib.errors import InvalidError
from promptlib.report import document as report
from promptlib.report import history as report_history
from promptlib.report import periods as report_periods
from promptlib.store import collections as store
from tests.adoption_repo import ME, PERIODS, SINCE, UNTIL
from tests.conftest import imports_of

Cli = Callable[..., Result]


@pytest.fixture
def built(monkeypatch: pytest.MonkeyPatch) -> dict[str, Path]:
    return repo.build(monkeypatch)


def report_json(cli: Cli, *args: str) -> dict[str, Any]:
    result = cli("report", "--json", "--since", SINCE, "--until", UNTIL, *args)
    assert result.exit_code == 0, result.output
    doc: dict[str, Any] = json.loads(result.stdout)
    return doc


# --- the exact figures ----------------------------------------------------------------------------


def test_report_json_headline_figures(built: dict[str, Path], cli: Cli) -> None:
    doc = report_json(cli)
    assert doc["periods"] == PERIODS
    assert (doc["current_period"], doc["previous_period"]) == ("2024-W21", "2024-W20")
    assert doc["collections"] == ["local", "sre", "support"]
    assert doc["recipes"] == 6  # sre: 4; support: 2 (refund-reply was removed)
    a, s, r = doc["adoption"], doc["sharing"], doc["roi"]
    assert (a["renderers"], a["renders"], a["contributors"]) == (3, 19, 3)
    assert a["publishing"] == {"local": False, "sre": True, "support": False}
    assert (s["shared_across_collections"], s["improved_by_others"],
            s["arrived_from_others"]) == (2, 2, 5)
    assert (r["total_minutes"], r["wins"]) == (300, 5)


def test_report_json_per_period(built: dict[str, Path], cli: Cli) -> None:
    doc = report_json(cli)
    adoption = {row["period"]: (row["renderers"], row["renders"], row["contributors"])
                for row in doc["adoption"]["per_period"]}
    sharing = {row["period"]: (row["shared"], row["improved"], row["arrived"])
               for row in doc["sharing"]["per_period"]}
    roi = {row["period"]: (row["minutes"], row["wins"]) for row in doc["roi"]["per_period"]}
    assert adoption == repo.ADOPTION_PER_PERIOD
    assert sharing == repo.SHARING_PER_PERIOD
    assert roi == repo.ROI_PER_PERIOD


def test_report_json_lists(built: dict[str, Path], cli: Cli) -> None:
    doc = report_json(cli)
    s, r = doc["sharing"], doc["roi"]
    assert s["shares"] == [
        {"id": "support/log-triage", "shared_from": "sre/log-triage", "date": "2024-04-15",
         "by": "carol@example.test"},
        {"id": "support/disk-full", "shared_from": "sre/disk-full", "date": "2024-05-14",
         "by": "bob@example.test"},
    ]
    assert s["improved"] == [{"id": "sre/log-triage", "by": 2}, {"id": "sre/oom-killer", "by": 1}]
    # Each row also says which versions saved the time (issue 15): they add up to the row.
    for row in r["by_recipe"]:
        assert sum(v["minutes"] for v in row.pop("versions")) == row["minutes"]
    assert r["by_recipe"] == [
        {"id": "sre/disk-full", "minutes": 120, "wins": 1},
        {"id": "sre/log-triage", "minutes": 115, "wins": 2},
        {"id": "sre/oom-killer", "minutes": 45, "wins": 1},
        {"id": "support/log-triage", "minutes": 20, "wins": 1},
    ]
    notes = [(n["id"], n["minutes"], n["note"], n["author"], n["date"]) for n in r["best_notes"]]
    assert notes == [
        ("sre/disk-full", 120, "Cleared the disk without paging anyone",
         "Alice Adams <alice@example.test>", "2024-05-22"),
        ("sre/log-triage", 90, "Whole incident review drafted before standup",
         "Bob Brown <bob@example.test>", "2024-04-11"),
        ("sre/log-triage", 25, "Found the OOM in two minutes",
         "Alice Adams <alice@example.test>", "2024-04-04"),
        ("support/log-triage", 20, "Customer reply <b>in one go</b>",
         "Bob Brown <bob@example.test>", "2024-05-09"),
    ]
    assert r["most_rendered"] == [
        {"id": "sre/log-triage", "renders": 7}, {"id": "support/log-triage", "renders": 6},
        {"id": "sre/oom-killer", "renders": 4}, {"id": "sre/disk-full", "renders": 2},
    ]


def test_report_json_trend_is_last_period_against_the_one_before(built: dict[str, Path],
                                                                  cli: Cli) -> None:
    doc = report_json(cli)
    assert doc["adoption"]["trend"] == {
        "renderers": {"current": 2, "previous": 1, "change": 1},
        "renders": {"current": 6, "previous": 5, "change": 1},
        "contributors": {"current": 0, "previous": 1, "change": -1},
        "rate": {"current": 0.6667, "previous": 0.3333, "change": 0.3334},  # of alice, bob, carol
    }
    assert doc["sharing"]["trend"]["shared"] == {"current": 0, "previous": 1, "change": -1}
    assert doc["roi"]["trend"]["minutes"] == {"current": 120, "previous": 0, "change": 120}


def test_report_by_month(built: dict[str, Path], cli: Cli) -> None:
    doc = report_json(cli, "--by", "month")
    assert doc["periods"] == ["2024-04", "2024-05"]
    roi = {row["period"]: row["minutes"] for row in doc["roi"]["per_period"]}
    assert roi == {"2024-04": 25 + 90 + 45, "2024-05": 20 + 120}
    adoption = {row["period"]: (row["renderers"], row["contributors"])
                for row in doc["adoption"]["per_period"]}
    assert adoption == {"2024-04": (3, 3), "2024-05": (3, 2)}  # in May alice only removed
    assert doc["roi"]["trend"]["minutes"] == {"current": 140, "previous": 160, "change": -20}


def test_report_team_filter(built: dict[str, Path], cli: Cli) -> None:
    doc = report_json(cli, "--team", "support")
    assert doc["collections"] == ["support"]
    assert doc["recipes"] == 2
    assert doc["sharing"]["shared_across_collections"] == 2
    assert doc["sharing"]["improved_by_others"] == 0
    assert doc["sharing"]["arrived_from_others"] == 3  # refund-reply, and both shares
    assert doc["roi"]["total_minutes"] == 20
    assert doc["adoption"]["renders"] == 6  # carol 5 published, alice 1 from the log
    assert doc["adoption"]["contributors"] == 2  # carol, bob


def test_report_window_excludes_events_outside_it(built: dict[str, Path], cli: Cli) -> None:
    result = cli("report", "--json", "--since", "2024-05-01", "--until", "2024-05-12")
    doc = json.loads(result.stdout)
    assert doc["periods"] == ["2024-W18", "2024-W19"]
    assert doc["roi"]["total_minutes"] == 20
    assert doc["adoption"]["contributors"] == 2  # carol (W18), bob (W19)
    assert doc["adoption"]["renders"] == 0
    assert doc["sharing"]["improved_by_others"] == 1
    # With the window reaching back to March, bob's first recipe arrives and his W13 renders count.
    wide = json.loads(cli("report", "--json", "--since", "2024-03-01", "--until", UNTIL).stdout)
    assert wide["sharing"]["arrived_from_others"] == 6
    assert wide["adoption"]["renders"] == 19 + 7


def test_report_you_decides_what_arrived_from_others(built: dict[str, Path], cli: Cli,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GIT_AUTHOR_EMAIL", "bob@example.test")
    doc = report_json(cli)
    # Everything not added by bob: alice's log-triage, carol's refund-reply, log-triage (share)
    # and cert-expiry.
    assert doc["sharing"]["arrived_from_others"] == 4


def test_the_log_replaces_this_machines_published_files(built: dict[str, Path], cli: Cli) -> None:
    published = sorted((built["sre"] / "usage").glob("2024-04-02-alice-*.yaml"))
    assert len(published) == 1
    assert json.loads(published[0].read_text())["renders"] == {"log-triage": 1}
    # A new machine id (the log was wiped, say): the published file counts, the log is gone.
    config.usage_log().unlink()
    config.usage_machine_id().unlink()
    doc = report_json(cli)
    assert doc["adoption"]["per_period"][0]["renders"] == 1
    assert doc["adoption"]["renders"] == 19 - 4 + 1


# --- the terminal view ----------------------------------------------------------------------------


def test_report_terminal_shows_three_sections_with_bars(built: dict[str, Path], cli: Cli) -> None:
    result = cli("report", "--since", SINCE, "--until", UNTIL)
    assert result.exit_code == 0
    out = result.stdout
    for heading in ("Voluntary adoption", "Peer sharing", "Concrete ROI"):
        assert heading in out
    assert "█" in out
    assert "time saved: 5h in 5 wins" in out
    assert "people rendering: 3" in out
    assert "shared across collections: 2" in out
    assert "“Cleared the disk without paging anyone”" in out
    assert "sre/disk-full" in out
    assert "\x1b[" not in out  # not a terminal: no escape codes at all


def _run_on_pty(args: list[str], env: dict[str, str]) -> str:
    leader, follower = pty.openpty()
    proc = subprocess.Popen([sys.executable, "-m", "promptlib", *args], stdin=subprocess.DEVNULL,
                            stdout=follower, stderr=subprocess.PIPE, env=env)
    os.close(follower)
    chunks = []
    while True:
        ready, _, _ = select.select([leader], [], [], 30)
        if not ready:
            break
        try:
            data = os.read(leader, 65536)
        except OSError:  # EIO: the other side closed
            break
        if not data:
            break
        chunks.append(data)
    os.close(leader)
    assert proc.wait(timeout=30) == 0
    return b"".join(chunks).decode("utf-8", errors="replace")


def test_report_on_a_terminal_is_coloured_unless_no_color(built: dict[str, Path]) -> None:
    env = {**os.environ, "COLUMNS": "120"}
    env.pop("NO_COLOR", None)
    coloured = _run_on_pty(["report", "--since", SINCE, "--until", UNTIL], env)
    assert "Concrete ROI" in coloured
    assert "█" in coloured
    assert re.search(r"\x1b\[[0-9;]*3[0-7]m", coloured)  # a foreground colour
    plain = _run_on_pty(["report", "--since", SINCE, "--until", UNTIL], {**env, "NO_COLOR": "1"})
    assert "█" in plain
    assert not re.search(r"\x1b\[[0-9;]*(3[0-8]|9[0-7])[;m]", plain)


# --- errors and edges -----------------------------------------------------------------------------


@pytest.mark.parametrize("args", [["--since", "2024-13-01"], ["--until", "yesterday"],
                                  ["--since", "2024-05-02", "--until", "2024-05-01"]])
def test_report_bad_dates_exit_4(cli: Cli, args: list[str]) -> None:
    result = cli("report", "--json", *args)
    assert result.exit_code == 4
    assert result.stdout == ""


def test_report_unknown_team_exits_3(cli: Cli) -> None:
    assert cli("report", "--team", "nosuch").exit_code == 3


def test_report_on_a_fresh_home_is_all_zero(cli: Cli) -> None:
    doc = json.loads(cli("report", "--json", "--until", "2024-05-26").stdout)
    assert len(doc["periods"]) == 12
    assert doc["periods"][-1] == "2024-W21"
    assert doc["roi"] == {**doc["roi"], "total_minutes": 0, "wins": 0, "by_recipe": []}
    assert doc["adoption"]["contributors"] == 0  # seeding `local` is not a contribution
    assert doc["recipes"] == sum(1 for _ in config.starter_library().rglob("*.yaml"))


def test_window_periods() -> None:
    assert report_periods.window("2024-12-30", "2025-01-06", "week")[2] == ["2025-W01", "2025-W02"]
    assert report_periods.window("2024-11-15", "2025-02-01", "month")[2] == [
        "2024-11", "2024-12", "2025-01", "2025-02"]
    first, last, keys = report_periods.window(None, "2024-05-26", "month")
    assert (str(first), str(last), len(keys), keys[0]) == ("2023-06-01", "2024-05-26", 12,
                                                           "2023-06")
    with pytest.raises(InvalidError):
        report_periods.window("2024-02-30", None, "week")


def test_is_recipe_path() -> None:
    assert store.is_recipe_path("incident-response/log-triage.yaml")
    assert store.is_recipe_path("top.yaml")
    assert store.is_recipe_path("team/wins/x.yaml")  # only a top-level folder is reserved
    assert not store.is_recipe_path("wins/2024-05-01-x.yaml")
    assert not store.is_recipe_path("usage/2024-05-01-x.yaml")
    assert not store.is_recipe_path(".github/workflow.yaml")
    assert not store.is_recipe_path("README.md")


# --- the history cache ----------------------------------------------------------------------------


def test_history_cache_follows_head(built: dict[str, Path], cli: Cli) -> None:
    first = report_json(cli)
    cache = config.report_cache("sre")
    head = json.loads(cache.read_text())["head"]
    assert len(head) == 40
    # A new commit on top is read incrementally and counted.
    repo.commit(built["sre"], "carol", "2024-05-23",
                {"incident-response/oom-killer.yaml": repo.recipe("oom-killer", 2)},
                "Improve oom-killer")
    second = report_json(cli)
    assert second["adoption"]["contributors"] == first["adoption"]["contributors"]
    assert second["sharing"]["per_period"][-1]["improved"] == 1
    assert json.loads(cache.read_text())["head"] != head
    # A rewritten history (not a descendant) is read again in full, not appended to.
    subprocess.run(["git", "reset", "--quiet", "--hard", "HEAD~1"], cwd=built["sre"], check=True)
    assert report_json(cli) == first
    # A broken cache is ignored and rewritten.
    cache.write_text("{not json")
    assert report_json(cli) == first
    assert json.loads(cache.read_text())["version"] == 2


def test_a_bad_win_or_usage_file_is_skipped_with_a_warning(built: dict[str, Path],
                                                           cli: Cli) -> None:
    (built["sre"] / "wins" / "broken.yaml").write_text("recipe: [unclosed\n")
    (built["sre"] / "wins" / "odd.yaml").write_text("recipe: sre/x\nminutes: -5\nat: x\n")
    (built["sre"] / "usage" / "bad.yaml").write_text('{"date": "2024-04-02"}')
    result = cli("report", "--json", "--since", SINCE, "--until", UNTIL)
    assert result.exit_code == 0
    assert json.loads(result.stdout)["roi"]["total_minutes"] == 300
    assert "sre/wins/broken.yaml" in result.stderr
    assert "sre/wins/odd.yaml" in result.stderr
    assert "sre/usage/bad.yaml" in result.stderr


def test_me_is_alice(built: dict[str, Path]) -> None:
    assert os.environ["GIT_AUTHOR_EMAIL"] == ME


def test_compact_reads_git_log_output() -> None:
    text = ("\x1ebob@x.test\x1f2024-05-01T10:00:00+02:00\x1fAdd two\n\n"
            "A\tincident-response/a.yaml\nA\t\"odd\\tdir/b.yaml\"\nA\twins/w.yaml\n"
            "\x1eAlice@X.test\x1f2024-05-02T10:00:00+00:00\x1fOnly data\n\nA\tusage/u.yaml\n"
            "\x1ecarol@x.test\x1f2024-05-03T10:00:00+00:00\x1fEdit | and | remove\n\n"
            "M\tincident-response/a.yaml\nD\todd\tdir/b.yaml\n")
    commits = report_history.compact(text)
    assert commits == [
        ("bob@x.test", "2024-05-01", False,
         [("A", "incident-response/a.yaml"), ("A", "odd\tdir/b.yaml")]),
        ("alice@x.test", "2024-05-02", False, []),  # no recipe file, but a commit all the same
        ("carol@x.test", "2024-05-03", False,
         [("M", "incident-response/a.yaml"), ("D", "odd\tdir/b.yaml")]),
    ]
    history = report_history.parse_history(commits, "carol@x.test")
    assert history.improved == [("2024-05-03", "incident-response/a.yaml", "carol@x.test")]
    assert history.arrived == [("2024-05-01", "incident-response/a.yaml"),
                               ("2024-05-01", "odd\tdir/b.yaml")]
    assert history.added == {"incident-response/a.yaml": ("bob@x.test", "2024-05-01")}
    assert history.contributions == [("2024-05-01", "bob@x.test"),
                                     ("2024-05-03", "carol@x.test")]
    assert history.committers == [("2024-05-01", "bob@x.test"), ("2024-05-02", "alice@x.test"),
                                  ("2024-05-03", "carol@x.test")]


def test_report_html_to_an_unwritable_place_exits_1(cli: Cli, tmp_path: Path) -> None:
    result = cli("report", "--html", str(tmp_path))  # a folder
    assert result.exit_code == 1
    assert f"cannot write {tmp_path}" in result.stderr


def test_history_read_in_parallel_slices_gives_the_same_report(
        built: dict[str, Path], cli: Cli, monkeypatch: pytest.MonkeyPatch) -> None:
    first = report_json(cli)
    serial = json.loads(config.report_cache("sre").read_text())["commits"]
    for name in ("sre", "support"):
        config.report_cache(name).unlink()
    monkeypatch.setattr(report_history, "PARALLEL_LOG_FROM", 1)
    monkeypatch.setattr(os, "cpu_count", lambda: 3)  # 3 slices of sre's 15 commits
    assert report_json(cli) == first
    commits = json.loads(config.report_cache("sre").read_text())["commits"]
    assert commits == serial  # oldest first, as one `git log` reads them
    assert len(commits) == 15  # every commit, the ones that touch no recipe file too


def test_report_json_never_imports_gitpython_typer_rich_or_jinja(built: dict[str, Path]
                                                                 ) -> None:
    """Their imports (~100 ms for GitPython, ~50 ms for Typer) would be a good part of a warm
    report's time."""
    done, loaded = imports_of(["report", "--json"], ("git", "typer", "rich", "jinja2"))
    assert done.returncode == 0, done.stderr
    assert loaded == []
    assert json.loads(done.stdout)["recipes"] == 6


@pytest.mark.parametrize("minutes", [".nan", ".inf", "-.inf", "99999999999999999999", "1.0e+999"])
def test_a_pulled_win_with_absurd_minutes_is_a_warning_in_every_view(
        built: dict[str, Path], cli: Cli, tmp_path: Path, minutes: str) -> None:
    (built["sre"] / "wins" / "w3.yaml").write_text(
        f"recipe: sre/log-triage\nminutes: {minutes}\nat: '2024-05-01T10:00:00+00:00'\n"
        "note: the biggest win ever\n")
    html = tmp_path / "r.html"
    for extra in (["--json"], [], ["--html", str(html)]):
        result = cli("report", "--since", SINCE, "--until", UNTIL, *extra)
        assert result.exit_code == 0, result.output
        assert "sre/wins/w3.yaml" in result.stderr
        assert "warning" in result.stderr
    doc = report_json(cli)
    assert doc["roi"]["total_minutes"] == 300
    assert "the biggest win ever" not in html.read_text()


def test_a_shared_from_with_control_characters_is_shown_on_one_line(built: dict[str, Path],
                                                                    cli: Cli) -> None:
    repo.commit(built["support"], "bob", "2024-05-22",
                {"x/evil.yaml": repo.recipe("evil", shared_from='"sre/\x1b[2J\x07evil"')},
                "Share evil")
    shares = report_json(cli)["sharing"]["shares"]
    assert shares[-1]["shared_from"] == "sre/ [2J evil"


# --- the window follows the data, not the date typed ---------------------------------------------


def test_an_early_since_starts_at_the_first_event(built: dict[str, Path], cli: Cli) -> None:
    doc = json.loads(cli("report", "--json", "--since", "0001-01-01", "--until", UNTIL).stdout)
    # The first event in range: bob adds disk-full on 2024-03-20 (W12).
    assert doc["periods"] == [f"2024-W{w}" for w in range(12, 22)]
    assert doc["since"] == "0001-01-01"
    wide = json.loads(cli("report", "--json", "--since", "2024-03-01", "--until", UNTIL).stdout)
    for section in ("adoption", "sharing", "roi"):
        assert doc[section]["per_period"] == wide[section]["per_period"][-10:]
    months = json.loads(cli("report", "--json", "--since", "0001-01-01", "--until", UNTIL,
                            "--by", "month").stdout)
    assert months["periods"] == ["2024-03", "2024-04", "2024-05"]
    table = cli("report", "--since", "0001-01-01", "--until", UNTIL)
    assert table.exit_code == 0
    assert len(table.stdout.splitlines()) < 120
    assert "0001-W01" not in table.stdout


def test_an_early_since_on_a_home_with_no_events_costs_one_period(cli: Cli) -> None:
    assert cli("init", "--empty").exit_code == 0
    doc = json.loads(cli("report", "--json", "--since", "0001-01-01", "--until", UNTIL).stdout)
    assert doc["periods"] == ["2024-W21"]
    assert doc["previous_period"] is None
    assert doc["roi"]["trend"]["minutes"] == {"current": 0, "previous": 0, "change": 0}


def test_a_far_until_ends_at_today_or_the_last_event(built: dict[str, Path]) -> None:
    doc = report.build("2024-05-01", "9999-12-31", "week", today=report_periods.parse_day(
        "2024-05-26", "--until")).doc
    assert doc["periods"] == ["2024-W18", "2024-W19", "2024-W20", "2024-W21"]
    assert doc["until"] == "9999-12-31"
    # A win dated after "today" (a clock ahead) still gets its period.
    (built["sre"] / "wins" / "ahead.yaml").write_text(
        "recipe: sre/log-triage\nminutes: 5\nat: '2024-06-12T10:00:00+00:00'\n")
    doc = report.build("2024-05-01", "9999-12-31", "week", today=report_periods.parse_day(
        "2024-05-26", "--until")).doc
    assert doc["periods"][-1] == "2024-W24"
    assert doc["roi"]["trend"]["minutes"]["current"] == 5


@pytest.mark.parametrize("args", [
    ["--until", "9999-12-31"], ["--until", "9999-12-31", "--by", "month"],
    ["--until", "0001-01-03"], ["--until", "0001-01-03", "--by", "month"],
    ["--since", "0001-01-01", "--until", "0001-01-01"], ["--since", "9999-12-31"],
    ["--since", "9999-12-31", "--until", "9999-12-31", "--by", "month"],
])
def test_dates_at_the_ends_of_the_calendar_never_crash(cli: Cli, args: list[str]) -> None:
    assert cli("init", "--empty").exit_code == 0
    for extra in (["--json"], []):
        result = cli("report", *args, *extra)
        assert result.exit_code in (0, 4), result.output
        if result.exit_code == 0 and extra:
            assert 1 <= len(json.loads(result.stdout)["periods"]) <= report_periods.DEFAULT_PERIODS


@pytest.mark.parametrize("option", ["--since", "--until"])
@pytest.mark.parametrize("value", ["", " ", "2024-5-1", "20240501", "2024-W18-1", "2024-05",
                                   "0000-01-01", "10000-01-01", "2024-02-30", "today",
                                   "2024-05-01T10:00"])
def test_report_dates_that_do_not_parse_exit_4_naming_the_option(cli: Cli, option: str,
                                                                  value: str) -> None:
    result = cli("report", "--json", option, value)
    assert result.exit_code == 4, result.output
    assert result.stdout == ""
    assert f"bad {option} date" in result.stderr


def test_a_window_longer_than_max_periods_is_refused(built: dict[str, Path], cli: Cli,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(report_periods, "MAX_PERIODS", 5)
    result = cli("report", "--json", "--since", "0001-01-01", "--until", UNTIL)
    assert result.exit_code == 4
    assert "--since" in result.stderr
    assert result.stdout == ""
    assert cli("report", "--json", "--since", "0001-01-01", "--until", UNTIL,
               "--by", "month").exit_code == 0
