"""The review flow against a remote whose main is protected the way GitHub protects it: a plain
push is refused with the server's own words, `push --review` publishes a branch, and once the
server merges it — merge commit, squash or rebase — `pull` puts you back on main.

The protection is a real `pre-receive` hook in the bare repository (promptlib turns hooks off
for its own repositories only; the receiving git runs the remote's). The server side of a merge
is plain git in a separate clone, pushed past the hook the way a forge's own merge button is.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import recipe_yaml
from tests.gitdaemon import User, git, install_hook, make_remote

pytestmark = pytest.mark.slow

GH006 = "error: GH006: Protected branch update failed for refs/heads/main."
PROTECT = f"""\
[ -n "$FORGE_MERGE" ] && exit 0
while read old new ref; do
  if [ "$ref" = refs/heads/main ]; then
    echo "{GH006}" >&2
    echo "error: Changes must be made through a pull request." >&2
    exit 1
  fi
done
exit 0
"""
SERVER = {"GIT_AUTHOR_NAME": "Forge", "GIT_AUTHOR_EMAIL": "forge@example.test",
          "GIT_COMMITTER_NAME": "Forge", "GIT_COMMITTER_EMAIL": "forge@example.test",
          "FORGE_MERGE": "1"}
DISK = "incident-response/disk-check.yaml"


@pytest.fixture
def alice(tmp_path: Path) -> User:
    return User("alice", tmp_path)


@pytest.fixture
def protected(tmp_path: Path, alice: User) -> Path:
    """A team remote with one recipe on a protected main; alice has cloned it."""
    bare = make_remote(tmp_path, "team", {DISK: recipe_yaml("disk-check")})
    install_hook(bare, "pre-receive", PROTECT)
    alice.ok("init", "--from", str(bare), "--name", "team")
    return bare


def edit_disk_check(user: User, text: str) -> None:
    user.ok("edit", "team/disk-check", "--file", "-",
            input=recipe_yaml("disk-check", template=f"Disk on {{{{ host }}}} is full. {text}\n"))


def remote_heads(bare: Path) -> dict[str, str]:
    out = git(bare, "for-each-ref", "--format=%(refname:short) %(objectname)", "refs/heads")
    return dict(line.split() for line in out.splitlines())


def server_merge(tmp_path: Path, bare: Path, branch: str, how: str, *,
                 delete: bool = True) -> None:
    """Merge `branch` into main on the server the way a forge's button does (and with `delete`
    delete the branch, as a forge does when asked to)."""
    work = tmp_path / f"forge-{how}"
    git(tmp_path, "clone", "--quiet", str(bare), str(work))
    git(work, "fetch", "--quiet", "origin", f"{branch}:{branch}")
    if how == "merge":
        git(work, "merge", "--quiet", "--no-ff", "-m", f"Merge branch '{branch}'", branch,
            env=SERVER)
    elif how == "squash":
        git(work, "merge", "--quiet", "--squash", branch, env=SERVER)
        git(work, "commit", "--quiet", "-m", f"Squashed {branch}", env=SERVER)
    else:  # rebase-merge: the branch's commits replayed onto main, new hashes
        git(work, "checkout", "--quiet", branch)
        git(work, "rebase", "--quiet", "--force-rebase", "main", env=SERVER)
        git(work, "checkout", "--quiet", "main")
        git(work, "merge", "--quiet", "--ff-only", branch)
    git(work, "push", "--quiet", "origin", "main", env=SERVER)
    if delete:
        git(work, "push", "--quiet", "origin", "--delete", branch, env=SERVER)


def assert_in_step(user: User, bare: Path) -> None:
    """A clean tree on main, exactly the remote's main, nothing to push."""
    assert user.git("team", "status", "--porcelain") == ""
    assert user.git("team", "rev-parse", "HEAD") == git(bare, "rev-parse", "main")
    assert user.git("team", "symbolic-ref", "--short", "HEAD") == "main"
    pushed = user.ok("push", "--json")
    assert json.loads(pushed.stdout)[0]["pushed"] == 0


# --- a plain push to a protected main -------------------------------------------------------------


def test_a_rejected_push_shows_the_server_and_hints_review(protected: Path, alice: User):
    edit_disk_check(alice, "Start with du.")
    before = remote_heads(protected)
    result = alice.run("push")
    assert result.returncode == 1, result
    assert f"remote: {GH006}" in result.stderr
    assert "remote: error: Changes must be made through a pull request." in result.stderr
    assert "promptlib push --review" in result.stderr
    assert remote_heads(protected) == before
    # Nothing lost: the commit is still there, one ahead.
    assert alice.git("team", "rev-list", "--count", "origin/main..HEAD") == "1"
    assert "Start with du." in (alice.collection("team") / DISK).read_text()


# --- push --review, then the server merges --------------------------------------------------------


@pytest.mark.parametrize("how", ["merge", "squash", "rebase"])
def test_review_then_server_merge_then_pull_is_back_on_main(tmp_path: Path, protected: Path,
                                                            alice: User, how: str):
    edit_disk_check(alice, "Start with du.")
    alice.ok("add", "--file", "-", input=recipe_yaml("inode-check"))
    main_before = git(protected, "rev-parse", "main")

    review = alice.ok("push", "--review")
    branch = "promptlib/alice/disk-check-and-1-more"
    assert branch in review.stderr
    heads = remote_heads(protected)
    assert heads["main"] == main_before
    assert heads[branch] == alice.git("team", "rev-parse", "HEAD")
    listed = json.loads(alice.ok("team", "list", "--json").stdout)[0]
    assert listed["reviews"] == [branch]

    server_merge(tmp_path, protected, branch, how, delete=how != "merge")
    pulled = alice.ok("pull")
    assert "merged" in pulled.stderr
    assert branch in pulled.stderr
    # Left on the server by a merge without "delete branch": promptlib deletes it there too.
    assert branch not in remote_heads(protected)
    if how == "merge":
        assert "deleted here and on the remote" in pulled.stderr
    assert_in_step(alice, protected)
    names = [e["name"] for e in json.loads(alice.ok("list", "--json", "--team", "team").stdout)]
    assert sorted(names) == ["disk-check", "inode-check"]  # no duplicate
    assert alice.git("team", "branch", "--list", "promptlib/*") == ""
    assert json.loads(alice.ok("team", "list", "--json").stdout)[0]["reviews"] == []


def test_pull_after_a_squash_keeps_newer_local_work(tmp_path: Path, protected: Path,
                                                   alice: User):
    edit_disk_check(alice, "Start with du.")
    alice.ok("push", "--review")
    alice.ok("add", "--file", "-", input=recipe_yaml("later-work"))
    server_merge(tmp_path, protected, "promptlib/alice/edit-disk-check-triage-a-full-disk",
                 "squash")
    alice.ok("pull")
    assert alice.git("team", "rev-list", "--count", "origin/main..HEAD") == "1"
    assert alice.git("team", "log", "-1", "--format=%s") == "Add later-work: Triage a full disk"
    assert alice.git("team", "status", "--porcelain") == ""


def test_a_second_review_waits_for_new_commits(protected: Path, alice: User):
    edit_disk_check(alice, "Start with du.")
    alice.ok("push", "--review")
    again = alice.ok("push", "--review")
    assert "nothing new" in again.stderr
    edit_disk_check(alice, "Then inodes.")
    second = alice.ok("push", "--review")
    assert "promptlib/alice/edit-disk-check-triage-a-full-disk-2" in second.stderr


def test_review_can_be_the_team_default(tmp_path: Path, alice: User):
    bare = make_remote(tmp_path, "other", {DISK: recipe_yaml("disk-check")})
    install_hook(bare, "pre-receive", PROTECT)
    alice.ok("team", "add", "ops", str(bare), "--review")
    alice.ok("add", "--to", "ops", "--file", "-", input=recipe_yaml("ops-recipe"))
    pushed = alice.ok("push", "ops")
    assert "promptlib/alice/add-ops-recipe-triage-a-full-disk" in pushed.stderr
    plain = alice.run("push", "ops", "--no-review")
    assert plain.returncode == 1
    assert GH006 in plain.stderr


def test_share_review_proposes_the_shared_recipe(protected: Path, alice: User):
    alice.ok("add", "--to", "local", "--file", "-", input=recipe_yaml("mine-to-share"))
    shared = alice.ok("share", "local/mine-to-share", "--to", "team", "--review")
    branch = "promptlib/alice/share-mine-to-share-from-local-mine-to"  # clipped at a word
    assert f"pushed 1 commit for review to branch {branch}; main is untouched" in shared.stderr
    assert "up to date" not in shared.stderr
    assert branch in remote_heads(protected)
    assert "main" in remote_heads(protected)


def test_gitlab_gets_push_options_that_open_the_merge_request(tmp_path: Path, alice: User):
    bare = make_remote(tmp_path, "gl", {DISK: recipe_yaml("disk-check")})
    git(bare, "config", "receive.advertisePushOptions", "true")
    seen = tmp_path / "push-options.txt"
    install_hook(bare, "pre-receive", f'i=0; while [ "$i" -lt "${{GIT_PUSH_OPTION_COUNT:-0}}" ];'
                 f' do eval "echo \\$GIT_PUSH_OPTION_$i" >> {seen}; i=$((i+1)); done\nexit 0\n')
    alice.ok("team", "add", "gl", str(bare))
    settings = alice.home / "config.yaml"
    settings.write_text("collections:\n  gl:\n    forge: gitlab\n")
    alice.ok("add", "--to", "gl", "--file", "-", input=recipe_yaml("gl-recipe"))
    alice.ok("push", "gl", "--review")
    options = seen.read_text().splitlines()
    assert "merge_request.create" in options
    assert "merge_request.target=main" in options


# --- links ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(("url", "forge", "link"), [
    ("git@github.com:ops/sre-prompts.git", None,
     "https://github.com/ops/sre-prompts/compare/main...promptlib/al/x?expand=1"),
    ("https://github.example.com/ops/sre.git", None,
     "https://github.example.com/ops/sre/compare/main...promptlib/al/x?expand=1"),
    ("ssh://git@gitlab.com:2222/grp/sub/sre.git", None,
     "https://gitlab.com/grp/sub/sre/-/merge_requests/new?merge_request%5Bsource_branch%5D="
     "promptlib%2Fal%2Fx&merge_request%5Btarget_branch%5D=main"),
    ("git@bitbucket.org:ws/sre.git", None,
     "https://bitbucket.org/ws/sre/pull-requests/new?source=promptlib%2Fal%2Fx&dest=main"),
    ("https://codeberg.org/ops/sre", None, "https://codeberg.org/ops/sre/compare/main...promptlib/al/x"),
    ("https://git.corp.example/ops/sre.git", "gitea",
     "https://git.corp.example/ops/sre/compare/main...promptlib/al/x"),
    ("https://git.corp.example/ops/sre.git", None, None),
    ("git://127.0.0.1/sre", None, None),
    ("/srv/git/sre.git", None, None),
])
def test_review_links(url: str, forge: str | None, link: str | None):
    from promptlib.sync import forges

    assert forges.review_link(url, "promptlib/al/x", "main", forges.forge_of(url, forge)) == link


def test_a_github_remote_gets_the_pull_request_link(tmp_path: Path, alice: User):
    bare = make_remote(tmp_path, "gh", {DISK: recipe_yaml("disk-check")})
    install_hook(bare, "pre-receive", PROTECT)
    url = "https://github.com/ops/sre-prompts.git"
    # git fetches "github" from the bare repository on disk; promptlib sees the https URL.
    gitconfig = alice.root / "alice" / "gitconfig"
    alice.env  # writes the user's gitconfig  # noqa: B018
    with gitconfig.open("a") as handle:
        handle.write(f'[url "{bare}"]\n\tinsteadOf = {url}\n')
    alice.ok("team", "add", "sre", url, "--review")
    edit_disk_check_in(alice, "sre")
    pushed = alice.ok("push")
    branch = "promptlib/alice/edit-disk-check-triage-a-full-disk"
    assert (f"open the request: https://github.com/ops/sre-prompts/compare/main...{branch}"
            "?expand=1") in pushed.stderr
    assert branch in remote_heads(bare)
    listed = json.loads(alice.ok("team", "list", "--json").stdout)[0]
    assert (listed["review"], listed["reviews"]) == (True, [branch])


def test_a_refused_review_branch_says_why_and_keeps_everything(tmp_path: Path, alice: User):
    bare = make_remote(tmp_path, "locked", {DISK: recipe_yaml("disk-check")})
    install_hook(bare, "pre-receive", 'echo "error: this repository is read-only" >&2\nexit 1\n')
    alice.ok("team", "add", "locked", str(bare))
    edit_disk_check_in(alice, "locked")
    result = alice.run("push", "--review")
    assert result.returncode == 1, result
    assert "remote: error: this repository is read-only" in result.stderr
    assert alice.git("locked", "branch", "--list", "promptlib/*") == ""
    assert alice.git("locked", "rev-list", "--count", "origin/main..HEAD") == "1"


def edit_disk_check_in(user: User, team: str) -> None:
    user.ok("edit", f"{team}/disk-check", "--file", "-",
            input=recipe_yaml("disk-check", template="Disk on {{ host }} is full. du.\n"))


def test_what_else_main_brought_is_reported_with_the_merged_review(tmp_path: Path,
                                                                  protected: Path, alice: User):
    edit_disk_check(alice, "Start with du.")
    alice.ok("push", "--review")
    server_merge(tmp_path, protected, "promptlib/alice/edit-disk-check-triage-a-full-disk",
                 "squash")
    teammate = tmp_path / "teammate"
    git(tmp_path, "clone", "--quiet", str(protected), str(teammate))
    (teammate / "incident-response" / "from-bob.yaml").write_text(recipe_yaml("from-bob"))
    git(teammate, "add", "--all")
    git(teammate, "commit", "--quiet", "-m", "Add from-bob", env=SERVER)
    git(teammate, "push", "--quiet", "origin", "main", env=SERVER)
    pulled = alice.ok("pull")
    assert "team: 1 new (from-bob)" in pulled.stderr
    assert "was merged; back on main" in pulled.stderr
    assert_in_step(alice, protected)
