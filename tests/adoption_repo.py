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


def recipe(name: str, revision: int = 0, shared_from: str | None = None) -> str:
    extra = f"shared_from: {shared_from}\n" if shared_from else ""
    return recipe_yaml(name, template=f"Revision {revision}: disk on {{{{ host }}}} is full.\n",
                       extra=extra)


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
