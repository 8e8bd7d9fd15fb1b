"""Concurrent promptlib processes serialize their writes on the collection's lock and lose
nothing; whatever a killed process leaves behind is recovered by the next one."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from tests.conftest import recipe_yaml
from tests.gitdaemon import User, git, make_remote, remote_log

pytestmark = pytest.mark.slow

WORKERS = 8
ADDS = 10


@pytest.fixture
def alice(tmp_path: Path) -> User:
    return User("alice", tmp_path)


def add_many(user: User, worker: int, count: int, to: str | None = None) -> list[int]:
    codes = []
    for i in range(count):
        args = ["add", "--file", "-"] + (["--to", to] if to else [])
        codes.append(user.run(*args, input=recipe_yaml(f"w{worker}-r{i}"), timeout=120)
                      .returncode)
    return codes


def test_eight_processes_adding_ten_recipes_each_lose_nothing(alice: User):
    # Not even the home exists yet: the first commands also race to create and seed it.
    started = time.monotonic()
    with ThreadPoolExecutor(WORKERS) as pool:
        results = list(pool.map(lambda w: add_many(alice, w, ADDS), range(WORKERS)))
    elapsed = time.monotonic() - started
    assert results == [[0] * ADDS] * WORKERS

    local = alice.collection("local")
    subjects = git(local, "log", "--format=%s").splitlines()
    adds = [s for s in subjects if s.startswith("Add w")]
    assert len(adds) == WORKERS * ADDS
    assert len(set(adds)) == WORKERS * ADDS
    assert subjects[-1].startswith("Seed the local collection")
    assert len(subjects) == WORKERS * ADDS + 1  # one seed, one commit per add, nothing else
    for w in range(WORKERS):
        for i in range(ADDS):
            assert (local / "incident-response" / f"w{w}-r{i}.yaml").is_file()
    assert git(local, "status", "--porcelain") == ""
    git(local, "fsck", "--strict")
    print(f"\n{WORKERS}x{ADDS} concurrent adds: {elapsed:.1f} s")


HOLD_LOCK = """
import sys, time
from promptlib.gitops import run as gitops
from promptlib.gitops.lock import locked
with locked(sys.argv[1]):
    print("locked", flush=True)
    time.sleep(120)
"""


def test_a_lock_left_by_a_killed_process_is_recovered(alice: User):
    alice.ok("init")
    env = {**os.environ, **alice.env}
    holder = subprocess.Popen([sys.executable, "-c", HOLD_LOCK, "local"], env=env,
                              stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None
        assert holder.stdout.readline().strip() == "locked"
        waiting = subprocess.Popen([sys.executable, "-m", "promptlib", "add", "--file", "-"],
                                   env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                   stderr=subprocess.PIPE, text=True)
        assert waiting.stdin is not None
        waiting.stdin.write(recipe_yaml("after-kill"))
        waiting.stdin.close()
        time.sleep(1.5)
        assert waiting.poll() is None  # blocked on the lock, not failing
        holder.send_signal(signal.SIGKILL)  # dies holding it
        holder.wait(timeout=10)
        assert waiting.wait(timeout=30) == 0
    finally:
        if holder.poll() is None:
            holder.kill()
            holder.wait()
    assert git(alice.collection("local"), "log", "-1", "--format=%s") == (
        "Add after-kill: Triage a full disk")


def test_a_git_lock_file_left_by_a_killed_git_is_recovered(alice: User):
    alice.ok("init")
    local = alice.collection("local")
    (local / ".git" / "index.lock").write_text("")
    (local / ".git" / "refs" / "heads" / "main.lock").write_text("")
    started = time.monotonic()
    alice.ok("add", "--file", "-", input=recipe_yaml("after-crash"))
    assert time.monotonic() - started < 15
    assert not (local / ".git" / "index.lock").exists()
    assert git(local, "log", "-1", "--format=%s") == "Add after-crash: Triage a full disk"


def stop_mid_rebase(user: User, tmp_path: Path) -> tuple[Path, str]:
    """A team clone left in the middle of a rebase that stopped on a conflict; returns the clone
    and alice's commit."""
    bare = make_remote(tmp_path, "team", {"ops/a-one.yaml": recipe_yaml("a-one")})
    user.ok("init", "--from", str(bare), "--name", "team")
    team = user.collection("team")
    other = tmp_path / "other"
    git(tmp_path, "clone", "-q", str(bare), str(other))
    (other / "ops" / "a-one.yaml").write_text(recipe_yaml("a-one", template="Theirs {{ host }}\n"))
    git(other, "-c", "user.name=o", "-c", "user.email=o@x", "commit", "-qam", "theirs")
    git(other, "push", "-q", "origin", "HEAD:main")
    (team / "ops" / "a-one.yaml").write_text(recipe_yaml("a-one", template="Mine {{ host }}\n"))
    user.git("team", "commit", "-qam", "mine")
    mine = user.git("team", "rev-parse", "HEAD")
    user.git("team", "fetch", "-q", "origin")
    git(team, "rebase", "origin/main", check=False, env=user.env)
    assert (team / ".git" / "rebase-merge").is_dir()
    return team, mine


def test_a_rebase_left_open_by_a_killed_pull_is_aborted_and_nothing_is_lost(alice: User,
                                                                           tmp_path: Path):
    team, mine = stop_mid_rebase(alice, tmp_path)
    # What a pull killed at that moment leaves: its marker beside git's rebase state.
    (team / ".git" / "promptlib-operation").write_text("12345\n")

    alice.ok("add", "--to", "team", "--file", "-", input=recipe_yaml("b-two"))
    assert not (team / ".git" / "rebase-merge").exists()
    assert not (team / ".git" / "promptlib-operation").exists()
    assert alice.git("team", "rev-parse", "HEAD~1") == mine
    assert "Mine" in (team / "ops" / "a-one.yaml").read_text()
    assert alice.run("pull").returncode == 5  # and sync reports the conflict properly instead


def test_a_rebase_started_by_hand_is_never_touched(alice: User, tmp_path: Path):
    team, _ = stop_mid_rebase(alice, tmp_path)
    result = alice.run("add", "--to", "team", "--file", "-", input=recipe_yaml("b-two"))
    assert result.returncode == 1
    assert "a git rebase or merge that promptlib did not start is in progress" in result.stderr
    assert (team / ".git" / "rebase-merge").is_dir()
    assert "<<<<<<<" in (team / "ops" / "a-one.yaml").read_text()  # their state, as they left it


def test_adds_and_pushes_running_together_all_reach_the_remote(alice: User, tmp_path: Path):
    bare = make_remote(tmp_path, "team")
    alice.ok("init", "--from", str(bare), "--name", "team")

    def pushes(_: int) -> list[int]:
        return [alice.run("push", timeout=120).returncode for _ in range(3)]

    with ThreadPoolExecutor(6) as pool:
        adders = [pool.submit(add_many, alice, w, 5, "team") for w in range(4)]
        pushers = [pool.submit(pushes, p) for p in range(2)]
        assert [f.result() for f in adders] == [[0] * 5] * 4
        assert [f.result() for f in pushers] == [[0] * 3] * 2
    alice.ok("push")
    assert len([s for s in remote_log(bare) if s.startswith("alice: Add w")]) == 20
    assert alice.git("team", "status", "--porcelain") == ""
