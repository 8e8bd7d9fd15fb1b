"""NAME@REV wherever a recipe is read, `diff`, `restore` and `tag`: against real git history in a
real collection, every REV form (commit, prefix, tag, branch, label, ~N) and every error."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from tests.conftest import imports_of, recipe_yaml
from tests.gitdaemon import User, git, make_remote

pytestmark = pytest.mark.slow

V1 = "Disk on {{ host }} is full.\n"
V2 = "Disk on {{ host }} is full. Check /var/log.\n"
V3 = "Disk on {{ host }} is full. Check /var/log first.\n"
RELPATH = "incident-response/disk-full.yaml"


def local(home: Path) -> Path:
    return home / "collections" / "local"


def shas(home: Path) -> list[str]:
    """The commits that changed disk-full, newest first."""
    return git(local(home), "log", "--format=%H", "--", RELPATH).split()


@pytest.fixture
def three_versions(cli, home: Path) -> list[str]:
    """disk-full in `local` with three versions; their commits, newest first."""
    assert cli("add", "--file", "-", input=recipe_yaml(template=V1)).exit_code == 0
    for template in (V2, V3):
        edited = cli("edit", "disk-full", "--file", "-", input=recipe_yaml(template=template))
        assert edited.exit_code == 0, edited.output
    return shas(home)


def rendered(cli, ref: str) -> str:
    result = cli("render", ref, "-v", "host=web-1", "--no-input")
    assert result.exit_code == 0, result.output
    return result.stdout


# --- every REV form -------------------------------------------------------------------------------


def test_tilde_counts_versions_of_the_recipe_not_commits(cli, home, three_versions):
    cli("add", "--file", "-", input=recipe_yaml("other-recipe"))  # a commit that is not a version
    assert rendered(cli, "disk-full@~1") == V2.replace("{{ host }}", "web-1")
    assert rendered(cli, "disk-full@~2") == V1.replace("{{ host }}", "web-1")
    assert rendered(cli, "disk-full@~0") == V3.replace("{{ host }}", "web-1")
    assert rendered(cli, "disk-full@~") == V2.replace("{{ host }}", "web-1")


def test_an_old_version_says_which_commit_on_stderr_and_in_json(cli, three_versions):
    result = cli("render", "disk-full@~1", "-v", "host=web-1", "--no-input")
    assert result.exit_code == 0, result.output
    assert three_versions[1][:7] in result.stderr
    as_json = cli("render", "disk-full@~1", "-v", "host=web-1", "--no-input", "--json")
    document = json.loads(as_json.stdout)
    assert document["commit"] == three_versions[1]
    assert document["text"] == V2.replace("{{ host }}", "web-1")
    plain = json.loads(cli("render", "disk-full", "-v", "host=x", "--json").stdout)
    assert plain["commit"] is None


@pytest.mark.parametrize("length", [7, 12, 40])
def test_a_commit_or_a_unique_start_of_one(cli, three_versions, length):
    sha = three_versions[2][:length]
    assert rendered(cli, f"disk-full@{sha}") == V1.replace("{{ host }}", "web-1")


def test_a_commit_that_is_not_a_version_of_the_recipe_reads_the_version_it_holds(
        cli, home, three_versions):
    cli("add", "--file", "-", input=recipe_yaml("other-recipe"))
    later = git(local(home), "rev-parse", "HEAD")
    assert rendered(cli, f"disk-full@{later}") == V3.replace("{{ host }}", "web-1")


def test_a_git_tag_and_a_branch(cli, home, three_versions):
    git(local(home), "tag", "v1", three_versions[2])
    git(local(home), "branch", "before-edit", three_versions[1])
    assert rendered(cli, "disk-full@v1") == V1.replace("{{ host }}", "web-1")
    assert rendered(cli, "disk-full@before-edit") == V2.replace("{{ host }}", "web-1")
    assert rendered(cli, "local/disk-full@main") == V3.replace("{{ host }}", "web-1")


def test_a_label_names_a_version_of_that_recipe(cli, home, three_versions):
    tagged = cli("tag", "disk-full@~2", "prod")
    assert tagged.exit_code == 0, tagged.output
    assert "no remote" in tagged.stderr
    assert git(local(home), "rev-parse", "refs/tags/promptlib/disk-full/prod") == three_versions[2]
    assert rendered(cli, "disk-full@prod") == V1.replace("{{ host }}", "web-1")
    # A label is the recipe's own: another recipe's `prod` is another tag.
    cli("add", "--file", "-", input=recipe_yaml("other-recipe"))
    assert cli("render", "other-recipe@prod", "-v", "host=x").exit_code == 3


def test_show_history_and_lint_read_a_version(cli, three_versions):
    show = json.loads(cli("show", "disk-full@~2", "--json").stdout)
    assert show["template"] == V1
    assert show["commit"] == three_versions[2]
    text = cli("show", "disk-full@~1")
    assert text.exit_code == 0
    assert "Check /var/log." in text.stdout
    assert three_versions[1][:7] in text.stdout
    history = json.loads(cli("history", "disk-full@~1", "--json").stdout)
    assert [c["sha"] for c in history] == three_versions[1:]
    lint = cli("lint", "disk-full@~2", "--json")
    assert lint.exit_code == 0, lint.output
    assert json.loads(lint.stdout)[0]["ok"] is True


# --- errors ---------------------------------------------------------------------------------------


def test_an_unknown_rev_exits_3_listing_recent_versions(cli, three_versions):
    result = cli("render", "disk-full@nosuchthing", "-v", "host=x")
    assert result.exit_code == 3, result.output
    assert "no version 'nosuchthing' of local/disk-full" in result.stderr
    assert "~0 " + three_versions[0][:7] in result.stderr
    assert "~2 " + three_versions[2][:7] in result.stderr


def test_too_many_versions_back_exits_3(cli, three_versions):
    result = cli("show", "disk-full@~3")
    assert result.exit_code == 3, result.output
    assert "it has 3 versions" in result.stderr


def test_a_commit_before_the_recipe_existed_exits_3(cli, home, three_versions):
    seed = git(local(home), "rev-list", "--max-parents=0", "HEAD")
    result = cli("render", f"disk-full@{seed}", "-v", "host=x")
    assert result.exit_code == 3, result.output
    assert "did not exist" in result.stderr


@pytest.mark.parametrize("rev", ["", "a..b", "HEAD@{1}", "main:other.yaml", "-x", "~x", "v1.lock"])
def test_a_malformed_rev_is_invalid_input(cli, three_versions, rev):
    result = cli("render", f"disk-full@{rev}", "-v", "host=x")
    assert result.exit_code == 4, result.output
    assert "is not a version" in result.stderr


def test_a_version_that_no_longer_validates_is_refused_naming_it(cli, home, three_versions):
    path = local(home) / RELPATH
    path.write_text(recipe_yaml(template=V3) + "titel: typo\n")
    git(local(home), "commit", "-qam", "hand edit with a typo")
    path.write_text(recipe_yaml(template=V3))
    git(local(home), "commit", "-qam", "fix it")
    result = cli("render", "disk-full@~1", "-v", "host=x")
    assert result.exit_code == 4, result.output
    assert "titel" in result.stderr
    # A diff compares text: the broken version can still be looked at.
    diffed = cli("diff", "disk-full", "~1")
    assert diffed.exit_code == 0, diffed.output
    assert "-titel: typo" in diffed.stdout
    assert "@" in result.stderr


def test_edit_and_remove_refuse_a_version(cli, three_versions):
    result = cli("edit", "disk-full@~1", "--file", "-", input=recipe_yaml())
    assert result.exit_code == 4, result.output
    assert "restore" in result.stderr


# --- diff -----------------------------------------------------------------------------------------


def test_diff_defaults_to_previous_against_current(cli, three_versions):
    result = cli("diff", "disk-full")
    assert result.exit_code == 0, result.output
    assert f"--- local/disk-full@{three_versions[1][:7]}" in result.stdout
    assert "+++ local/disk-full (current)" in result.stdout
    assert "-  Disk on {{ host }} is full. Check /var/log.\n" in result.stdout
    assert "+  Disk on {{ host }} is full. Check /var/log first.\n" in result.stdout
    assert "\x1b[" not in result.stdout


def test_diff_one_rev_against_current_and_two_revs(cli, three_versions):
    one = cli("diff", "disk-full", "~2")
    assert "-  Disk on {{ host }} is full.\n" in one.stdout
    two = json.loads(cli("diff", "disk-full", "~2", "~1", "--json").stdout)
    assert two["from"]["commit"] == three_versions[2]
    assert two["to"]["commit"] == three_versions[1]
    assert two["changed"] is True
    assert "+  Disk on {{ host }} is full. Check /var/log.\n" in two["diff"]
    same = json.loads(cli("diff", "disk-full@~0", "--json").stdout)
    assert same["changed"] is False
    assert same["diff"] == ""


def test_diff_of_uncommitted_hand_edits_compares_with_the_last_commit(cli, home, three_versions):
    (local(home) / RELPATH).write_text(recipe_yaml(template="Disk {{ host }}.\n"))
    result = cli("diff", "disk-full")
    assert f"--- local/disk-full@{three_versions[0][:7]}" in result.stdout


def test_diff_errors(cli, home, three_versions):
    assert cli("diff", "disk-full", "~1", "~2", "~0").exit_code == 2
    assert cli("diff", "disk-full", "nope").exit_code == 3
    assert cli("diff", "disk-full", "a..b").exit_code == 4
    cli("add", "--file", "-", input=recipe_yaml("single"))
    single = cli("diff", "single")
    assert single.exit_code == 3, single.output
    assert "no earlier version" in single.stderr


def test_diff_is_coloured_on_a_terminal(home, three_versions):
    from tests.test_tty import run_on_tty

    status, output = run_on_tty(["diff", "disk-full"])
    assert status == 0, output
    assert "\x1b[32m+" in output
    assert "\x1b[31m-" in output


# --- restore --------------------------------------------------------------------------------------


def test_restore_makes_a_new_commit_whose_file_equals_the_old_version(cli, home, three_versions):
    result = cli("restore", "disk-full@~1")
    assert result.exit_code == 0, result.output
    short = three_versions[1][:7]
    assert git(local(home), "log", "-1", "--format=%s") == f"Restore disk-full to {short}"
    assert (local(home) / RELPATH).read_bytes() == git_show(home, three_versions[1])
    assert len(shas(home)) == 4  # history keeps everything
    again = cli("restore", f"disk-full@{short}")
    assert again.exit_code == 0
    assert "already" in again.stderr
    assert len(shas(home)) == 4


def git_show(home: Path, commit: str) -> bytes:
    return subprocess.run(["git", "show", f"{commit}:{RELPATH}"], cwd=local(home),
                          capture_output=True, check=True).stdout


def test_restore_validates_like_edit_and_writes_nothing_on_error(cli, home, three_versions):
    path = local(home) / RELPATH
    path.write_text(recipe_yaml(template="Disk on {{ host }} with {{ undeclared }}.\n"))
    git(local(home), "commit", "-qam", "broken by hand")
    path.write_text(recipe_yaml(template=V3))
    git(local(home), "commit", "-qam", "fixed")
    before = git(local(home), "rev-parse", "HEAD")
    result = cli("restore", "disk-full@~1")
    assert result.exit_code == 4, result.output
    assert "undeclared" in result.stderr
    assert git(local(home), "rev-parse", "HEAD") == before
    assert path.read_text() == recipe_yaml(template=V3)


def test_restore_errors(cli, home, three_versions):
    assert cli("restore", "disk-full").exit_code == 2
    assert cli("restore", "disk-full@nope").exit_code == 3
    (local(home) / RELPATH).write_text(recipe_yaml(template="Disk {{ host }}.\n"))
    dirty = cli("restore", "disk-full@~1")
    assert dirty.exit_code == 1, dirty.output
    assert "not committed" in dirty.stderr
    assert (local(home) / RELPATH).read_text() == recipe_yaml(template="Disk {{ host }}.\n")


# --- tag ------------------------------------------------------------------------------------------


def test_tag_refuses_to_move_a_label_unless_asked(cli, home, three_versions):
    assert cli("tag", "disk-full@~2", "prod").exit_code == 0
    again = cli("tag", "disk-full@~2", "prod")
    assert again.exit_code == 0
    assert "already" in again.stderr
    moved = cli("tag", "disk-full", "prod")
    assert moved.exit_code == 4, moved.output
    assert "--move" in moved.stderr
    assert cli("tag", "disk-full", "prod", "--move").exit_code == 0
    assert git(local(home), "rev-parse", "refs/tags/promptlib/disk-full/prod") == three_versions[0]


@pytest.mark.parametrize("label", ["-x", "a..b", "has space", "x.lock", "ü"])
def test_tag_refuses_a_bad_label(cli, three_versions, label):
    assert cli("tag", "disk-full", label).exit_code in (2, 4)


def test_a_label_travels_to_the_team_with_push_and_pull(tmp_path: Path):
    bare = make_remote(tmp_path, "team")
    alice, bob = User("alice", tmp_path), User("bob", tmp_path)
    alice.ok("init", "--from", str(bare), "--name", "team")
    bob.ok("init", "--from", str(bare), "--name", "team")
    alice.ok("add", "--file", "-", input=recipe_yaml("disk-full", template=V1))
    alice.ok("edit", "team/disk-full", "--file", "-", input=recipe_yaml(template=V2))
    alice.ok("push")
    tagged = alice.ok("tag", "team/disk-full@~1", "prod")
    assert "pushed" in tagged.stderr
    assert git(bare, "rev-parse", "refs/tags/promptlib/disk-full/prod")
    bob.ok("pull")
    out = bob.ok("render", "team/disk-full@prod", "-v", "host=h").stdout
    assert out == V1.replace("{{ host }}", "h")
    # Moved on the remote by alice: bob's next pull follows.
    alice.ok("tag", "team/disk-full", "prod", "--move")
    bob.ok("pull")
    assert bob.ok("render", "team/disk-full@prod", "-v", "host=h").stdout == V2.replace(
        "{{ host }}", "h")


def test_a_label_that_cannot_be_pushed_is_not_kept(tmp_path: Path):
    bare = make_remote(tmp_path, "team")
    alice = User("alice", tmp_path)
    alice.ok("init", "--from", str(bare), "--name", "team")
    alice.ok("add", "--file", "-", input=recipe_yaml("disk-full"))
    alice.ok("push")
    gone = tmp_path / "gone.git"
    bare.rename(gone)
    result = alice.run("tag", "team/disk-full", "prod")
    assert result.returncode == 6, result
    assert alice.git("team", "tag", "--list") == ""


# --- the fast path --------------------------------------------------------------------------------


def test_render_at_a_rev_works_on_the_fast_path(run, cli, three_versions):
    cli("list")
    result = run("render", "disk-full@~1", "-v", "host=web-1", "--no-input")
    assert result.returncode == 0, result.stderr
    assert result.stdout == V2.replace("{{ host }}", "web-1")
    assert three_versions[1][:7] in result.stderr


def test_a_plain_render_never_imports_git(home, cli, three_versions):
    done, loaded = imports_of(["render", "disk-full", "-v", "host=x"], ("git", "promptlib.gitops"))
    assert done.returncode == 0, done.stderr
    assert loaded == []


# --- usage and wins remember the version ---------------------------------------------------------


def usage_lines(home: Path) -> list[dict[str, str]]:
    log = home / "state" / "usage.jsonl"
    return [json.loads(line) for line in log.read_text().splitlines()]


def test_usage_wins_and_the_report_know_which_version_saved_the_time(cli, home, three_versions):
    newest, middle, oldest = three_versions
    rendered(cli, "disk-full@~1")
    assert usage_lines(home)[-1]["commit"] == middle
    won = json.loads(cli("win", "disk-full", "--saved", "25m", "--json").stdout)
    assert won["commit"] == middle  # the version last rendered

    rendered(cli, "disk-full")
    plain = usage_lines(home)[-1]
    assert "commit" not in plain
    assert plain["blob"] == git(local(home), "rev-parse", f"HEAD:{RELPATH}")
    assert json.loads(cli("win", "disk-full", "--saved", "10m", "--json").stdout)[
        "commit"] == newest
    assert json.loads(cli("win", f"disk-full@{oldest[:8]}", "--saved", "5m", "--json").stdout)[
        "commit"] == oldest

    # A win file from before versions were recorded still counts, under no version.
    (local(home) / "wins").mkdir(exist_ok=True)
    (local(home) / "wins" / "old.yaml").write_text(
        "recipe: local/disk-full\nminutes: 1\nnote: ''\nauthor: a\nemail: a@example.test\n"
        f"at: '{won['at']}'\n")
    git(local(home), "add", "wins/old.yaml")
    git(local(home), "commit", "-qm", "an old win")

    report = json.loads(cli("report", "--json").stdout)
    row = next(r for r in report["roi"]["by_recipe"] if r["id"] == "local/disk-full")
    assert row["minutes"] == 41
    assert row["wins"] == 4
    assert row["versions"] == [{"commit": middle, "minutes": 25, "wins": 1},
                               {"commit": newest, "minutes": 10, "wins": 1},
                               {"commit": oldest, "minutes": 5, "wins": 1},
                               {"commit": None, "minutes": 1, "wins": 1}]


def test_a_recipe_never_committed_has_no_version(cli, home):
    assert cli("init", "--empty").exit_code == 0
    (local(home) / "recipes").mkdir()
    (local(home) / "recipes" / "disk-full.yaml").write_text(recipe_yaml())
    result = cli("render", "disk-full@~0", "-v", "host=x")
    assert result.exit_code == 3, result.output
    assert "no committed version yet" in result.stderr
    assert cli("diff", "disk-full").exit_code == 3


@pytest.mark.parametrize("data", [b"", b"hello\n", bytes(range(256)) * 300])
def test_blob_id_is_gits_blob_id(data):
    """A render's usage line names the recipe's blob; it must be the id git gives the file."""
    from promptlib.catalog.recipes import blob_id

    done = subprocess.run(["git", "hash-object", "--stdin"], input=data, capture_output=True,
                          check=True)
    assert blob_id(data) == done.stdout.decode().strip()
