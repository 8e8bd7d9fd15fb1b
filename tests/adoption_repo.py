"""A promptlib home with a known history, for checking `report` to the exact number.

Three people (alice — "you" —, bob and carol) over eight ISO weeks, 2024-W14 to 2024-W21
(2024-04-01 to 2024-05-26), in two team collections, `sre` and `support`, plus an empty `local`.
Every commit has its author and date set, so every figure below is known in advance; the
expected values are spelled out in EXPECTED and derived, event by event, in the comments.
"""

from __future__ import annotations

import json
import os
import subprocess
from datetime import UTC, datetime
from pathlib import Path

import pytest

from promptlib import paths as config
from promptlib.gitops import run as gitops
from promptlib.gitops.lock import locked
from promptlib.metrics import usage as metrics_usage
from promptlib.metrics import wins as metrics
from promptlib.store import collections as store
from tests.conftest import recipe_yaml

SINCE, UNTIL = "2024-04-01", "2024-05-26"
PEOPLE = {
    "alice": ("Alice Adams", "alice@example.test"),
    "bob": ("Bob Brown", "bob@example.test"),
    "carol": ("Carol Chen", "carol@example.test"),
    # Only `build_spread` brings these three in.
    "dave": ("Dave Diaz", "dave@example.test"),
    "erin": ("Erin Evans", "Erin.Evans@Example.TEST"),
    "frank": ("Frank Fox", "frank@example.test"),
}
ME = PEOPLE["alice"][1]


def _env(who: str, day: str) -> dict[str, str]:
    name, email = PEOPLE[who]
    when = f"{day}T10:00:00+00:00"
    return {"GIT_AUTHOR_NAME": name, "GIT_AUTHOR_EMAIL": email, "GIT_AUTHOR_DATE": when,
            "GIT_COMMITTER_NAME": name, "GIT_COMMITTER_EMAIL": email,
            "GIT_COMMITTER_DATE": when}


def commit(coll: Path, who: str, day: str, files: dict[str, str | None], message: str) -> None:
    """Write (or, with None, delete) files and commit them as `who` on `day` at 10:00 UTC."""
    for rel, text in files.items():
        path = coll / rel
        if text is None:
            path.unlink()
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
    env = {**os.environ, **_env(who, day)}
    subprocess.run(["git", "add", "--all", "--", *files], cwd=coll, env=env, check=True)
    subprocess.run(["git", "commit", "--quiet", "-m", message], cwd=coll, env=env, check=True)


def recipe(name: str, revision: int = 0, shared_from: str | None = None, *,
           tags: str = "[incident-response, disk]") -> str:
    extra = f"shared_from: {shared_from}\n" if shared_from else ""
    return recipe_yaml(name, template=f"Revision {revision}: disk on {{{{ host }}}} is full.\n",
                       extra=extra, tags=tags)


def usage_file(day: str, who: str, machine: str, renders: dict[str, int]) -> str:
    doc = {"date": day, "person": PEOPLE[who][1], "machine": machine, "renders": renders}
    return json.dumps(doc, indent=2) + "\n"


def build(monkeypatch: pytest.MonkeyPatch) -> dict[str, Path]:
    """Create the home. Leaves GIT_AUTHOR_EMAIL set to alice's: the report's "you"."""
    store.init_home(empty=True)
    colls = {}
    for name in ("sre", "support"):
        colls[name] = config.collection_dir(name)
        gitops.init(colls[name])
    sre, support = colls["sre"], colls["support"]
    ir, td = "incident-response", "ticket-deflection"

    # Recipe history. W = ISO week of 2024; "arrived" = added by someone other than alice.
    commit(sre, "bob", "2024-03-20", {f"{ir}/disk-full.yaml": recipe("disk-full")},
           "Add disk-full")                                      # W12: before the window
    commit(sre, "alice", "2024-04-02", {f"{ir}/log-triage.yaml": recipe("log-triage")},
           "Add log-triage")                                     # W14 contrib alice
    commit(sre, "bob", "2024-04-03", {f"{ir}/oom-killer.yaml": recipe("oom-killer")},
           "Add oom-killer")                                     # W14 contrib bob, arrived
    commit(support, "carol", "2024-04-05", {f"{td}/refund-reply.yaml": recipe("refund-reply")},
           "Add refund-reply")                                   # W14 contrib carol, arrived
    commit(sre, "carol", "2024-04-10", {f"{ir}/log-triage.yaml": recipe("log-triage", 1)},
           "Improve log-triage")                                 # W15 contrib carol, improved
    commit(support, "carol", "2024-04-15",
           {f"{ir}/log-triage.yaml": recipe("log-triage", 1, "sre/log-triage")},
           "Share log-triage from sre")                          # W16 contrib carol, share, arr.
    commit(sre, "bob", "2024-04-17", {f"{ir}/disk-full.yaml": recipe("disk-full", 1)},
           "Tune disk-full")                                     # W16 contrib bob (own recipe)
    commit(sre, "alice", "2024-04-24", {f"{ir}/oom-killer.yaml": recipe("oom-killer", 1)},
           "Improve oom-killer")                                 # W17 contrib alice, improved
    commit(sre, "carol", "2024-05-01", {f"{ir}/cert-expiry.yaml": recipe("cert-expiry")},
           "Add cert-expiry")                                    # W18 contrib carol, arrived
    commit(sre, "bob", "2024-05-08", {f"{ir}/log-triage.yaml": recipe("log-triage", 2)},
           "Improve log-triage again")                           # W19 contrib bob, improved
    commit(support, "bob", "2024-05-14",
           {f"{ir}/disk-full.yaml": recipe("disk-full", 1, "sre/disk-full")},
           "Share disk-full from sre")                           # W20 contrib bob, share, arr.
    commit(support, "alice", "2024-05-20", {f"{td}/refund-reply.yaml": None},
           "Remove refund-reply")                                # W21: a removal, no contrib

    # Published usage from bob's and carol's machines (and one day before the window).
    commit(sre, "bob", "2024-05-21", {
        "usage/2024-03-28-bob-aaaa1111.yaml": usage_file("2024-03-28", "bob", "aaaa1111",
                                                         {"log-triage": 7}),   # W13: outside
        "usage/2024-04-08-bob-aaaa1111.yaml": usage_file("2024-04-08", "bob", "aaaa1111",
                                                         {"log-triage": 3, "disk-full": 1}),
        "usage/2024-05-21-bob-aaaa1111.yaml": usage_file("2024-05-21", "bob", "aaaa1111",
                                                         {"oom-killer": 4}),
    }, "Publish usage counts")
    commit(sre, "carol", "2024-04-16", {
        "usage/2024-04-16-carol-cccc2222.yaml": usage_file("2024-04-16", "carol", "cccc2222",
                                                           {"log-triage": 2})},
           "Publish usage counts")
    commit(support, "carol", "2024-05-15", {
        "usage/2024-05-15-carol-cccc2222.yaml": usage_file("2024-05-15", "carol", "cccc2222",
                                                           {"log-triage": 5})},
           "Publish usage counts")

    # Alice's renders, in this machine's local log. She publishes once after the first, so a
    # stale published file from this machine exists: the report must use the log, not both.
    monkeypatch.setenv("GIT_AUTHOR_EMAIL", ME)
    metrics_usage.record_render("sre/log-triage", "sre", at="2024-04-02T09:00:00+00:00")
    metrics_usage.set_publishing("sre", True)
    with locked("sre"):
        published = metrics_usage.publish_usage("sre")
        assert len(published) == 1
        gitops.commit(sre, published, "Publish usage counts")
    metrics_usage.record_render("sre/log-triage", "sre", at="2024-04-02T09:30:00+00:00")
    metrics_usage.record_render("sre/disk-full", "sre", at="2024-05-20T11:00:00+00:00")
    monkeypatch.delenv("GIT_AUTHOR_EMAIL")  # an entry with no person: the log's owner
    metrics_usage.record_render("support/log-triage", "support", at="2024-05-21T11:00:00+00:00")

    # Five wins, recorded through the real code path, each as its person on its day.
    for who, day, ref, saved, note in (
        ("alice", "2024-04-04", "sre/log-triage", "25m", "Found the OOM in two minutes"),
        ("bob", "2024-04-11", "sre/log-triage", "1h30m",
         "Whole incident review drafted before standup"),
        ("carol", "2024-04-25", "sre/oom-killer", "45m", None),
        ("bob", "2024-05-09", "support/log-triage", "20m", "Customer reply <b>in one go</b>"),
        ("alice", "2024-05-22", "sre/disk-full", "2h", "Cleared the disk without paging anyone"),
    ):
        for key, value in _env(who, day).items():
            monkeypatch.setenv(key, value)
        metrics.record_win(ref, saved, note,
                           at=datetime.fromisoformat(f"{day}T10:00:00").replace(tzinfo=UTC))
    for key, value in _env("alice", "2024-05-26").items():
        monkeypatch.setenv(key, value)
    return colls


# Everything `report --json --since 2024-04-01 --until 2024-05-26` must say about that home.
PERIODS = [f"2024-W{w}" for w in range(14, 22)]
ADOPTION_PER_PERIOD = {  # renderers, renders, contributors
    "2024-W14": (1, 2, 3),   # alice renders twice (log, not her stale published 1); a, b, c add
    "2024-W15": (1, 4, 1),   # bob 3 + 1 (published); carol improves
    "2024-W16": (1, 2, 2),   # carol 2; carol shares, bob tunes his own
    "2024-W17": (0, 0, 1),   # alice improves oom-killer
    "2024-W18": (0, 0, 1),   # carol adds cert-expiry
    "2024-W19": (0, 0, 1),   # bob improves log-triage
    "2024-W20": (1, 5, 1),   # carol 5 in support; bob shares
    "2024-W21": (2, 6, 0),   # bob 4; alice 1 + 1 (the person-less entry is hers); a removal
}
SHARING_PER_PERIOD = {  # shared, improved, arrived
    "2024-W14": (0, 0, 2), "2024-W15": (0, 1, 0), "2024-W16": (1, 0, 1), "2024-W17": (0, 1, 0),
    "2024-W18": (0, 0, 1), "2024-W19": (0, 1, 0), "2024-W20": (1, 0, 1), "2024-W21": (0, 0, 0),
}
ROI_PER_PERIOD = {  # minutes, wins
    "2024-W14": (25, 1), "2024-W15": (90, 1), "2024-W16": (0, 0), "2024-W17": (45, 1),
    "2024-W18": (0, 0), "2024-W19": (20, 1), "2024-W20": (0, 0), "2024-W21": (120, 1),
}


# --- a third team, rosters, transmissions and before/after wins -----------------------------------
#
# `build_spread` adds to the home above (everything in the same window, 2024-W14 to W21):
# - `platform`, a third team, whose roster (.promptlib/team.yaml) names dave, frank and alice —
#   frank never does anything, and bob, who renders there, is not on it;
# - dave, who learns support/log-triage from carol, shares it on into platform (a chain sre →
#   support → platform) and adds a deploy-rollback recipe (use case script-generation, tags in
#   a block list as `promptlib add` writes them);
# - erin (an email in mixed case, in both her commits and her win), who adds a ticket-deflection
#   recipe to support and records a win, but never renders;
# - four wins with --before/--after: three take at most half the time now.
ERIN = "erin.evans@example.test"  # the one identity of "Erin.Evans@Example.TEST"
ROSTER = ("members:\n  - Dave Diaz <Dave@Example.test>\n  - frank@example.test\n"
          "  - Alice Adams <ALICE@example.test>\n")
BLOCK_TAGS = "\n- script-generation\n- deploy"


def build_spread(monkeypatch: pytest.MonkeyPatch) -> dict[str, Path]:
    colls = build(monkeypatch)
    platform = colls["platform"] = config.collection_dir("platform")
    gitops.init(platform)
    support = colls["support"]
    ir = "incident-response"
    commit(support, "dave", "2024-04-20", {                                  # W16
        "usage/2024-04-20-dave-dddd4444.yaml": usage_file("2024-04-20", "dave", "dddd4444",
                                                          {"log-triage": 1})},
           "Publish usage counts")                  # dave learns carol's support/log-triage
    commit(platform, "dave", "2024-04-22", {                                 # W17
        f"{ir}/log-triage.yaml": recipe("log-triage", 1, "support/log-triage"),
        ".promptlib/team.yaml": ROSTER}, "Share log-triage from support; the team roster")
    commit(platform, "dave", "2024-04-23", {                                 # W17
        "scripts/deploy-rollback.yaml": recipe("deploy-rollback", tags=BLOCK_TAGS)},
           "Add deploy-rollback")
    commit(platform, "dave", "2024-04-24", {                                 # W17
        "usage/2024-04-24-dave-dddd4444.yaml": usage_file(
            "2024-04-24", "dave", "dddd4444", {"log-triage": 2, "deploy-rollback": 3})},
           "Publish usage counts")
    commit(support, "erin", "2024-05-13", {                                  # W20
        "ticket-deflection/refund-macro.yaml": recipe("refund-macro",
                                                      tags="[ticket-deflection, billing]")},
           "Add refund-macro")
    commit(platform, "bob", "2024-05-23", {                                  # W21
        "usage/2024-05-23-bob-aaaa1111.yaml": usage_file("2024-05-23", "bob", "aaaa1111",
                                                         {"log-triage": 2})},
           "Publish usage counts")             # bob is not on platform's roster
    monkeypatch.setenv("GIT_AUTHOR_EMAIL", ME)
    metrics_usage.record_render("platform/deploy-rollback", "platform",
                                at="2024-05-02T08:00:00+00:00")                # W18
    for who, day, ref, before, after, note in (
        ("dave", "2024-04-25", "platform/deploy-rollback", "1h", "10m",     # W17 1/6
         "Rollback script written while the deploy was still paging"),
        ("carol", "2024-05-03", "sre/cert-expiry", "20m", "10m",            # W18 1/2
         "Renewal runbook in one pass"),
        ("bob", "2024-05-10", "sre/oom-killer", "30m", "20m", None),        # W19 2/3
        ("erin", "2024-05-16", "support/log-triage", "40m", "10m",          # W20 1/4
         "Refund escalation answered from the template"),
    ):
        for key, value in _env(who, day).items():
            monkeypatch.setenv(key, value)
        metrics.record_win(ref, None, note, before=before, after=after,
                           at=datetime.fromisoformat(f"{day}T10:00:00").replace(tzinfo=UTC))
    for key, value in _env("alice", "2024-05-26").items():
        monkeypatch.setenv(key, value)
    return colls


# Everything `report --json --since 2024-04-01 --until 2024-05-26` says of the new figures there.
# Transmissions: a first render of a recipe added by someone else (the adder in brackets).
TRANSMISSIONS = [
    {"recipe": "sre/log-triage", "from": ME, "to": "carol@example.test", "at": "2024-04-16"},
    {"recipe": "support/log-triage", "from": "carol@example.test", "to": "dave@example.test",
     "at": "2024-04-20"},
    {"recipe": "platform/deploy-rollback", "from": "dave@example.test", "to": ME,
     "at": "2024-05-02"},                                   # alice's own log
    {"recipe": "sre/disk-full", "from": "bob@example.test", "to": ME, "at": "2024-05-20"},
    {"recipe": "support/log-triage", "from": "carol@example.test", "to": ME,
     "at": "2024-05-21"},                                   # the person-less log entry: alice
    {"recipe": "platform/log-triage", "from": "dave@example.test", "to": "bob@example.test",
     "at": "2024-05-23"},
]  # not: bob's first sre/log-triage (2024-03-28, before the window); anyone's own recipe
TRANSMISSIONS_PER_PERIOD = {"2024-W14": 0, "2024-W15": 0, "2024-W16": 2, "2024-W17": 0,
                            "2024-W18": 1, "2024-W19": 0, "2024-W20": 0, "2024-W21": 3}
# Known: sre (by activity) alice, bob, carol; support (by activity) alice, bob, carol, dave
# (his usage file), erin (her recipe and win); platform (its roster) dave, frank, alice; local
# nobody. Together six people; four of them render in the window.
KNOWN, RATE = 6, 0.6667
RATE_PER_PERIOD = {  # people rendering in the period, of the six
    "2024-W14": 0.1667,  # alice
    "2024-W15": 0.1667,  # bob
    "2024-W16": 0.3333,  # carol, dave
    "2024-W17": 0.1667,  # dave
    "2024-W18": 0.1667,  # alice (platform/deploy-rollback)
    "2024-W19": 0,
    "2024-W20": 0.1667,  # carol
    "2024-W21": 0.3333,  # bob, alice
}
BY_TEAM = [  # collection, recipes, renders, renderers, known, rate, contributors, wins, minutes
    ("sre", 4, 13, 3, 3, 1, 3, 6, 300),           # renders: bob 4+4, carol 2, alice 2+1
    ("platform", 2, 8, 3, 3, 0.6667, 1, 1, 50),   # dave 5, alice 1, bob 2 (not on the roster)
    ("support", 3, 7, 3, 5, 0.6, 3, 2, 50),       # carol 5, alice 1, dave 1; erin never
    ("local", 0, 0, 0, 0, None, 0, 0, 0),
]
BY_USE_CASE = [  # use case, recipes, renders, people, wins, minutes
    ("incident-response", 7, 24, 4, 8, 350),
    ("script-generation", 1, 4, 2, 1, 50),         # dave 3, alice 1; dave's 60m → 10m win
    ("ticket-deflection", 1, 0, 0, 0, 0),          # erin's refund-macro: nobody renders it
]
COMPRESSION = {
    "timed": 4, "halved": 3,                       # 1/6, 1/2 and 1/4 are at most half
    "median_ratio": 0.375,                         # the median of 1/6, 1/4, 1/2, 2/3
}
STORIES = [  # id, before, after, minutes, ratio, author (bob's 2/3 has no note: no story)
    ("platform/deploy-rollback", 60, 10, 50, 0.1667, "Dave Diaz <dave@example.test>"),
    ("support/log-triage", 40, 10, 30, 0.25, "Erin Evans <Erin.Evans@Example.TEST>"),
    ("sre/cert-expiry", 20, 10, 10, 0.5, "Carol Chen <carol@example.test>"),
]
HALVED_PER_PERIOD = {"2024-W17": 1, "2024-W18": 1, "2024-W20": 1}
CHAINS = [{"recipe": "log-triage",
           "path": ["sre/log-triage", "support/log-triage", "platform/log-triage"],
           "teams": ["sre", "support", "platform"], "renders": [7, 7, 4]}]
SPREADERS = [  # person, transmissions, people, recipes
    ("carol@example.test", 2, 2, 1), ("dave@example.test", 2, 2, 2),
    (ME, 1, 1, 1), ("bob@example.test", 1, 1, 1),
]
