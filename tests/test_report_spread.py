"""`promptlib report` as rates and stories: the adoption rate, by team, by use case,
transmissions and compression, to the exact number, on the home `adoption_repo.build_spread`
makes (three teams, six people, a roster, a chain of shares, before/after wins)."""

from __future__ import annotations

import html
import json
import re
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from typer.testing import Result

import tests.adoption_repo as repo
from promptlib.cli.report_html import PALETTE
from tests.adoption_repo import ERIN, ME, PERIODS, SINCE, UNTIL
from tests.test_report_html import chromium, chromium_args, decode_png, pixels_of

Cli = Callable[..., Result]
__all__ = ["chromium"]  # a fixture, shared with test_report_html


@pytest.fixture
def spread(monkeypatch: pytest.MonkeyPatch) -> dict[str, Path]:
    return repo.build_spread(monkeypatch)


def report_json(cli: Cli, *args: str) -> dict[str, Any]:
    result = cli("report", "--json", "--since", SINCE, "--until", UNTIL, *args)
    assert result.exit_code == 0, result.output
    assert result.stderr == "", result.stderr
    doc: dict[str, Any] = json.loads(result.stdout)
    return doc


def test_adoption_rate_overall_and_per_period(spread: dict[str, Path], cli: Cli) -> None:
    doc = report_json(cli)
    a = doc["adoption"]
    assert doc["periods"] == PERIODS
    assert doc["collections"] == ["local", "platform", "sre", "support"]
    assert (a["renderers"], a["renders"], a["known"], a["rate"]) == (4, 28, repo.KNOWN,
                                                                     repo.RATE)
    assert a["known_from"] == {"local": "activity", "platform": "roster", "sre": "activity",
                               "support": "activity"}
    assert {row["period"]: row["rate"] for row in a["per_period"]} == repo.RATE_PER_PERIOD
    assert a["trend"]["rate"] == {"current": 0.3333, "previous": 0.1667, "change": 0.1666}


def test_by_team(spread: dict[str, Path], cli: Cli) -> None:
    rows = report_json(cli)["by_team"]
    keys = ("collection", "recipes", "renders", "renderers", "known", "rate", "contributors",
            "wins", "minutes")
    assert [tuple(row[k] for k in keys) for row in rows] == repo.BY_TEAM
    assert [row["known_from"] for row in rows] == ["activity", "roster", "activity", "activity"]


def test_by_use_case(spread: dict[str, Path], cli: Cli) -> None:
    rows = report_json(cli)["by_use_case"]
    keys = ("use_case", "recipes", "renders", "people", "wins", "minutes")
    assert [tuple(row[k] for k in keys) for row in rows] == repo.BY_USE_CASE


def test_transmissions_spreaders_and_chains(spread: dict[str, Path], cli: Cli) -> None:
    s = report_json(cli)["sharing"]
    assert s["transmissions"] == repo.TRANSMISSIONS
    assert ({row["period"]: row["transmissions"] for row in s["per_period"]}
            == repo.TRANSMISSIONS_PER_PERIOD)
    assert s["trend"]["transmissions"] == {"current": 3, "previous": 0, "change": 3}
    assert [(r["person"], r["transmissions"], r["people"], r["recipes"])
            for r in s["spreaders"]] == repo.SPREADERS
    assert s["learned_from"] == [
        {"from": a, "to": b, "transmissions": 1} for a, b in (
            (ME, "carol@example.test"), ("bob@example.test", ME), ("carol@example.test", ME),
            ("carol@example.test", "dave@example.test"), ("dave@example.test", ME),
            ("dave@example.test", "bob@example.test"))]
    assert s["chains"] == repo.CHAINS


def test_compression(spread: dict[str, Path], cli: Cli) -> None:
    r = report_json(cli)["roi"]
    c = r["compression"]
    assert {k: c[k] for k in repo.COMPRESSION} == repo.COMPRESSION
    assert [(s["id"], s["before"], s["after"], s["minutes"], s["ratio"], s["author"])
            for s in c["stories"]] == repo.STORIES
    assert c["stories"][0]["note"] == "Rollback script written while the deploy was still paging"
    assert c["stories"][0]["date"] == "2024-04-25"
    halved = {row["period"]: row["halved"] for row in r["per_period"] if row["halved"]}
    assert halved == repo.HALVED_PER_PERIOD
    assert (r["total_minutes"], r["wins"]) == (400, 9)  # the saved minutes are before − after


def test_one_identity_for_a_person_in_commits_wins_and_rosters(spread: dict[str, Path],
                                                               cli: Cli) -> None:
    doc = report_json(cli, "--team", "support")
    # erin committed as Erin.Evans@Example.TEST and recorded her win with it: one person.
    assert doc["adoption"]["known"] == 5
    assert doc["by_team"][0]["known"] == 5
    assert ERIN not in {t["to"] for t in doc["sharing"]["transmissions"]}
    platform = report_json(cli, "--team", "platform")
    # The roster writes Dave@Example.test and ALICE@example.test: the same dave and alice.
    assert (platform["adoption"]["known"], platform["adoption"]["rate"]) == (3, 0.6667)


def test_a_team_filter_counts_only_its_own(spread: dict[str, Path], cli: Cli) -> None:
    doc = report_json(cli, "--team", "platform")
    assert [t["recipe"] for t in doc["sharing"]["transmissions"]] == [
        "platform/deploy-rollback", "platform/log-triage"]
    assert doc["sharing"]["chains"] == []  # its origin, support, is not selected
    assert [r["use_case"] for r in doc["by_use_case"]] == ["script-generation",
                                                           "incident-response"]


# --- the terminal view ----------------------------------------------------------------------------


def test_terminal_shows_rate_teams_use_cases_transmissions_and_compression(
        spread: dict[str, Path], cli: Cli) -> None:
    result = cli("report", "--since", SINCE, "--until", UNTIL)
    assert result.exit_code == 0, result.output
    out = result.stdout
    words = " ".join(out.split())
    for text in ("adoption rate: 67% of 6 people known ▲ 17 pts (this period 33%, previous 17%)",
                 "Use cases", "incident-response", "script-generation",
                 "transmissions (a first render of someone else's recipe): 6",
                 "carol@example.test: 2 (2 people, 1 recipe)",
                 "carol@example.test → dave@example.test ×1",
                 "sre/log-triage (7) → support/log-triage (7) → platform/log-triage (4)",
                 "tasks that now take half the time or less: 3 of 4 timed wins; median "
                 "after/before 38%",
                 "platform/deploy-rollback: 1h → 10m (17%) “Rollback script written while the "
                 "deploy was still paging” — Dave Diaz <dave@example.test>, 2024-04-25"):
        assert text in words, text
    team_rows = [line.split() for line in out.splitlines()
                 if line.split()[:1] in (["sre"], ["platform"], ["support"], ["local"])]
    assert [row[0] for row in team_rows] == ["sre", "platform", "support", "local"]
    assert "100%" in team_rows[0]
    assert "60%" in team_rows[2]
    assert "–" in team_rows[3]  # local: nobody known, no rate
    assert "(roster)" in team_rows[1]
    assert "\x1b[" not in out


# --- the HTML page --------------------------------------------------------------------------------


@pytest.fixture
def spread_page(spread: dict[str, Path], tmp_path: Path,
                run: Callable[..., subprocess.CompletedProcess[str]]) -> Path:
    # A name that must be escaped where the graph and the tables show people.
    repo.commit(spread["support"], "frank", "2024-05-24", {
        "usage/2024-05-24-x.yaml": json.dumps({"date": "2024-05-24", "person":
                                               "<script>@evil.test", "machine": "eeee5555",
                                               "renders": {"log-triage": 1}})}, "Publish")
    out = tmp_path / "spread.html"
    proc = run("report", "--since", SINCE, "--until", UNTIL, "--html", str(out))
    assert proc.returncode == 0, proc.stderr
    return out


def test_html_page_draws_the_new_figures_escaped_and_self_contained(spread_page: Path) -> None:
    text = spread_page.read_text(encoding="utf-8")
    assert "<script" not in text.lower().replace("&lt;script&gt;", "")
    assert "&lt;script&gt;@evil.test" in text  # the table of who learned from whom…
    assert "&lt;script&gt;</text>" in text     # …and its node in the graph, escaped
    assert not re.search(r"<link|@import|url\(|\bsrc=|\bhref=", text, re.IGNORECASE)
    assert 'aria-label="Who learned from whom"' in text
    assert text.count("<polygon") == 7  # one arrowhead per pair (six, and evil's)


def test_html_page_in_headless_chromium(chromium: Path, spread_page: Path,
                                        tmp_path: Path) -> None:
    shot = tmp_path / "shot.png"
    proc = subprocess.run([*chromium_args(tmp_path / "profile"), f"--screenshot={shot}",
                           "--window-size=1200,5000", spread_page.as_uri()],
                          capture_output=True, text=True, timeout=180, check=False)
    assert shot.exists(), proc.stderr[-2000:]
    _, _, bpp, rows = decode_png(shot.read_bytes())
    assert pixels_of(rows, bpp, PALETTE["rose"]) > 2000  # the rate chart and the graph's nodes
    dom = subprocess.run([*chromium_args(tmp_path / "profile2"), "--dump-dom",
                          spread_page.as_uri()], capture_output=True, text=True, timeout=180,
                         check=False).stdout
    words = " ".join(html.unescape(re.sub(r"<[^>]+>", " ", dom)).split())
    for figure in ("71% adoption rate: 5 rendering of 7 people known",
                   "▲ 29 pts this period 43%, previous 14%",
                   "team rate people rendering known renders contributors wins time saved",
                   "sre 100% 3 3 13 3 6 5h", "platform 67% 3 3 (roster) 8 1 1 50m",
                   "support 57% 4 7 8 3 2 50m",  # evil renders; frank committed its file
                   "Renders per use case", "incident-response 25 renders · 5 people",
                   "Time saved per use case", "incident-response 5h 50m · 8 wins",
                   "7 transmissions: first renders of someone else's recipe",
                   "Who learned from whom", "carol dave",
                   "carol@example.test 3 3 1",
                   "sre/log-triage (7) → support/log-triage (8) → platform/log-triage (4)",
                   "3 of 4 timed wins that now take half the time or less",
                   "38% median time after / before",
                   "1h → 10m (17%) “Rollback script written while the deploy was still paging”",
                   "<script>@evil.test"):
        assert figure in words, figure


@pytest.mark.parametrize(("roster", "why"), [
    ("members: dave@example.test\n", "not a roster (members must be a list of names and emails)"),
    ("members:\n  - [dave]\n", "not a roster (each member must be one name or email"),
    ("members: [\n", "cannot parse"),
])
def test_a_bad_roster_is_a_warning_and_the_team_is_counted_by_activity(
        spread: dict[str, Path], cli: Cli, roster: str, why: str) -> None:
    repo.commit(spread["platform"], "dave", "2024-05-24", {".promptlib/team.yaml": roster},
                "Break the roster")
    result = cli("report", "--json", "--since", SINCE, "--until", UNTIL, "--team", "platform")
    assert result.exit_code == 0, result.output
    assert f"platform/.promptlib/team.yaml: {why}" in result.stderr
    doc = json.loads(result.stdout)
    assert doc["adoption"]["known_from"] == {"platform": "activity"}
    # By activity: dave (commits, renders), bob (his usage file) and alice (her log): all render.
    assert (doc["adoption"]["known"], doc["adoption"]["rate"]) == (3, 1)
