"""The team's use ranks too: recent renders from the usage log and from published usage, counted
over the last weeks and cached; a boost capped so it only reorders near-ties; the score parts in
`--json` and one line per hit in `--explain`."""

from __future__ import annotations

import json
import time
from pathlib import Path

from promptlib import paths
from promptlib.index import ranking, search
from promptlib.metrics import popularity, usage_log
from promptlib.store import collections as store
from tests.conftest import recipe_yaml, write_tree

DAY = 86400


def at(days_ago: float) -> str:
    return usage_log.timestamp(time.time() - days_ago * DAY)


def render(recipe_id: str, times: int = 1, *, days_ago: float = 0) -> None:
    for _ in range(times):
        assert usage_log.append(recipe_id, recipe_id.split("/", 1)[0], at=at(days_ago))


def test_recent_renders_count_the_log_over_the_last_eight_weeks(home):
    store.ensure_home()
    render("local/log-triage", 3)
    render("local/log-triage", 2, days_ago=50)
    render("local/log-triage", 4, days_ago=60)  # older than the window
    render("local/postmortem-draft")
    assert popularity.recent_renders() == {"local/log-triage": 5, "local/postmortem-draft": 1}


def test_the_log_is_read_once_then_only_what_was_appended(home, monkeypatch):
    store.ensure_home()
    render("local/log-triage", 2)
    assert popularity.recent_renders() == {"local/log-triage": 2}
    read: list[int] = []
    real = popularity._count_lines
    monkeypatch.setattr(popularity, "_count_lines",
                        lambda data, start, daily: (read.append(len(data)),
                                                    real(data, start, daily)))
    assert popularity.recent_renders() == {"local/log-triage": 2}
    assert read == []  # nothing new: the cache answers
    render("local/log-triage")
    assert popularity.recent_renders() == {"local/log-triage": 3}
    assert len(read) == 1
    assert read[0] < 200  # one line, not the whole log
    paths.usage_log().write_text("")  # a new, empty log (rotated): counted from scratch
    assert popularity.recent_renders() == {}


def test_published_usage_counts_other_machines_and_not_this_one(home):
    store.ensure_home()
    paths.usage_machine_id().parent.mkdir(parents=True, exist_ok=True)
    paths.usage_machine_id().write_text("mine1234\n")
    today = time.strftime("%Y-%m-%d")
    old = time.strftime("%Y-%m-%d", time.localtime(time.time() - 90 * DAY))

    def usage_file(day: str, machine: str, renders: dict[str, int]) -> str:
        return json.dumps({"date": day, "person": "sam@example.test", "machine": machine,
                           "renders": renders})

    write_tree(home / "collections" / "local", {
        f"usage/{today}-sam-example-test-other999.yaml": usage_file(
            today, "other999", {"log-triage": 7}),
        f"usage/{today}-sam-example-test-mine1234.yaml": usage_file(
            today, "mine1234", {"log-triage": 100}),  # the live log counts these
        f"usage/{old}-sam-example-test-other999.yaml": usage_file(
            old, "other999", {"log-triage": 50}),
        f"usage/{today}-junk-other999.yaml": "not json at all {",
    })
    assert popularity.recent_renders() == {"local/log-triage": 7}


def test_the_boost_is_capped_and_grows_with_the_log_of_the_count():
    assert ranking.usage_boost(0) == 0
    assert 0 < ranking.usage_boost(1) < ranking.usage_boost(5) < ranking.usage_boost(50)
    assert ranking.usage_boost(50) == ranking.usage_boost(10_000) == ranking.USAGE_CAP


def twins(home: Path) -> None:
    store.ensure_home()
    write_tree(home / "collections" / "local", {
        "x/gizmo-alpha.yaml": recipe_yaml("gizmo-alpha", template="Reboot {{ host }}.\n"),
        "x/gizmo-beta.yaml": recipe_yaml("gizmo-beta", template="Reboot {{ host }}.\n"),
        "x/plain-reboot.yaml": recipe_yaml(
            "plain-reboot", template="Reboot {{ host }} like a gizmo would.\n")})


def names(results: search.Results) -> list[str]:
    return [h.name for h in results.hits]


def test_use_reorders_near_ties_but_never_beats_a_clearly_better_match(home):
    twins(home)
    assert names(search.search(["gizmo"]))[:2] == ["gizmo-alpha", "gizmo-beta"]
    used = search.search(["gizmo"], uses={"local/gizmo-beta": 3, "local/plain-reboot": 10_000})
    assert names(used) == ["gizmo-beta", "gizmo-alpha", "plain-reboot"]
    beta = used.hits[0]
    assert beta.renders == 3
    assert beta.usage_boost == ranking.usage_boost(3)
    assert beta.score == beta.text_score * (1 + beta.usage_boost)


def test_use_reorders_within_a_page_fetched_past_the_limit(home):
    twins(home)
    # With a page of one, the used twin still comes first: rows past the limit are looked at.
    assert names(search.search(["gizmo"], limit=1, uses={"local/gizmo-beta": 1})) == [
        "gizmo-beta"]


def test_json_shows_the_score_parts(cli, home):
    store.ensure_home()
    render("local/log-triage", 4)
    hits = json.loads(cli("search", "logs", "--json").stdout)
    first = hits[0]
    assert first["id"] == "local/log-triage"
    parts = first["score_parts"]
    assert parts["recent_renders"] == 4
    assert parts["usage_boost"] == round(ranking.usage_boost(4), 4)
    assert parts["words_matched"] == parts["words"] == 1
    assert abs(first["score"] - parts["text"] * (1 + parts["usage_boost"])) < 0.01
    assert "matched" not in first
    explained = json.loads(cli("search", "logs", "--json", "--explain").stdout)[0]
    assert "logs" in explained["matched"]["tags"]


def test_explain_prints_one_line_per_hit_with_fields_and_usage(cli, home):
    store.ensure_home()
    render("local/log-triage", 2)
    result = cli("search", "logs", "--explain", "-n", "3")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert len(lines) == 3
    first = lines[0]
    assert first.startswith("local/log-triage  score ")
    assert f"use +{ranking.usage_boost(2):.1%}: 2 renders in 8 weeks)" in first
    assert "1/1 words" in first
    assert "name: log" in first
    assert "tags: logs" in first
    assert "use +0.0%: no renders in 8 weeks)" in lines[1]
