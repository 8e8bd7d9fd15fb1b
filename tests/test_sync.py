"""pull, push, share, resolve against real remotes: bare repositories on disk and a git daemon on
127.0.0.1, two users with separate homes, conflicts, a killed push, remotes that are down."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import recipe_yaml
from tests.gitdaemon import (
    GitDaemon,
    User,
    closed_port,
    git,
    install_hook,
    make_remote,
    remote_log,
    silent_listener,
)

pytestmark = pytest.mark.slow


@pytest.fixture
def alice(tmp_path: Path) -> User:
    return User("alice", tmp_path)


@pytest.fixture
def bob(tmp_path: Path) -> User:
    return User("bob", tmp_path)


@pytest.fixture
def daemon(tmp_path: Path) -> Iterator[GitDaemon]:
    base = tmp_path / "served"
    base.mkdir()
    server = GitDaemon(base).start()
    try:
        yield server
    finally:
        server.stop()


def assert_clean(user: User, team: str) -> None:
    """Nothing uncommitted, no rebase or merge left open, no conflict marker anywhere."""
    path = user.collection(team)
    assert user.git(team, "status", "--porcelain") == ""
    assert not (path / ".git" / "rebase-merge").exists()
    assert not (path / ".git" / "MERGE_HEAD").exists()
    for file in path.rglob("*"):
        if ".git" not in file.parts and file.is_file():
            assert "<<<<<<<" not in file.read_text(errors="replace"), file


def edit_file(user: User, team: str, relpath: str, old: str, new: str) -> None:
    path = user.collection(team) / relpath
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new))


def is_ancestor(bare: Path, sha: str, ref: str = "main") -> bool:
    return subprocess.run(["git", "merge-base", "--is-ancestor", sha, ref], cwd=bare,
                          check=False).returncode == 0


DISK = "incident-response/disk-check.yaml"


def add_disk_check(user: User) -> None:
    user.ok("add", "disk-check", "--title", "Check a full disk", "--tag", "incident-response",
            "--template", "Disk on {{ host }} is full.")


def alice_and_bob(remote_url: str, alice: User, bob: User) -> None:
    """Both start from the same team repository; alice publishes disk-check; bob has it."""
    alice.ok("init", "--from", remote_url, "--name", "team")
    bob.ok("init", "--from", remote_url, "--name", "team")
    add_disk_check(alice)
    pushed = alice.ok("push")
    assert "team: pushed 1 commit" in pushed.stderr
    pulled = bob.ok("pull")
    assert pulled.stderr.strip() == "team: 1 new (disk-check)"


# --- the scenario from the issue ------------------------------------------------------------------


def run_scenario(remote_url: str, bare: Path, alice: User, bob: User) -> None:
    alice_and_bob(remote_url, alice, bob)

    # Both edit the same recipe: alice by hand, bob through `promptlib edit`.
    edit_file(alice, "team", DISK, "is full.", "is full. Check the biggest logs first.")
    bob.extra_env["EDITOR"] = "sed -i s/Check\\ a\\ full\\ disk/Check\\ a\\ full\\ disk\\ fast/"
    bob.ok("edit", "team/disk-check")
    bob.extra_env.clear()

    bob_push = bob.ok("push")
    assert "team: pushed 1 commit" in bob_push.stderr

    alice_push = alice.run("push")
    assert alice_push.returncode == 5, alice_push
    assert "disk-check" in alice_push.stderr
    assert "promptlib resolve disk-check --keep mine|theirs|both" in alice_push.stderr
    assert "sync conflict" in alice_push.stderr
    assert_clean(alice, "team")
    # Yours as it is; theirs retrievable.
    assert "Check the biggest logs first." in (alice.collection("team") / DISK).read_text()
    theirs = alice.git("team", "show", f"refs/promptlib/theirs:{DISK}")
    assert "Check a full disk fast" in theirs
    alice_commits = alice.git("team", "rev-list", "HEAD").split()
    bob_commits = bob.git("team", "rev-list", "HEAD").split()

    resolved = alice.ok("resolve", "disk-check", "--keep", "mine")
    assert "resolved team/disk-check: kept mine" in resolved.stderr
    assert "team: pushed" in resolved.stderr
    assert_clean(alice, "team")
    for sha in alice_commits + bob_commits:
        assert is_ancestor(bare, sha), sha
    log = remote_log(bare)
    assert "alice: Add disk-check: Check a full disk" in log
    assert "bob: Edit disk-check: Check a full disk fast" in log
    assert "alice: Commit hand edits: disk-check" in log
    assert log[-1] == "alice: Merge origin/main: resolve disk-check (kept mine)"

    # bob catches up and both libraries agree.
    assert "team: 1 updated (disk-check)" in bob.ok("pull").stderr
    assert (bob.collection("team") / DISK).read_text() == (
        alice.collection("team") / DISK).read_text()
    assert alice.ok("pull").stderr.strip() == "team: up to date"


def test_alice_and_bob_share_through_a_bare_repository(tmp_path: Path, alice: User, bob: User):
    bare = make_remote(tmp_path, "team")
    run_scenario(str(bare), bare, alice, bob)


def test_alice_and_bob_share_through_a_git_daemon(daemon: GitDaemon, alice: User, bob: User):
    bare = make_remote(daemon.base, "team")
    run_scenario(daemon.url("team.git"), bare, alice, bob)


# --- resolve: mine, theirs, both; several conflicts -----------------------------------------------


def conflict_on_disk_check(tmp_path: Path, alice: User, bob: User) -> Path:
    bare = make_remote(tmp_path, "team")
    alice_and_bob(str(bare), alice, bob)
    edit_file(alice, "team", DISK, "is full.", "is full (alice).")
    edit_file(bob, "team", DISK, "is full.", "is full (bob).")
    bob.ok("push")
    assert alice.run("pull").returncode == 5
    return bare


def test_resolve_theirs_takes_the_remote_version(tmp_path: Path, alice: User, bob: User):
    bare = conflict_on_disk_check(tmp_path, alice, bob)
    alice.ok("resolve", "team/disk-check", "--keep", "theirs")
    assert "(bob)" in (alice.collection("team") / DISK).read_text()
    assert "(bob)" in git(bare, "show", f"main:{DISK}")
    assert "alice: Commit hand edits: disk-check" in remote_log(bare)  # her commit survives


def test_resolve_both_keeps_theirs_under_a_new_valid_name(tmp_path: Path, alice: User,
                                                          bob: User):
    bare = conflict_on_disk_check(tmp_path, alice, bob)
    result = alice.ok("resolve", "disk-check", "--keep", "both")
    assert "theirs is now team/disk-check-theirs" in result.stderr
    mine = alice.collection("team") / DISK
    theirs = alice.collection("team") / "incident-response" / "disk-check-theirs.yaml"
    assert "(alice)" in mine.read_text()
    assert "(bob)" in theirs.read_text()
    assert theirs.read_text().startswith("name: disk-check-theirs\n")
    listed = {r["id"] for r in json.loads(alice.ok("list", "--json").stdout)}
    assert {"team/disk-check", "team/disk-check-theirs"} <= listed
    assert alice.ok("lint", "team/disk-check-theirs").returncode == 0
    files = git(bare, "ls-tree", "-r", "--name-only", "main").splitlines()
    assert {DISK, "incident-response/disk-check-theirs.yaml"} <= set(files)


def test_every_conflict_is_named_and_each_needs_its_own_resolve(tmp_path: Path, alice: User,
                                                                bob: User):
    bare = make_remote(tmp_path, "team")
    alice_and_bob(str(bare), alice, bob)
    alice.ok("add", "--file", "-", input=recipe_yaml("oom-kill"))
    alice.ok("push")
    bob.ok("pull")
    for user in (alice, bob):
        edit_file(user, "team", DISK, "is full.", f"is full ({user.name}).")
        edit_file(user, "team", "incident-response/oom-kill.yaml", "is full.",
                  f"is full ({user.name}).")
    bob.ok("push")

    pulled = alice.run("pull")
    assert pulled.returncode == 5
    assert "2 conflicts" in pulled.stderr
    assert "promptlib resolve disk-check --keep mine|theirs|both" in pulled.stderr
    assert "promptlib resolve oom-kill --keep mine|theirs|both" in pulled.stderr

    first = alice.ok("resolve", "oom-kill", "--keep", "theirs")
    assert "recorded: keep theirs for team/oom-kill" in first.stderr
    assert "disk-check" in first.stderr
    assert git(bare, "log", "-1", "--format=%an", "main") == "bob"  # nothing pushed yet
    again = alice.run("pull")
    assert again.returncode == 5
    assert "(recorded: keep theirs)" in again.stderr

    alice.ok("resolve", "disk-check", "--keep", "mine")
    assert "(bob)" in (alice.collection("team") / "incident-response/oom-kill.yaml").read_text()
    assert "(alice)" in (alice.collection("team") / DISK).read_text()
    assert git(bare, "log", "-1", "--format=%s", "main") == (
        "Merge origin/main: resolve disk-check (kept mine), oom-kill (kept theirs)")
    assert alice.run("resolve", "disk-check", "--keep", "mine").returncode == 3


def test_a_deleted_recipe_edited_on_the_other_side_is_a_conflict(tmp_path: Path, alice: User,
                                                                 bob: User):
    bare = make_remote(tmp_path, "team")
    alice_and_bob(str(bare), alice, bob)
    alice.ok("remove", "team/disk-check")
    edit_file(bob, "team", DISK, "is full.", "is full (bob).")
    bob.ok("push")
    assert alice.run("push").returncode == 5
    assert not (alice.collection("team") / DISK).exists()
    alice.ok("resolve", "disk-check", "--keep", "mine")
    assert DISK not in git(bare, "ls-tree", "-r", "--name-only", "main")
    assert "bob: Commit hand edits: disk-check" in remote_log(bare)


# --- integrating without conflicts ----------------------------------------------------------------


def test_different_recipes_on_both_sides_rebase_without_a_merge(tmp_path: Path, alice: User,
                                                                bob: User):
    bare = make_remote(tmp_path, "team")
    alice_and_bob(str(bare), alice, bob)
    bob.ok("add", "--file", "-", input=recipe_yaml("oom-kill"))
    bob.ok("push")
    alice.ok("add", "--file", "-", input=recipe_yaml("cpu-spike"))
    pushed = alice.ok("push")
    assert "team: 1 new (oom-kill), pushed 1 commit" in pushed.stderr
    assert remote_log(bare)[-2:] == ["bob: Add oom-kill: Triage a full disk",
                                     "alice: Add cpu-spike: Triage a full disk"]
    assert git(bare, "rev-list", "--merges", "main") == ""  # linear


def test_pull_reports_new_updated_and_removed_by_recipe(tmp_path: Path, alice: User, bob: User):
    bare = make_remote(tmp_path, "team", {
        "ops/a-one.yaml": recipe_yaml("a-one"), "ops/b-two.yaml": recipe_yaml("b-two"),
        "ops/c-three.yaml": recipe_yaml("c-three"), "README.md": "team\n"})
    alice.ok("init", "--from", str(bare), "--name", "team")
    bob.ok("init", "--from", str(bare), "--name", "team")
    for name in ("d-four", "e-five", "f-six"):
        alice.ok("add", "--file", "-", input=recipe_yaml(name))
    edit_file(alice, "team", "ops/a-one.yaml", "is full.", "is very full.")
    edit_file(alice, "team", "ops/b-two.yaml", "is full.", "is very full.")
    (alice.collection("team") / "ops/c-three.yaml").unlink()
    (alice.collection("team") / "README.md").write_text("changed\n")
    alice_push = alice.ok("push")
    assert "committed your hand edits first (README.md, a-one, b-two, c-three)" in (
        alice_push.stderr)
    assert bob.ok("pull").stderr.strip() == (
        "team: 3 new (d-four, e-five, f-six), 2 updated (a-one, b-two), 1 removed (c-three), "
        "1 other file")


def test_pull_refuses_invalid_hand_edits_naming_them(tmp_path: Path, alice: User):
    bare = make_remote(tmp_path, "team", {"ops/a-one.yaml": recipe_yaml("a-one")})
    alice.ok("init", "--from", str(bare), "--name", "team")
    (alice.collection("team") / "ops/a-one.yaml").write_text("name: a-one\ntitle: [oops\n")
    (alice.collection("team") / "ops/new-one.yaml").write_text(
        recipe_yaml("new-one", template="key AKIA" + "Q7LZ4XW2M9KD3P8R {{ host }}\n"))
    before = alice.git("team", "rev-parse", "HEAD")
    result = alice.run("pull")
    assert result.returncode == 4
    assert "team/ops/a-one.yaml" in result.stderr
    assert "team/ops/new-one.yaml" in result.stderr
    assert "credential" in result.stderr
    assert alice.git("team", "rev-parse", "HEAD") == before  # nothing committed


def test_untracked_junk_is_left_alone(tmp_path: Path, alice: User):
    bare = make_remote(tmp_path, "team", {"ops/a-one.yaml": recipe_yaml("a-one")})
    alice.ok("init", "--from", str(bare), "--name", "team")
    (alice.collection("team") / "ops" / "a-one.yaml~").write_text("editor backup")
    (alice.collection("team") / "ops" / ".a-one.yaml.swp").write_text("swap")
    alice.ok("pull")
    assert alice.git("team", "rev-list", "--count", "HEAD") == "1"


# --- push refuses credentials ---------------------------------------------------------------------


def test_push_refuses_a_credential_naming_recipe_and_line(tmp_path: Path, alice: User):
    bare = make_remote(tmp_path, "team")
    alice.ok("init", "--from", str(bare), "--name", "team")
    path = alice.collection("team") / "ops" / "leaky.yaml"
    path.parent.mkdir()
    path.write_text(recipe_yaml("leaky", template="Use AKIA" + "Q7LZ4XW2M9KD3P8R on {{ host }}\n"))
    # Committed behind promptlib's back, so only push's scan stands in the way.
    alice.git("team", "add", "ops/leaky.yaml")
    alice.git("team", "commit", "-q", "-m", "sneak a key in")
    result = alice.run("push")
    assert result.returncode == 4, result
    assert "team/leaky (ops/leaky.yaml:9)" in result.stderr
    assert "credential" in result.stderr
    assert remote_log(bare) == []


def test_push_refuses_a_credential_in_an_intermediate_commit(tmp_path: Path, alice: User):
    bare = make_remote(tmp_path, "team")
    alice.ok("init", "--from", str(bare), "--name", "team")
    path = alice.collection("team") / "ops" / "leaky.yaml"
    path.parent.mkdir()
    path.write_text(recipe_yaml("leaky", template="token ghp_abcdefghijklmnopqrstuvwxyz0123456789 "
                                                  "{{ host }}\n"))
    alice.git("team", "add", "ops/leaky.yaml")
    alice.git("team", "commit", "-q", "-m", "oops")
    path.write_text(recipe_yaml("leaky"))
    alice.git("team", "commit", "-q", "-am", "remove the token")
    result = alice.run("push")
    assert result.returncode == 4
    assert "team/leaky (ops/leaky.yaml:9) in commit" in result.stderr
    assert remote_log(bare) == []


# --- remotes that are down ------------------------------------------------------------------------


def test_refused_connection_is_exit_6_and_the_library_keeps_working(daemon: GitDaemon,
                                                                    alice: User):
    make_remote(daemon.base, "team", {"ops/a-one.yaml": recipe_yaml("a-one")})
    alice.ok("init", "--from", daemon.url("team.git"), "--name", "team")
    daemon.stop()
    started = time.monotonic()
    result = alice.run("pull")
    assert result.returncode == 6, result
    assert time.monotonic() - started < 15
    assert "cannot reach git://127.0.0.1" in result.stderr
    assert "the local library keeps working" in result.stderr
    render = alice.run("render", "a-one", "-v", "host=db1")
    assert render.returncode == 0
    assert render.stdout == "Disk on db1 is full.\n"
    alice.ok("add", "--file", "-", input=recipe_yaml("offline-one"))  # still writable
    assert alice.run("push").returncode == 6


def test_a_silent_remote_gives_up_within_15_seconds(tmp_path: Path, alice: User, bob: User):
    bare = make_remote(tmp_path, "team", {"ops/a-one.yaml": recipe_yaml("a-one")})
    alice.ok("init", "--from", str(bare), "--name", "team")
    alice.ok("team", "add", "other", str(bare))
    with silent_listener() as port_a, silent_listener() as port_b:
        alice.git("team", "remote", "set-url", "origin", f"git://127.0.0.1:{port_a}/team.git")
        alice.git("other", "remote", "set-url", "origin", f"git://127.0.0.1:{port_b}/team.git")
        started = time.monotonic()
        result = alice.run("pull", timeout=30)
        elapsed = time.monotonic() - started
    assert result.returncode == 6, result
    assert elapsed < 15, elapsed  # both remotes silent: one timeout, not two
    assert "no answer from git://127.0.0.1" in result.stderr
    assert "2 remotes could not be reached" in result.stderr
    render = alice.run("render", "team/a-one", "-v", "host=web1")
    assert render.returncode == 0
    assert "web1" in render.stdout


def test_unreachable_remote_never_prompts_for_a_password(tmp_path: Path, alice: User):
    bare = make_remote(tmp_path, "team", {"ops/a-one.yaml": recipe_yaml("a-one")})
    alice.ok("init", "--from", str(bare), "--name", "team")
    alice.git("team", "remote", "set-url", "origin", f"ssh://nobody@127.0.0.1:{closed_port()}/x")
    started = time.monotonic()
    result = alice.run("pull", timeout=30)
    assert result.returncode == 6
    assert time.monotonic() - started < 15


# --- a push killed midway, then retried -----------------------------------------------------------


def start_cli(user: User, *args: str) -> subprocess.Popen[str]:
    env = {**os.environ, **user.env}
    return subprocess.Popen([sys.executable, "-m", "promptlib", *args], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            stdin=subprocess.DEVNULL, start_new_session=True)


def wait_for(path: Path, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while not path.exists():
        assert time.monotonic() < deadline, f"{path} never appeared"
        time.sleep(0.05)


@pytest.mark.parametrize("hook", ["pre-receive", "post-receive"])
def test_a_push_killed_midway_is_retried_and_loses_nothing(daemon: GitDaemon, alice: User,
                                                          bob: User, hook: str):
    """Killed while the remote is receiving: before it took the commits (pre-receive) or after
    (post-receive). Either way the retry ends with everything on the remote, exactly once."""
    bare = make_remote(daemon.base, "team")
    alice_and_bob(daemon.url("team.git"), alice, bob)
    marker = daemon.base / "receiving"
    install_hook(bare, hook, f'if [ ! -e "{marker}" ]; then touch "{marker}"; sleep 5; '
                             + ("exit 1; " if hook == "pre-receive" else "") + "fi\nexit 0\n")
    for name in ("one-more", "two-more"):
        bob.ok("add", "--file", "-", input=recipe_yaml(name))

    push = start_cli(bob, "push")
    wait_for(marker)
    os.killpg(push.pid, signal.SIGKILL)
    push.wait(timeout=10)

    assert_clean(bob, "team")
    retry = bob.ok("push")
    expected = "pushed 2 commits" if hook == "pre-receive" else "up to date"
    assert expected in retry.stderr
    subjects = remote_log(bare)
    assert subjects.count("bob: Add one-more: Triage a full disk") == 1
    assert subjects.count("bob: Add two-more: Triage a full disk") == 1
    assert bob.git("team", "rev-parse", "HEAD") == git(bare, "rev-parse", "main")
    assert "2 new (one-more, two-more)" in alice.ok("pull").stderr


def test_push_when_the_remote_moved_pulls_first(daemon: GitDaemon, alice: User, bob: User):
    bare = make_remote(daemon.base, "team")
    alice_and_bob(daemon.url("team.git"), alice, bob)
    alice.ok("add", "--file", "-", input=recipe_yaml("from-alice"))
    alice.ok("push")
    bob.ok("add", "--file", "-", input=recipe_yaml("from-bob"))
    pushed = bob.ok("push")
    assert "team: 1 new (from-alice), pushed 1 commit" in pushed.stderr
    assert remote_log(bare)[-1] == "bob: Add from-bob: Triage a full disk"


# --- hostile content arriving by pull -------------------------------------------------------------


def test_pull_of_hostile_content_warns_and_never_follows(tmp_path: Path, alice: User):
    bare = make_remote(tmp_path, "team", {"ops/a-one.yaml": recipe_yaml("a-one")})
    alice.ok("init", "--from", str(bare), "--name", "team")
    attacker = tmp_path / "attacker"
    git(tmp_path, "clone", "-q", str(bare), str(attacker))
    (attacker / "leak.yaml").symlink_to("/etc/passwd")
    (attacker / "ops" / "broken.yaml").write_text("name: broken\n  bad: indent\n")
    (attacker / "ops" / "Évil.yaml").write_text(recipe_yaml("evil"))
    git(attacker, "add", "--all")
    git(attacker, "-c", "user.name=mallory", "-c", "user.email=m@x", "commit", "-qm", "gifts")
    git(attacker, "push", "-q", "origin", "HEAD:main")

    result = alice.run("pull")
    assert result.returncode == 0, result
    # Listed as problems, never as new recipes.
    assert result.stderr.splitlines()[0] == "team: 1 commit, no recipe changes"
    assert "team/leak.yaml: a symlink in the repository; promptlib never follows it" in (
        result.stderr)
    assert "team/ops/broken.yaml" in result.stderr
    assert "'\\xc9vil' breaks the name rule" in result.stderr
    leak = alice.collection("team") / "leak.yaml"
    assert not leak.is_symlink()
    assert leak.read_text() == "/etc/passwd"
    listing = alice.ok("list", "--json")
    assert "root:" not in listing.stdout + listing.stderr
    assert_clean(alice, "team")
    alice.ok("add", "--file", "-", input=recipe_yaml("still-works"))
    alice.ok("push")  # the hostile files are theirs; pushing our own work still goes through


# --- share ----------------------------------------------------------------------------------------


def test_share_copies_commits_and_pushes_with_shared_from(tmp_path: Path, alice: User, bob: User):
    sre = make_remote(tmp_path, "sre")
    support = make_remote(tmp_path, "support", {"kb/log-triage.yaml": recipe_yaml("log-triage")})
    alice.ok("init", "--from", str(sre), "--name", "sre")
    alice.ok("team", "add", "support", str(support))
    alice.ok("add", "--file", "-", input=recipe_yaml("disk-full"))

    shared = alice.ok("share", "sre/disk-full", "--to", "support")
    assert "shared sre/disk-full → support/disk-full" in shared.stderr
    assert "support: pushed 1 commit" in shared.stderr
    on_remote = git(support, "show", "main:incident-response/disk-full.yaml")
    assert "shared_from: sre/disk-full" in on_remote
    assert remote_log(support)[-1] == "alice: Share disk-full from sre/disk-full"

    bob.ok("init", "--from", str(support), "--name", "support")
    assert "shared from: sre/disk-full" in bob.ok("show", "disk-full").stdout

    clash = alice.run("share", "local/log-triage", "--to", "support")
    assert clash.returncode == 4
    assert "already has a recipe named 'log-triage'" in clash.stderr
    assert "--as NEWNAME" in clash.stderr
    alice.ok("share", "local/log-triage", "--to", "support", "--as", "log-triage-local")
    assert "shared_from: local/log-triage" in git(
        support, "show", "main:incident-response/log-triage-local.yaml")


def test_share_refuses_a_credential_and_an_unknown_team(tmp_path: Path, alice: User):
    sre = make_remote(tmp_path, "sre")
    alice.ok("team", "add", "sre", str(sre))
    path = alice.collection("local") / "ops" / "leaky.yaml"
    path.parent.mkdir(exist_ok=True)
    path.write_text(recipe_yaml("leaky", template="AKIA" + "Q7LZ4XW2M9KD3P8R {{ host }}\n"))
    refused = alice.run("share", "leaky", "--to", "sre")
    assert refused.returncode == 4
    assert "credential" in refused.stderr
    assert remote_log(sre) == []
    assert alice.run("share", "local/log-triage", "--to", "nosuch").returncode == 3


def test_share_while_the_team_is_unreachable_keeps_the_commit(daemon: GitDaemon, alice: User):
    make_remote(daemon.base, "sre")
    alice.ok("team", "add", "sre", daemon.url("sre.git"))
    daemon.stop()
    result = alice.run("share", "local/log-triage", "--to", "sre")
    assert result.returncode == 6
    assert "shared local/log-triage → sre/log-triage" in result.stderr
    assert alice.git("sre", "log", "-1", "--format=%s") == "Share log-triage from local/log-triage"


def test_sync_reports_are_messages_on_stderr_and_stdout_is_only_json(tmp_path: Path,
                                                                       alice: User, bob: User):
    """DESIGN §4: pull, push, share and resolve report on stderr; stdout is for --json alone."""
    bare = make_remote(tmp_path, "team")
    support = make_remote(tmp_path, "support")
    for user in (alice, bob):
        user.ok("init", "--from", str(bare), "--name", "team")
    add_disk_check(alice)
    alice.ok("add", "--file", "-", input=recipe_yaml("oom-kill"))
    pushed = alice.ok("push")
    assert (pushed.stdout, pushed.stderr) == ("", "team: pushed 2 commits\n")
    pulled = bob.ok("pull")
    assert (pulled.stdout, pulled.stderr) == ("", "team: 2 new (disk-check, oom-kill)\n")
    for user in (alice, bob):
        for relpath in (DISK, "incident-response/oom-kill.yaml"):
            edit_file(user, "team", relpath, "is full.", f"is full ({user.name}).")
    bob.ok("push")

    as_json = alice.run("push", "--json")  # a conflict: exit 5, and still one JSON document
    assert as_json.returncode == 5, as_json
    [report] = json.loads(as_json.stdout)
    assert [c["name"] for c in report["conflicts"]] == ["disk-check", "oom-kill"]
    assert "sync conflict" in as_json.stderr
    conflict = alice.run("pull")
    assert conflict.returncode == 5, conflict
    assert conflict.stdout == ""
    assert "team: 2 conflicts — changed on both sides" in conflict.stderr
    assert "promptlib resolve oom-kill --keep mine|theirs|both" in conflict.stderr

    recorded = alice.ok("resolve", "oom-kill", "--keep", "theirs")
    assert recorded.stdout == ""
    assert "recorded: keep theirs for team/oom-kill" in recorded.stderr
    resolved = alice.ok("resolve", "disk-check", "--keep", "mine")
    assert resolved.stdout == ""
    assert "resolved team/disk-check: kept mine; merged with the remote" in resolved.stderr
    assert "team: pushed" in resolved.stderr

    alice.ok("team", "add", "support", str(support))
    shared = alice.ok("share", "team/disk-check", "--to", "support")
    assert shared.stdout == ""
    assert "shared team/disk-check → support/disk-check" in shared.stderr
    assert "support: pushed 1 commit" in shared.stderr
    quiet = alice.ok("pull")
    assert quiet.stdout == ""
    assert "team: up to date" in quiet.stderr


def test_pull_and_push_without_any_remote_say_so(alice: User):
    result = alice.ok("pull")
    assert "no collection has a remote" in result.stderr
    assert json.loads(alice.ok("push", "--json").stdout) == []


def test_pull_json_reports_per_collection(tmp_path: Path, alice: User, bob: User):
    bare = make_remote(tmp_path, "team")
    alice_and_bob(str(bare), alice, bob)
    bob.ok("add", "--file", "-", input=recipe_yaml("from-bob"))
    bob.ok("push")
    report = json.loads(alice.ok("pull", "--json").stdout)
    assert report[0]["collection"] == "team"
    assert report[0]["new"] == ["from-bob"]
    assert report[0]["how"] == "fast-forward"
    assert report[0]["error"] is None


def test_a_file_that_is_not_a_recipe_conflicts_and_resolves_by_path(tmp_path: Path, alice: User,
                                                                    bob: User):
    bare = make_remote(tmp_path, "team", {"README.md": "Team prompts.\n",
                                          "docs/guide.md": "Guide.\n"})
    alice.ok("init", "--from", str(bare), "--name", "team")
    bob.ok("init", "--from", str(bare), "--name", "team")
    for user in (alice, bob):
        (user.collection("team") / "README.md").write_text(f"Team prompts, by {user.name}.\n")
        (user.collection("team") / "docs/guide.md").write_text(f"Guide by {user.name}.\n")
    bob.ok("push")
    pulled = alice.run("pull")
    assert pulled.returncode == 5
    assert "promptlib resolve README.md --keep mine|theirs|both" in pulled.stderr
    assert "promptlib resolve docs/guide.md --keep mine|theirs|both" in pulled.stderr
    alice.ok("resolve", "README.md", "--keep", "both")
    alice.ok("resolve", "team/docs/guide.md", "--keep", "theirs")
    assert git(bare, "show", "main:README.md") == "Team prompts, by alice."
    assert git(bare, "show", "main:README.theirs.md") == "Team prompts, by bob."
    assert git(bare, "show", "main:docs/guide.md") == "Guide by bob."
    assert_clean(alice, "team")


# --- review fixes: resolve reports, --keep, push scans every file, pull reports, stale index ------


def three_way_conflict(tmp_path: Path, alice: User, bob: User, names: tuple[str, ...]) -> Path:
    """alice and bob both edit every recipe in `names`; bob pushes; alice's pull conflicts."""
    bare = make_remote(tmp_path, "sre", {f"ops/{n}.yaml": recipe_yaml(n) for n in names})
    for user in (alice, bob):
        user.ok("init", "--from", str(bare), "--name", "sre")
        for name in names:
            edit_file(user, "sre", f"ops/{name}.yaml", "is full.", f"is full ({user.name}).")
    bob.ok("push")
    pulled = alice.run("pull")
    assert pulled.returncode == 5, pulled
    assert f"{len(names)} conflicts" in pulled.stderr
    return bare


def test_each_resolve_reports_its_own_decision_and_the_merge_every_copy(tmp_path: Path,
                                                                          alice: User, bob: User):
    bare = three_way_conflict(tmp_path, alice, bob, ("log-triage-2", "newone", "disk-check"))
    first = alice.ok("resolve", "log-triage-2", "--keep", "theirs")
    assert "recorded: keep theirs for sre/log-triage-2" in first.stderr
    second = alice.ok("resolve", "newone", "--keep", "both")
    assert "recorded: keep both for sre/newone" in second.stderr
    last = alice.ok("resolve", "disk-check", "--keep", "mine")
    assert "resolved sre/disk-check: kept mine; merged with the remote" in last.stderr
    assert "disk-check: kept mine; theirs is now" not in last.stderr
    lines = [ln.strip() for ln in last.stderr.splitlines()]
    assert "the merge settled 3 conflicts in sre:" in lines
    assert "log-triage-2  kept theirs" in lines
    assert "newone        kept both; theirs is now sre/newone-theirs" in lines
    assert "disk-check    kept mine" in lines
    files = set(git(bare, "ls-tree", "-r", "--name-only", "main").splitlines())
    assert "ops/newone-theirs.yaml" in files
    assert "ops/disk-check-theirs.yaml" not in files


def test_two_keep_both_decisions_report_both_copies(tmp_path: Path, alice: User, bob: User):
    bare = three_way_conflict(tmp_path, alice, bob, ("disk-check", "newone", "oom-kill"))
    alice.ok("resolve", "newone", "--keep", "both")
    alice.ok("resolve", "disk-check", "--keep", "mine")
    last = alice.ok("resolve", "oom-kill", "--keep", "both")
    assert "resolved sre/oom-kill: kept both; theirs is now sre/oom-kill-theirs" in last.stderr
    lines = [ln.strip() for ln in last.stderr.splitlines()]
    assert "newone      kept both; theirs is now sre/newone-theirs" in lines
    assert "oom-kill    kept both; theirs is now sre/oom-kill-theirs" in lines
    assert "disk-check  kept mine" in lines
    files = set(git(bare, "ls-tree", "-r", "--name-only", "main").splitlines())
    assert {"ops/newone-theirs.yaml", "ops/oom-kill-theirs.yaml"} <= files


def test_a_bad_keep_value_is_a_usage_error(alice: User):
    bad = alice.run("resolve", "x", "--keep", "sideways")
    assert bad.returncode == 2, bad
    assert "sideways" in bad.stderr
    for choice in ("mine", "theirs", "both"):
        assert choice in bad.stderr
    # A good value in any case is accepted; then there is simply no such conflict.
    assert alice.run("resolve", "x", "--keep", "MINE").returncode == 3


def fake_token() -> str:
    """A GitHub token built at runtime, so the repository itself holds no literal secret."""
    return "ghp_" + "k3Vq9ZtL2mWx7RbN4cYp8HdJ5sGf1AeU6oTi"


def fake_aws_key() -> str:
    return "AKIA" + "Q7LZ4XW2M9KD3P8R"


def test_push_refuses_a_credential_in_any_committed_file(tmp_path: Path, alice: User):
    bare = make_remote(tmp_path, "team")
    alice.ok("init", "--from", str(bare), "--name", "team")
    coll = alice.collection("team")
    (coll / "wins").mkdir()
    (coll / "wins" / "x.yaml").write_text(
        f'recipe: disk-check\nnote: "password=hunter2hunter2 {fake_aws_key()}"\n')
    (coll / "README.md").write_text(f"Team prompts.\n\nCI token: {fake_token()}\n")
    alice.git("team", "add", "wins/x.yaml", "README.md")
    alice.git("team", "commit", "-q", "-m", "by hand")
    sha = alice.git("team", "rev-parse", "HEAD")[:10]
    result = alice.run("push")
    assert result.returncode == 4, result
    assert f"team/wins/x.yaml:2 in commit {sha}: looks like a credential (password)" in (
        result.stderr)
    assert f"team/wins/x.yaml:2 in commit {sha}: looks like a credential (aws_key_id)" in (
        result.stderr)
    assert f"team/README.md:3 in commit {sha}: looks like a credential (github_pat)" in (
        result.stderr)
    assert remote_log(bare) == []


def test_push_skips_binary_files_and_scans_the_start_of_a_big_one(tmp_path: Path, alice: User):
    bare = make_remote(tmp_path, "team")
    alice.ok("init", "--from", str(bare), "--name", "team")
    coll = alice.collection("team")
    (coll / "logo.png").write_bytes(b"\x89PNG\r\n\x1a\n\0\0" + fake_token().encode() + b"\0")
    (coll / "notes.txt").write_text("ok\n" * 10)
    alice.git("team", "add", "logo.png", "notes.txt")
    alice.git("team", "commit", "-q", "-m", "a picture")
    assert "team: pushed 1 commit" in alice.ok("push").stderr  # the binary file is not text

    (coll / "big.log").write_text(f"key {fake_aws_key()}\n" + "filler line\n" * 200_000)
    alice.git("team", "add", "big.log")
    alice.git("team", "commit", "-q", "-m", "a big log")
    result = alice.run("push")
    assert result.returncode == 4, result
    assert "team/big.log:1 in commit" in result.stderr
    assert remote_log(bare) == ["alice: a picture"]


def test_pull_counts_wins_and_usage_files_that_arrive(tmp_path: Path, alice: User, bob: User):
    bare = make_remote(tmp_path, "team")
    alice_and_bob(str(bare), alice, bob)
    coll = bob.collection("team")
    for relpath in ("wins/2024-05-01-a.yaml", "wins/2024-05-02-b.yaml",
                    "usage/2024-05-01-bob-m1.yaml"):
        (coll / relpath).parent.mkdir(exist_ok=True)
        (coll / relpath).write_text("{}\n")
    bob.git("team", "add", "wins", "usage")
    bob.git("team", "commit", "-q", "-m", "wins and usage")
    bob.ok("push")
    assert alice.ok("pull").stderr.strip() == "team: 2 wins, 1 usage file"
    assert alice.ok("pull").stderr.strip() == "team: up to date"


def test_pull_of_a_merge_that_changes_no_file_says_commits_arrived(tmp_path: Path, alice: User,
                                                                   bob: User):
    conflict_on_disk_check(tmp_path, alice, bob)
    alice.ok("resolve", "disk-check", "--keep", "theirs")  # the merge's tree is bob's own
    before = bob.git("team", "rev-parse", "HEAD")
    assert bob.ok("pull").stderr.strip() == "team: 2 commits, no recipe changes"
    assert bob.git("team", "rev-parse", "HEAD") != before
    assert bob.ok("pull").stderr.strip() == "team: up to date"


def test_pull_after_the_remote_was_rewritten_reports_what_arrived(tmp_path: Path, alice: User):
    bare = make_remote(tmp_path, "team", {"ops/a-one.yaml": recipe_yaml("a-one"),
                                          "README.md": "Team.\n"})
    other = tmp_path / "other"
    git(tmp_path, "clone", "-q", str(bare), str(other))
    ident = ("-c", "user.name=carol", "-c", "user.email=c@x")
    (other / "ops" / "b-two.yaml").write_text(recipe_yaml("b-two"))
    git(other, "add", "ops/b-two.yaml")
    git(other, *ident, "commit", "-qm", "b-two")
    git(other, "push", "-q", "origin", "HEAD:main")
    alice.ok("init", "--from", str(bare), "--name", "team")
    alice.ok("add", "--file", "-", input=recipe_yaml("c-three"))
    # The remote is rewritten: carol's commit is replaced by one that only edits the README.
    git(other, "reset", "-q", "--hard", "HEAD~1")
    (other / "README.md").write_text("Team, rewritten.\n")
    git(other, *ident, "commit", "-qam", "README")
    git(other, "push", "-q", "--force", "origin", "HEAD:main")

    report = json.loads(alice.ok("pull", "--json").stdout)[0]
    assert report["how"] == "rebase"
    assert report["incoming"] == 1
    assert report["files"] == ["README.md"]
    assert report["new"] == report["updated"] == report["removed"] == []
    assert (alice.collection("team") / "README.md").read_text() == "Team, rewritten.\n"
    assert_clean(alice, "team")


def test_tracked_in_head_tells_committed_from_staged_files(tmp_path: Path):
    from promptlib.gitops import run as gitops

    repo = tmp_path / "repo"
    git(tmp_path, "init", "-q", "--initial-branch=main", str(repo))
    assert not gitops.tracked_in_head(repo, "a.yaml")  # unborn HEAD
    for relpath in ("a.yaml", "ops/b.yaml", "-p", "--output=x"):
        (repo / relpath).parent.mkdir(parents=True, exist_ok=True)
        (repo / relpath).write_text("x\n")
    git(repo, "add", "--", "a.yaml", "ops/b.yaml", "-p", "--output=x")
    git(repo, "-c", "user.name=t", "-c", "user.email=t@x", "commit", "-qm", "one")
    (repo / "staged.yaml").write_text("s\n")
    git(repo, "add", "staged.yaml")
    for relpath in ("a.yaml", "ops/b.yaml", "-p", "--output=x"):
        assert gitops.tracked_in_head(repo, relpath), relpath
    for relpath in ("staged.yaml", "nosuch.yaml", "ops", "", "/a.yaml", "./a.yaml",
                    "ops/../a.yaml", "../repo/a.yaml", "a.yaml\n"):
        assert not gitops.tracked_in_head(repo, relpath), relpath
    assert not (repo / "x").exists()


def test_read_gives_what_run_gives_without_gitpython(tmp_path: Path):
    """`gitops.read` (report's reads) and `gitops.run` (GitPython) agree: output, errors, and
    stdout despite a failure with `with_exceptions=False`."""
    from promptlib.errors import PromptlibError
    from promptlib.gitops import run as gitops

    repo = tmp_path / "repo"
    git(tmp_path, "init", "-q", "--initial-branch=main", str(repo))
    (repo / "caf\u00e9 \"x\".yaml").write_text("tags: [a]\n")
    (repo / "b.yaml").write_text("tags:\n  - b\n")
    git(repo, "add", "--all")
    git(repo, "-c", "user.name=T\u00e9", "-c", "user.email=t@x", "commit", "-qm", "one\n\ntwo")
    for args in (("log", "--name-status", "--format=%an%x1f%B", "HEAD", "--"),
                 ("grep", "-z", "-A1", "-e", "^tags:", "--", "*.yaml"),
                 ("ls-files", "-z"), ("rev-parse", "HEAD")):
        assert gitops.read(repo, *args) == gitops.run(repo, *args), args
    for args in (("rev-parse", "--verify", "--quiet", "nosuch^{commit}"),
                 ("grep", "-e", "nothing-matches", "--"), ("log", "nosuch", "--")):
        assert (gitops.read(repo, *args, with_exceptions=False)
                == gitops.run(repo, *args, with_exceptions=False)), args
        with pytest.raises(PromptlibError) as by_read:
            gitops.read(repo, *args)
        with pytest.raises(PromptlibError) as by_run:
            gitops.run(repo, *args)
        assert str(by_read.value) == str(by_run.value), args
    assert gitops.read(tmp_path / "nosuch", "rev-parse", "--is-inside-work-tree",
                       with_exceptions=False) == gitops.run(
        tmp_path / "nosuch", "rev-parse", "--is-inside-work-tree", with_exceptions=False)


def test_recover_unstages_a_file_staged_and_then_deleted(tmp_path: Path, alice: User):
    """What a killed `add` leaves (staged, never committed), once the file is deleted: it no
    longer breaks the next commit."""
    from promptlib.gitops import history as gitops_history

    bare = make_remote(tmp_path, "team", {"ops/a-one.yaml": recipe_yaml("a-one")})
    alice.ok("init", "--from", str(bare), "--name", "team")
    coll = alice.collection("team")
    (coll / "ops" / "half.yaml").write_text(recipe_yaml("half"))
    (coll / "ops" / "kept.yaml").write_text(recipe_yaml("kept"))
    alice.git("team", "add", "ops/half.yaml", "ops/kept.yaml")
    (coll / "ops" / "half.yaml").unlink()
    edit_file(alice, "team", "ops/a-one.yaml", "is full.", "is very full.")
    alice.git("team", "add", "ops/a-one.yaml")
    (coll / "ops" / "a-one.yaml").unlink()  # a committed file: staged change, then deleted

    done = gitops_history.recover(coll)
    assert done == ["unstaged ops/half.yaml (staged, never committed, no longer on disk)"]
    status = alice.git("team", "status", "--porcelain")
    assert "half.yaml" not in status
    assert "A  ops/kept.yaml" in status  # still on disk: untouched
    assert "MD ops/a-one.yaml" in status  # HEAD holds it: untouched
    assert gitops_history.recover(coll) == []


def test_pull_after_a_staged_file_was_deleted_goes_through(tmp_path: Path, alice: User):
    bare = make_remote(tmp_path, "team", {"ops/a-one.yaml": recipe_yaml("a-one")})
    alice.ok("init", "--from", str(bare), "--name", "team")
    coll = alice.collection("team")
    (coll / "ops" / "half.yaml").write_text(recipe_yaml("half"))
    alice.git("team", "add", "ops/half.yaml")
    (coll / "ops" / "half.yaml").unlink()
    alice.ok("pull")
    alice.ok("push")
    assert_clean(alice, "team")
    assert "ops/half.yaml" not in git(bare, "ls-tree", "-r", "--name-only", "main")
