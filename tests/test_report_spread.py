"""`promptlib report` as rates and stories: the adoption rate, by team, by use case,
transmissions and compression, to the exact number, on the home `adoption_repo.build_spread`
makes (three teams, six people, a roster, a chain of shares, before/after wins)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from typer.testing import Result

import tests.adoption_repo as repo
from tests.adoption_repo import ERIN, ME, PERIODS, SINCE, UNTIL

Cli = Callable[..., Result]


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
    print(out)
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
    assert "100%" in team_rows[0] and "60%" in team_rows[2] and "–" in team_rows[3]
    assert "(roster)" in team_rows[1]
    assert "\x1b[" not in out
